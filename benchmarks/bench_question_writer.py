"""Question writing by two models on the same COVID-QA chunks: checks, the top-50 filter, own-chunk retrieval.

    LOCALRAG_N_THREADS=1 OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_tune_retriever.py \
        --qa-chunks 100 --questions-only --threads 1                                    # SmolLM2-135M
    ... benchmarks/bench_tune_retriever.py --qa-chunks 100 --questions-only --threads 1 --qa-model GGUF [--qa-bos]
    ... benchmarks/bench_question_writer.py --writer smollm2-135m= --writer gemma3-270m=STEM[_bos] --threads 1

Reads the reply caches bench_tune_retriever.py wrote (benchmarks/results/tune_retriever_qa_N.jsonl for the
bundled model, tune_retriever_qa_N_STEM.jsonl for `--qa-model`, STEM its file name's stem; `--writer
LABEL=STEM`, an empty STEM for the bundled one) over the same ingested index, and per writer reports:
seconds per chunk, how many questions passed raft's checks and why the others did not (the counts
`raft.qa.generate_qa` gave), how many the embedder tuner's miner keeps (`tune.retriever.mine_pairs`: the
chunk in the top 50 of either leg), and for the checked and for the kept questions the rank of their own
chunk in the vector leg, the BM25 leg and hybrid search (`Engine.search`, whose hits merge touching chunks: the
hit whose range holds the chunk): hit@5 and MRR (0 past the 20th). The same for every question in a reply
that parsed, whatever raft's checks said of it (the miner reads the question only, so a refused answer need
not make a question useless for tuning). Chunks both
writers were asked about are listed side by side (`--pairs-out`) for reading.
Writes its figures under `--draw NAME` in benchmarks/summaries/question_writer.json (other draws' kept).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus  # noqa: E402
import bench_tune_retriever  # noqa: E402

SUMMARY = Path(__file__).resolve().parent / "summaries" / "question_writer.json"
DEPTH = 50  # the miner's filter depth; MRR counts to rank 20 as the tuner's gate does
MRR_DEPTH = 20


def read_cache(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def own_rank(ids: list[str], own: str) -> int | None:
    return ids.index(own) if own in ids else None


def figures(ranks: list[int | None]) -> dict[str, float | int]:
    """hit@5 and MRR (to rank 20) of a list of own-chunk ranks (None: not within the depth searched)."""
    if not ranks:
        return {"n": 0, "hit@5": 0.0, "mrr": 0.0}
    hits = [r is not None and r < 5 for r in ranks]
    reciprocal = [1.0 / (r + 1) if r is not None and r < MRR_DEPTH else 0.0 for r in ranks]
    return {"n": len(ranks), "hit@5": round(sum(hits) / len(ranks), 3), "mrr": round(sum(reciprocal) / len(ranks), 3)}


def covers(hit, own) -> bool:  # type: ignore[no-untyped-def]
    """Whether a hybrid hit holds the chunk: hybrid search merges touching chunks of a document into one hit
    that keeps the first one's id, so the own chunk is found by its character range, not its id."""
    return bool(hit.doc_id == own.doc_id and hit.start <= own.start and own.end <= hit.end)


def leg_ranks(engine, question: str, own) -> dict[str, int | None]:  # type: ignore[no-untyped-def]
    vector = engine.embedder.embed_queries([question])[0]
    merged = [h.chunk for h in engine.search(question, k=DEPTH)]
    return {
        "vector": own_rank([c.chunk_id for c, _ in engine.store.vector_search(vector, DEPTH)], own.chunk_id),
        "bm25": own_rank([c.chunk_id for c, _ in engine.store.text_search(question, DEPTH)], own.chunk_id),
        "hybrid": next((rank for rank, hit in enumerate(merged) if covers(hit, own)), None),
    }


def writer_report(engine, records: list[dict]) -> tuple[dict, dict[str, dict]]:  # type: ignore[no-untyped-def,type-arg]
    """The writer's figures, and per chunk id its checked question with its ranks and whether the miner kept it."""
    from localrag.raft.qa import QAPair, parse_reply
    from localrag.tune.retriever import mine_pairs

    reasons: Counter[str] = Counter()
    for record in records:
        reasons.update(record["skipped"])
    pairs = [QAPair.from_json(r["pair"]) for r in records if r["pair"] is not None]
    mined = mine_pairs(pairs, engine.store, engine.embedder, top=DEPTH)
    kept = {m.chunk.chunk_id for m in mined.pairs}
    per_chunk: dict[str, dict] = {}  # type: ignore[type-arg]
    for pair in pairs:
        ranks = leg_ranks(engine, pair.question, pair.chunk)
        per_chunk[pair.chunk.chunk_id] = {"question": pair.question, "answer": pair.answer, "ranks": ranks,
                                          "kept": pair.chunk.chunk_id in kept}
    seconds = [r["seconds"] for r in records]
    report = {
        "chunks_asked": len(records),
        "seconds_per_chunk": round(sum(seconds) / len(seconds), 2) if seconds else None,
        "seconds_per_chunk_median": sorted(seconds)[len(seconds) // 2] if seconds else None,
        "passed_checks": len(pairs),
        "refused": dict(reasons.most_common()),
        "kept_by_top50_filter": len(kept),
        "dropped_by_top50_filter": mined.dropped_not_found,
    }
    for name, chosen in (("checked", list(per_chunk.values())),
                         ("kept", [p for p in per_chunk.values() if p["kept"]])):
        report[f"own_chunk_{name}"] = {leg: figures([p["ranks"][leg] for p in chosen])
                                       for leg in ("vector", "bm25", "hybrid")}
    chunks = {c.chunk_id: c for c in engine.store.chunks([r["chunk_id"] for r in records])}
    parsed = [(parse_reply(r["reply"]), chunks[r["chunk_id"]]) for r in records if r.get("reply") is not None]
    every = [QAPair(reply[0], reply[1], chunk) for reply, chunk in parsed if reply is not None]
    if every:
        report["parsed_questions"] = len(every)
        report["parsed_kept_by_top50_filter"] = len(mine_pairs(every, engine.store, engine.embedder, top=DEPTH).pairs)
        ranks = [leg_ranks(engine, pair.question, pair.chunk) for pair in every]
        report["own_chunk_parsed"] = {leg: figures([r[leg] for r in ranks]) for leg in ("vector", "bm25", "hybrid")}
    return report, per_chunk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=98, help="the ingested index's article count")
    parser.add_argument("--writer", action="append", required=True, metavar="LABEL=STEM",
                        help="a writer's label and its cache's model stem (empty: the bundled model); repeatable")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime and torch threads")
    parser.add_argument("--draw", default="first", help="the key these writers' figures go under in the summary")
    parser.add_argument("--pairs-out", type=Path,
                        help="every chunk's replies from each writer, side by side, for reading "
                             "(default: results/question_writer_pairs_DRAW.json)")
    args = parser.parse_args()
    os.environ["LOCALRAG_N_THREADS"] = str(args.threads)
    os.environ.setdefault("LOCALRAG_CACHE_DIR", str(_corpus.RESULTS / "cache"))
    base = _corpus.RESULTS / f"tune_retriever_home_{args.articles}"
    if not (base / "ingested.json").is_file():
        sys.exit(f"{base} is not ingested: run bench_tune_retriever.py --questions-only first")
    engine = bench_tune_retriever.prepare(base, args.articles)
    summary: dict = {"writers": {}}  # type: ignore[type-arg]
    replies: dict[str, dict[str, dict]] = {}  # type: ignore[type-arg]
    checked: dict[str, dict[str, dict]] = {}  # type: ignore[type-arg]
    for spec in args.writer:
        label, _, stem = spec.partition("=")
        cache = _corpus.RESULTS / (f"tune_retriever_qa_{args.articles}.jsonl" if not stem
                                   else f"tune_retriever_qa_{args.articles}_{stem}.jsonl")
        records = read_cache(cache)
        summary["writers"][label], checked[label] = writer_report(engine, records)
        summary["writers"][label]["cache"] = cache.name
        replies[label] = {r["chunk_id"]: r for r in records}
        print(label, json.dumps(summary["writers"][label], indent=1), file=sys.stderr, flush=True)
    labels = list(replies)
    common = [cid for cid in replies[labels[0]] if all(cid in replies[label] for label in labels)]
    both_checked = [cid for cid in common if all(cid in checked[label] for label in labels)]
    summary["chunks_asked_of_all"] = len(common)
    summary["chunks_checked_by_all"] = len(both_checked)
    summary["load_average"] = Path("/proc/loadavg").read_text().split()[:3]
    chunks = {c.chunk_id: c for c in engine.store.chunks(common)}
    side_by_side = [
        {"chunk_id": cid, "text": chunks[cid].text if cid in chunks else None,
         **{label: {"reply": replies[label][cid].get("reply"), "skipped": replies[label][cid]["skipped"],
                    "checked": checked[label].get(cid)} for label in labels}}
        for cid in common
    ]
    pairs_out = args.pairs_out or _corpus.RESULTS / f"question_writer_pairs_{args.draw}.json"
    pairs_out.parent.mkdir(parents=True, exist_ok=True)
    pairs_out.write_text(json.dumps(side_by_side, indent=1))
    whole = json.loads(SUMMARY.read_text()) if SUMMARY.is_file() else {}
    whole["index"] = json.loads((base / "ingested.json").read_text())
    whole.setdefault("draws", {})[args.draw] = summary
    SUMMARY.write_text(json.dumps(whole, indent=2) + "\n")
    print(f"wrote {SUMMARY} and {pairs_out}", file=sys.stderr)


if __name__ == "__main__":
    main()
