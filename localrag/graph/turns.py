"""A graph-mode answer, or a list of related entities, as a conversation turn.

The chat app and `ask --graph --conversation` save graph answers the same way: the answer entity and
its reasoning paths as Markdown text, the paths themselves (supporting ones first) so a reopened
conversation lists them in the paths panel again, and, as sources, the chunks the paths' triples came
from. Entity names come from documents, so the text escapes Markdown: they are shown as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from localrag.conversations import SavedPath, SavedSource, SavedStep, Turn
from localrag.safe_text import markdown_escaped
from localrag.types import Chunk

if TYPE_CHECKING:
    from localrag.graph.reason import GraphAnswer
    from localrag.graph.related import RelatedResult, RelatedView

# Paths a saved graph turn keeps: the paths panel lists no more than its default limit anyway.
SAVED_PATHS = 20
# Paths the answer's text lists; the rest are in the paths panel.
LISTED_PATHS = 10
RELATED_MODEL = "graph · related"
def saved_source(n: int, chunk: Chunk) -> SavedSource:
    """A chunk a graph step came from, as source `n` of a saved turn (every such chunk counts as cited)."""
    return SavedSource(n, chunk.chunk_id, chunk.doc_id, chunk.path, chunk.text, chunk.page, chunk.heading, 0.0, True)


def saved_paths(answer: GraphAnswer, names: Mapping[str, str]) -> list[SavedPath]:
    """The answer's paths as a conversation keeps them (supporting first, at most SAVED_PATHS)."""
    return [
        SavedPath(
            [SavedStep(s.head, s.relation, s.tail, s.source, names.get(s.head, s.head), names.get(s.tail, s.tail))
             for s in path.steps],
            answer.planner_of(path),
            answer.supports(path),
        )
        for path in answer.ordered_paths()[:SAVED_PATHS]
    ]


def graph_turn_text(answer: GraphAnswer, names: Mapping[str, str]) -> str:
    """The answer as Markdown: the answer entity, then each reasoning path with its planner."""
    if not answer.candidates:
        reason = "no entity of the question is in the graph" if not answer.linked else "no planned path leads anywhere"
        note = "".join(f"\n\n{markdown_escaped(line)}" for line in answer.note.splitlines())
        return f"No reasoning path in the knowledge graph answers this ({reason}).{note}"
    lines = [f"**{markdown_escaped(answer.answer)}**", "", "Reasoning paths:", ""]
    for number, path in enumerate(answer.ordered_paths()[:LISTED_PATHS], start=1):
        mark = "✓ " if answer.supports(path) else ""
        lines.append(f"{number}. {mark}{markdown_escaped(path.render(names))} "
                     f"({answer.planner_of(path) or '?'} planner)")
    if len(answer.paths) > LISTED_PATHS:
        lines.append(f"\n… and {len(answer.paths) - LISTED_PATHS} more in the paths panel")
    return "\n".join(lines)


def related_turn_text(result: RelatedResult, names: Mapping[str, str]) -> str:
    """A recommendation answer as Markdown: each related entity with its score and its strongest joining path."""
    seeds = markdown_escaped(", ".join(s.name for s in result.seeds))
    if not result.related:
        return f"Nothing in the knowledge graph shares a neighbour with {seeds}."
    lines = [f"Like **{seeds}**:", ""]
    for number, entity in enumerate(result.related, start=1):
        path = f": {markdown_escaped(entity.links[0].render(names))}" if entity.links else ""
        lines.append(f"{number}. **{markdown_escaped(entity.name)}** ({entity.score:.2f}){path}")
    return "\n".join(lines)


def answer_from_turn(turn: Turn) -> tuple[GraphAnswer, dict[str, str]] | None:
    """A saved graph turn's answer as it was shown (its saved paths, the first supporting one's end the answer)
    and the entity names; None when the turn holds no path."""
    from localrag.graph.paths import ReasoningPath, Step
    from localrag.graph.plan import PlannedPath
    from localrag.graph.reason import Candidate, GraphAnswer

    if not turn.graph_paths:
        return None
    names: dict[str, str] = {}
    paths: list[ReasoningPath] = []
    supporting: list[ReasoningPath] = []
    planned: dict[tuple[str, ...], PlannedPath] = {}
    for saved in turn.graph_paths:
        path = ReasoningPath(tuple(Step(s.head, s.relation, s.tail, s.source) for s in saved.steps))
        for s in saved.steps:
            names.setdefault(s.head, s.head_name)
            names.setdefault(s.tail, s.tail_name)
        paths.append(path)
        if saved.supports_answer:
            supporting.append(path)
        if saved.planner:
            planned.setdefault(path.relations, PlannedPath(path.relations, 0.0, saved.planner))
    # One candidate per answer the paths support: answers tied in the votes were saved together (reason.py).
    ends: dict[str, list[ReasoningPath]] = {}
    for path in supporting:
        ends.setdefault(path.end, []).append(path)
    candidates = [Candidate(end, names[end], 1.0, held) for end, held in ends.items()]
    reasoner = turn.model.removeprefix("graph · ") or "paths"
    return GraphAnswer(turn.query, [], list(planned.values()), paths, candidates, reasoner), names


def turn_from_graph(answer: GraphAnswer, names: Mapping[str, str], chunks: Mapping[str, Chunk], query: str) -> Turn:
    return Turn(
        role="assistant",
        text=graph_turn_text(answer, names),
        query=query,
        sources=[saved_source(n, c) for n, c in enumerate(chunks.values(), start=1)],
        model=f"graph · {answer.reasoner}",
        graph_paths=saved_paths(answer, names),
    )


def turn_from_related(result: RelatedResult, view: RelatedView, query: str) -> Turn:
    return Turn(
        role="assistant",
        text=related_turn_text(result, view.names),
        query=query,
        sources=[saved_source(n, c) for n, c in enumerate(view.chunks.values(), start=1)],
        model=RELATED_MODEL,
    )
