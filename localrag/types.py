"""The values that flow through localrag: documents, chunks, hits, answers.

Plain dataclasses with no behaviour beyond small derived properties, so every layer (store, CLI,
TUI, evaluation) can share them without importing each other.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from localrag.cpu import usable_cores
from localrag.sizes import count_text


@dataclass(frozen=True)
class Section:
    """A structural block of extracted text: a heading, paragraph, list, table or code block, or text of the file
    that is not its content (`OMITTED`).

    `start`/`end` are character offsets into `LoadedText.text`; `headings` is the heading path that
    applies to the block; `page` is 1-based for paginated formats (PDF), else None.
    """

    start: int
    end: int
    kind: str
    headings: tuple[str, ...] = ()
    page: int | None = None


# The kind of a section that a format read verbatim holds but that is no content to index: an Org drawer or `#+KEY:`
# line, an AsciiDoc comment. Its text stays in `LoadedText.text` (a chunk's offsets cite the file's lines); the chunker
# leaves it out, and no chunk spans it.
OMITTED = "omitted"


@dataclass(frozen=True)
class LoadedText:
    """What a loader extracted from one file: the text and its structure."""

    text: str
    sections: tuple[Section, ...]
    title: str = ""
    # How its bytes were read, when the user should check it: an encoding guessed, bytes not valid in it ("" if not).
    note: str = ""
    # What of the file was left out or read as empty, for the user to know ("" if nothing): a workbook's hidden
    # sheets and rows, formulas without stored values; or read though its application hides it (a deck's hidden slides).
    left_out: str = ""


# The extensions of files whose documents are named under them (`mail.eml/report.pdf`, `team.mbox/3`; see
# `ingest.parts`).
HOLDER_SUFFIXES = (".eml", ".mbox", ".enex")


@dataclass(frozen=True)
class Document:
    """One ingested file, or one part of a file that holds several (a mailbox's mail). `doc_id` is stable per
    absolute path; `content_hash` is of the bytes; `size` is the file's, a part's too (see `holder`); `read_with`
    is how it was read (`ingest.readings`; "" when that was not recorded); `left_out` what its loader left out or
    read as empty (`LoadedText.left_out`: an attachment not read, formulas without stored values; "" when nothing,
    and in an index written before 2026-12-08, which did not record it)."""

    doc_id: str
    path: str
    file_type: str
    content_hash: str
    size: int
    mtime: float
    title: str = ""
    n_chunks: int = 0
    read_with: str = ""
    left_out: str = ""

    @property
    def holder(self) -> str:
        """The file this document is a part of (`/m/team.mbox` for `/m/team.mbox/3`), "" for a file of its own. A
        listing shows a part by its title and no size: both mails of a mailbox showed its name and its whole size,
        and which one `forget` would take could not be told."""
        return part_holder(self.path)


def part_holder(path: str) -> str:
    """The file a stored path is a part of (`/m/team.mbox` for `/m/team.mbox/3`), "" for a file's own path."""
    return next((str(p) for p in reversed(Path(path).parents) if p.name.lower().endswith(HOLDER_SUFFIXES)), "")


@dataclass(frozen=True)
class DocumentList:
    """What `localrag documents`, `GET /documents` and MCP's `list_documents` show (`Engine.document_list`): the
    first `limit` of the documents that pass the filters, in path order; `total`: how many passed (the count a
    listing cut short or of thousands of lines needs); `stale`: path -> why, of each stale one that passed;
    `left_out`: how many of the `total` their loaders left something out of (`Document.left_out`)."""

    documents: list[Document]
    total: int
    stale: dict[str, str]
    left_out: int = 0


# How a chunk's heading path is joined into `Chunk.heading` ("Manual > 6. Cleaning").
HEADING_JOIN = " > "


@dataclass(frozen=True)
class Chunk:
    """A retrievable span of a document's extracted text.

    `start`/`end` are character offsets into the document's extracted text, so a citation can point
    back to the exact span: `text` ends with that span, and what comes before it (`lead` characters) is the header
    row of the table the span starts in, repeated (`ingest.chunker`); `heading` is the heading path joined with
    " > ". `line_start`/`line_end` are
    the lines of its file it spans (from 1), for plain text, Markdown and code as they are retrieved
    (`ingest.lines`); None elsewhere, and where the file no longer holds the chunk there.
    """

    chunk_id: str
    doc_id: str
    path: str
    index: int
    text: str
    start: int
    end: int
    page: int | None = None
    heading: str = ""
    file_type: str = ""
    n_tokens: int = 0
    line_start: int | None = None
    line_end: int | None = None

    @property
    def lead(self) -> int:
        """How many characters of `text` come before the span `start`:`end`: the repeated table header."""
        return max(0, len(self.text) - (self.end - self.start))

    @property
    def own_text(self) -> str:
        """`text` without the repeated table header: the document's text at `start`:`end`."""
        return self.text[self.lead :]


@dataclass(frozen=True)
class Copy:
    """Another document holding a hit's text, left out of the hits: its passage there (`chunk`, whose path, page and
    lines say where), and whether it holds only `part` of the hit (a joined hit whose other part is its own
    document's: an essay's own opening beside a paragraph copied from another essay). Before 2026-12-08 a copy was a
    path alone, and one holding a part was named nowhere."""

    chunk: Chunk
    part: bool = False


@dataclass
class Hit:
    """A retrieved chunk with how each retriever ranked it (1-based ranks, None: not found by it)."""

    chunk: Chunk
    score: float
    vector_rank: int | None = None
    text_rank: int | None = None
    vector_score: float | None = None
    text_score: float | None = None
    rerank_score: float | None = None
    # The rare codes the question names that this chunk holds, which put it before the fused order
    # (localrag/exact_terms.py).
    codes: tuple[str, ...] = ()
    # The other documents holding this chunk's very text, or a part of a joined hit's, left out of the hits
    # (`retrieve.copies_shown`), each with its place there.
    held_by: tuple[Copy, ...] = ()
    # Its document's title where that says more than the file's name (`Engine.search`: a MkDocs page is index.html,
    # titled "Caching part 1 - Quorbit Docs"), "" otherwise: the place of a passage before the first heading.
    title: str = ""

    @property
    def copies(self) -> tuple[str, ...]:
        """The paths of `held_by`: the other documents holding this hit's text."""
        return tuple(copy.chunk.path for copy in self.held_by)


class QuoteStatus(StrEnum):
    """How a quote matched its source. The value is the JSON code; `mark` and `label` are the one
    wording the CLI, the chat app and the Markdown export show people."""

    VERIFIED = "verified"
    CLOSE = "close"
    NOT_FOUND = "not_found"

    @property
    def mark(self) -> str:
        return {"verified": "✓", "close": "≈", "not_found": "✗"}[self.value]

    @property
    def label(self) -> str:
        return {"verified": "verified", "close": "close match", "not_found": "not in source"}[self.value]


def found_in_note(number: int) -> str:
    """How the front ends say that a quote not found in its cited source is word for word in source `number`."""
    return f"the words are in [{number}]"


def quote_label(status: str) -> str:
    """`QuoteStatus.label` of a status saved as text (a conversation file); an unknown one as it is."""
    try:
        return QuoteStatus(status).label
    except ValueError:
        return status


@dataclass(frozen=True)
class Quote:
    """A quote the model attributed to source `source` (1-based), checked against its text.

    `found_in`: when the quote is not in the source it cites, another source that holds it word for word (a
    right quote under a wrong number; the citation still fails)."""

    text: str
    source: int | None
    status: QuoteStatus
    similarity: float
    start: int | None = None
    end: int | None = None
    found_in: int | None = None


@dataclass(frozen=True)
class Evidence:
    """The sentence of source `source` (1-based) that best answers the question, word for word
    (localrag/answer/evidence.py), at `start`:`end` of that source's chunk text; `score` is the rule's,
    for ordering, not a probability. `header` is the first row of the table when the sentence is a later
    row of one, or a data file's key's parent keys or section ("database:", "[backup]"), shown with it: a row's cells
    mean little without their column names, "host: db.internal" little without "database:"."""

    source: int
    text: str
    score: float
    start: int
    end: int
    header: str = ""


def cores_note(threads: int) -> str:
    """"on 1 of 2 cores" for an answer that ran on fewer threads than the machine has cores (other work held
    the rest, localrag/generate.py, or `n_threads` asked for fewer), so a slow answer says why; "" otherwise.
    Every front end shows this."""
    cores = usable_cores()
    return f"on {threads} of {cores} cores" if 0 < threads < cores else ""


# How every front end says an answer ran to its length limit: cut, with no sign of it, it read as finished.
LIMIT_LABEL = "cut at the answer's length limit (max_answer_tokens)"


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    time_to_first_token: float = 0.0
    generation_seconds: float = 0.0
    cancelled: bool = False
    # The answer was ended because it began repeating itself (localrag/answer/repeats.py).
    stopped_repeating: bool = False
    # Generation stopped at its token limit (max_tokens or the context's room), not at an end of turn.
    hit_token_limit: bool = False
    # llama.cpp threads the answer ran on (fewer than the cores when other work held some); 0: not known.
    threads: int = 0
    # Left out of the prompt for lack of room in the model's context: sources found (of those past the "not found"
    # floors), and earlier messages of the conversation (localrag/answer/prompt.py says which go first).
    sources_left_out: int = 0
    history_left_out: int = 0
    # A reasoning model's <think> block, kept out of the answer (localrag/thinking.py): its tokens (within
    # completion_tokens), and whether the reply ended still inside it (no answer was written).
    thinking_tokens: int = 0
    still_thinking: bool = False

    def thinking_note(self) -> str:
        """"the model thought for 812 tokens before answering (not shown)", with the fix when it never got to the
        answer; "" when it did not think."""
        if not self.thinking_tokens:
            return ""
        if self.still_thinking:  # at the limit, or at an end of turn inside the block
            return (f"the model was still thinking after {count_text(self.thinking_tokens, 'token')} and wrote no "
                    "answer" + (": raise max_answer_tokens (localrag config set max_answer_tokens 2048)"
                                if self.hit_token_limit else ""))
        return f"the model thought for {count_text(self.thinking_tokens, 'token')} before answering (not shown)"

    def left_out_note(self) -> str:
        """"2 sources and 12 earlier messages left out to fit the model's context", or "" when nothing was."""
        parts = [count_text(self.sources_left_out, "source")] if self.sources_left_out else []
        parts += [count_text(self.history_left_out, "earlier message")] if self.history_left_out else []
        return f"{' and '.join(parts)} left out to fit the model's context" if parts else ""

    @property
    def tokens_per_second(self) -> float:
        return self.completion_tokens / self.generation_seconds if self.generation_seconds > 0 else 0.0


@dataclass
class Answer:
    """A finished (or cancelled) answer with its sources and checked citations.

    `sources` are the hits that went into the prompt, numbered from 1 in that order; `cited` holds
    the numbers the answer cited that exist; `invalid_citations` the numbers it cited that do not;
    `unsupported_citations` the cited numbers whose source holds none of the words the citing sentence
    adds to the question (`localrag.answer.claims`).
    `refused` is True when nothing relevant was retrieved and the model was not asked; `refusal` then says why in
    words (which floor, the best score, the setting), "" otherwise, `sources` are the closest passages found (none
    cited: none answers) and `evidence` their best sentence, for the user to judge the refusal by.
    `attributed` is True when the answer cited nothing by itself and localrag added the citation of each
    sentence's source, the one holding most of its words (`localrag.answer.attribution`).
    `raw_text` is the model's text as generated; `text` differs from it by the citation localrag added (`attributed`)
    and for a RAFT-tuned model, whose ##begin_quote## markup and `<ANSWER>:` tag are tidied into readable reasoning
    and answer.
    `evidence` is the sources' sentence that best answers the question, chosen without the model (None
    when nothing was retrieved); with `answer_mode = "extract"` the answer is that sentence.
    `query` is what retrieval searched for: the question, or for a follow-up the standalone query made of it
    and the conversation (`localrag.answer.pipeline.follow_up_query`); "" where no search ran.
    """

    question: str
    text: str
    sources: list[Hit] = field(default_factory=list)
    cited: list[int] = field(default_factory=list)
    invalid_citations: list[int] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    refused: bool = False
    model: str = ""
    stats: GenerationStats = field(default_factory=GenerationStats)
    attributed: bool = False
    raw_text: str = ""
    evidence: Evidence | None = None
    unsupported_citations: list[int] = field(default_factory=list)
    refusal: str = ""
    query: str = ""


@dataclass(frozen=True)
class SourcesEvent:
    """First event of a streamed answer: the hits that went into the prompt (numbered from 1)."""

    hits: list[Hit]
    query: str


@dataclass(frozen=True)
class TokenEvent:
    text: str


@dataclass(frozen=True)
class DoneEvent:
    """Last event: the finished answer with parsed citations and checked quotes."""

    answer: Answer


AnswerEvent = SourcesEvent | TokenEvent | DoneEvent
# An answer as it is made: a generator, so that a front end whose reader went away can close it (the model's
# lock is released in its `finally`).
AnswerStream = Generator[AnswerEvent, None, None]


@dataclass
class FileError:
    path: str
    reason: str


# The `activity` of an ingest while an ONNX or OpenVINO embedder is exported on its first load: seconds long, so
# front ends say it even where they show no progress bar.
EMBEDDER_EXPORT_ACTIVITY = "Exporting the embedder to ONNX (once)"
# What every front end calls an unchanged file that was read differently from how it would be now.
STALE_LABEL = "read by an older localrag or with other settings"


@dataclass
class IngestProgress:
    """Reported after each file; `files_total` is known once discovery finished. `files_done` and `chunks_written`
    count what is in the index (or unchanged, or failed), not what is read and waits to be embedded, so neither
    ever goes back; after a stop, `chunks_written` counts too the chunks it kept aside for the next ingest (the
    ones shown while they were embedded).

    `activity` is set, within a file, while a slow step runs (e.g. "OCR scan.pdf page 3/12").
    """

    files_done: int
    files_total: int
    chunks_written: int
    current: str
    elapsed: float
    eta: float | None
    activity: str = ""


# How many passages a search (`localrag search`, the API's `POST /search`, MCP's `search`) returns unless asked,
# and the most it returns: every front end takes the Engine's rule.
SEARCH_K = 10
MAX_SEARCH_K = 100
# The deepest rank a page of a search (`offset` + `k`) reaches: each leg then asks for `retrieve.MAX_FETCH` passages.
MAX_SEARCH_DEPTH = 500


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    # Unchanged files read differently from how they would be now (ingest/readings.py), left as they were.
    stale: int = 0
    removed: int = 0
    # Files read for the first time that hold the bytes of an indexed file gone from its place (a folder renamed, a
    # file filed away): the old documents left the index and their vectors were taken again, not embedded.
    moved: int = 0
    chunks_written: int = 0
    # Of those, chunks of files read again whose embedded text was unchanged: their stored vectors were written
    # again, not embedded (an .mbox with one mail appended embeds that mail alone).
    chunks_reused: int = 0
    errors: list[FileError] = field(default_factory=list)
    seconds: float = 0.0
    cancelled: bool = False
    # The fusion chosen again after this ingest grew the index (localrag/fusion.py); "" when not.
    fusion: str = ""
    notes: list[str] = field(default_factory=list)  # what was skipped without failing (compaction on a full disk)
    # The files counted in `added`, `updated` and `removed`, as the index names them: for scripts (`--json`) and
    # `watch`'s report of what a change did. A file that holds several documents (a mail's attachments, an .mbox's
    # mails), read again, is one updated, and the documents new in it and gone from it are each one added and
    # removed (`inbox.mbox/<Message-ID>`); read for the first time, it is one added, and deleted, each of its
    # documents one removed.
    added_paths: list[str] = field(default_factory=list)
    updated_paths: list[str] = field(default_factory=list)
    removed_paths: list[str] = field(default_factory=list)
    # Each file counted in `moved`, "OLD -> NEW" (neither is counted in `added_paths` or `removed_paths`).
    moved_paths: list[str] = field(default_factory=list)
    # Files added holding the bytes of an indexed file not found where it was, outside the folders ingested (a folder
    # renamed and ingested by its new name, or a drive not mounted), each "OLD -> NEW": their vectors were taken
    # again, and the old documents stay (nothing outside the folders ingested is deleted), named in a note.
    moved_elsewhere: list[str] = field(default_factory=list)
    # Files the walk found that were gone when their turn came (deleted or moved meanwhile, as a sync tool does): not
    # failed; one indexed before leaves the index (in `removed_paths` too).
    gone_paths: list[str] = field(default_factory=list)
    # Files read that hold no text (empty or blank): passed over, not failed; one of them indexed before leaves.
    blank_paths: list[str] = field(default_factory=list)
    # Documents whose text the user should check, each "PATH (how it was read)": an encoding guessed, or bytes not
    # valid in it read as U+FFFD.
    decoded_paths: list[str] = field(default_factory=list)
    # Files added or updated whose bytes another indexed file holds, each "PATH (as OTHER)": searches show such
    # text once (`retrieve.copies_shown`).
    copied_paths: list[str] = field(default_factory=list)
    # Documents indexed before that this ingest's exclude patterns leave out: they stay (a forget takes them out).
    excluded_paths: list[str] = field(default_factory=list)
    # With `stale`: the other collections holding stale documents, and how many each.
    stale_elsewhere: dict[str, int] = field(default_factory=dict)
    # The saved conversations (their ids) quoting documents in `removed_paths`: like the index's files, they keep
    # the text until `forget --purge` erases it (a note says so).
    removed_text_in: list[str] = field(default_factory=list)
    # This ingest made its collection (a name not in the folder before: a typo, or another case of a name, a note
    # says so).
    created_collection: bool = False

    def summary(self) -> str:
        """The one line every front end prints after an ingest: the files' counts, then what was written."""
        unchanged = f"{self.unchanged} unchanged" + (f" ({self.stale} {STALE_LABEL})" if self.stale else "")
        reused = f" ({self.chunks_reused} unchanged, not embedded again)" if self.chunks_reused else ""
        moved = f"{self.moved} moved, " if self.moved else ""
        return (f"{self.added} added, {self.updated} updated, {unchanged}, {self.removed} removed, {moved}"
                f"{len(self.errors)} failed; {count_text(self.chunks_written, 'chunk')} written{reused} in "
                f"{self.seconds:.1f}s")
