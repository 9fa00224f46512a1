"""`related` measured: recover held-out player -> club edges of WC2014 from the players related to each player.

    .venv/bin/python benchmarks/bench_graph_related.py [--players 200] [--seed 7] \
        [--summary benchmarks/summaries/graph_related.json]

For `--players` players drawn with random.Random(seed), the `plays_in_club` triple and its
`plays_in_club_inverse` twin are taken out of the knowledge base (all at once), and the index is
built from the rest (HashEmbedder vectors: `related` does not use them). For each held-out player
the clubs are ranked by the players `related` returns for them (k 50), each voting for its own
club with its related-score; the held-out club's rank gives hit@10 and MRR (a club no related
player is in ranks after all voted ones, by popularity). Baselines: popularity (clubs by their
number of players in the remaining graph) and random (the expectation over a uniform order).
Intervals: bootstrap 95 % over the players. Run twice: all relations count, and only
`plays_for_country` (so the club can only come from compatriots).

`--ppr` adds `related --score pagerank` (localrag/graph/related.py: the same entities, ranked by
personalized PageRank from the player over the counted relations, restart 0.15, 30 steps, not tuned),
each voting as above, with paired differences against the default score on the same players
(bootstrap 95 %).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
KB = ROOT.parent / "shared" / "data" / "wc2014_kgqa" / "data" / "WC2014.txt"


def main() -> None:
    from localrag.embed import HashEmbedder
    from localrag.evaluate.metrics import mean_figure
    from localrag.graph.kgqa import read_triples
    from localrag.graph.paths import GraphIndex
    from localrag.graph.related import related_entities
    from localrag.graph.triples import normalise_entity

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--summary", type=Path, default=None)
    parser.add_argument("--ppr", action="store_true", help="also rank by personalized PageRank from the player")
    args = parser.parse_args()

    rows = [(normalise_entity(h), r, normalise_entity(t)) for h, r, t in read_triples(KB)]
    club_of = {h: t for h, r, t in rows if r == "plays_in_club"}
    held = dict(random.Random(args.seed).sample(sorted(club_of.items()), args.players))
    kept = [
        (h, r, t, f"kb:{i}")
        for i, (h, r, t) in enumerate(rows)
        if not (r == "plays_in_club" and h in held) and not (r == "plays_in_club_inverse" and t in held)
    ]
    names = {e: e for h, _, t, _ in kept for e in (h, t)} | {p: p for p in held}
    index = GraphIndex.from_triples(names, {}, HashEmbedder(dim=8).embed(list(names)), kept)
    clubs = sorted({c for c in club_of.values()})
    popularity = Counter(t for h, r, t, _ in kept if r == "plays_in_club")
    by_popularity = sorted(clubs, key=lambda c: (-popularity[c], c))

    out: dict[str, object] = {"players": args.players, "clubs": len(clubs), "seed": args.seed}
    methods = ["shared", "pagerank"] if args.ppr else ["shared"]
    for label, relations in (("all relations", None), ("plays_for_country only", ["plays_for_country"])):
        per_method: dict[str, tuple[list[float], list[float]]] = {}
        for method in methods:
            hits, rr = [], []
            for player, club in held.items():
                votes: dict[str, float] = {}
                ranked = [(o.entity_id, o.score) for o in related_entities(index, [player], relations=relations,
                                                                            k=50, scoring=method)]
                for other, score in ranked:
                    for their_club, _ in index.tails(other, "plays_in_club"):
                        votes[their_club] = votes.get(their_club, 0.0) + score
                order = sorted(votes, key=lambda c: (-votes[c], c)) + [c for c in by_popularity if c not in votes]
                rank = order.index(club) + 1
                hits.append(float(rank <= 10))
                rr.append(1.0 / rank)
            per_method[method] = (hits, rr)
        hits, rr = per_method["shared"]
        out[label] = {"hit@10": mean_figure(hits).to_json(), "mrr": mean_figure(rr).to_json()}
        for method in methods[1:]:
            p_hits, p_rr = per_method[method]
            out[f"{label}, {method}"] = {
                "hit@10": mean_figure(p_hits).to_json(), "mrr": mean_figure(p_rr).to_json(),
                "hit@10 minus shared": mean_figure([a - b for a, b in zip(p_hits, hits, strict=True)]).to_json(),
                "mrr minus shared": mean_figure([a - b for a, b in zip(p_rr, rr, strict=True)]).to_json(),
            }
    pop_ranks = [by_popularity.index(c) + 1 for c in held.values()]
    out["popularity"] = {
        "hit@10": mean_figure([float(r <= 10) for r in pop_ranks]).to_json(),
        "mrr": mean_figure([1.0 / r for r in pop_ranks]).to_json(),
    }
    n = len(clubs)
    out["random"] = {"hit@10": min(10, n) / n, "mrr": sum(1.0 / r for r in range(1, n + 1)) / n}
    keys = [f"{label}{suffix}" for label in ("all relations", "plays_for_country only")
            for suffix in ("", *(f", {m}" for m in methods[1:]))]
    for key in [*keys, "popularity"]:
        figures = out[key]
        assert isinstance(figures, dict)
        print(f"{key:24} hit@10 {figures['hit@10']['value']:.3f} [{figures['hit@10']['low']:.3f}, "
              f"{figures['hit@10']['high']:.3f}]  MRR {figures['mrr']['value']:.3f} [{figures['mrr']['low']:.3f}, "
              f"{figures['mrr']['high']:.3f}]")
        if "mrr minus shared" in figures:
            d_hit, d_mrr = figures["hit@10 minus shared"], figures["mrr minus shared"]
            print(f"{'':24} minus shared: hit@10 {d_hit['value']:+.3f} [{d_hit['low']:+.3f}, {d_hit['high']:+.3f}]  "
                  f"MRR {d_mrr['value']:+.3f} [{d_mrr['low']:+.3f}, {d_mrr['high']:+.3f}]")
    print(f"{'random':24} hit@10 {out['random']['hit@10']:.3f}  MRR {out['random']['mrr']:.3f}  "  # type: ignore[index]
          f"({n} clubs, {args.players} held-out players)")
    if args.summary is not None:
        args.summary.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
