"""What compacting the graph's tables during and after `graph build` saves.

    .venv/bin/python benchmarks/bench_graph_compaction.py [--chunks 2000] [--every 0 8 32] [--summary S]

Each run indexes `--chunks` one-chunk documents ("Person{i} founded Company{i}. Company{i} is in City{i % 50}.")
and builds the graph with a generator that answers at once (two triples a chunk, so the time is the store's,
not a model's), committing every 8 chunks as `graph build` does. `--every N` compacts the graph's tables every
N commits and once at the end, as `graph build` now does with N = COMPACT_EVERY; `--every 0` never, as
before, and then times one compaction after the build. Each run then times reading all triples and entities
(as `GraphStore.columns` does when its saved file is stale; the mean of five). The runs go one after another in
one process, each in a new store.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class _AtOnce:
    """A generator that replies with the chunk's two triples, as the model would in the "single" method."""

    name = "at-once"
    n_ctx = 2048

    def complete(self, messages: list[dict[str, str]], **_: object) -> str:
        found = re.search(r"Person(\d+)", messages[-1]["content"])
        i = int(found.group(1)) if found else 0
        triples = [(f"Person{i}", "founded", f"Company{i}"), (f"Company{i}", "located in", f"City{i % 50}")]
        return json.dumps([{"subject": s, "relation": r, "object": o} for s, r, o in triples])


def _read_all(graph) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for _ in range(5):
        graph._triples.search().limit(None).to_arrow()
        graph._entities.search().select(["entity_id", "name", "aliases"]).limit(None).to_arrow()
    return (time.perf_counter() - started) / 5


def run(chunks: int, every: int) -> dict[str, object]:
    import localrag.graph.extract as extract
    from localrag.config import Settings
    from localrag.embed import HashEmbedder
    from localrag.engine import Engine

    with tempfile.TemporaryDirectory(prefix="graph-compact-") as tmp:
        os.environ["LOCALRAG_HOME"] = str(Path(tmp) / "home")
        docs = Path(tmp) / "docs"
        docs.mkdir()
        for i in range(chunks):
            (docs / f"d{i}.txt").write_text(f"Person{i} founded Company{i}. Company{i} is in City{i % 50}.")
        engine = Engine(Settings(), embedder=HashEmbedder(dim=64), generator=_AtOnce())  # type: ignore[arg-type]
        engine.ingest([docs])
        compact = engine.graph.compact
        if every:
            extract.COMPACT_EVERY = every
        else:  # before this change: never compacted
            engine.graph.compact = lambda: None  # type: ignore[method-assign]
        started = time.perf_counter()
        report = engine.graph_build(config=extract.ExtractConfig(method="single"))
        build_s = time.perf_counter() - started
        row: dict[str, object] = {"chunks": chunks, "compact_every": every or "never", "triples": report.triples_added,
                                  "build_s": round(build_s, 1), "read_all_s": round(_read_all(engine.graph), 4)}
        if not every:
            started = time.perf_counter()
            compact()
            row["compaction_s"] = round(time.perf_counter() - started, 2)
            row["read_all_s_compacted"] = round(_read_all(engine.graph), 4)
        print(json.dumps(row), flush=True)
        return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--every", type=int, nargs="+", default=[0, 8, 32])
    parser.add_argument("--summary", type=Path)
    args = parser.parse_args()
    load = os.getloadavg()
    rows = [run(args.chunks, every) for every in args.every]
    summary = {"benchmark": "bench_graph_compaction.py", "cores": os.cpu_count(),
               "load_average_1m_at_start": round(load[0], 2), "runs": rows}
    print(json.dumps(summary, indent=1))
    if args.summary:
        args.summary.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
