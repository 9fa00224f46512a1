"""Embedder tuning on COVID-QA: wall time, peak memory, and gold-question hit@5 before and after.

    .venv/bin/python benchmarks/bench_tune_retriever.py [--articles 98] [--qa-chunks 200] [--epochs 1]

1. The first `--articles` of the 98 COVID-QA articles are written as text files and ingested by a
   real Engine (ONNX MiniLM, the default chunking): about 3,000 chunks for all 98.
2. The bundled SmolLM2-135M writes one question per chunk for `--qa-chunks` chunks spread over the
   documents (`raft.qa.generate_qa`, its grammar and filters); cached in benchmarks/results/ by
   chunk ids, so a re-run skips this part. The gold questions never take part.
3. `tune_retriever`: the miner (top-50 filter, hard negatives), the document split, training, the
   held-out gate. Timed, with the process's peak RSS sampled during this step only.
4. Gold evaluation: 200 of the COVID-QA questions on those articles (all 1,380 for all 98) drawn
   with random.Random(7) (all of them when fewer); article-level
   hit@5 (a top-5 chunk from the question's article) of the vector leg and of hybrid search, with
   the current MiniLM and then with the tuned embedder switched in (the index re-embedded), whatever
   the gate said, so both figures exist.
Writes benchmarks/summaries/tune_retriever.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus  # noqa: E402

SUMMARY = Path(__file__).resolve().parent / "summaries" / "tune_retriever.json"


class PeakRss:
    """Samples VmRSS of this process every 0.2 s while running."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    self.peak = max(self.peak, int(line.split()[1]) * 1024)
            self._stop.wait(0.2)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _articles(limit: int) -> list[dict]:  # type: ignore[type-arg]
    data = json.loads((_corpus.DATA / "covidqa/data/question-answering/200423_covidQA.json").read_text())["data"]
    return data[:limit]


def gold_questions(limit: int) -> list[tuple[str, int]]:
    every = [(qa["question"], i) for i, a in enumerate(_articles(limit)) for p in a["paragraphs"] for qa in p["qas"]]
    return random.Random(7).sample(every, min(200, len(every)))


def write_articles(folder: Path, limit: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, article in enumerate(_articles(limit)):
        (folder / f"article_{i:03d}.txt").write_text(article["paragraphs"][0]["context"])


def article_of(path: str) -> int:
    return int(Path(path).stem.split("_")[1])


def hit_at_5(engine, questions: list[tuple[str, int]]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    vectors = engine.embedder.embed([q for q, _ in questions])
    dense = hybrid = 0
    for (question, gold), vector in zip(questions, vectors, strict=True):
        dense += any(article_of(c.path) == gold for c, _ in engine.store.vector_search(vector, 5))
        hybrid += any(article_of(h.chunk.path) == gold for h in engine.search(question, k=5))
    return {"dense_hit@5": round(dense / len(questions), 3), "hybrid_hit@5": round(hybrid / len(questions), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=98, help="COVID-QA articles to index (all: 98)")
    parser.add_argument("--qa-chunks", type=int, default=200, help="chunks the 135M model writes questions for")
    parser.add_argument("--epochs", type=float, default=1.0)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-tune-retriever-"))
    os.environ["LOCALRAG_HOME"] = str(home)
    os.environ.setdefault("LOCALRAG_CACHE_DIR", str(_corpus.RESULTS / "cache"))

    from localrag.config import load_settings
    from localrag.engine import Engine
    from localrag.models import resolve_embedder
    from localrag.raft.build import spread
    from localrag.raft.qa import generate_qa, store_chunks
    from localrag.tune.retriever import RetrieverConfig, tune_retriever

    engine = Engine(load_settings())
    started = time.perf_counter()
    write_articles(home / "covid", args.articles)
    engine.ingest([home / "covid"])
    chunks = store_chunks(engine.store)
    ingest_seconds = time.perf_counter() - started
    print(f"ingested {len(chunks)} chunks in {ingest_seconds:.0f}s", file=sys.stderr, flush=True)

    chosen = spread(chunks, args.qa_chunks)
    cache = _corpus.RESULTS / f"covid_qa_{len(chunks)}_{len(chosen)}.jsonl"
    raft_dir = home / "raft"
    raft_dir.mkdir()
    if cache.is_file():
        (raft_dir / "qa.jsonl").write_text(cache.read_text())
        qa_seconds = None
    else:
        began = time.perf_counter()
        pairs, report = generate_qa(chosen, engine.generator)
        qa_seconds = round(time.perf_counter() - began, 1)
        text = "".join(json.dumps(p.to_json()) + "\n" for p in pairs)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(text)
        (raft_dir / "qa.jsonl").write_text(text)
        print(f"{len(pairs)} questions in {qa_seconds}s; skipped {dict(report.skipped)}", file=sys.stderr, flush=True)

    questions = gold_questions(args.articles)
    before = hit_at_5(engine, questions)
    print(f"before: {before}", file=sys.stderr, flush=True)

    began = time.perf_counter()
    with PeakRss() as rss:
        summary = tune_retriever(
            name="covid-tuned", raft_dir=raft_dir, store=engine.store, embedder=engine.embedder,
            base=resolve_embedder(""), models_dir=engine.models_dir, work_dir=home / "work",
            config=RetrieverConfig(epochs=args.epochs),
        )
    tune_seconds = time.perf_counter() - began
    assert summary is not None
    print(f"tuned in {tune_seconds:.0f}s: {summary}", file=sys.stderr, flush=True)

    report = engine.switch_embedder(Path(summary["path"]))
    after = hit_at_5(engine, questions)
    print(f"after: {after}", file=sys.stderr, flush=True)
    result = {
        "command": " ".join(["benchmarks/bench_tune_retriever.py", *sys.argv[1:]]),
        "articles": args.articles,
        "chunks": len(chunks),
        "gold_questions": len(questions),
        "qa_chunks": len(chosen),
        "qa_seconds": qa_seconds,
        "tune_seconds": round(tune_seconds, 1),
        "tune_peak_rss_mb": round(rss.peak / 2**20),
        "reembed_seconds": round(report.seconds, 1),
        "gate": {k: summary[k] for k in ("better", "current", "tuned", "train_pairs", "held_out_pairs", "steps")},
        "gold_before": before,
        "gold_after": after,
        "load_average": Path("/proc/loadavg").read_text().split()[:3],
    }
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
