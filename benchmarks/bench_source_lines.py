"""What naming a source's lines costs a question (`ingest.lines.with_lines`: its files read again).

    LOCALRAG_HOME=HOME .venv/bin/python benchmarks/bench_source_lines.py [--summary FILE]
    # HOME: an index of COVID-QA's articles

Over the first 60 questions of COVID-QA's Random(7) draw, each searched for (k = 4) by the index's retriever, the
time `with_lines` adds to the hits, and how many of them got their lines. The articles are plain text files of a
few tens of kilobytes. Summary (with `--summary benchmarks/summaries/source_lines.json`): source_lines.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_answer_repeats import covid_items  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", type=Path, help="keep the JSON summary in this file")
    args = parser.parse_args()
    from localrag.config import load_settings
    from localrag.engine import Engine
    from localrag.ingest.lines import with_lines

    engine = Engine(load_settings())
    if not engine.documents():  # `--help` read as a run over an empty home wrote "hits: 0" over the summary
        raise SystemExit(f"no index in LOCALRAG_HOME ({os.environ.get('LOCALRAG_HOME', 'the default')}): ingest "
                         "COVID-QA's articles there first")
    questions = [q for q, _ in covid_items(60)]
    engine.search(questions[0])  # the store and the embedder opened before anything is timed
    seconds, located, hits_seen = [], 0, 0
    for question in questions:
        hits = engine.retriever.search(question, 4, None)
        started = time.perf_counter()
        out = with_lines(hits)
        seconds.append(time.perf_counter() - started)
        located += sum(h.chunk.line_start is not None for h in out)
        hits_seen += len(out)
    summary = {"command": " ".join(sys.argv), "questions": len(questions), "hits": hits_seen, "with_lines": located,
               "p50_ms": round(statistics.median(seconds) * 1000, 3), "max_ms": round(max(seconds) * 1000, 3),
               "load_average": os.getloadavg()}
    if args.summary is not None:
        args.summary.write_text(json.dumps(summary, indent=1) + "\n")
    print(summary)


if __name__ == "__main__":
    main()
