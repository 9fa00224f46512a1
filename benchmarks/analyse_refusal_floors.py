"""Both refusal floors together, chosen for an embedder from `bench_refusal.py --out` signals.

    .venv/bin/python benchmarks/analyse_refusal_floors.py SIGNALS.jsonl --choose covidqa,hotpotqa --judge musique

A question is answered when its best vector cosine reaches `min_similarity` (S) and its best source sentence reaches
`min_evidence` (E), as `answer.pipeline.refusal` decides (a question whose sources hold no sentence is not judged on
E). The rule, fixed before the signals were read, the one MiniLM's `min_evidence` was chosen by: S is the highest
value on a grid of 0.01 that alone still answers 99 % of the answerable questions of every --choose set (a light
backstop); E is then the highest that, with S, answers 97 % of them. Both are judged on the --judge sets, which did
not choose them. Also printed: S alone at `--vector-only` (a floor the README recommended before). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

KEEP_VECTOR = 0.99
KEEP_BOTH = 0.97
GRID = [t / 100 for t in range(-100, 201)]


def judged(rows: dict[str, list[dict[str, Any]]], s: float, e: float) -> dict[str, Any]:
    def answered(row: dict[str, Any]) -> bool:
        return row["vector"] >= s and (row["sentence"] == math.inf or row["sentence"] >= e)

    answerable = [r for r in rows["full"] if r["gold_retrieved"]]
    return {"min_similarity": s, "min_evidence": e,
            "answerable_answered": round(sum(map(answered, answerable)) / len(answerable), 3),
            "unanswerable_refused": round(sum(not answered(r) for r in rows["without"]) / len(rows["without"]), 3),
            "answerable": len(answerable), "unanswerable": len(rows["without"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("signals", type=Path)
    parser.add_argument("--choose", default="covidqa,hotpotqa")
    parser.add_argument("--judge", default="musique")
    parser.add_argument("--vector-only", type=float, default=0.84)
    args = parser.parse_args()
    sets: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: {"full": [], "without": []})
    for line in args.signals.read_text().splitlines():
        row = json.loads(line)
        sets[row["set"]][row["side"]].append(row)
    choose, judge = args.choose.split(","), [n for n in args.judge.split(",") if n]
    low = -1.0
    s = max(t for t in GRID if all(judged(sets[n], t, low)["answerable_answered"] >= KEEP_VECTOR for n in choose))
    e = max(t for t in GRID if all(judged(sets[n], s, t)["answerable_answered"] >= KEEP_BOTH for n in choose))
    out = {"rule": f"S: highest keeping {KEEP_VECTOR:.0%} alone, E: highest keeping {KEEP_BOTH:.0%} with S, "
                   f"on {', '.join(choose)}",
           "chosen": {n: judged(sets[n], s, e) for n in choose},
           "judged": {n: judged(sets[n], s, e) for n in judge},
           "vector_floor_alone": {n: judged(sets[n], args.vector_only, low) for n in [*choose, *judge]},
           "chosen_vector_alone": {n: judged(sets[n], s, low) for n in [*choose, *judge]}}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
