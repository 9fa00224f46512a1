"""The column-wise GraphIndex gives the answers the per-row dict index gave, on a synthetic graph.

`graph_index_golden.json` holds what the dict index (commit f6477af, before the columns) returned
for the probes below on the graph `make_graph` writes: linking, following (with hubs, fan-out and
path caps), the reachable relation sequences, and whole answers with the embedding planner. It was
written by running this file as a script at that commit:

    PYTHONPATH=<checkout of f6477af> python tests/unit/test_graph_index_golden.py

Its "follow" and "answers" were written again on 2026-12-07, when paths stopped stepping straight
back to the entity they stood on a hop earlier (A -> B -> A): 13 of 60 follow probes lost 29 such
paths (none other; every one of two hops, out along a relation and back along its inverse, so
ending at the start), and 13 of 30 answers lost with them the question's own entity as a candidate.
(The rule was first written that day as "paths are simple", then as "a path ends at no entity of
the question nor one it went through"; on these one- and two-hop probes all three give this file.)

The graph is written through a real GraphStore (LanceDB in a temp dir, HashEmbedder vectors), and
the probes are drawn from the generator's own triple list, not from the index under test.
"""

from __future__ import annotations

import json
import math
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).with_name("graph_index_golden.json")
SYLLABLES = ["ka", "ri", "mo", "len", "tas", "vor", "el", "an", "dru", "bel", "sto", "mar", "qui", "zen"]
RELATIONS = ["plays_in", "born_in", "directed_by", "located_in", "member_of", "owned_by"]


def make_triples(seed: int = 3) -> tuple[list[tuple[str, str, str, str, str]], dict[str, list[str]]]:
    """~1,500 (head, relation, tail, source, doc) rows with skewed degrees and *_inverse pairs; some aliases."""
    rng = random.Random(seed)
    names: list[str] = []
    while len(names) < 220:
        word = " ".join(
            "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
            for _ in range(rng.randint(1, 3))
        )
        if word not in names:
            names.append(word)
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(names))]
    rows: list[tuple[str, str, str, str, str]] = []
    for i in range(1300):
        head, tail = rng.choices(names, weights)[0], rng.choices(names, weights)[0]
        if head == tail:
            continue
        relation = rng.choice(RELATIONS)
        doc = f"doc{i % 5}"
        rows.append((head, relation, tail, f"{doc}:{i}", doc))
        if relation in ("plays_in", "member_of") and rng.random() < 0.7:
            rows.append((tail, f"{relation}_inverse", head, f"{doc}:{i}i", doc))
    aliases = {names[i]: [f"alias number {i}"] for i in range(0, 40, 7)}
    return rows, aliases


def build_store(db: Path) -> Any:
    from localrag.embed import HashEmbedder
    from localrag.graph.store import GraphStore
    from localrag.graph.triples import Triple

    rows, aliases = make_triples()
    store = GraphStore(db, HashEmbedder(dim=32))
    for doc in sorted({r[4] for r in rows}):
        store.add_triples([Triple(h, r, t, s, d) for h, r, t, s, d in rows if d == doc], aliases)
    return store


class TextSeededEmbedder:
    """A random unit vector seeded by each text's hash: no two relation paths tie, whatever order they come in."""

    name = "text-seeded"
    dim = 64

    def embed(self, texts: list[str]) -> Any:
        import hashlib

        import numpy as np

        out = []
        for text in texts:
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            vec = np.random.default_rng(seed).standard_normal(self.dim)
            out.append(vec / np.linalg.norm(vec))
        return np.asarray(out, dtype=np.float32)


def probes(index: Any) -> dict[str, Any]:
    """What the index answers to a fixed set of questions; only public behaviour, rounded floats."""
    from localrag.embed import HashEmbedder
    from localrag.graph.plan import EmbeddingPlanner
    from localrag.graph.reason import answer_question
    from localrag.graph.triples import normalise_entity

    rows, aliases = make_triples()
    rng = random.Random(11)
    heads = [r[0] for r in rows]
    embedder = HashEmbedder(dim=32)
    out: dict[str, Any] = {"link": [], "link_embedding": [], "follow": [], "sequences": [], "answers": []}
    alias_names = [a for al in aliases.values() for a in al]
    for i in range(40):
        name = rng.choice(heads) if i % 5 else rng.choice(alias_names)
        other = rng.choice(heads)
        question = f"what is {name.replace(' ', '_')} related to, and {other} too?"
        linked = index.link(question)
        out["link"].append([question, [[e.entity_id, e.name, e.how, e.mention, round(e.score, 5)] for e in linked]])
    for question in ["who is kari", "where is morilen", "vorel stobel quizen"]:
        linked = index.link(question, embedder, threshold=0.3)
        out["link_embedding"].append([question, [[e.entity_id, e.how, e.mention, round(e.score, 5)] for e in linked]])
    by_head: dict[str, list[tuple[str, str, str, str, str]]] = {}
    for row in rows:
        by_head.setdefault(normalise_entity(row[0]), []).append(row)
    for i in range(60):
        first = rng.choice(rows)
        start, mid = normalise_entity(first[0]), normalise_entity(first[2])
        path = [first[1]] + ([rng.choice(by_head[mid])[1]] if mid in by_head and i % 4 else [])
        fanout = 3 if i % 3 == 0 else 200
        max_paths = 5 if i % 7 == 0 else 50
        starts = [start] if i % 6 else [start, normalise_entity(rng.choice(heads))]
        found = index.follow(starts, path, max_paths=max_paths, max_fanout=fanout)
        steps = [[[s.head, s.relation, s.tail, s.source] for s in p.steps] for p in found]
        out["follow"].append([starts, path, fanout, max_paths, steps])
    for _ in range(30):
        start = normalise_entity(rng.choice(heads))
        out["sequences"].append([start, sorted(list(s) for s in index.relation_sequences([start], 2))])
    try:  # the beam planner with an unbounded beam, no length rule and no word alignment ranks as the old one did
        planner = EmbeddingPlanner(
            TextSeededEmbedder(), 2, beam=10**6, margin=-math.inf, aligned=False, floor=-math.inf  # type: ignore[arg-type]
        )
    except TypeError:  # f6477af, where the golden file was written: the planner took only max_hops (2)
        planner = EmbeddingPlanner(TextSeededEmbedder())  # type: ignore[arg-type]
    for _ in range(30):
        row = rng.choice(rows)
        question = f"what {row[1].replace('_', ' ')} {row[0].replace(' ', '_')} ?"
        answer = answer_question(question, index, planner, embedder=embedder)
        out["answers"].append(
            [
                question,
                [[list(p.relations), round(p.score, 5)] for p in answer.planned],
                [[c.entity_id, round(c.score, 6), len(c.paths)] for c in answer.candidates],
                [p.render(index.names) for p in answer.paths],
            ]
        )
    return out


def test_column_index_answers_like_the_dict_index(tmp_path: Path) -> None:
    from localrag.graph.paths import GraphIndex

    store = build_store(tmp_path / "db")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    got = json.loads(json.dumps(probes(GraphIndex.load(store))))
    for part in expected:
        assert got[part] == expected[part], part


if __name__ == "__main__":
    from localrag.graph.paths import GraphIndex

    with tempfile.TemporaryDirectory() as tmp:
        result = probes(GraphIndex.load(build_store(Path(tmp) / "db")))
    GOLDEN.write_text(json.dumps(result, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN} ({sys.getsizeof(json.dumps(result))} bytes)")
