"""A `bench_rag_vs_raft.py` evaluation read by ranges of its question order: base against tuned, paired.

    .venv/bin/python benchmarks/raft_ranges.py /tmp/rs/full/eval raft-sentences --ranges 1-300 301-600 1-600

A run extended with a larger --questions answers the questions after the first ones, in the order run.json
lists them, so a range beyond the first run is a replication on questions no earlier reading saw. For each range
and each of the two models: token F1, exact match and citation precision with 95 % bootstrap intervals, the quotes
written and verified, the median first token; then the paired difference of token F1 (tuned - base) and the
questions each model scored higher on. Prints JSON, the shape of benchmarks/summaries/raft_sentences.json's
"replication" and "cite_first".
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from localrag.evaluate.metrics import Figure, mean_figure, paired_difference  # noqa: E402
from localrag.evaluate.runner import RECORDS_FILE, RUN_FILE, read_records  # noqa: E402


def points(figure: Figure) -> dict[str, Any]:
    return {"value": round(100 * figure.value, 1), "low": round(100 * figure.low, 1),
            "high": round(100 * figure.high, 1), "n": figure.n}


def model_figures(records: list[dict[str, Any]]) -> dict[str, Any]:
    cited = [r["scores"]["citation_precision"] for r in records if r["scores"]["citation_precision"] is not None]
    quotes = [status for r in records for status in r["quotes"]]
    return {
        "token_f1": points(mean_figure([r["scores"]["f1"] for r in records])),
        "exact_match": points(mean_figure([r["scores"]["em"] for r in records])),
        "citation_precision": points(mean_figure(cited)),
        "quotes": len(quotes),
        "quotes_verified": quotes.count("verified"),
        "median_first_token_s": round(statistics.median(r["ttft"] for r in records if r["ttft"]), 2),
    }


def ranges(run_dir: Path, base: str, tuned: str, spans: list[tuple[int, int]]) -> dict[str, Any]:
    order = json.loads((run_dir / RUN_FILE).read_text())["questions"]
    by = {(r["spec"], r["mode"], r["qid"]): r for r in read_records(run_dir)}
    out: dict[str, Any] = {}
    for first, last in spans:
        chosen = order[first - 1:last]
        missing = [q for q in chosen for m in (base, tuned) if (m, "rag", q) not in by]
        if missing:
            sys.exit(f"{run_dir / RECORDS_FILE}: no answer to question {missing[0]} in {first}-{last}; "
                     "resume the benchmark with a larger --questions")
        base_records = [by[(base, "rag", q)] for q in chosen]
        tuned_records = [by[(tuned, "rag", q)] for q in chosen]
        a = [r["scores"]["f1"] for r in base_records]
        b = [r["scores"]["f1"] for r in tuned_records]
        out[f"questions_{first}_{last}"] = {
            base: model_figures(base_records),
            tuned: model_figures(tuned_records),
            "tuned_minus_base_f1_points": points(paired_difference(a, b)),
            "better_worse_questions": [sum(y > x for x, y in zip(a, b, strict=True)),
                                       sum(y < x for x, y in zip(a, b, strict=True))],
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path, help="the benchmark's eval folder")
    parser.add_argument("tuned", help="the tuned model's name (--name of the benchmark)")
    parser.add_argument("--base", default="bundled")
    parser.add_argument("--ranges", nargs="+", default=["1-300"], help="FIRST-LAST, counted from 1")
    args = parser.parse_args()
    spans = [(int(a), int(b)) for a, b in (r.split("-") for r in args.ranges)]
    print(json.dumps(ranges(args.run_dir, args.base, args.tuned, spans), indent=1))


if __name__ == "__main__":
    main()
