"""Summaries without the model (`localrag summarize`): key sentences against each paper's own abstract.

    .venv/bin/python benchmarks/bench_summary.py [--sentences 5]     # summary: benchmarks/summaries/summary.json

COVID-QA's 98 articles are papers whose text holds "Abstract: ..." and then "Text: ...". The body (after
"Text:") is summarised as localrag summarises a document (`localrag.answer.summary`: sentence vectors from
the bundled MiniLM through the product's embedder); the abstract, which the rule never sees, is the
reference. Scores: ROUGE-1 and ROUGE-2 F1 (lower-cased word unigrams and bigrams, no stemming) of the
chosen sentences against the abstract, per article, with paired bootstrap intervals against the lead
baseline (the body's first sentences, strong on papers, whose introductions open with the topic).
Rules compared, each taking the same number of sentences: lead, a seeded random draw, the sentences
nearest the document's centre (no redundancy term), and maximal marginal relevance at three weights.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus  # noqa: E402

_WORD = re.compile(r"\w+")
WEIGHTS = (0.3, 0.5, 0.7)


def rouge(candidate: str, reference: str, n: int) -> float:
    def grams(text: str) -> Counter[tuple[str, ...]]:
        words = _WORD.findall(text.lower())
        return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))

    c, r = grams(candidate), grams(reference)
    overlap = sum((c & r).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(c.values()), overlap / sum(r.values())
    return 2 * precision * recall / (precision + recall)


def papers() -> list[tuple[str, str, str]]:
    """(title, abstract, body) of each article that has both parts."""
    data = json.loads((_corpus.DATA / "covidqa/data/question-answering/200423_covidQA.json").read_text())["data"]
    out = []
    for article in data:
        context = article["paragraphs"][0]["context"]
        match = re.search(r"Abstract:\s*(.*?)\n\s*\nText:\s*(.*)", context, re.DOTALL)
        if match and match.group(1).strip() and match.group(2).strip():
            out.append((context.split("\n", 1)[0], match.group(1).strip(), match.group(2).strip()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=5)
    parser.add_argument("--summary", type=Path, default=Path(__file__).resolve().parent / "summaries/summary.json")
    args = parser.parse_args()

    from localrag.answer.summary import choose, document_sentences
    from localrag.config import load_settings
    from localrag.embed import open_embedder
    from localrag.evaluate.metrics import paired_difference
    from localrag.sentences import one_line
    from localrag.types import Chunk

    settings = load_settings()
    embedder = open_embedder(settings.embedder, settings.embed_backend, settings.embed_batch_size)
    n = args.sentences
    rules = ["lead", "random", "centre", *(f"mmr {w}" for w in WEIGHTS)]
    scores: dict[str, dict[str, list[float]]] = {rule: {"rouge1": [], "rouge2": []} for rule in rules}
    started = time.perf_counter()
    sentences_read = 0
    found = papers()
    for number, (title, abstract, body) in enumerate(found):
        chunk = Chunk(f"a{number}:0", f"a{number}", f"{title}.txt", 0, body, 0, len(body))
        texts = [one_line(c.text[s:e]) for c, s, e in document_sentences([chunk])]
        sentences_read += len(texts)
        vectors = embedder.embed(texts)
        picks = {
            "lead": list(range(min(n, len(texts)))),
            "random": sorted(random.Random(number).sample(range(len(texts)), min(n, len(texts)))),
            "centre": choose(vectors, n, redundancy=0.0)[0],
            **{f"mmr {w}": choose(vectors, n, redundancy=w)[0] for w in WEIGHTS},
        }
        for rule, chosen in picks.items():
            summary = " ".join(texts[i] for i in sorted(chosen))
            scores[rule]["rouge1"].append(rouge(summary, abstract, 1))
            scores[rule]["rouge2"].append(rouge(summary, abstract, 2))
    seconds = time.perf_counter() - started
    table: dict[str, Any] = {}
    for rule in rules:
        row: dict[str, Any] = {}
        for metric in ("rouge1", "rouge2"):
            values = scores[rule][metric]
            row[metric] = round(100 * sum(values) / len(values), 2)
            if rule != "lead":
                diff = paired_difference(scores["lead"][metric], values).to_json()
                row[f"{metric}_vs_lead"] = {k: round(100 * v, 2) if isinstance(v, float) else v
                                            for k, v in diff.items()}
        table[rule] = row
        print(f"{rule:>8}: ROUGE-1 {row['rouge1']:5.2f}  ROUGE-2 {row['rouge2']:5.2f}  "
              + "  ".join(f"{m} vs lead {row[m + '_vs_lead']['value']:+.2f} [{row[m + '_vs_lead']['low']:+.2f}, "
                          f"{row[m + '_vs_lead']['high']:+.2f}]" for m in ("rouge1", "rouge2") if rule != "lead"),
              flush=True)
    summary = {"command": " ".join(sys.argv), "articles": len(found), "sentences_per_summary": n,
               "sentences_read": sentences_read, "seconds": round(seconds, 1), "embedder": embedder.name,
               "rules": table, "load_average": os.getloadavg()}
    args.summary.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
