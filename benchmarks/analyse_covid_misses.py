"""Where COVID-QA's article hit@5 misses are: questions that name something rare in their article, and not.

    .venv/bin/python benchmarks/analyse_covid_misses.py [--home benchmarks/results/tune_retriever_home_98] [--summary S]

The 200 questions drawn with random.Random(7) (bench_ranking.gold_covid) are searched through
`Engine.search` (k = 5) on the index bench_tune_retriever.py ingests. Each question is placed by the rarest of
its content words (localrag.raft.qa.content_words): in how many of the 98 articles that word occurs at all. A
question whose every content word occurs in many articles ("What is a conclusion of the study?") gives no
retriever anything to tell its article apart by; article hit@5 is reported for both groups at several limits,
with the questions of the most common group listed. Nothing here tunes anything: it explains a ceiling.
Summary: benchmarks/summaries/covid_misses.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus  # noqa: E402
import bench_ranking as ranking  # noqa: E402
import bench_tune_retriever as tuning  # noqa: E402

SUMMARY = Path(__file__).resolve().parent / "summaries" / "covid_misses.json"
LIMITS = (5, 10, 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=_corpus.RESULTS / "tune_retriever_home_98")
    parser.add_argument("--summary", type=Path, default=SUMMARY)
    args = parser.parse_args()
    from localrag.raft.qa import content_words

    engine = tuning.prepare(args.home.resolve(), 98)
    articles = tuning._articles(98)
    in_articles: dict[str, int] = {}
    for article in articles:
        for word in set(content_words(" ".join(p["context"] for p in article["paragraphs"]))):
            in_articles[word] = in_articles.get(word, 0) + 1
    rows: list[dict[str, Any]] = []
    for item in ranking.gold_covid():
        counts = [in_articles[w] for w in set(content_words(item["question"])) if w in in_articles]
        found = {ranking.doc_number(h.chunk.path) for h in engine.search(item["question"], k=5)}
        rows.append({"question": " ".join(item["question"].split()), "rarest_in_articles": min(counts, default=98),
                     "hit": item["gold"][0] in found})
    groups: dict[str, dict[str, object]] = {}
    for limit in LIMITS:
        rare = [r["hit"] for r in rows if r["rarest_in_articles"] <= limit]
        common = [r["hit"] for r in rows if r["rarest_in_articles"] > limit]
        groups[f"rarest word in <= {limit} articles"] = {
            "questions": len(rare), "hit@5": round(sum(rare) / len(rare), 3) if rare else None,
            "others": len(common), "others_hit@5": round(sum(common) / len(common), 3) if common else None}
    misses = [r for r in rows if not r["hit"]]
    head = {"questions": len(rows), "hit@5": round(sum(bool(r["hit"]) for r in rows) / len(rows), 3), "groups": groups}
    args.summary.write_text(json.dumps({**head, "misses": misses, "load_average": os.getloadavg()}, indent=1,
                                  ensure_ascii=False) + "\n")
    print(json.dumps(head, indent=1))
    print(f"{len(misses)} misses; by the rarest word's article count:", sorted(r["rarest_in_articles"] for r in misses))

if __name__ == "__main__":
    main()
