"""The BM25 leg beyond English: the hand-written CJK set through `Engine.search`, and the three English sets'
BM25 leg alone, to show the change left English as it was.

    .venv/bin/python benchmarks/bench_fts_languages.py [--code DIR] [--summary benchmarks/summaries/fts_languages.json]

CJK: tests/fixtures/cjk/passages.jsonl, 26 one-sentence passages (10 Chinese, 8 Japanese, 8 Korean) written for
this, each ingested as its own file into a fresh home with the bundled MiniLM, and each passage's question
searched with `Engine.search` (k=5): fused hit@1 and hit@5, and how often the BM25 leg alone ranks the passage
first. A small set written by hand, not a benchmark of CJK retrieval: it shows whether the leg finds such text at all.

English: the BM25 leg alone (`Store.text_search`, k=5, vectors unused) on COVID-QA chunks cut by localrag's
chunker (chunk hit@5 of 200 questions drawn with random.Random(7)), and HotpotQA and MuSiQue paragraphs
(recall@5), as bench_fusion.py and bench_recall.py build them.

`--code DIR`: import localrag from another checkout (`git archive <commit> localrag | tar -x -C DIR`), for the
figures before a change; run it without and with to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
from collections.abc import Iterable
from pathlib import Path

import _checkout  # noqa: F401  (first: it chooses which localrag the imports below get)
import _corpus
import _summary
import bench_fusion
import bench_recall
import numpy as np

from localrag.store import Store

PASSAGES = Path(__file__).resolve().parents[1] / "tests/fixtures/cjk/passages.jsonl"
SUMMARY = Path(__file__).resolve().parent / "summaries" / "fts_languages.json"


def cjk_rows() -> list[dict[str, object]]:
    rows = [json.loads(line) for line in PASSAGES.open()]
    with tempfile.TemporaryDirectory() as home:
        os.environ["LOCALRAG_HOME"] = home
        from localrag.engine import Engine

        folder = Path(home) / "docs"
        folder.mkdir()
        names = [f"{r['lang']}{i:02d}.txt" for i, r in enumerate(rows)]
        for name, row in zip(names, rows, strict=True):
            (folder / name).write_text(row["passage"] + "\n", encoding="utf-8")
        engine = Engine()
        engine.ingest([folder])
        ranks: dict[str, list[tuple[int | None, int | None]]] = {}
        for name, row in zip(names, rows, strict=True):
            hits = engine.search(row["question"], k=5)
            mine = [(j + 1, h.text_rank) for j, h in enumerate(hits) if Path(h.chunk.path).name == name]
            ranks.setdefault(row["lang"], []).append(mine[0] if mine else (None, None))
    return [
        {"set": f"cjk-{lang}", "questions": len(found), "fused_hit@1": _share(f == 1 for f, _ in found),
         "fused_hit@5": _share(f is not None for f, _ in found), "bm25_first": _share(t == 1 for _, t in found)}
        for lang, found in ranks.items()
    ]


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return round(sum(values) / len(values), 3)


def _bm25(name: str, docs, chunks, questions, key) -> dict[str, object]:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "db", embedder_name="bm25-only", dim=8)
        vectors = np.random.default_rng(0).standard_normal((len(chunks), 8)).astype(np.float32)
        by_id = {d.doc_id: d for d in docs}
        for start in range(0, len(chunks), 2048):
            part = chunks[start : start + 2048]
            docs_here = list({c.doc_id: by_id[c.doc_id] for c in part}.values())
            store.write_batch(docs_here, part, vectors[start : start + 2048])
        store.refresh_indexes(vector_index_min_rows=len(chunks) + 1)
        scores = [len({key(c) for c, _ in store.text_search(q, 5)} & gold) / len(gold) for q, gold in questions]
    return {"set": name, "questions": len(questions), "bm25_at_5": round(float(np.mean(scores)), 4)}


def english_rows() -> list[dict[str, object]]:
    embedder = _corpus.load_embedder()
    docs, chunks, questions = bench_fusion.covid_corpus(embedder)
    rows = [_bm25("covid-qa chunk hit", docs, chunks, random.Random(7).sample(questions, 200), lambda c: c.chunk_id)]
    for name, loader in (("hotpotqa recall", bench_recall.hotpot), ("musique recall", bench_recall.musique)):
        paragraphs, gold = loader()
        docs, chunks = bench_recall.paragraph_chunks(paragraphs, name.split()[0])
        rows.append(_bm25(name, docs, chunks, gold, lambda c: c.doc_id))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, help="a localrag checkout to import instead of this one")
    parser.add_argument("--summary", type=Path, default=SUMMARY)
    args = parser.parse_args()
    load = _summary.load_at_start()
    _summary.write_summary(Path(__file__).name, load, [*cjk_rows(), *english_rows()], args.summary)


if __name__ == "__main__":
    main()
