"""What a ranking change does to `Engine.search`'s top 5 on COVID-QA, this checkout against another's (`--code DIR`).

    .venv/bin/python benchmarks/bench_top5_change.py --home /tmp/top5_home --tag before --code /path/to/old/checkout
    .venv/bin/python benchmarks/bench_top5_change.py --home /tmp/top5_home --tag after --against before

1. The index: the 98 COVID-QA articles, one text file each, ingested once into `--home` by the first run
   (bench_tune_retriever.prepare, the default chunking and ONNX MiniLM); later runs only search it, so both sides
   rank the same chunks.
2. The 200 gold questions bench_tune_retriever draws (random.Random(7); 199 distinct), each searched with k = 5.
3. Per run: article hit@5 (a top-5 passage from the question's article), answer hit@5 (a top-5 passage of that
   article whose span holds the first gold answer's characters) and the mean characters of the five passages
   (what a prompt built from them reads: latency is prompt length). `--against TAG`: how many questions' top 5
   changed, and the paired differences.
Writes benchmarks/summaries/top5_covid_<tag>.json (and keeps the top 5 per question in benchmarks/results/).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import _checkout  # noqa: F401  # first: `--code` chooses the localrag every later import gets
import bench_tune_retriever as tune

_HERE = Path(__file__).resolve().parent


def gold_answers() -> dict[str, tuple[int, int, int]]:
    """Per gold question (as bench_tune_retriever draws them): its article, and its first answer's span there."""
    spans = {}
    for qa, i in tune.gold_drawn(98):
        answer = qa["answers"][0]
        spans[qa["question"]] = (i, answer["answer_start"], answer["answer_start"] + len(answer["text"]))
    return spans


def figures(tops: dict[str, list[list]], gold: dict[str, tuple[int, int, int]]) -> dict[str, float]:  # type: ignore[type-arg]
    def article_hit(q: str) -> bool:
        return any(tune.article_of(path) == gold[q][0] for path, _, _ in tops[q])

    def answer_hit(q: str) -> bool:
        article, start, end = gold[q]
        return any(tune.article_of(path) == article and s <= start and end <= e for path, s, e in tops[q])

    n = len(tops)
    return {"article_hit@5": round(sum(map(article_hit, tops)) / n, 3),
            "answer_hit@5": round(sum(map(answer_hit, tops)) / n, 3),
            "mean_top5_chars": round(sum(sum(e - s for _, s, e in top) for top in tops.values()) / n)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="the index (ingested here by the first run)")
    parser.add_argument("--tag", required=True)
    parser.add_argument("--against", help="a tag run before, to compare with")
    parser.add_argument("--code", help="the checkout whose localrag searches (default: this one)")
    args = parser.parse_args()

    engine = tune.prepare(args.home, 98)
    gold = gold_answers()
    tops = {q: [[h.chunk.path, h.chunk.start, h.chunk.end] for h in engine.search(q, k=5)] for q in gold}
    results = _HERE / "results"
    results.mkdir(exist_ok=True)
    (results / f"top5_covid_{args.tag}.json").write_text(json.dumps(tops))
    summary: dict[str, object] = {"tag": args.tag, "questions": len(tops), **figures(tops, gold),
                                  "load_average": Path("/proc/loadavg").read_text().split()[:3]}
    if args.against:
        before = json.loads((results / f"top5_covid_{args.against}.json").read_text())
        summary["against"] = {"tag": args.against, **figures(before, gold),
                              "questions_whose_top5_changed": sum(before[q] != tops[q] for q in tops)}
    out = _HERE / "summaries" / f"top5_covid_{args.tag}.json"
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
