"""Does fusion lose to its best leg? Vector, BM25 and fusion rules on three corpora side by side.

    .venv/bin/python benchmarks/bench_fusion.py

- COVID-QA: the 98 articles cut by localrag's own chunker (200 MiniLM tokens, overlap 32); up to
  3 questions per article whose answer text lies inside one chunk; hit@5 = a chunk holding the
  answer is among the top 5.
- HotpotQA and MuSiQue: one chunk per paragraph, recall@5 of the supporting paragraphs (the sets of
  bench_recall.py).

Each leg's top 20 (with scores) is taken once from a real Store; the fusion rules are then applied
to the same lists: the default (RRF, k = localrag.retrieve.RRF_K), RRF with other text weights,
CombSUM of min-max normalised scores, and RRF weighted per query by how far each leg's top score
stands out of its own top 20. The question it answers: is there one rule that never loses to the
better leg on all three corpora?
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus  # noqa: E402
import bench_recall  # noqa: E402

from localrag.ingest.chunker import chunk_document  # noqa: E402
from localrag.retrieve import RRF_K, reciprocal_rank_fusion  # noqa: E402
from localrag.store import Store  # noqa: E402
from localrag.types import Chunk, Document, LoadedText, Section  # noqa: E402

Leg = list[tuple[str, float]]
Case = tuple[Leg, Leg, set[str]]


def covid_cases(embedder) -> list[Case]:  # type: ignore[no-untyped-def]
    data = json.loads((_corpus.DATA / "covidqa/data/question-answering/200423_covidQA.json").read_text())["data"]
    chunks: list[Chunk] = []
    docs: list[Document] = []
    questions: list[tuple[str, set[str]]] = []
    for i, article in enumerate(data):
        para = article["paragraphs"][0]
        text = para["context"]
        loaded = LoadedText(text, (Section(0, len(text), "paragraph"),))
        cut = chunk_document(loaded, doc_id=str(i), path=f"/covid/{i}.txt", file_type="txt",
                             token_counts=embedder.token_counts, max_tokens=200, overlap=32)
        chunks += cut
        docs.append(Document(str(i), f"/covid/{i}.txt", "txt", str(i), len(text), 0.0, "", len(cut)))
        for qa in para["qas"][:3]:
            answer = qa["answers"][0]["text"]
            at = text.find(answer)
            gold = {c.chunk_id for c in cut if at >= 0 and c.start <= at and at + len(answer) <= c.end}
            if gold:
                questions.append((qa["question"], gold))
    vectors = _corpus.cached_vectors([c.text for c in chunks], "covid_chunks")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "db", embedder_name=embedder.name, dim=vectors.shape[1])
        store.write_batch(docs, chunks, vectors)
        store.refresh_indexes()
        return _legs(store, embedder, questions, lambda c: c.chunk_id)


def paragraph_cases(name: str, loader, embedder) -> list[Case]:  # type: ignore[no-untyped-def]
    paragraphs, questions = loader()
    with tempfile.TemporaryDirectory() as tmp:
        store = bench_recall.build_store(Path(tmp) / "db", paragraphs, embedder, name.lower())
        return _legs(store, embedder, questions, lambda c: c.doc_id)


def _legs(store: Store, embedder, questions, key: Callable[[Chunk], str]) -> list[Case]:  # type: ignore[no-untyped-def]
    vectors = embedder.embed([q for q, _ in questions])
    return [
        ([(key(c), s) for c, s in store.vector_search(v, 20)], [(key(c), s) for c, s in store.text_search(q, 20)], gold)
        for (q, gold), v in zip(questions, vectors, strict=True)
    ]


def _rrf(v: Leg, t: Leg, k: int, wv: float = 1.0, wt: float = 1.0) -> list[str]:
    return [d for d, _ in reciprocal_rank_fusion([[d for d, _ in v], [d for d, _ in t]], k=k, weights=[wv, wt])]


def _minmax(leg: Leg) -> dict[str, float]:
    scores = np.array([s for _, s in leg], dtype=float)
    if not len(scores):
        return {}
    span = scores.max() - scores.min()
    return {d: float((s - scores.min()) / span) if span > 0 else 1.0 for d, s in leg}


def _combsum(v: Leg, t: Leg, wt: float) -> list[str]:
    vs, ts = _minmax(v), _minmax(t)
    return sorted(set(vs) | set(ts), key=lambda d: -(vs.get(d, 0.0) + wt * ts.get(d, 0.0)))


def _standout(leg: Leg) -> float:
    scores = np.array([s for _, s in leg], dtype=float)
    return float((scores[0] - scores.mean()) / (scores.std() + 1e-9)) if len(scores) > 1 else 0.0


def _confidence_rrf(v: Leg, t: Leg) -> list[str]:
    cv, ct = _standout(v), _standout(t)
    wv = cv / (cv + ct) if cv + ct > 0 else 0.5
    return _rrf(v, t, RRF_K, wv, 1 - wv)


RULES: dict[str, Callable[[Leg, Leg], list[str]]] = {
    "vector": lambda v, t: [d for d, _ in v],
    "BM25": lambda v, t: [d for d, _ in t],
    f"RRF k={RRF_K} (default)": lambda v, t: _rrf(v, t, RRF_K),
    "RRF k=60": lambda v, t: _rrf(v, t, 60),
    f"RRF k={RRF_K} text x2": lambda v, t: _rrf(v, t, RRF_K, 1.0, 2.0),
    "CombSUM min-max": lambda v, t: _combsum(v, t, 1.0),
    "CombSUM min-max text x0.7": lambda v, t: _combsum(v, t, 0.7),
    "RRF weighted by leg stand-out": _confidence_rrf,
}


def _hit(ranked: Sequence[str], gold: set[str]) -> float:
    return float(bool(gold.intersection(ranked[:5])))


def _recall(ranked: Sequence[str], gold: set[str]) -> float:
    return len(gold.intersection(ranked[:5])) / len(gold)


def main() -> None:
    embedder = _corpus.load_embedder()
    sets = [
        ("COVID-QA hit@5", covid_cases(embedder), _hit),
        ("HotpotQA R@5", paragraph_cases("HotpotQA", bench_recall.hotpot, embedder), _recall),
        ("MuSiQue R@5", paragraph_cases("MuSiQue", bench_recall.musique, embedder), _recall),
    ]
    print(f"{'rule':<32}" + "".join(f"{name:>16}" for name, _, _ in sets))
    for rule, fuse in RULES.items():
        cells = [np.mean([metric(fuse(v, t), gold) for v, t, gold in cases]) for _, cases, metric in sets]
        print(f"{rule:<32}" + "".join(f"{c:>16.3f}" for c in cells))
    print("questions: " + ", ".join(f"{name.split()[0]} {len(cases)}" for name, cases, _ in sets))


if __name__ == "__main__":
    main()
