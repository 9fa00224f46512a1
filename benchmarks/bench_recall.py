"""Retrieval quality: recall@5 and MRR of vector, BM25 and hybrid search on HotpotQA and MuSiQue.

    .venv/bin/python benchmarks/bench_recall.py [--quick] [--sweep]

Each corpus paragraph becomes one document with one chunk (heading = its title) in a real LanceDB
store, embedded with the bundled MiniLM (vectors cached in benchmarks/results/). Gold: HotpotQA's
supporting-fact titles, MuSiQue's `is_supporting` paragraphs. recall@5 = share of a question's gold
paragraphs among the top 5; MRR = 1 / rank of the first gold paragraph (0 past the 20th).
`--sweep` also fuses the two legs' candidate lists with other RRF k / weights, which is how the
defaults in localrag/retrieve.py were chosen. `--quick`: the first 30 questions of each set.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus  # noqa: E402

from localrag.retrieve import FETCH_FACTOR, Retriever, reciprocal_rank_fusion  # noqa: E402
from localrag.store import Store  # noqa: E402
from localrag.types import Chunk, Document  # noqa: E402

K = 5


def hotpot() -> tuple[list[tuple[str, str]], list[tuple[str, set[str]]]]:
    corpus = json.loads((_corpus.DATA / "hotpotqa_musique/data/hotpotqa_train_corpus.json").read_text())
    paragraphs = [(title, "".join(sentences).strip()) for title, sentences in corpus.items()]
    ids = {title: str(i) for i, (title, _) in enumerate(paragraphs)}
    items = json.loads((_corpus.DATA / "hotpotqa_musique/data/hotpotqa_train.json").read_text())
    questions = [(q["question"], {ids[t] for t, _ in q["supporting_facts"]}) for q in items]
    return paragraphs, questions


def musique() -> tuple[list[tuple[str, str]], list[tuple[str, set[str]]]]:
    corpus = json.loads((_corpus.DATA / "hotpotqa_musique/data/musique_train_corpus.json").read_text())
    paragraphs = [(p["title"], p["text"].strip()) for p in corpus]
    ids = {(t, x): str(i) for i, (t, x) in enumerate(paragraphs)}
    items = json.loads((_corpus.DATA / "hotpotqa_musique/data/musique_train.json").read_text())
    questions = [
        (
            q["question"],
            {ids[(p["title"], p["paragraph_text"].strip())] for p in q["paragraphs"] if p["is_supporting"]},
        )
        for q in items
    ]
    return paragraphs, questions


def paragraph_chunks(paragraphs: list[tuple[str, str]], tag: str) -> tuple[list[Document], list[Chunk]]:
    """One document with one chunk (heading = its title) per paragraph."""
    docs = [
        Document(str(i), f"/{tag}/{i}.txt", "txt", str(i), len(t), 0.0, title)
        for i, (title, t) in enumerate(paragraphs)
    ]
    chunks = [
        Chunk(f"{i}:0", str(i), f"/{tag}/{i}.txt", 0, t, 0, len(t), heading=title, file_type="txt")
        for i, (title, t) in enumerate(paragraphs)
    ]
    return docs, chunks


def build_store(folder: Path, paragraphs: list[tuple[str, str]], embedder, tag: str) -> Store:  # type: ignore[no-untyped-def]
    texts = [f"{title}\n{text}" for title, text in paragraphs]  # what the pipeline embeds: title, then text
    vectors = _corpus.cached_vectors(texts, tag)
    store = Store(folder, embedder_name=embedder.name, dim=vectors.shape[1])
    docs, chunks = paragraph_chunks(paragraphs, tag)
    for start in range(0, len(docs), 256):
        store.write_batch(docs[start : start + 256], chunks[start : start + 256], vectors[start : start + 256])
    store.refresh_indexes()
    return store


def score(ranked: list[str], gold: set[str]) -> tuple[float, float]:
    top = ranked[:K]
    recall = len(gold.intersection(top)) / len(gold)
    rr = next((1.0 / (i + 1) for i, d in enumerate(ranked[:20]) if d in gold), 0.0)
    return recall, rr


def evaluate(name: str, paragraphs, questions, embedder, sweep: bool) -> list[tuple[str, str, float, float]]:  # type: ignore[no-untyped-def]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        store = build_store(Path(tmp) / "db", paragraphs, embedder, name.lower())
        retriever = Retriever(store, embedder)
        legs: list[tuple[list[str], list[str], set[str]]] = []
        totals: dict[str, list[tuple[float, float]]] = {"vector": [], "text": [], "hybrid": []}
        started = time.perf_counter()
        for question, gold in questions:
            fetch = FETCH_FACTOR * K
            vec = [c.doc_id for c, _ in store.vector_search(embedder.embed([question])[0], fetch)]
            txt = [c.doc_id for c, _ in store.text_search(question, fetch)]
            # recall from what the engine asks for (k=5); MRR needs a deeper list
            top = [h.chunk.doc_id for h in retriever.search(question, K)]
            deep = [h.chunk.doc_id for h in retriever.search(question, 20)]
            legs.append((vec, txt, gold))
            totals["vector"].append(score(vec, gold))
            totals["text"].append(score(txt, gold))
            totals["hybrid"].append((score(top, gold)[0], score(deep, gold)[1]))
        seconds = time.perf_counter() - started
        for mode, values in totals.items():
            label = "hybrid (default)" if mode == "hybrid" else mode
            rows.append((name, label, *_mean(values)))
        if sweep:
            for rrf_k in (10, 30, 60, 100):
                for text_weight in (0.5, 0.75, 1.0, 1.5, 2.0):
                    values = []
                    for vec, txt, gold in legs:
                        fused = reciprocal_rank_fusion([vec, txt], k=rrf_k, weights=[1.0, text_weight])
                        values.append(score([d for d, _ in fused], gold))
                    rows.append((name, f"  rrf k={rrf_k} w_text={text_weight}", *_mean(values)))
        print(f"{name}: {len(questions)} questions, {len(paragraphs)} paragraphs, {seconds:.1f}s", file=sys.stderr)
    return rows


def _mean(values: list[tuple[float, float]]) -> tuple[float, float]:
    return sum(v[0] for v in values) / len(values), sum(v[1] for v in values) / len(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="first 30 questions of each set")
    parser.add_argument("--sweep", action="store_true", help="also try other RRF k and leg weights")
    args = parser.parse_args()
    embedder = _corpus.load_embedder()
    rows = []
    for name, loader in (("HotpotQA", hotpot), ("MuSiQue", musique)):
        paragraphs, questions = loader()
        if args.quick:
            questions = questions[:30]
        rows += evaluate(name, paragraphs, questions, embedder, args.sweep)
    print(f"{'set':<9} {'retriever':<28} {'recall@5':>8} {'MRR':>6}")
    for name, label, recall, mrr in rows:
        print(f"{name:<9} {label:<28} {recall:>8.3f} {mrr:>6.3f}")


if __name__ == "__main__":
    main()
