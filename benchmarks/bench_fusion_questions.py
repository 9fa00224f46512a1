"""Fusion chosen on questions a local model wrote per chunk, scored on the gold questions.

    .venv/bin/python benchmarks/bench_fusion_questions.py [--chunks 200] [--sets covid hotpot musique]
    .venv/bin/python benchmarks/bench_fusion_questions.py --score-only     # questions already written

The corpora and gold of bench_fusion.py (COVID-QA cut by localrag's chunker, chunk hit@5; HotpotQA and
MuSiQue paragraphs, recall@5). Per corpus, `--chunks` chunks are drawn with random.Random(0) and the
bundled SmolLM2-135M writes one question for each (`raft.qa.generate_qa`: its grammar and filters),
the same questions `raft build` writes. They are cached one line per chunk in
benchmarks/results/fusion_qa_<set>.jsonl, written as they come, so an interrupted run resumes where it
stopped; the corpora are visited in turns of `TURN` chunks so every set has questions early.

Then each leg's top 20 for every written question is fetched from the corpus's real store, and the
candidates of localrag.fusion.CANDIDATES are scored on them (hit@5 of the chunk the question was
written from). Rules that pick a candidate from those scores (RULES below) are each scored on the
gold questions, beside each leg, the default fusion and the best candidate on gold (an oracle, for
reference). The gold questions play no part in any choice. Summary:
benchmarks/summaries/fusion_questions.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus  # noqa: E402
import bench_fusion  # noqa: E402
import bench_recall  # noqa: E402
from _scratch import scratch_dir

from localrag import fusion  # noqa: E402
from localrag.store import Store  # noqa: E402
from localrag.types import Chunk, Document  # noqa: E402

SUMMARY = Path(__file__).resolve().parent / "summaries" / "fusion_questions.json"
TURN = 5
Corpus = tuple[list[Document], list[Chunk], list[tuple[str, set[str]]], Callable[[Chunk], str], str]


def corpora(embedder, sets: list[str]) -> dict[str, Corpus]:  # type: ignore[no-untyped-def]
    """name -> (documents, chunks, gold questions, gold key of a chunk, vector cache tag)."""
    out: dict[str, Corpus] = {}
    if "covid" in sets:
        docs, chunks, questions = bench_fusion.covid_corpus(embedder)
        out["covid"] = (docs, chunks, questions, lambda c: c.chunk_id, "covid_chunks")
    for name, loader in (("hotpot", bench_recall.hotpot), ("musique", bench_recall.musique)):
        if name in sets:
            tag = {"hotpot": "hotpotqa", "musique": "musique"}[name]
            paragraphs, gold = loader()
            docs, chunks = bench_recall.paragraph_chunks(paragraphs, tag)
            out[name] = (docs, chunks, gold, lambda c: c.doc_id, tag)
    return out


def _cache(name: str) -> Path:
    return _corpus.RESULTS / f"fusion_qa_{name}.jsonl"


def _written(name: str) -> dict[str, dict[str, str]]:
    path = _cache(name)
    if not path.is_file():
        return {}
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {row["chunk_id"]: row for row in rows}


def sample(chunks: list[Chunk], n: int) -> list[Chunk]:
    return random.Random(0).sample(chunks, min(n, len(chunks)))


def write_questions(picked: dict[str, list[Chunk]]) -> None:
    """One question per picked chunk, appended to each corpus's cache as it is written; resumes."""
    from localrag.config import load_settings
    from localrag.engine import Engine
    from localrag.raft.qa import QA_GRAMMAR, parse_reply, qa_messages, rejection

    todo = {name: [c for c in chunks if c.chunk_id not in _written(name)] for name, chunks in picked.items()}
    if not any(todo.values()):
        return
    os.environ.setdefault("LOCALRAG_HOME", scratch_dir(prefix="bench-fusion-qa-"))
    generator = Engine(load_settings()).generator
    _corpus.RESULTS.mkdir(parents=True, exist_ok=True)
    while any(todo.values()):
        for name in todo:
            turn, todo[name] = todo[name][:TURN], todo[name][TURN:]
            started = time.perf_counter()
            with _cache(name).open("a") as out:
                for chunk in turn:
                    # generate_qa's call and checks, one chunk at a time, keeping a rejected question too.
                    reply = generator.complete(qa_messages(chunk), max_tokens=160, temperature=0.0,
                                               grammar=QA_GRAMMAR)
                    parsed = parse_reply(reply)
                    reason = rejection(*parsed, chunk) if parsed else "reply not valid JSON"
                    row = {"chunk_id": chunk.chunk_id, "question": None if reason else parsed[0],  # type: ignore[index]
                           "answer": None if reason else parsed[1], "skipped": [reason] if reason else [],  # type: ignore[index]
                           "raw_question": parsed[0] if parsed else None}
                    out.write(json.dumps(row) + "\n")
                    out.flush()
            if turn:
                print(f"{name}: {len(turn)} chunks in {time.perf_counter() - started:.0f}s, "
                      f"{len(todo[name])} left (load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)


# Rules that choose a fusion from the candidates' per-question hits on the written questions.
Hits = dict[fusion.Fusion, list[int | None]]  # per question, the rank of its chunk (None: not in the top 20)
VECTOR, BM25 = fusion.Fusion(text_weight=0.0), fusion.Fusion(vector_weight=0.0)


def _mean(ranks: list[int | None]) -> float:
    return fusion.hit_mrr(ranks)[0]


def _best_leg(hits: Hits) -> fusion.Fusion:
    # A tie goes to the vector leg, as in fusion.pick_guarded.
    return max((VECTOR, BM25), key=lambda f: _mean(hits[f]))


def rule_best(hits: Hits) -> fusion.Fusion:
    """localrag.fusion.pick: the best hit@5 (then MRR, then the default first)."""
    return fusion.pick({f: fusion.hit_mrr(ranks) for f, ranks in hits.items()})


def rule_leg_first(hits: Hits) -> fusion.Fusion:
    """The best hit@5; a tie goes to the better leg, so fusion must beat both legs outright."""
    leg = _best_leg(hits)
    best = max(hits, key=lambda f: (_mean(hits[f]), f == leg))
    return best


RULES: dict[str, Callable[[Hits], fusion.Fusion]] = {
    "best hit@5 (localrag.fusion.pick)": rule_best,
    "best hit@5, tie to the better leg": rule_leg_first,
    "better leg unless a fusion wins by > 1 SE (fusion.pick_guarded)": fusion.pick_guarded,
    "better leg unless a fusion wins by > 2 SE": lambda h: fusion.pick_guarded(h, 2.0),
    "as pick_guarded, a leg alone only if it finds more than the default (fusion.pick_keeping_default)":
        fusion.pick_keeping_default,
    "better leg alone": _best_leg,
}


def score_set(name: str, corpus: Corpus, picked: list[Chunk], embedder) -> dict[str, object]:  # type: ignore[no-untyped-def]
    docs, chunks, gold_questions, key, tag = corpus
    written = [_written(name).get(c.chunk_id) for c in picked]
    # "checked": the pairs raft build keeps (its filters); "parsed": every question the model wrote.
    choice_sets = {
        "checked": [fusion.PseudoQuery(str(row["question"]), row["chunk_id"], "")
                    for row in written if row and row["question"]],
        "parsed": [fusion.PseudoQuery(str(row.get("raw_question") or row["question"]), row["chunk_id"], "")
                   for row in written if row and (row.get("raw_question") or row["question"])],
    }
    if tag == "covid_chunks":
        vectors = _corpus.cached_vectors([c.text for c in chunks], tag)
    else:
        vectors = _corpus.cached_vectors([f"{c.heading}\n{c.text}" for c in chunks], tag)
    metric = bench_fusion._hit if name == "covid" else bench_fusion._recall
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "db", embedder_name=embedder.name, dim=vectors.shape[1])
        for start in range(0, len(docs), 256):
            ids = {d.doc_id for d in docs[start : start + 256]}
            part = [i for i, c in enumerate(chunks) if c.doc_id in ids]
            store.write_batch(docs[start : start + 256], [chunks[i] for i in part], vectors[part])
        store.refresh_indexes()
        hits = {way: fusion.candidate_ranks(fusion.leg_cases(store, embedder, queries))
                for way, queries in choice_sets.items() if queries}
        gold_cases = bench_fusion._legs(store, embedder, gold_questions, key)

    def on_gold(f: fusion.Fusion) -> float:
        return round(bench_fusion._score(gold_cases, metric, bench_fusion._fused(f))[0], 4)

    gold = {f.label: on_gold(f) for f in fusion.CANDIDATES}
    best_leg_gold = max(gold[VECTOR.label], gold[BM25.label])
    by_way = {}
    for way, way_hits in hits.items():
        rules = {}
        for rule, choose in RULES.items():
            chosen = choose(way_hits)
            rules[rule] = {"fusion": chosen.label, "gold": gold[chosen.label],
                           "meets_best_leg": gold[chosen.label] >= best_leg_gold - 1e-9}
        by_way[way] = {"questions": len(choice_sets[way]),
                       "at5": {f.label: round(_mean(v), 4) for f, v in way_hits.items()}, "rules": rules}
    return {
        "chunks": len(chunks), "picked_chunks": len(picked), "written": sum(bool(row) for row in written),
        "gold_questions": len(gold_questions), "gold_metric": "hit@5" if name == "covid" else "recall@5",
        "choice_sets": by_way, "gold_at5": gold, "best_leg_gold": best_leg_gold,
        "oracle_on_gold": max(gold.items(), key=lambda item: item[1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=200, help="chunks per corpus to write a question for")
    parser.add_argument("--sets", nargs="+", choices=("covid", "hotpot", "musique"),
                        default=["covid", "hotpot", "musique"])
    parser.add_argument("--score-only", action="store_true", help="score the questions written so far")
    args = parser.parse_args()
    embedder = _corpus.load_embedder()
    sets = corpora(embedder, args.sets)
    picked = {name: sample(corpus[1], args.chunks) for name, corpus in sets.items()}
    if not args.score_only:
        write_questions(picked)
    summary: dict[str, object] = {"chunks_per_corpus": args.chunks, "sets": {}}
    for name, corpus in sets.items():
        result = score_set(name, corpus, picked[name], embedder)
        summary["sets"][name] = result  # type: ignore[index]
        gold = result["gold_at5"]
        print(f"{name}: gold vector {gold[VECTOR.label]:.3f} BM25 {gold[BM25.label]:.3f} "  # type: ignore[index]
              f"default {gold[fusion.DEFAULT.label]:.3f}")  # type: ignore[index]
        for way, row in result["choice_sets"].items():  # type: ignore[attr-defined]
            at5 = row["at5"]
            print(f"  {way}: {row['questions']} questions; vector {at5[VECTOR.label]:.3f} BM25 {at5[BM25.label]:.3f} "
                  f"default {at5[fusion.DEFAULT.label]:.3f}")
            for rule, chosen in row["rules"].items():
                mark = "" if chosen["meets_best_leg"] else "  < best leg"
                print(f"    {rule:<46} {chosen['fusion']:<38} {chosen['gold']:.3f}{mark}")
    summary["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
    SUMMARY.parent.mkdir(exist_ok=True)
    path = SUMMARY if len(sets) == 3 else SUMMARY.with_name(f"fusion_questions_{'_'.join(args.sets)}.json")
    path.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"summary: {path}")


if __name__ == "__main__":
    main()
