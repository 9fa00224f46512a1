"""Saved chat conversations: one JSON file per conversation under `data_dir()/conversations`.

A conversation is written in full after every message, through a temporary file that is fsynced
and then renamed over the old one. A rename is atomic on POSIX, so a crash or Ctrl-C at any moment
leaves either the previous or the new version on disk, never a torn file.

Each assistant turn keeps a copy of its sources (path, page, heading and the chunk text) and the
checked quotes. A reopened conversation therefore shows the exact text the answer was built from,
even after the document was changed, re-ingested or forgotten, and the Markdown export needs no
store. This module is core: the TUI uses it, but it imports nothing from the UI.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from itertools import zip_longest
from pathlib import Path
from typing import Any

from localrag import paths
from localrag.atomic import write_text_atomic
from localrag.disk_errors import after, as_disk_trouble, existing_place, on_read_only_disk
from localrag.errors import LocalRagError
from localrag.safe_text import markdown_escaped, printable
from localrag.types import LIMIT_LABEL, Answer, Hit, QuoteStatus, found_in_note, quote_label
from localrag.writer_lock import file_lock

FORMAT_VERSION = 1
_ID = re.compile(r"^[0-9a-z-]{1,64}$")


class ConversationError(LocalRagError):
    title = "Conversation error"


@dataclass
class SavedQuote:
    text: str
    source: int | None
    status: str
    start: int | None = None
    end: int | None = None
    found_in: int | None = None


@dataclass
class SavedSource:
    """One retrieved source as it was when the answer was made; `n` is its 1-based prompt number."""

    n: int
    chunk_id: str
    doc_id: str
    path: str
    text: str
    page: int | None = None
    heading: str = ""
    score: float = 0.0
    cited: bool = False
    # Why it ranked where it did: each retrieval leg's 1-based rank and score (None: not in its list).
    vector_rank: int | None = None
    text_rank: int | None = None
    vector_score: float | None = None
    text_score: float | None = None
    # The lines of its file it spanned when retrieved (plain text, Markdown, code; `ingest.lines`).
    line_start: int | None = None
    line_end: int | None = None
    # Its text was erased when its file was forgotten with a purge (localrag/forget.py).
    purged: bool = False
    # Its document's title, shown where it has no heading (`Hit.title`; "" in conversations saved before 2026-12-08).
    title: str = ""

    @property
    def location(self) -> str:
        lines = f":{self.line_start}-{self.line_end}" if self.line_start is not None else ""
        parts = [Path(self.path).name + lines]
        if self.page is not None:
            parts.append(f"p. {self.page}")
        if self.heading or self.title:
            parts.append(self.heading or self.title)
        return " · ".join(parts)


@dataclass
class SavedStep:
    """One triple of a saved reasoning path, with the names and the source line as shown when answered."""

    head: str
    relation: str
    tail: str
    source: str
    head_name: str
    tail_name: str


@dataclass
class SavedPath:
    """A graph answer's reasoning path: its steps, the planner that proposed it, whether it led to the answer."""

    steps: list[SavedStep]
    planner: str = ""
    supports_answer: bool = False


@dataclass
class Turn:
    """A user question or an assistant answer. Assistant turns carry sources, quotes and timing."""

    role: str
    text: str
    created: float = field(default_factory=time.time)
    query: str = ""
    sources: list[SavedSource] = field(default_factory=list)
    quotes: list[SavedQuote] = field(default_factory=list)
    invalid_citations: list[int] = field(default_factory=list)
    # The answer cited nothing itself; localrag added its citation (Answer.attributed).
    attributed: bool = False
    # Cited sources holding none of the words their citing sentence adds to the question.
    unsupported_citations: list[int] = field(default_factory=list)
    cancelled: bool = False
    # Why an answer cut short did not finish when an error stopped it, not the user (the error's one line).
    failure: str = ""
    stopped_repeating: bool = False
    hit_token_limit: bool = False  # it ran to max_answer_tokens (GenerationStats.hit_token_limit)
    refused: bool = False
    refusal: str = ""  # why it was refused, in words (Answer.refusal)
    model: str = ""
    # The sources' sentence that best answers the question (Answer.evidence): its source number and where it
    # lies in that source's text.
    evidence_text: str = ""
    evidence_header: str = ""
    evidence_source: int | None = None
    evidence_start: int | None = None
    evidence_end: int | None = None
    time_to_first_token: float = 0.0
    tokens_per_second: float = 0.0
    threads: int = 0  # llama.cpp threads the answer ran on (GenerationStats.threads)
    left_out: str = ""  # what the model's context had no room for (GenerationStats.left_out_note)
    thinking: str = ""  # a reasoning model's thinking, kept out of the answer (GenerationStats.thinking_note)
    # A graph-mode answer's paths (supporting ones first), so a reopened conversation can list them
    # in the paths panel; the steps' passages are among `sources`.
    graph_paths: list[SavedPath] = field(default_factory=list)
    # Fields a newer localrag wrote, kept as they are so that continuing its conversation here loses none.
    newer: dict[str, Any] = field(default_factory=dict)

    def quote_status(self, n: int) -> str | None:
        """The best verification status among the quotes attributed to source `n`; None if none."""
        order = [QuoteStatus.VERIFIED.value, QuoteStatus.CLOSE.value, QuoteStatus.NOT_FOUND.value]
        found = [q.status for q in self.quotes if q.source == n]
        return min(found, key=lambda s: order.index(s) if s in order else len(order)) if found else None


def sources_from_hits(hits: list[Hit], cited: list[int] | None = None) -> list[SavedSource]:
    cited_set = set(cited or [])
    return [
        SavedSource(
            n=i,
            chunk_id=h.chunk.chunk_id,
            doc_id=h.chunk.doc_id,
            path=h.chunk.path,
            text=h.chunk.text,
            page=h.chunk.page,
            heading=h.chunk.heading,
            score=float(h.score),
            cited=i in cited_set,
            vector_rank=h.vector_rank,
            text_rank=h.text_rank,
            vector_score=h.vector_score,
            text_score=h.text_score,
            line_start=h.chunk.line_start,
            line_end=h.chunk.line_end,
            title=h.title,
        )
        for i, h in enumerate(hits, start=1)
    ]


def turn_from_answer(answer: Answer, query: str = "") -> Turn:
    return Turn(
        role="assistant",
        text=answer.text,
        query=query,
        sources=sources_from_hits(answer.sources, answer.cited),
        quotes=[
            SavedQuote(q.text, q.source, QuoteStatus(q.status).value, q.start, q.end, q.found_in)
            for q in answer.quotes
        ],
        invalid_citations=list(answer.invalid_citations),
        attributed=answer.attributed,
        unsupported_citations=list(answer.unsupported_citations),
        cancelled=answer.stats.cancelled,
        stopped_repeating=answer.stats.stopped_repeating,
        hit_token_limit=answer.stats.hit_token_limit,
        refused=answer.refused,
        refusal=answer.refusal,
        model=answer.model,
        evidence_text=answer.evidence.text if answer.evidence is not None else "",
        evidence_header=answer.evidence.header if answer.evidence is not None else "",
        evidence_source=answer.evidence.source if answer.evidence is not None else None,
        evidence_start=answer.evidence.start if answer.evidence is not None else None,
        evidence_end=answer.evidence.end if answer.evidence is not None else None,
        time_to_first_token=answer.stats.time_to_first_token,
        tokens_per_second=answer.stats.tokens_per_second,
        threads=answer.stats.threads,
        left_out=answer.stats.left_out_note(),
        thinking=answer.stats.thinking_note(),
    )


@dataclass
class Conversation:
    id: str
    title: str = "New conversation"
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    turns: list[Turn] = field(default_factory=list)
    newer: dict[str, Any] = field(default_factory=dict)  # as Turn.newer

    def history(self) -> list[dict[str, str]]:
        """Chat messages for the engine; cancelled answers stay out, being unfinished, and so does a question an
        error left unanswered (one too long for the model): a follow-up's search leant on it, 20,000 characters."""
        return [
            # An answer keeps the query its question was searched with: what a follow-up leans on
            # (answer/pipeline.py, `leaning_query`).
            {"role": t.role, "content": t.text, **({"query": t.query} if t.role == "assistant" and t.query else {})}
            for t, answer in zip_longest(self.turns, self.turns[1:])
            if t.text and not (t.role == "assistant" and (t.cancelled or t.refused))
            and not (t.role == "user" and answer is not None and answer.role == "assistant" and answer.failure)
        ]

    def add_question(self, question: str) -> list[dict[str, str]]:
        """Add the user's question, naming a conversation after its first one; the history before it, which
        the engine answers with (every front end saves the question before the answer is written)."""
        if not self.turns:
            self.title = title_from(question)
        history = self.history()
        self.turns.append(Turn(role="user", text=question))
        return history

    @property
    def questions(self) -> int:
        return sum(1 for t in self.turns if t.role == "user")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for turn in data["turns"]:
            turn.update(turn.pop("newer"))
        return {**data.pop("newer"), "version": FORMAT_VERSION, **data}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Conversation:
        """A conversation from its file. Fields this localrag does not know (a newer one wrote them) are no
        damage: a turn's and the conversation's own are kept in `newer`, a source's or quote's are left out."""
        turns = []
        for raw in data.get("turns", []):
            known, newer = _split(Turn, raw)
            known["sources"] = [SavedSource(**_split(SavedSource, s)[0]) for s in raw.get("sources", [])]
            known["quotes"] = [SavedQuote(**_split(SavedQuote, q)[0]) for q in raw.get("quotes", [])]
            known["graph_paths"] = [
                SavedPath([SavedStep(**_split(SavedStep, step)[0]) for step in p.get("steps", [])],
                          p.get("planner", ""), bool(p.get("supports_answer", False)))
                for p in raw.get("graph_paths", [])
            ]
            turn = Turn(**known, newer=newer)
            if not isinstance(turn.role, str) or not isinstance(turn.text, str):  # read as text by every front end
                raise TypeError("a turn's role and text are strings")
            turns.append(turn)
        return cls(
            id=str(data["id"]),
            title=str(data.get("title") or "") or "Untitled",
            created=float(data.get("created", 0.0)),
            updated=float(data.get("updated", 0.0)),
            turns=turns,
            newer=_split(cls, data)[1],
        )


def _split(kind: type, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`raw` as (the fields dataclass `kind` has, the others); "version" is the file's, not a field."""
    names = {f.name for f in fields(kind)} - {"newer"}
    known = {k: v for k, v in raw.items() if k in names}
    return known, {k: v for k, v in raw.items() if k not in names and k != "version"}


def new_id() -> str:
    """Sortable by creation time, unique without coordination."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


def title_from(question: str, limit: int = 48) -> str:
    line = " ".join(question.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class ConversationSummary:
    """What a list of conversations shows of one, without its turns."""

    id: str
    title: str
    created: float
    updated: float
    questions: int

    @classmethod
    def of(cls, conversation: Conversation) -> ConversationSummary:
        return cls(conversation.id, conversation.title, conversation.created, conversation.updated,
                   conversation.questions)


class ConversationStore:
    """Reads and writes conversation files in one folder (default: the data dir).

    `summaries` keeps what it read of each file, by the file's inode, size and modification time: a save
    writes a new file (an atomic rename), so the chat app's list, made again after every answer, reads only
    the conversations that changed since (benchmarks/README.md, "Many saved conversations")."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or paths.data_dir() / "conversations"
        self._summaries: dict[str, tuple[tuple[int, int, int], ConversationSummary]] = {}

    def _path(self, conversation_id: str) -> Path:
        if not _ID.match(conversation_id):
            raise ConversationError(
                f"'{conversation_id}' is not a valid conversation id",
                "pick one from the list (`localrag conversations`), or say `last`",
            )
        return self.folder / f"{conversation_id}.json"

    def new(self) -> Conversation:
        return Conversation(id=new_id())

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Held while a file is read, changed and written again: by two `ask --conversation` at once, each wrote
        back the copy it read at its start, and the turns of the other were lost; a rename, a delete or a purge
        meanwhile was undone."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with file_lock(self.folder / ".lock"):
            yield

    def append(self, conversation: Conversation, turns: Sequence[Turn], *, after: Turn | None = None) -> Conversation:
        """The conversation as saved now with `turns` added at its end (`after`: right after that turn, the
        question they answer), and saved (the latest, `last`). A conversation never saved (`conversation` holds
        these turns alone) is made; one deleted since it was read stays deleted: ConversationError."""
        with self._locked():
            path = self._path(conversation.id)
            if path.is_file():
                current = self.load(conversation.id)
            elif len(conversation.turns) == len(turns):
                current = Conversation(conversation.id, conversation.title, created=conversation.created)
            else:
                raise ConversationError(f"conversation {conversation.id} was deleted while this answer was written",
                                        "the answer was not saved; ask again, in a new conversation")
            at = next((i + 1 for i, turn in enumerate(current.turns) if after is not None
                       and (turn.role, turn.text, turn.created) == (after.role, after.text, after.created)), None)
            if at is None:
                current.turns.extend(turns)
            else:
                # Two asks at once saved both questions, then both answers: each answer followed the wrong one.
                current.turns[at:at] = turns
            self.save(current)
            return current

    def update(self, conversation_id: str, change: Callable[[Conversation], bool], *, touch: bool = True) -> bool:
        """Apply `change` to the conversation as saved now and save it when `change` says it changed it; False
        when it is gone or damaged, or unchanged."""
        with self._locked():
            try:
                current = self.load(conversation_id)
            except ConversationError:
                return False
            if not change(current):
                return False
            self.save(current, touch=touch)
            return True

    def save(self, conversation: Conversation, *, touch: bool = True) -> Path:
        """Write it atomically; `touch` makes it the latest (`last`), as a new question does."""
        if touch:
            conversation.updated = time.time()
        path = self._path(conversation.id)
        self.folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(conversation.to_json(), ensure_ascii=False, indent=1))
        return path

    def find(self, spec: str) -> Conversation:
        """The conversation `spec` names: its id, `last` (the one updated most recently) or `new`."""
        if spec == "new":
            return self.new()
        if spec != "last":
            return self.load(spec)
        found = self.summaries()
        # A damaged file saved after the latest one that reads was `last` until then: going on in an older
        # conversation, without a word, put a follow-up under questions it does not follow.
        newer = [name for name in self.damaged()
                 if not found or self._path(name).stat().st_mtime > found[0].updated]
        if newer:
            self.load(newer[0])  # its own one-line error: the file, and the fix
        if not found:
            self._refuse_unwritable()
            # `last` read as "after my last question": an ask without --conversation saves nothing, which was unsaid.
            raise ConversationError(f"{self.folder}: no conversations yet (an ask without --conversation saves none)",
                                    "start one with `localrag ask --conversation new QUESTION` or in the chat app, "
                                    "then `--conversation last` goes on in the one saved most recently")
        return self.load(found[0].id)

    def _refuse_unwritable(self) -> None:
        """Raise the disk's trouble when nothing can be saved in the folder (or where it was to be made): on a home
        the user may only read, `--conversation last` said "no conversations yet (an ask without --conversation saves
        none)" to a user whose `--conversation new` had been refused its save."""
        place = existing_place(self.folder)
        if os.access(place, os.W_OK | os.X_OK):
            return
        code = errno.EROFS if on_read_only_disk(place) else errno.EACCES
        raise after(as_disk_trouble(OSError(code, os.strerror(code), str(place))),
                    f"no conversation could be saved in {self.folder}")

    def load(self, conversation_id: str) -> Conversation:
        path = self._path(conversation_id)
        try:
            conversation = Conversation.from_json(json.loads(path.read_text(encoding="utf-8")))
            # A conversation is its file: a copy (ID-backup.json) holds the id of the one it was copied from, and
            # by that id it was listed twice (the chat app failed to start), renamed and deleted in the other.
            conversation.id = conversation_id
            return conversation
        except FileNotFoundError:
            raise ConversationError(f"{path}: no such conversation", "it may have been deleted") from None
        # A file edited by hand into other shapes ("turns": "oops", a list at its top) fails as AttributeError too.
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            what = "not valid JSON" if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError) else (
                "not in the form localrag saves conversations in")
            raise ConversationError(
                f"{path}: conversation file is damaged ({what})",
                f"`localrag conversations delete {conversation_id}` removes it, or fix its JSON",
            ) from exc

    def damaged(self) -> list[str]:
        """The ids of the conversation files that do not read, which `list` and `summaries` leave out."""
        self.summaries()  # keeps every file that reads
        return sorted(path.stem for path in self._files() if _ID.match(path.stem) and path.stem not in self._summaries)

    def misnamed(self) -> list[Path]:
        """The files in the folder whose name is no conversation id (a file manager's "ID (copy).json"): no
        command takes them by that name, so they are named by their path, to be renamed or removed by hand."""
        return sorted(path for path in self._files() if not _ID.match(path.stem))

    def is_damaged(self, conversation_id: str) -> bool:
        """Whether the conversation's file is there but does not read (`delete` still removes it)."""
        try:
            self.load(conversation_id)
        except ConversationError:
            return self._path(conversation_id).is_file()
        return False

    def summaries(self) -> list[ConversationSummary]:
        """Every readable conversation without its turns, most recently updated first; only the files changed
        since the last call are read."""
        files = self._files()
        known = self._summaries
        for name in set(known) - {path.stem for path in files}:
            del known[name]
        found = []
        for path in files:
            try:
                info = path.stat()
            except FileNotFoundError:
                continue  # deleted meanwhile
            key = (info.st_ino, info.st_size, info.st_mtime_ns)
            cached = known.get(path.stem)
            if cached is None or cached[0] != key:
                try:
                    cached = key, ConversationSummary.of(self.load(path.stem))
                except ConversationError:
                    continue
                known[path.stem] = cached
            found.append(cached[1])
        return sorted(found, key=lambda c: c.updated, reverse=True)

    def holding(self, texts: Iterable[str]) -> list[Conversation]:
        """The readable conversations whose file holds any of `texts` as JSON writes it, most recently updated
        first; the others are not parsed (a forget looks for a path in every saved conversation)."""
        # As this module writes it, and with non-ASCII escaped, as JSON from elsewhere may hold it.
        needles = {json.dumps(text, ensure_ascii=ascii)[1:-1] for text in texts for ascii in (False, True)}
        chosen = []
        for path in self._files():
            try:
                content = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue  # damaged or gone: `list` skips it too
            if any(needle in content for needle in needles):
                chosen.append(path)
        return self._loaded(chosen)

    def _files(self) -> list[Path]:
        return list(self.folder.glob("*.json")) if self.folder.is_dir() else []

    def _loaded(self, files: Iterable[Path]) -> list[Conversation]:
        found = []
        for path in files:
            try:
                found.append(self.load(path.stem))
            except ConversationError:
                continue
        return sorted(found, key=lambda c: c.updated, reverse=True)

    def rename(self, conversation_id: str, title: str) -> Conversation:
        title = " ".join(title.split())
        if not title:
            raise ConversationError("a conversation title cannot be empty", "type a name")
        with self._locked():
            conversation = self.load(conversation_id)
            conversation.title = title
            # Not touched: renaming an old one to tidy up made it `last`, and the next follow-up went into it.
            self.save(conversation, touch=False)
        return conversation

    def delete(self, conversation_id: str) -> None:
        with self._locked():
            self._path(conversation_id).unlink(missing_ok=True)

    # Last in the class: below it, `list` in an annotation would name this method.
    def list(self) -> list[Conversation]:
        """Every readable conversation, most recently updated first; damaged files are skipped."""
        return self._loaded(self._files())


def export_markdown(conversation: Conversation) -> str:
    """The conversation as Markdown: each question, each answer, and the sources it was built from."""
    out = [f"# {_one_line(conversation.title)}", ""]
    for turn in conversation.turns:
        if turn.role == "user":
            out += [f"## Q: {' '.join(turn.text.split())}", ""]
            continue
        out += _answer_lines(turn)
    return "\n".join(out).rstrip() + "\n"


def answer_markdown(turn: Turn) -> str:
    """One answer as the export writes it: its text, what is said of it, and its sources (the chat app's Ctrl+Y)."""
    return "\n".join(_answer_lines(turn)).rstrip() + "\n"


def _answer_lines(turn: Turn) -> list[str]:
    from localrag.answer.attribution import ATTRIBUTED_LABEL
    from localrag.answer.claims import UNSUPPORTED_LABEL, missing_sources_note
    from localrag.answer.evidence import (
        CLOSEST_SENTENCE_LABEL,
        CLOSEST_SOURCES_LABEL,
        EVIDENCE_LABEL,
        EXTRACT_MODEL,
        header_note,
    )
    from localrag.answer.repeats import STOPPED_LABEL

    # A model's answer is Markdown; an extracted one, like every quote and sentence below, is a document's text, which
    # a Markdown viewer showed as Markdown: `<!-- not -->` vanished from "refundable" in a quote marked verified.
    text = turn.text.strip()
    out = [(markdown_escaped(text) if turn.model == EXTRACT_MODEL else text) or "_(no answer)_", ""]
    if turn.failure:
        out += [f"_(not answered: {' '.join(turn.failure.split())})_", ""]
    elif turn.cancelled:
        out += ["_(answer cut short)_", ""]
    if turn.stopped_repeating:
        out += [f"_({STOPPED_LABEL})_", ""]
    if turn.hit_token_limit:
        out += [f"_({LIMIT_LABEL})_", ""]
    if turn.thinking:
        out += [f"_({turn.thinking})_", ""]
    if turn.refusal:
        out += [f"_({turn.refusal})_", ""]
    if turn.attributed:
        out += [f"_({ATTRIBUTED_LABEL})_", ""]
    if turn.invalid_citations:  # as `ask` says it: before 2026-12-08 the export left them out
        out += [f"_({missing_sources_note(turn.invalid_citations)})_", ""]
    if turn.evidence_text and (turn.model != EXTRACT_MODEL or turn.refused):
        label = CLOSEST_SENTENCE_LABEL if turn.refused else EVIDENCE_LABEL
        out += [f"**{label.capitalize()}** [{turn.evidence_source}]:", "",
                f"> {_quoted(turn.evidence_text)}", ""]
        if turn.evidence_header:
            out += [f"_{markdown_escaped(_one_line(header_note(turn.evidence_header)))}_", ""]
    if turn.query:
        out += [f"_Searched for: {markdown_escaped(_one_line(turn.query))}_", ""]
    if turn.sources and turn.refused:
        out += [f"**{CLOSEST_SOURCES_LABEL}**", ""]
        out += [f"{s.n}. {_place(s)}{_purged_note(s)}" for s in turn.sources]
        out.append("")
    elif turn.sources:
        out += ["**Sources**", ""]
        for s in turn.sources:
            mark = "cited" if s.cited else "not cited"
            if s.n in turn.unsupported_citations:
                mark += f" ({UNSUPPORTED_LABEL})"
            status = turn.quote_status(s.n)
            quote = f", quote {quote_label(status)}" if status else ""
            out.append(f"{s.n}. {_place(s)} — {mark}{quote}{_purged_note(s)}")
        out.append("")
    for q in turn.quotes:
        elsewhere = f"; {found_in_note(q.found_in)}" if q.found_in else ""
        out += [f"> {_quoted(q.text)} [{q.source}] ({quote_label(q.status)}{elsewhere})", ""]
    return out


def _one_line(text: str) -> str:
    return printable(text, multiline=False)


def _quoted(text: str) -> str:
    """A document's sentence on one line of the export, shown as written by a Markdown viewer."""
    return markdown_escaped(" ".join(text.split()))


def _code(text: str) -> str:
    """`text` as a Markdown code span, fenced by more backticks than it holds in a row: a file name holding one
    ended the span early, and the rest of the name was read as Markdown."""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return f"{fence}{padded}{fence}"


def _place(source: SavedSource) -> str:
    """A source's file and where in it, on one line: a file name holding line breaks wrote lines of its own into
    `conversations show` and the export, such as a forged source "cited, quote verified"."""
    return f"{_code(_one_line(source.path))} ({markdown_escaped(_one_line(source.location))})"


def _purged_note(source: SavedSource) -> str:
    from localrag.forget import PURGED_LABEL

    return f" ({PURGED_LABEL})" if source.purged else ""


def export_path(conversation: Conversation, folder: Path | None = None) -> Path:
    """Where `export_markdown` output goes by default: data_dir()/exports/<id>.md."""
    return (folder or paths.data_dir() / "exports") / f"{conversation.id}.md"
