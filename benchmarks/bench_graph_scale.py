"""Path retrieval on a graph of a million triples: store build, index load, 2-hop link + follow latency, memory.

    .venv/bin/python benchmarks/bench_graph_scale.py [--triples 1000000] [--queries 500] [--quick]

A synthetic graph with the shape of a real one: entity names of one to three words from a
syllable generator (people, organisations, places, works; a name repeats across kinds only by
chance), a few hundred relations, and power-law (Zipf) degrees for heads, tails and relations, so
a few hub entities have thousands of edges and most have one or two. It is written through
`GraphStore.add_triples` into LanceDB in a temp dir, with `HashEmbedder` (384-dim, MiniLM's
width) for the entity vectors: the vectors' values do not change linking by exact name or path
following, and MiniLM would spend most of an hour embedding 200k names on two cores.

Then twice, each in a fresh subprocess so its memory is the reader's alone: the first start has no
saved index, so `GraphIndex.load` reads both tables, builds the columns and saves them beside the
tables (`graph_index.npz`); the second start loads that file, which is what every later start
does. For each: the `localrag.graph` import time, the load time, resident memory after the load;
and in the second, for `--queries` 2-hop questions (a triple drawn at random, so a head in
proportion to its degree, then a relation that exists from its tail, a question naming the head)
the latency of linking from the question text plus following the path (`GraphIndex.link` +
`GraphIndex.follow`), each separately too, and of `relation_sequences` (what the planners
enumerate), and resident memory after the questions. `--quick` = 100k triples, 200 queries.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SYLLABLES = [
    "ka", "ri", "mo", "len", "tas", "vor", "el", "an", "dru", "bel", "sto", "mar", "qui", "zen", "lo", "fa",
    "ne", "shi", "gor", "ta", "wyn", "pel", "ric", "ost", "ha", "mi", "dor", "ul", "ve", "sa", "brin", "tel",
]
KINDS = {
    "person": ("", ""),
    "organisation": ("", " Group"),
    "place": ("Port ", ""),
    "work": ("The ", ""),
}
VERBS = ["works", "lives", "born", "located", "founded", "owned", "directed", "written", "member", "part",
         "married", "studied", "plays", "published", "managed", "headed", "sponsored", "acquired", "named", "built"]
PREPS = ["in", "for", "by", "of", "at", "with", "to", "from", "under", "after", "on", "near", "since", "via", "as"]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def make_entities(n: int, rng: random.Random) -> list[str]:
    names: dict[str, None] = {}
    kinds = list(KINDS.items())
    while len(names) < n:
        _, (prefix, suffix) = rng.choice(kinds)
        words = " ".join(_word(rng) for _ in range(rng.randint(1, 2)))
        names.setdefault(f"{prefix}{words}{suffix}", None)
    return list(names)


def make_relations(n: int) -> list[str]:
    return [f"{v}_{p}" if i < len(VERBS) * len(PREPS) else f"{v}_{p}_{i}"
            for i, (v, p) in enumerate((v, p) for p in PREPS for v in VERBS)][:n]


def zipf_indices(n_items: int, size: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Indices in [0, n_items) with P(i) proportional to 1/(i+1)^exponent, in a shuffled item order."""
    weights = 1.0 / np.arange(1, n_items + 1) ** exponent
    weights /= weights.sum()
    return rng.permutation(n_items)[rng.choice(n_items, size=size, p=weights)]


def build(db: Path, n_triples: int, seed: int) -> dict[str, float]:
    from localrag.embed import HashEmbedder
    from localrag.graph.store import GraphStore
    from localrag.graph.triples import Triple

    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    n_entities = max(1000, n_triples // 5)
    entities = make_entities(n_entities, rng)
    relations = make_relations(300)
    # 3% more draws than asked: self-loops and repeated triples are dropped on the way in.
    draws = int(n_triples * 1.03)
    heads = zipf_indices(n_entities, draws, 0.9, nrng)
    tails = zipf_indices(n_entities, draws, 0.9, nrng)
    rels = zipf_indices(len(relations), draws, 1.0, nrng)
    store = GraphStore(db, HashEmbedder(dim=384))
    started = time.perf_counter()
    batch = 100_000
    for start in range(0, draws, batch):
        stop = min(draws, start + batch)
        doc = f"doc-{start // batch}"
        store.add_triples(
            [
                Triple(entities[heads[i]], relations[rels[i]], entities[tails[i]], f"{doc}:{i}", doc)
                for i in range(start, stop)
                if heads[i] != tails[i]
            ]
        )
    seconds = time.perf_counter() - started
    stats = store.stats()
    return {"triples": stats.triples, "entities": stats.entities, "relations": len(stats.relations),
            "build_s": seconds}


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))]


def measure(db: Path, queries: int, seed: int) -> dict[str, object]:
    """Runs in its own process: import, load, and the per-question latencies."""
    rss0 = _rss_mib()
    started = time.perf_counter()
    from localrag.embed import HashEmbedder
    from localrag.graph.paths import GraphIndex
    from localrag.graph.plan import EmbeddingPlanner
    from localrag.graph.reason import retrieve_paths
    from localrag.graph.store import INDEX_FILE, GraphStore

    import_s = time.perf_counter() - started
    started = time.perf_counter()
    store = GraphStore(db, HashEmbedder(dim=384))  # imports lancedb and opens the tables
    open_s = time.perf_counter() - started
    saved = (db / INDEX_FILE).is_file()
    rss1 = _rss_mib()
    started, cpu = time.perf_counter(), time.process_time()
    index = GraphIndex.load(store)
    load_s, load_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    rss2 = _rss_mib()
    if not saved:
        return {"import_s": import_s, "open_s": open_s, "load_s": load_s, "load_cpu_s": load_cpu_s,
                "rss_index_mib": rss2 - rss1,
                "rss_total_mib": rss2, "saved_mib": (db / INDEX_FILE).stat().st_size / 2**20}

    rng = random.Random(seed)
    cols = index.columns
    questions: list[tuple[str, str, tuple[str, str]]] = []
    while len(questions) < queries:
        edge = rng.randrange(index.n_triples)
        head, r1 = index.entity_ids[cols.head[edge]], index.relations[cols.rel[edge]]
        onward = cols.out_edge[cols.edges(np.asarray([cols.tail[edge]]))]
        if not len(onward):
            continue
        r2 = index.relations[cols.rel[rng.choice(onward.tolist())]]
        name = index.names[head]
        questions.append((f"what {r2.replace('_', ' ')} the one that {name} {r1.replace('_', ' ')}?", head, (r1, r2)))

    link_ms, follow_ms, both_ms, seq_ms, found = [], [], [], [], []
    for text, head, path in questions:
        t0 = time.perf_counter()
        linked = index.link(text)
        t1 = time.perf_counter()
        paths = index.follow([e.entity_id for e in linked], list(path))
        t2 = time.perf_counter()
        index.relation_sequences([e.entity_id for e in linked], 2)
        t3 = time.perf_counter()
        link_ms.append((t1 - t0) * 1000)
        follow_ms.append((t2 - t1) * 1000)
        both_ms.append((t2 - t0) * 1000)
        seq_ms.append((t3 - t2) * 1000)
        found.append(len(paths))
        if head not in {e.entity_id for e in linked}:
            print(f"  note: linking missed {index.names[head]!r} in {text!r}")
    # Three hops: beam planning (HashEmbedder: the MiniLM encode of the question and of new relation
    # paths is left out) + following, twice over the questions; the second pass is what a running
    # engine sees, its planner keeping the vectors of relation paths it has scored before.
    planner = EmbeddingPlanner(HashEmbedder(dim=384), max_hops=3)
    plan_ms: list[list[float]] = [[], []]
    plan_cpu_ms: list[float] = []
    hop_lengths: dict[int, int] = {}
    for rounds in plan_ms:
        for text, _head, _path in questions:
            linked = index.link(text)
            t0, c0 = time.perf_counter(), time.process_time()
            planned = planner.plan(text, index, linked)
            retrieve_paths(index, linked, planned)
            rounds.append((time.perf_counter() - t0) * 1000)
            if rounds is plan_ms[1]:
                plan_cpu_ms.append((time.process_time() - c0) * 1000)
            if planned and rounds is plan_ms[1]:
                hop_lengths[len(planned[0].relations)] = hop_lengths.get(len(planned[0].relations), 0) + 1
    keys = cols.out_key
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate([[-1], keys, [keys[-1] + 1]]))))
    return {
        "import_s": import_s,
        "open_s": open_s,
        "load_s": load_s,
        "load_cpu_s": load_cpu_s,
        "rss_after_queries_mib": _rss_mib(),
        "plan3_cold_p50": statistics.median(plan_ms[0]),
        "plan3_cold_p95": _pct(plan_ms[0], 0.95),
        "plan3_p50": statistics.median(plan_ms[1]),
        "plan3_p95": _pct(plan_ms[1], 0.95),
        "plan3_top_lengths": hop_lengths,
        "plan3_cpu_p50": statistics.median(plan_cpu_ms),
        "plan3_cpu_p95": _pct(plan_cpu_ms, 0.95),
        "rss_start_mib": rss0,
        "rss_index_mib": rss2 - rss1,
        "rss_total_mib": rss2,
        "link_p50": statistics.median(link_ms),
        "link_p95": _pct(link_ms, 0.95),
        "follow_p50": statistics.median(follow_ms),
        "follow_p95": _pct(follow_ms, 0.95),
        "both_p50": statistics.median(both_ms),
        "both_p95": _pct(both_ms, 0.95),
        "both_max": max(both_ms),
        "seq_p50": statistics.median(seq_ms),
        "seq_p95": _pct(seq_ms, 0.95),
        "paths_p50": statistics.median(found),
        "paths_max": max(found),
        "max_fanout": int(runs.max()),
        "queries": len(questions),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--summary", type=Path, help="write the figures as JSON here")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the subprocess's entry
    args = parser.parse_args()
    if args.measure is not None:
        print(json.dumps(measure(args.measure, args.queries, args.seed)))
        return
    n_triples, queries = (100_000, 200) if args.quick else (args.triples, args.queries)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "db"
        built = build(db, n_triples, args.seed)
        print(
            f"built: {built['triples']:,} triples, {built['entities']:,} entities, {built['relations']} relations "
            f"in {built['build_s']:.1f} s ({built['triples'] / built['build_s']:,.0f} triples/s, hash embedder)"
        )
        runs = []
        for _ in range(2):  # the first start builds and saves the index, the second loads the file
            reply = subprocess.run(
                [sys.executable, __file__, "--measure", str(db), "--queries", str(queries), "--seed", str(args.seed)],
                check=True, capture_output=True, text=True,
            )
            for line in reply.stdout.splitlines()[:-1]:
                print(line)
            runs.append(json.loads(reply.stdout.splitlines()[-1]))
    first, m = runs
    if args.summary is not None:
        args.summary.write_text(json.dumps({"built": built, "first_start": first, "later_start": m,
                                            "loadavg": Path("/proc/loadavg").read_text().split()[:3]}, indent=1) + "\n")
    print(f"first start (no saved index): GraphIndex.load {first['load_s']:.2f} s, {first['load_cpu_s']:.2f} s CPU "
          f"(read the tables, build the columns, save {first['saved_mib']:.0f} MiB), +{first['rss_index_mib']:.0f} MiB")
    print(f"import localrag.graph: {m['import_s'] * 1000:.0f} ms; GraphStore open (lancedb import + tables) "
          f"{m['open_s'] * 1000:.0f} ms")
    print(
        f"later starts: GraphIndex.load {m['load_s']:.2f} s, {m['load_cpu_s']:.2f} s CPU (the saved file); resident "
        f"memory {m['rss_total_mib']:.0f} MiB, +{m['rss_index_mib']:.0f} MiB for the index; "
        f"{m['rss_after_queries_mib']:.0f} MiB after the questions"
    )
    print(f"largest (entity, relation) fan-out {m['max_fanout']:,}; paths per question p50 {m['paths_p50']:.0f}, "
          f"max {m['paths_max']:.0f} (follow's cap: 50)")
    print(
        f"2-hop link + follow over {m['queries']} questions: p50 {m['both_p50']:.3f} ms, p95 {m['both_p95']:.3f} ms, "
        f"max {m['both_max']:.3f} ms  (link p50 {m['link_p50']:.3f} / p95 {m['link_p95']:.3f} ms; "
        f"follow p50 {m['follow_p50']:.3f} / p95 {m['follow_p95']:.3f} ms)"
    )
    print(f"relation_sequences (2 hops, for planning): p50 {m['seq_p50']:.3f} ms, p95 {m['seq_p95']:.3f} ms")
    print(f"3-hop beam planning + following (hash embedder): p50 {m['plan3_p50']:.2f} ms, p95 {m['plan3_p95']:.2f} ms "
          f"with the planner's path vectors cached; first pass p50 {m['plan3_cold_p50']:.2f} ms, "
          f"p95 {m['plan3_cold_p95']:.2f} ms; top path lengths {m['plan3_top_lengths']}; CPU per question (cached) "
          f"p50 {m['plan3_cpu_p50']:.2f} ms, p95 {m['plan3_cpu_p95']:.2f} ms")


if __name__ == "__main__":
    main()
