"""Answers from reasoning paths, always with the paths that support them.

`rank_candidates` is the deterministic answer: a planned path's end entities ARE its answer
candidates, so each candidate is scored by the planned paths that reach it (a vote per path,
weighted by the planner's rank: the first planned path that reaches anything decides the top
answer, later ones break ties and add support). No model is needed, and the supporting paths are
exact by construction.

`ModelReasoner` asks the GGUF model: the prompt lists the reasoning paths, numbered, and a grammar
lets it answer only with one of those numbers, so its answer is a path's end entity and that path
is the evidence. A free-text answer from a small model would have to be matched back to an entity;
a path number cannot miss.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from localrag.generate import neutralize_special_tokens
from localrag.graph.paths import GraphIndex, LinkedEntity, ReasoningPath
from localrag.graph.plan import PlannedPath, Planner

if TYPE_CHECKING:
    from localrag.embed import Embedder
    from localrag.generate import Generator


# Scores closer than this are a tie: sums of 1/rank in another order differ in the last bits.
TIE = 1e-9


@dataclass
class Candidate:
    entity_id: str
    name: str
    score: float
    paths: list[ReasoningPath] = field(default_factory=list)


@dataclass
class GraphAnswer:
    """What graph mode returns: the answer entities (best first), the paths behind them, the plan."""

    question: str
    linked: list[LinkedEntity]
    planned: list[PlannedPath]
    paths: list[ReasoningPath]
    candidates: list[Candidate]
    reasoner: str  # "paths" (deterministic) or "model"
    # Why nothing answered, where the graph can say more than "no path": the question's entity is the object of
    # facts that paths, going head to tail, do not follow back (`unanswered_note`).
    note: str = ""

    @property
    def answers(self) -> list[Candidate]:
        """The candidates the answer names: every one tied with the top score (the films Tom Hanks starred in have
        two directors, equally voted for: naming one, whichever a file listed first, dropped the other). The model
        reasoner's pick alone."""
        if not self.candidates or self.reasoner == "model":
            return self.candidates[:1]
        top = self.candidates[0].score
        return [c for c in self.candidates if c.score >= top - TIE]

    @property
    def answer(self) -> str:
        return ", ".join(c.name for c in self.answers)

    @property
    def supporting(self) -> list[ReasoningPath]:
        return [p for c in self.answers for p in c.paths]

    def supports(self, path: ReasoningPath) -> bool:
        """Whether `path` leads to the answer (identity: two paths may read the same)."""
        return any(p is path for p in self.supporting)

    def ordered_paths(self) -> list[ReasoningPath]:
        """Every path, the ones supporting the answer first: the order the CLI and the chat app list them in."""
        supporting = {id(p) for p in self.supporting}
        return [*self.supporting, *(p for p in self.paths if id(p) not in supporting)]

    def planner_of(self, path: ReasoningPath) -> str:
        """Which planner proposed `path`'s relation chain; "" when none of the plans has it."""
        return next((p.planner for p in self.planned if p.relations == path.relations), "")


def retrieve_paths(
    index: GraphIndex, linked: Sequence[LinkedEntity], planned: Sequence[PlannedPath], max_paths: int = 50
) -> list[ReasoningPath]:
    """Follow each planned path from the linked entities; paths of earlier plans come first."""
    starts = [e.entity_id for e in linked]
    out: list[ReasoningPath] = []
    for plan in planned:
        out.extend(index.follow(starts, plan.relations, max_paths=max_paths - len(out)))
        if len(out) >= max_paths:
            break
    return out


def rank_candidates(
    index: GraphIndex, planned: Sequence[PlannedPath], paths: Sequence[ReasoningPath]
) -> list[Candidate]:
    """End entities scored by the planned paths that reach them; see the module docstring."""
    weight = {p.relations: 1.0 / (rank + 1) for rank, p in reversed(list(enumerate(planned)))}
    by_entity: dict[str, Candidate] = {}
    voted: set[tuple[str, tuple[str, ...]]] = set()
    for path in paths:
        cand = by_entity.setdefault(path.end, Candidate(path.end, index.names.get(path.end, path.end), 0.0))
        cand.paths.append(path)
        if (path.end, path.relations) not in voted:
            voted.add((path.end, path.relations))
            cand.score += weight.get(path.relations, 0.0)
    return sorted(by_entity.values(), key=lambda c: -c.score)


REASON_SYSTEM = (
    "You answer questions from knowledge-graph paths. Each numbered path is a chain of facts. Reply "
    "with the number of the path whose last entity answers the question."
)


def reason_messages(question: str, index: GraphIndex, paths: Sequence[ReasoningPath]) -> list[dict[str, str]]:
    listing = "\n".join(f"{i}. {neutralize_special_tokens(p.render(index.names))}" for i, p in enumerate(paths, 1))
    user = f"Paths:\n{listing}\n\nQuestion: {neutralize_special_tokens(question)}\nAnswer with a path number."
    return [{"role": "system", "content": REASON_SYSTEM}, {"role": "user", "content": user}]


def path_number_grammar(n: int) -> str:
    if n < 1:
        raise ValueError("a path-number grammar needs at least one path")
    return "root ::= " + " | ".join(f'"{i}"' for i in range(n, 0, -1)) + "\n"


class ModelReasoner:
    name = "model"

    def __init__(self, generator: Generator, max_paths: int = 20) -> None:
        self.generator = generator
        self.max_paths = max_paths

    def choose(self, question: str, index: GraphIndex, paths: Sequence[ReasoningPath]) -> ReasoningPath | None:
        """The path the model says answers the question, or None when there are no paths."""
        shown = list(paths[: self.max_paths])
        if not shown:
            return None
        reply = self.generator.complete(
            reason_messages(question, index, shown),
            max_tokens=4,
            temperature=0.0,
            grammar=path_number_grammar(len(shown)),
        )
        number = int(reply.strip() or 1)
        return shown[min(max(number, 1), len(shown)) - 1]

    def rank(
        self, question: str, index: GraphIndex, paths: Sequence[ReasoningPath], planned: Sequence[PlannedPath]
    ) -> list[Candidate]:
        """The deterministic ranking with the model's chosen path's end entity moved to the top."""
        ranked = rank_candidates(index, planned, paths)
        chosen = self.choose(question, index, paths)
        if chosen is None:
            return ranked
        top = next(c for c in ranked if c.entity_id == chosen.end)
        top.paths.remove(chosen)
        top.paths.insert(0, chosen)
        return [top, *(c for c in ranked if c is not top)]


def answer_question(
    question: str,
    index: GraphIndex,
    planner: Planner,
    *,
    embedder: Embedder | None = None,
    reasoner: ModelReasoner | None = None,
    linked: Sequence[LinkedEntity] | None = None,
    k: int = 3,
    max_paths: int = 50,
) -> GraphAnswer:
    """Link, plan, follow, answer: the whole of graph mode for one question.

    `planner` is an EmbeddingPlanner or GrammarPlanner; `linked` skips linking when the caller
    already knows the topic entity (a KGQA data set that gives it).
    """
    if linked is None:
        linked = index.link(question, embedder)
    planned = planner.plan(question, index, linked, k=k) if linked else []
    paths = retrieve_paths(index, linked, planned, max_paths=max_paths)
    if reasoner is not None and paths:
        candidates, how = reasoner.rank(question, index, paths, planned), "model"
    else:
        candidates, how = rank_candidates(index, planned, paths), "paths"
    note = unanswered_note(index, linked) if not candidates else ""
    return GraphAnswer(question, list(linked), list(planned), paths, candidates, how, note)


MAX_NOTED = 3  # relations an unanswered note names


def unanswered_note(index: GraphIndex, linked: Sequence[LinkedEntity]) -> str:
    """For a question no path answered: the linked entities that facts point at, with those facts' relations and
    how many entities each comes from, and the command listing them; "" when no linked entity is any fact's object.

    Paths go from an entity to what its facts name, so "Which products does Apple make?" over `iPhone 15
    created_by Apple` finds no path from Apple (before 2026-12-07 it said only "No reasoning path ...")."""
    lines = []
    for entity in dict.fromkeys(e.entity_id for e in linked):
        incoming = sorted(index.in_relations(entity).items(), key=lambda item: (-item[1], item[0]))
        if not incoming:
            continue
        name = index.names[entity]
        counted = ", ".join(f"{relation} from {count} {'entity' if count == 1 else 'entities'}"
                            for relation, count in incoming[:MAX_NOTED])
        lines.append(f"{name} is in the graph as the object of {counted}, which paths do not follow back (they go "
                     f"from an entity to what its facts name): localrag graph triples {shlex.quote(name)} lists them")
    return "\n".join(lines)
