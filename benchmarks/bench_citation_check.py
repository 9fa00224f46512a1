"""Whether the check on bare citations tells a right citation from a wrong one, on answers the bundled model wrote.

    .venv/bin/python benchmarks/bench_citation_check.py      # needs bench_attribution.py's kept answers

A quote is checked word for word against the source it cites; a citation after a plain sentence ("Employees get 25
days [3]") was not checked at all. `localrag.answer.claims.unsupported_citations` flags a cited source that holds
none of the words the citing sentence adds to the question. This benchmark cites each source of each kept answer
in turn (benchmarks/results/attribution_answers.json: the sample corpus's twelve questions and COVID-QA's
200-question Random(7) draw, each with the sources it was answered from) and counts the flags on right citations
(the source holds a gold answer: a false alarm when the answer is correct) and on wrong ones (the source holds
none: a caught error). Three kinds of claim: the model's correct answers, all of its answers, and the question
followed by its first gold answer (an answer that repeats the question, as the small model's do). Two rules: the
one that ships (none of the added words) and the plainer "none of the sentence's words", for comparison.
Summary: benchmarks/summaries/citation_check.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_attribution import ANSWERS, hits_of, right_sources  # noqa: E402

SUMMARIES = Path(__file__).resolve().parent / "summaries"


def ships(question: str, claim: str, hits: list[Any], number: int) -> bool:
    from localrag.answer.claims import unsupported_citations

    return number in unsupported_citations(question, f"{claim} [{number}]", hits)


def none_of_all(question: str, claim: str, hits: list[Any], number: int) -> bool:
    from localrag.raft.qa import content_words

    held = set(content_words(hits[number - 1].chunk.text))
    return not any(word in held for word in content_words(claim))


RULES: dict[str, Callable[[str, str, list[Any], int], bool]] = {
    "none of the added words (ships)": ships,
    "none of the sentence's words": none_of_all,
}
CLAIMS: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "the model's correct answers": lambda r: r["text"] if r["correct"] else None,
    "all of the model's answers": lambda r: r["text"] or None,
    "question + gold answer": lambda r: f"{r['question']} {r['gold'][0]}.",
}


def scored(records: list[dict[str, Any]]) -> dict[str, Any]:
    from localrag.evaluate.metrics import substring_hit

    out: dict[str, Any] = {}
    for record in records:
        record["correct"] = substring_hit(record["text"], record["gold"])
    for claim_name, claim_of in CLAIMS.items():
        for rule_name, rule in RULES.items():
            counts = {"right cited": 0, "right flagged": 0, "wrong cited": 0, "wrong flagged": 0}
            for record in records:
                claim = claim_of(record)
                if claim is None:
                    continue
                hits, right = hits_of(record), right_sources(record)
                for number in range(1, len(hits) + 1):
                    kind = "right" if number in right else "wrong"
                    counts[f"{kind} cited"] += 1
                    counts[f"{kind} flagged"] += rule(record["question"], claim, hits, number)
            out.setdefault(claim_name, {})[rule_name] = counts
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", type=Path, default=SUMMARIES / "citation_check.json")
    args = parser.parse_args()
    if not ANSWERS.exists():
        sys.exit(f"{ANSWERS} not found: run benchmarks/bench_attribution.py first (about 30 min)")
    kept = json.loads(ANSWERS.read_text())
    summary = {"command": " ".join(sys.argv), "load_average": os.getloadavg(), "answers from": kept["command"],
               "sets": {"sample corpus": scored(kept["sample"]), "COVID-QA 1-120": scored(kept["covid"][:120]),
                        "COVID-QA 121-200": scored(kept["covid"][120:])}}
    args.summary.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(summary["sets"], indent=1))


if __name__ == "__main__":
    main()
