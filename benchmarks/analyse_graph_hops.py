"""Why three-hop planning fails: where the gold path ranks among the candidates, and its score margins.

    .venv/bin/python benchmarks/analyse_graph_hops.py [--limit 300]

For the first `--limit` WC-P2 questions and the three-hop questions of `make_wc2014_3hop.py`, the
embedding planner with an unbounded beam and no length rule (so every relation sequence of one to
three hops the graph can follow is a candidate) scores all candidates; printed: how often the gold
path is a candidate and ranks first, its median rank, the gold path's score minus its own prefix's,
and the best one-hop extension's score minus the gold path's (percentiles 5, 25, 50, 75, 95); for
the three-hop set also which path comes first for each template.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "wc2014_kgqa" / "data"
THREE = ROOT / "benchmarks" / "results" / "wc2014-3hop.jsonl"


def main() -> None:
    from localrag.embed import SentenceTransformerEmbedder
    from localrag.graph.kgqa import link_topics, load_kgqa, load_triples_index, load_wc2014
    from localrag.graph.plan import EmbeddingPlanner
    from localrag.models import bundled_embedder_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=300)
    args = parser.parse_args()
    embedder = SentenceTransformerEmbedder(bundled_embedder_path())
    planner = EmbeddingPlanner(embedder, 3, beam=10**6, margin=-math.inf, floor=-math.inf)
    sets = {"WC-P2": load_wc2014(DATA / "WC-P2.txt", limit=args.limit), "3-hop": load_kgqa(THREE, limit=args.limit)}
    with tempfile.TemporaryDirectory() as tmp:
        index = load_triples_index(DATA / "WC2014.txt", embedder, Path(tmp))
        for name, questions in sets.items():
            ranks, over_prefix, extension = [], [], []
            firsts: Counter[tuple[str, tuple[str, ...]]] = Counter()
            for q in questions:
                planned = planner.plan(q.question, index, link_topics(index, q.topics), k=10**6)
                scores = {p.relations: p.score for p in planned}
                if planned:
                    firsts[(q.id.rsplit("-", 1)[0], planned[0].relations)] += 1
                gold = q.gold_paths[0]
                if gold not in scores:
                    continue
                ranks.append([p.relations for p in planned].index(gold) + 1)
                if gold[:-1] in scores:
                    over_prefix.append(scores[gold] - scores[gold[:-1]])
                longer = [v for s, v in scores.items() if len(s) == len(gold) + 1 and s[:-1] == gold]
                if longer:
                    extension.append(max(longer) - scores[gold])
            pct = [5, 25, 50, 75, 95]
            print(f"{name}: gold path a candidate for {len(ranks)} of {len(questions)}, first for "
                  f"{sum(r == 1 for r in ranks)}, median rank {statistics.median(ranks) if ranks else None}")
            if over_prefix:
                print(f"  gold - its prefix, percentiles {pct}: {np.percentile(over_prefix, pct).round(3).tolist()}")
            if extension:
                print(f"  best extension - gold, percentiles {pct}: {np.percentile(extension, pct).round(3).tolist()}")
            if name == "3-hop":
                for (template, path), n in sorted(firsts.items()):
                    print(f"  {template}: first {' -> '.join(path)} ({n})")


if __name__ == "__main__":
    main()
