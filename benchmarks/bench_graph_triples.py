"""`graph triples` filtered by an entity or a relation, on a graph of a million triples.

    .venv/bin/python benchmarks/bench_graph_triples.py [--triples 1000000] [--home DIR] [--index] [--summary S]

The graph is bench_graph_scale.py's synthetic one (Zipf degrees, a few hundred relations), written once into
an Engine's home (`--home`, default benchmarks/results/graph_triples_home) with `HashEmbedder` vectors, and
reused by later runs, so two checkouts can be timed on the same tables. Each filter is asked through
`Engine.graph_triples`, as `localrag graph triples ENTITY`, MCP's `graph_triples` and `POST /triples` ask it:
- first call: in a fresh Engine, as a command line run pays it (the graph index read from its saved file, if
  the code needs it);
- again: the same call on the same Engine, as a server answers its later requests.
Filters: the entity of highest degree, entities drawn in proportion to degree and drawn uniformly (most have one
or two triples), and a relation of middling frequency. Each listing's digest is kept, so two checkouts can be
checked to list the same triples. `--index` first makes the scalar indexes that `graph build` and `graph import`
make on a large graph (`GraphStore.index_columns`), timed; a checkout before them then reads the same tables.
`--imported` writes a new home's graph as `graph import` writes a file's (each triple's source a line of the
file, not a chunk); `--loaded` has each Engine hold the whole graph in memory before it lists, as a server that
has answered graph questions does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus  # noqa: E402
from bench_graph_scale import make_entities, make_relations, zipf_indices  # noqa: E402

DRAWN = 10


def _engine(home: Path):  # type: ignore[no-untyped-def]
    os.environ["LOCALRAG_HOME"] = str(home)
    from localrag.config import load_settings
    from localrag.embed import HashEmbedder
    from localrag.engine import Engine

    return Engine(load_settings(), embedder=HashEmbedder(dim=384))


def build(home: Path, n_triples: int, seed: int, imported: bool) -> dict[str, float]:
    from localrag.graph.triples import IMPORTED, Triple

    engine = _engine(home)
    engine._open_store(create=True)
    rng, nrng = random.Random(seed), np.random.default_rng(seed)
    n_entities = max(1000, n_triples // 5)
    entities, relations = make_entities(n_entities, rng), make_relations(300)
    draws = int(n_triples * 1.03)
    heads, tails = zipf_indices(n_entities, draws, 0.9, nrng), zipf_indices(n_entities, draws, 0.9, nrng)
    rels = zipf_indices(len(relations), draws, 1.0, nrng)
    started = time.perf_counter()
    for start in range(0, draws, 100_000):
        # As `graph import` writes a file's triples (its document `file:<path>`, each source a line), or as
        # `graph build` writes a document's (each source a chunk id, here of chunks the index does not hold).
        doc = f"{IMPORTED}/synthetic/kb.tsv" if imported else f"doc-{start // 100_000}"
        engine.graph.add_triples([Triple(entities[heads[i]], relations[rels[i]], entities[tails[i]],
                                         f"kb.tsv:{i + 1}" if imported else f"{doc}:{i}", doc)
                                  for i in range(start, min(draws, start + 100_000)) if heads[i] != tails[i]])
    stats = engine.graph.stats()
    engine.graph_index()  # saved beside the tables, so every checkout's first call reads the same file
    return {"triples": stats.triples, "entities": stats.entities, "build_s": round(time.perf_counter() - started, 1),
            "imported": imported}


def filters(home: Path, seed: int) -> dict[str, list[tuple[str, str]]]:
    """(entity, relation) filters by kind, drawn from the tables (the same for every checkout)."""
    graph = _engine(home).graph
    triples = graph.triple_rows().select(["head", "relation", "tail"]).to_pandas()
    degree = triples["head"].value_counts().add(triples["tail"].value_counts(), fill_value=0)
    entities = graph.entity_rows().select(["entity_id", "name"]).to_pandas().set_index("entity_id")["name"]
    rng = random.Random(seed)
    by_degree = rng.choices(list(degree.index), weights=list(degree.values), k=DRAWN)
    uniform = rng.sample(list(degree.index), DRAWN)
    counts = triples["relation"].value_counts()
    middle = counts.index[len(counts) // 2]
    return {
        "hub entity": [(str(entities.get(degree.idxmax(), degree.idxmax())), "")],
        "entity by degree": [(str(entities.get(e, e)), "") for e in by_degree],
        "entity, uniform": [(str(entities.get(e, e)), "") for e in uniform],
        "relation of middling frequency": [("", str(middle))],
    }


def measure(home: Path, asked: dict[str, list[tuple[str, str]]], loaded: bool) -> dict[str, object]:
    out: dict[str, object] = {}
    for kind, pairs in asked.items():
        first, again, listed, digests = [], [], [], []
        for entity, relation in pairs:
            engine = _engine(home)
            if loaded:
                engine.graph_index()
            started = time.perf_counter()
            rows = engine.graph_triples(entity, relation)
            first.append(time.perf_counter() - started)
            started = time.perf_counter()
            engine.graph_triples(entity, relation)
            again.append(time.perf_counter() - started)
            listed.append(len(rows))
            digests.append(hashlib.sha256(json.dumps([list(map(str, r.__dict__.values())) for r in rows])
                                          .encode()).hexdigest()[:12])
        out[kind] = {"asked": len(pairs), "first_call_s_median": round(statistics.median(first), 3),
                     "again_s_median": round(statistics.median(again), 3), "triples_listed": listed,
                     "digests": digests}
        print(kind, out[kind]["first_call_s_median"], out[kind]["again_s_median"], listed, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--home", type=Path, default=_corpus.RESULTS / "graph_triples_home")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--summary", type=Path)
    parser.add_argument("--index", action="store_true", help="make the graph's scalar indexes first, timed")
    parser.add_argument("--imported", action="store_true",
                        help="a new home's graph is written as `graph import` writes a file's triples")
    parser.add_argument("--loaded", action="store_true",
                        help="each Engine holds the graph in memory before it lists (a server that has answered)")
    args = parser.parse_args()
    home = args.home.resolve()
    marker = home / "built.json"
    if not marker.is_file():
        home.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps(build(home, args.triples, args.seed, args.imported)))
    asked_file = home / "filters.json"
    if not asked_file.is_file():
        asked_file.write_text(json.dumps(filters(home, args.seed)))
    asked = {k: [tuple(p) for p in v] for k, v in json.loads(asked_file.read_text()).items()}
    result: dict[str, object] = {"command": " ".join(sys.argv), "graph": json.loads(marker.read_text())}
    if args.index:
        graph = _engine(home).graph
        graph.columns()  # current first, as at the end of an import, so only the indexes are timed
        started = time.perf_counter()
        graph.index_columns()
        result["index_columns_s"] = round(time.perf_counter() - started, 2)
        graph.columns()
    result.update(load_average=os.getloadavg(), loaded=args.loaded,
                  filters=measure(home, asked, args.loaded))  # type: ignore[arg-type]
    if args.summary:
        args.summary.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
