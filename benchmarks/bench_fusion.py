"""Does fusion lose to its best leg? Vector, BM25 and fusion rules on three corpora side by side.

    .venv/bin/python benchmarks/bench_fusion.py [--choice-only] [--sets covid hotpot musique]

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

Then the per-corpus choice (localrag/fusion.py): on each corpus's own store, pseudo-queries made
from its chunks (never the gold questions) choose among localrag.fusion.CANDIDATES, and the chosen
fusion is scored on the gold questions beside each leg and the default. Five ways of making a
pseudo-query from a sentence are compared (MAKERS), among them the one localrag uses (its commoner
content words: the rarest dropped, as a question lacks its answer). A JSON summary goes to
benchmarks/summaries/fusion_choice.json (fusion_choice_<sets>.json with --sets).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus  # noqa: E402
import bench_recall  # noqa: E402

from localrag import fusion  # noqa: E402
from localrag.ingest.chunker import chunk_document  # noqa: E402
from localrag.retrieve import RRF_K, reciprocal_rank_fusion  # noqa: E402
from localrag.store import Store  # noqa: E402
from localrag.types import Chunk, Document, LoadedText, Section  # noqa: E402

Leg = list[tuple[str, float]]
Case = tuple[Leg, Leg, set[str]]
SUMMARY = Path(__file__).resolve().parent / "summaries" / "fusion_choice.json"


def _sentence_query(sentence: str, df: Counter[str], rng: random.Random) -> str | None:
    return sentence


def _random_words_query(sentence: str, df: Counter[str], rng: random.Random) -> str | None:
    words = list(dict.fromkeys(fusion.content_words(sentence)))
    if len(words) < fusion.MIN_WORDS + 1:
        return None
    keep = max(fusion.MIN_WORDS, min(fusion.MAX_WORDS, round(fusion.KEEP_SHARE * len(words))))
    return " ".join(rng.sample(words, keep))


def _drop_rarest_query(sentence: str, df: Counter[str], rng: random.Random) -> str | None:
    words = list(dict.fromkeys(fusion.content_words(sentence)))
    if len(words) < fusion.MIN_WORDS + 2:
        return None
    rarest = set(sorted(words, key=lambda w: (df[w.lower()], rng.random()))[:2])
    return " ".join(w for w in words if w not in rarest)


def _three_common_query(sentence: str, df: Counter[str], rng: random.Random) -> str | None:
    words = list(dict.fromkeys(fusion.content_words(sentence)))
    if len(words) < 5:
        return None
    return " ".join(sorted(words, key=lambda w: (-df[w.lower()], rng.random()))[:3])


MAKERS: dict[str, fusion.QueryMaker] = {
    "3 commonest content words": _three_common_query,
    "sentence": _sentence_query,
    "random 60% of content words": _random_words_query,
    "content words less the 2 rarest": _drop_rarest_query,
    "commoner content words (localrag)": fusion.make_query,
}
# Per corpus: (gold cases, {pseudo-query way: (choice, seconds)}).
Result = tuple[list[Case], dict[str, tuple[fusion.Fusion, dict[fusion.Fusion, tuple[float, float]], float]]]


def covid_corpus(embedder):  # type: ignore[no-untyped-def]
    """(documents, chunks, gold questions with their chunk ids) of COVID-QA cut by localrag's chunker."""
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
    return docs, chunks, questions


def covid_cases(embedder) -> Result:  # type: ignore[no-untyped-def]
    docs, chunks, questions = covid_corpus(embedder)
    vectors = _corpus.cached_vectors([c.text for c in chunks], "covid_chunks")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "db", embedder_name=embedder.name, dim=vectors.shape[1])
        store.write_batch(docs, chunks, vectors)
        store.refresh_indexes()
        return _legs(store, embedder, questions, lambda c: c.chunk_id), _choices(store, embedder)


def paragraph_cases(name: str, loader, embedder) -> Result:  # type: ignore[no-untyped-def]
    paragraphs, questions = loader()
    with tempfile.TemporaryDirectory() as tmp:
        store = bench_recall.build_store(Path(tmp) / "db", paragraphs, embedder, name.lower())
        return _legs(store, embedder, questions, lambda c: c.doc_id), _choices(store, embedder)


def _choices(store: Store, embedder):  # type: ignore[no-untyped-def]
    """Each way of making pseudo-queries: the fusion it chooses, its candidate scores, seconds taken."""
    ids = store.chunk_ids()
    chunks = store.chunks(random.Random(0).sample(ids, min(len(ids), 4 * fusion.N_QUERIES)))
    out = {}
    for name, make in MAKERS.items():
        started = time.perf_counter()
        queries = fusion.pseudo_queries(chunks, fusion.N_QUERIES, seed=0, make=make)
        scores = fusion.score_candidates(fusion.leg_cases(store, embedder, queries))
        out[name] = (fusion.pick(scores), scores, time.perf_counter() - started)
    return out


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


def _mrr(ranked: Sequence[str], gold: set[str]) -> float:
    return next((1.0 / r for r, d in enumerate(ranked[:20], start=1) if d in gold), 0.0)


def _fused(rule: fusion.Fusion) -> Callable[[Leg, Leg], list[str]]:
    return lambda v, t: [d for d, _ in rule.fuse([d for d, _ in v], [d for d, _ in t])]


def _score(cases: list[Case], metric, fuse: Callable[[Leg, Leg], list[str]]) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    ranked = [(fuse(v, t), gold) for v, t, gold in cases]
    return (float(np.mean([metric(r, g) for r, g in ranked])), float(np.mean([_mrr(r, g) for r, g in ranked])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--choice-only", action="store_true", help="skip the table of fixed fusion rules")
    parser.add_argument("--sets", nargs="+", choices=("covid", "hotpot", "musique"),
                        default=["covid", "hotpot", "musique"], help="corpora to run (default: all three)")
    args = parser.parse_args()
    embedder = _corpus.load_embedder()
    builders = {
        "covid": lambda: ("COVID-QA hit@5", covid_cases(embedder), _hit),
        "hotpot": lambda: ("HotpotQA R@5", paragraph_cases("HotpotQA", bench_recall.hotpot, embedder), _recall),
        "musique": lambda: ("MuSiQue R@5", paragraph_cases("MuSiQue", bench_recall.musique, embedder), _recall),
    }
    sets = [builders[name]() for name in args.sets]
    if not args.choice_only:
        print(f"{'rule':<32}" + "".join(f"{name:>16}" for name, _, _ in sets))
        for rule, fuse in RULES.items():
            cells = [np.mean([metric(fuse(v, t), gold) for v, t, gold in cases]) for _, (cases, _), metric in sets]
            print(f"{rule:<32}" + "".join(f"{c:>16.3f}" for c in cells))
        print()
    summary: dict[str, object] = {"queries_per_corpus": fusion.N_QUERIES, "sets": {}}
    for name, (cases, choices), metric in sets:
        rows: dict[str, dict[str, object]] = {}
        for label, rule in (("vector", fusion.Fusion(text_weight=0.0)), ("BM25", fusion.Fusion(vector_weight=0.0)),
                            ("default fusion", fusion.DEFAULT)):
            at5, mrr = _score(cases, metric, _fused(rule))
            rows[label] = {"fusion": rule.label, "at5": at5, "mrr": mrr}
        for way, (rule, scores, seconds) in choices.items():
            at5, mrr = _score(cases, metric, _fused(rule))
            rows[f"chosen by {way}"] = {
                "fusion": rule.label, "at5": at5, "mrr": mrr, "seconds": round(seconds, 2),
                "pseudo_at5": {f.label: round(v[0], 4) for f, v in scores.items()},
            }
        best = max(fusion.CANDIDATES, key=lambda f: _score(cases, metric, _fused(f))[0])
        at5, mrr = _score(cases, metric, _fused(best))
        rows["best candidate on gold (oracle, for reference)"] = {"fusion": best.label, "at5": at5, "mrr": mrr}
        best_leg = max(float(rows["vector"]["at5"]), float(rows["BM25"]["at5"]))  # type: ignore[arg-type]
        print(f"{name} ({len(cases)} questions)")
        for label, row in rows.items():
            mark = "" if float(row["at5"]) >= best_leg - 1e-9 else "  < best leg"  # type: ignore[arg-type]
            extra = f"  {row['seconds']}s" if "seconds" in row else ""
            print(f"  {label:<48} {row['fusion']:<38} {row['at5']:.3f}  MRR {row['mrr']:.3f}{extra}{mark}")
        summary["sets"][name] = {"questions": len(cases), "rows": rows}  # type: ignore[index]
    with open("/proc/loadavg") as f:
        summary["loadavg"] = f.read().split()[:3]
    SUMMARY.parent.mkdir(exist_ok=True)
    path = SUMMARY if len(sets) == len(builders) else SUMMARY.with_name(f"fusion_choice_{'_'.join(args.sets)}.json")
    path.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"summary: {path}")


if __name__ == "__main__":
    main()
