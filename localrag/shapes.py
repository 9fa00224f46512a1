"""The JSON shapes of what localrag returns, defined once for every front end.

`ask --json`, `ask --graph --json`, `related --json`, the HTTP API (`localrag serve`) and the MCP tools (`localrag mcp`)
all render answers, sources, quotes, search hits, graph paths, documents and ingest reports through
these functions, so a script that reads one front end's output reads the others'. The shapes follow
the dataclasses in `localrag.types` field for field (a hit is `{"chunk": {...}, "score": ..., the
ranks and scores of each retriever}`), plus the derived values a reader would otherwise recompute
(`tokens_per_second`, a graph step's entity names and where it came from).

Only plain values come out (str, int, float, bool, None, lists, dicts): `json.dumps` takes them as
they are.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localrag.safe_text import printable, valid_text
from localrag.sizes import size_text
from localrag.types import Answer, Chunk, Document, DocumentList, Hit, IngestReport

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from localrag.answer.summary import Summary
    from localrag.engine import Engine
    from localrag.forget import Forgotten
    from localrag.fusion import FusionChoice
    from localrag.graph.reason import GraphAnswer
    from localrag.graph.related import RelatedResult, RelatedView
    from localrag.graph.triples import ListedTriple


def answer_json(answer: Answer) -> dict[str, Any]:
    """An answer with its numbered sources (hits, in prompt order, as `hit_json` gives them), citations and checked
    quotes."""
    data = dataclasses.asdict(dataclasses.replace(answer, sources=[]))
    data["sources"] = [hit_json(hit) for hit in answer.sources]
    data["stats"]["tokens_per_second"] = answer.stats.tokens_per_second
    for quote in data["quotes"]:
        quote["status"] = quote["status"].value
    return data


def hit_json(hit: Hit) -> dict[str, Any]:
    """A retrieved chunk with its fused score and each retriever's rank and score (None: not found by it), the other
    files holding its text as `copies` (their paths, as before 2026-12-08) and `copy_places`: each one's `path`,
    `page`, `line_start` and `line_end` there, and `part` where it holds only a part of a joined hit."""
    data = dataclasses.asdict(dataclasses.replace(hit, held_by=()))  # the copies' chunks hold their whole text
    del data["held_by"]
    return {**data, "copies": list(hit.copies), "copy_places": [
        {"path": copy.chunk.path, "page": copy.chunk.page, "line_start": copy.chunk.line_start,
         "line_end": copy.chunk.line_end, "part": copy.part} for copy in hit.held_by]}


# `search_json`'s version: 1 was the CLI's own flat hit (`fused_score`, `vector: {rank, score}`), 2 the shared one.
SEARCH_SCHEMA = 2


def search_json(query: str, hits: Sequence[Hit], choice: FusionChoice | None, offset: int = 0) -> dict[str, Any]:
    """`localrag search --json`, the API's `POST /search` and MCP's `search`: the hits in rank order, each as
    `hit_json` gives it (the chunk, the fused score, each leg's rank and score) with its `rank` in the whole search
    (a page after `offset` hits starts at offset + 1) and `excerpt` (the text `search` shows and the line it starts
    on), and the fusion that ranked them (`chosen`: measured for this index by `retrieval tune-fusion`, else the
    default)."""
    from localrag.fusion import DEFAULT

    fusion = choice.fusion if choice is not None else DEFAULT
    return {
        "schema": SEARCH_SCHEMA,
        "query": valid_text(query),  # the words searched: a byte that was not UTF-8 is U+FFFD there too
        "fusion": {**dataclasses.asdict(fusion), "label": fusion.label, "chosen": choice is not None},
        "hits": [{"rank": position, **hit_json(hit), "excerpt": _excerpt_json(hit, query)}
                 for position, hit in enumerate(hits, start=offset + 1)],
    }


def _excerpt_json(hit: Hit, query: str) -> dict[str, Any]:
    """What `search` shows of a hit (`excerpts.excerpt`): the text from the line holding the most of the query's
    words, and that line of the file (null where the passage's lines are not known)."""
    from localrag.excerpts import excerpt

    shown = excerpt(hit.chunk, query)
    return {"text": shown.text, "line": shown.line}


def chunk_json(chunk: Chunk) -> dict[str, Any]:
    return dataclasses.asdict(chunk)


def document_json(document: Document) -> dict[str, Any]:
    return dataclasses.asdict(document)


def listed_size(document: Document) -> str:
    """The size `localrag documents` and the Library show: none for a part of a file (a mailbox's mail), whose
    `size` is the whole file's (each mail of a mailbox showed the mailbox's size as its own)."""
    return "" if document.holder else size_text(document.size)


def documents_json(listed: DocumentList) -> dict[str, Any]:
    """`localrag documents --json`, `GET /documents` and MCP's `list_documents`: each document listed, what its
    loader left out of it (`left_out`, "" if nothing) and why it is stale ("" if not); `total`, how many the filters
    passed (more than listed when a limit cut the list), `stale_documents`, how many of those are stale, and
    `left_out_documents`, how many left something out."""
    return {"documents": [{**document_json(d), "stale": listed.stale.get(d.path, "")} for d in listed.documents],
            "total": listed.total, "stale_documents": len(listed.stale), "left_out_documents": listed.left_out}


def ingest_report_json(report: IngestReport) -> dict[str, Any]:
    """Counts of files added/updated/unchanged/removed, chunks written, and each failed file with why."""
    return dataclasses.asdict(report)


def forgotten_json(done: Forgotten) -> dict[str, Any]:
    """`localrag forget --json`, the API's `POST /forget` and MCP's `forget`: what was removed, and where the
    text is still or was erased from."""
    return {"paths": done.paths, "documents": done.documents, "chunks_removed": done.chunks, "purged": done.purged,
            "conversations": [dataclasses.asdict(kept) for kept in done.conversations],
            "not_erased": [{"path": path, "holds": what} for path, what in done.not_erased], "spared": done.spared,
            "spared_in": done.spared_in, "watched": done.watched, "still_on_disk": done.still_on_disk}


def summary_json(document: Document, summary: Summary) -> dict[str, Any]:
    """`localrag summarize --json` and the MCP tool: the document, how many sentences were read, the key ones."""
    return {"path": document.path, "doc_id": document.doc_id, "sentences_read": summary.read,
            "sentences_total": summary.total, "sentences": [dataclasses.asdict(s) for s in summary.sentences]}


def triples_json(listed: Sequence[ListedTriple], limit: int) -> dict[str, Any]:
    """`graph_triples` over MCP and `POST /triples`: how many matched, and the first `limit` of them."""
    return {"total": len(listed), "triples": [dataclasses.asdict(t) for t in listed[:limit]]}


def chunk_place(chunk: Chunk, *, short: bool = False, heading: bool = False, title: str = "") -> str:
    """Where a chunk is: its document's path, then its first line as `path:LINE` (an editor opens that) or its
    page; with `heading`, " — " and its heading path, or `title` (its document's, `Hit.title`) where it has none,
    as a passage before the first heading. `short` is the narrow panels' form: the file name, its line range,
    " · p. N"."""
    # One line whatever the file name or heading holds: a newline in a name would start a line of its own,
    # which could pass for another result.
    if short:
        lines = f":{chunk.line_start}-{chunk.line_end}" if chunk.line_start is not None else ""
        return printable(Path(chunk.path).name, multiline=False) + lines + (f" · p. {chunk.page}" if chunk.page else "")
    line = f":{chunk.line_start}" if chunk.line_start is not None else ""
    place = printable(chunk.path, multiline=False) + line + (f", page {chunk.page}" if chunk.page else "")
    named = chunk.heading or title
    return place + (f" — {printable(named, multiline=False)}" if heading and named else "")


def step_source(source: str, chunks: Mapping[str, Chunk], *, short: bool = False) -> str:
    """Where a path step came from: the chunk's document (and page or line) or the imported file's line.

    `short` is the narrow panel's form: the file name only, and "imported" before an imported line. An imported
    triple's source is its file's path and line (a graph an older localrag imported names the file alone).
    """
    chunk = chunks.get(source)
    if chunk is None:
        return printable(f"imported · {Path(source).name}" if short else source, multiline=False)
    return chunk_place(chunk, short=short)


def graph_answer_json(answer: GraphAnswer, names: Mapping[str, str], chunks: dict[str, Chunk]) -> dict[str, Any]:
    """A graph answer with every reasoning path: its planner, whether it supports the answer, its steps' sources.

    `names` maps entity ids to names (`Engine.graph_index().names`), `chunks` the chunks the steps came
    from (`Engine.path_chunks(answer)`).
    """
    return {
        "question": answer.question,
        "answer": answer.answer,
        # The answer's entities one by one: `answer` joins answers tied in the votes with ", ", as names may.
        "answers": [c.name for c in answer.answers],
        "reasoner": answer.reasoner,
        "linked": [dataclasses.asdict(e) for e in answer.linked],
        "planned": [{"relations": list(p.relations), "score": p.score, "planner": p.planner} for p in answer.planned],
        "candidates": [{"name": c.name, "score": c.score, "paths": len(c.paths)} for c in answer.candidates],
        "paths": [
            {
                "path": p.render(names),
                "planner": answer.planner_of(p),
                "supports_answer": answer.supports(p),
                "steps": [
                    {
                        **dataclasses.asdict(s),
                        "head_name": names.get(s.head, s.head),
                        "tail_name": names.get(s.tail, s.tail),
                        "where": step_source(s.source, chunks),
                    }
                    for s in p.steps
                ],
            }
            for p in answer.paths
        ],
        # Why nothing answered where the graph can say more than "no path" (facts point at the question's entity);
        # "" otherwise. Text alone before 2026-12-07: a script or an agent read a bare "no path".
        "note": answer.note,
    }


def related_json(result: RelatedResult, view: RelatedView, question: str | None = None) -> dict[str, Any]:
    """Related entities best first, each with every joining path and both its steps' sources.

    `view`: names, source chunks and seed aliases (`Engine.related_view`). With `question`, the
    shape of a question answered as a recommendation (`ask --graph "what else is like X?"`): the
    question and `"intent": "related"` come first.
    """
    names, chunks, aliases = view.names, view.chunks, view.aliases
    asked = {"question": question, "intent": "related"} if question is not None else {}
    return {
        **asked,
        "seeds": [{**dataclasses.asdict(s), "aliases": aliases.get(s.entity_id, [])} for s in result.seeds],
        "relations": result.relations,
        "scoring": result.scoring,
        "related": [
            {
                "entity_id": r.entity_id,
                "name": r.name,
                "score": round(r.score, 6),
                "paths": [
                    {
                        "path": link.render(names),
                        "weight": round(link.weight, 6),
                        "steps": [
                            {**dataclasses.asdict(s), "where": step_source(s.source, chunks)}
                            for s in (link.seed_step, link.other_step)
                        ],
                    }
                    for link in r.links
                ],
            }
            for r in result.related
        ],
        # How the names were read ("'Pixel' is not an entity of the graph: took Pixel 8; also holding its words:
        # Pixel Buds"): before 2026-12-07 said by the text alone, so a script did not know which entity it got.
        "notes": list(result.notes),
    }


def graph_reply_json(engine: Engine, question: str, planner: str | None = None,
                     worded: Callable[[str], str] | None = None) -> dict[str, Any]:
    """A question to the graph as `ask --graph --json` answers it (MCP's `ask_graph`, the API's `POST /graph/ask`):
    the answer with its reasoning paths, or for "what else is like X?" the related entities (`"intent":
    "related"`). `worded`: a server's wording of a note's command (`serve.wording.for_client`), which names the
    tool or endpoint its client has."""
    related = engine.ask_related(question)
    if related is not None:
        return related_json(related, engine.related_view(related), question)
    answer = engine.ask_graph(question, planner=planner)
    reply = graph_answer_json(answer, engine.graph_index().names, engine.path_chunks(answer))
    if worded is not None:
        reply["note"] = worded(reply["note"])
    return reply
