"""Chunker: pack a document's sections into chunks that fit the embedder, keeping structure intact.

How it works:
1. Every section is cut into small pieces: sentences for prose, lines for lists and tables, lines for
   code. All pieces are counted in one batched `token_counts` call (plus an empty string, to learn
   how many special tokens the tokenizer adds to every text), since counting is the hot path of
   ingest.
2. A section is an atomic unit when it fits a chunk. A section that alone is too long is broken into its pieces, and
   a piece that alone is too long into its lines, a line too long into words (a batched call each); a Chinese or
   Japanese sentence, written without spaces, into its clauses (after ， 、 ； ：). A log's lines
   (`sentences.reads_as_log`: a `.log` file's, or where `is_log` finds one) are its pieces: a log has no blank line
   and few ". ", so it was one piece cut between words, its chunks starting and ending inside lines. A JSON line too
   long for a chunk (minified JSON is one line) is cut between its records or members first (after a "," at the
   shallowest depth that has one), a member still too long between its own, a few levels deep: cut between words, or
   at its middle where it has no spaces, a record's id and fields landed in different chunks.
3. Units are packed greedily. A new chunk starts when the next unit would not fit, at a page break
   (a chunk has one page to cite), when the top-level heading changes, and after a section of "properties" (a
   Markdown note's front matter: the chunk of its body would hold the closing `---` fence between them, and a
   quote cross it). "Top-level" is the first
   heading level that actually varies: a document whose every section sits under one title splits at
   its second level. A chunk that so far holds
   only headings never ends there, so a heading travels with the text under it, and headings left at
   the end of a full chunk move to the next one.
4. A chunk started only because the previous one was full begins with the previous chunk's trailing
   pieces, up to `overlap` tokens, so a fact cut at a boundary is still whole in one chunk. No
   overlap is carried across a heading change (the text before a heading is about something else),
   and lines of code or table rows carry over only into the rest of their own block.
   A chunk that starts among a table's later rows opens with the table's header, its first row (not the rule line
   under it, Markdown's `|---|---|`), as `sheets.fit_tables` gives a spreadsheet's: without it, `ask --extract`
   quoted trip T253's row of a 300-row schedule as "a row under" T241's, the first row of its chunk, and a chunk's
   first row, taken for its header, was no answer. The header counts against the chunk's size. A header that is
   over half a chunk, or a first line that names nothing (AsciiDoc's `|===`), is not repeated.
5. Sizes up to here add up piece counts, which is exact for WordPiece (MiniLM) but only close for
   other tokenizers; so every chunk is counted again in one batched call, and any chunk that is still
   over the limit is halved at whitespace (or a Chinese sentence end, else after a comma-like mark, else beside a
   Han or kana character, never inside a number) until it fits. A chunk never exceeds `max_tokens`, because
   MiniLM drops the excess silently, nor `max_tokens * MAX_TOKEN_CHARS` characters.

6. A long document is chunked in segments of about `SEGMENT_CHARS` characters (a section longer than
   that is cut at a line break, else at a space; JSON between records, after a "," at the shallowest depth), so
   the pieces, counts and units held at once stay bounded whatever the file holds: a 50 MB single-line file costs
   what a 200 kB one does, times the number of segments. Overlap does not cross a segment boundary.
7. A section of kind OMITTED (an Org drawer, an AsciiDoc comment) is no chunk's text, and no chunk spans it: the
   sections on either side of it are chunked apart, as segments are. A heading with nothing but such a section
   between it and the text it heads is left out too (it rides in that text's heading path), else a chunk of a
   bare heading would stand in the results.

Chunks are spans of `loaded.text` (`loaded.text[start:end] == chunk.text`, after the repeated table header
`chunk.lead` characters long where one leads it), so a citation can point at the exact place; the heading path is
metadata, and prepending it to the embedded text is the pipeline's choice.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from localrag.sentences import SENTENCE_CLOSERS, SENTENCE_ENDS, UNSPACED_CHARS, log_units, reads_as_log
from localrag.types import HEADING_JOIN, OMITTED, Chunk, LoadedText, Section

TokenCounter = Callable[[Sequence[str]], list[int]]

# A sentence ends at . ! ? (or …) with optional closing quotes/brackets, before whitespace and a
# character that is neither a lower-case letter nor a digit, so "e.g. the", "approx. three" and
# "Fig. 2" are not cut. It ends too at the marks of scripts that sentences.py knows (。！？, the danda, the
# Arabic question mark), which Chinese and Japanese write with no space after, and at the full-width ；: knowing
# only . ! ?, a Chinese paragraph was one piece and one "word", cut in half wherever its middle fell ("…编号为1" |
# "022的项目…", a quote that verified against the wrong record) and carried no overlap.
_CJK_END = re.compile(f"[{SENTENCE_ENDS}\uff1b]+[{SENTENCE_CLOSERS}]*")
_SENTENCE_END = re.compile(rf"[.!?\u2026]+[\"')\]\u201d\u2019]*(?=\s+[^\sa-z0-9])|{_CJK_END.pattern}")
_MIN_SENTENCE_CHARS = 4
_LINE = re.compile(r"[^\n]+")
# The comma-like marks of Chinese and Japanese: a sentence of theirs too long for a chunk is cut after one, as a
# spaced one is cut at a space, and never inside a number or a Latin word.
_CLAUSE_MARKS = "\uff0c\u3001\uff1b\uff1a\uff64"
_WORD = re.compile(f"[^\\s{_CLAUSE_MARKS}]+[{_CLAUSE_MARKS}]*|[{_CLAUSE_MARKS}]+")
_SPACE = re.compile(r"\s")
# A JSON string (its escapes read), a bracket or a comma: what a record's depth is read from.
_JSON_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[\[\]{},]')
# How many levels of members an over-long JSON line is cut into before its words: a record, its fields, a field's
# list; a value deeper than that is cut as text is (a 5,000-deep nest costs no more than a flat one).
_JSON_LEVELS = 4
_CLAUSE_GAP = re.compile(f"(?<=[{_CLAUSE_MARKS}])")
# Between two characters of which one is Han or kana: no Latin word or number is cut there.
_UNSPACED_GAP = re.compile(f"(?<=[{UNSPACED_CHARS}])|(?=[{UNSPACED_CHARS}])")
SEGMENT_CHARS = 200_000
# Characters a chunk may hold per token of its limit. WordPiece reads a "word" of over 100 characters as one
# unknown token, so a file of one 5 MB word (a base64 blob, a run of emoji joined by zero-width joiners) counted a
# few tokens a chunk: chunks of 200,000 characters, and `search --json` printed megabytes for one hit. Prose in
# scripts that space their words runs 4-6 characters a token and is not cut by it (no chunk of the repository's
# files or of Japanese, Korean or Hindi test texts changed); Thai, unspaced, is, as it should be. Documents
# indexed before keep their chunks until read again (`ingest --force`): the rule is not worth every document
# marked stale.
MAX_TOKEN_CHARS = 12
# The rule line under a table's header row: Markdown's |---|:--:|, Org's |---+---|.
_RULE_LINE = re.compile(r"[ \t|:+=-]*-[ \t|:+=-]*")
_NAMES = re.compile(r"\w")


@dataclass(frozen=True)
class _Reading:
    """How a document's text is read into pieces, from its file: `path` (a `.log` file's lines are its pieces,
    `sentences.reads_as_log`) and `json` (a `code:json` file's long lines are cut between records and members)."""

    path: str
    json: bool


@dataclass(frozen=True)
class _Lead:
    """The header of the table at `start`:`end` of the text (its first row), `text` with a line break after it: a
    chunk that starts at or past `after`, where the header (and a rule line under it) ends, opens with it."""

    start: int
    end: int
    after: int
    text: str
    tokens: int


LeadAt = Callable[[int], "_Lead | None"]


@dataclass
class _Unit:
    start: int
    end: int
    tokens: int  # content tokens, without the tokenizer's special tokens
    section: Section


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    lines = [_trim(text, m.start(), m.end()) for m in _LINE.finditer(text, start, end)]
    return [(s, e) for s, e in lines if s < e]


def _pieces(text: str, section: Section, start: int, end: int, reading: _Reading) -> list[tuple[int, int]]:
    """Sentence spans for prose; line spans (then sentences) for lists; line spans for tables, code and a log's
    text (`sentences.reads_as_log`; a chat export's messages whole, `sentences.log_units`, so a chunk starts with
    a message's sender and time)."""
    lines = _lines(text, start, end)
    if section.kind in ("code", "table", "heading", "properties"):
        return lines
    if reads_as_log(reading.path, text[start:end]):
        return log_units(text, start, end)
    spans = lines if section.kind == "list" else [(start, end)]
    out: list[tuple[int, int]] = []
    for span_start, span_end in spans:
        position = span_start
        for match in _SENTENCE_END.finditer(text, span_start, span_end):
            s, e = _trim(text, position, match.end())
            # A list marker ("1.", "a)") or an abbreviation is not a sentence: keep it with what follows.
            if e - s > _MIN_SENTENCE_CHARS:
                out.append((s, e))
                position = match.end()
        s, e = _trim(text, position, span_end)
        if s < e:
            out.append((s, e))
    return out


def _counts(token_counts: TokenCounter, texts: list[str]) -> list[int]:
    counts = list(token_counts(texts)) if texts else []
    if len(counts) != len(texts):
        raise ValueError(f"token_counts returned {len(counts)} counts for {len(texts)} texts")
    return counts


def _split_depth(sections: Sequence[Section]) -> int:
    """Length of the heading prefix shared by every headed section, plus one."""
    paths = [s.headings for s in sections if s.headings]
    if not paths:
        return 1
    common = 0
    shortest = min(len(p) for p in paths)
    while common < shortest and all(p[common] == paths[0][common] for p in paths):
        common += 1
    return common + 1


def chunk_document(
    loaded: LoadedText,
    *,
    doc_id: str,
    path: str,
    file_type: str,
    token_counts: TokenCounter,
    max_tokens: int,
    overlap: int,
) -> list[Chunk]:
    """Split `loaded` into chunks of at most `max_tokens` tokens as counted by `token_counts`."""
    text = loaded.text
    sections: list[Section] = []
    for section in sorted(loaded.sections, key=lambda s: (s.start, s.end)):
        start, end = _trim(text, max(section.start, sections[-1].end if sections else 0), section.end)
        if start < end:
            sections.append(Section(start, end, section.kind, section.headings, section.page))
    runs = _runs(sections)
    if not runs:
        return []
    depth = _split_depth([section for run in runs for section in run])
    reading = _Reading(path, file_type == "code:json")
    lead_at = _lead_finder(text, sections, token_counts, max_tokens)
    spans: list[_Span] = []
    for run in runs:
        for segment in _segments(text, run, reading):
            spans.extend(_chunk_segment(text, segment, depth, token_counts, max_tokens, overlap, reading, lead_at))
    return [
        Chunk(
            chunk_id=f"{doc_id}:{index:05d}",
            doc_id=doc_id,
            path=path,
            index=index,
            text=span.lead + text[span.start : span.end],
            start=span.start,
            end=span.end,
            page=span.page,
            heading=HEADING_JOIN.join(span.headings),
            file_type=file_type,
            n_tokens=span.tokens,
        )
        for index, span in enumerate(spans)
    ]


def _lead_finder(text: str, sections: list[Section], token_counts: TokenCounter, max_tokens: int) -> LeadAt:
    """Which table header, if any, a chunk starting at an offset of `text` opens with (`_Lead`): that of the table
    it starts in, past its header. Found on the whole sections, so a table cut into segments keeps its header."""
    found: list[tuple[int, int, int, str]] = []
    for section in sections:
        lines = _lines(text, section.start, section.end) if section.kind == "table" else []
        if len(lines) < 2 or "|" not in text[lines[0][0] : lines[0][1]] or not _NAMES.search(text, *lines[0]):
            continue
        # The rule line under the header is not repeated: it names nothing, and MiniLM reads a Markdown one as a
        # token a dash (50 tokens for a four-column table, a quarter of a chunk).
        after = lines[1][1] if len(lines) > 2 and _RULE_LINE.fullmatch(text, *lines[1]) else lines[0][1]
        found.append((section.start, section.end, after, text[lines[0][0] : lines[0][1]] + "\n"))
    if not found:
        return lambda _offset: None
    counts = _counts(token_counts, ["", *(lead for *_, lead in found)])
    budget = max(1, max_tokens - counts[0])
    leads = [_Lead(start, end, after, lead, count - counts[0])
             for (start, end, after, lead), count in zip(found, counts[1:], strict=True)
             if 2 * (count - counts[0]) <= budget and 2 * len(lead) <= max_tokens * MAX_TOKEN_CHARS]
    starts = [lead.start for lead in leads]

    def lead_at(offset: int) -> _Lead | None:
        at = bisect.bisect_right(starts, offset) - 1
        lead = leads[at] if at >= 0 else None
        return lead if lead is not None and lead.after <= offset < lead.end else None

    return lead_at


def _runs(sections: list[Section]) -> list[list[Section]]:
    """The runs of sections between OMITTED ones, less the headings that end a run where the next run is under
    them."""
    runs: list[list[Section]] = [[]]
    for section in sections:
        if section.kind != OMITTED:
            runs[-1].append(section)
        elif runs[-1]:
            runs.append([])
    kept = []
    for run, after in zip(runs, [*runs[1:], []], strict=True):
        while after and run and run[-1].kind == "heading" and _under(after[0], run[-1]):
            run.pop()
        if run:
            kept.append(run)
    return kept


def _under(section: Section, heading: Section) -> bool:
    return section.headings[: len(heading.headings)] == heading.headings


def _segments(text: str, sections: list[Section], reading: _Reading) -> Iterator[list[Section]]:
    """Runs of sections of about SEGMENT_CHARS characters; a longer section is cut into several."""
    current: list[Section] = []
    size = 0
    for section in sections:
        for part in _cut(text, section, reading):
            if current and size + part.end - part.start > SEGMENT_CHARS:
                yield current
                current, size = [], 0
            current.append(part)
            size += part.end - part.start
    if current:
        yield current


def _cut(text: str, section: Section, reading: _Reading) -> Iterator[Section]:
    """`section` in parts of at most SEGMENT_CHARS characters, cut in a part's second half at its last line break, else
    its last space. JSON (`reading.json`) is cut first after the last "," at the shallowest depth there
    (`_shallowest`), depths read in one scan from the section's start: cut at a space, a minified export's next part
    started inside a record ('with care"},{"orderId"…'), and `_members`, reading it from depth 0, paired its quotes
    wrongly, so many of the part's chunks started mid-record."""
    long_json = reading.json and section.end - section.start > SEGMENT_CHARS
    commas = _json_commas(text, section.start, section.end) if long_json else iter(())
    ahead = next(commas, None)  # the first comma not yet weighed: it may lie past this part's limit
    start = section.start
    while section.end - start > SEGMENT_CHARS:
        limit = start + SEGMENT_CHARS
        window: list[tuple[int, int]] = []  # the commas in the part's second half
        while ahead is not None and ahead[1] <= limit:
            if ahead[1] >= start + SEGMENT_CHARS // 2:
                window.append(ahead)
            ahead = next(commas, None)
        shallowest = _shallowest(window)
        cut = shallowest[-1] if shallowest else text.rfind("\n", start + SEGMENT_CHARS // 2, limit)
        if cut < 0:
            cut = text.rfind(" ", start + SEGMENT_CHARS // 2, limit)
        if cut < 0:
            cut = limit
        s, e = _trim(text, start, cut)
        if s < e:
            yield Section(s, e, section.kind, section.headings, section.page)
        start = cut
    s, e = _trim(text, start, section.end)
    if s < e:
        yield Section(s, e, section.kind, section.headings, section.page)


def _chunk_segment(
    text: str,
    sections: list[Section],
    depth: int,
    token_counts: TokenCounter,
    max_tokens: int,
    overlap: int,
    reading: _Reading,
    lead_at: LeadAt,
) -> list[_Span]:
    pieces = [_pieces(text, s, s.start, s.end, reading) for s in sections]
    flat = [span for spans in pieces for span in spans]
    counts = _counts(token_counts, ["", *(text[s:e] for s, e in flat)])
    special = counts[0]
    budget = max(1, max_tokens - special)
    piece_tokens = iter(max(0, c - special) for c in counts[1:])

    # Fine units (pieces, or the lines or words of an over-long piece) serve as overlap and break up the
    # sections that do not fit whole.
    fine = [
        [_Unit(s, e, next(piece_tokens), section) for s, e in spans]
        for section, spans in zip(sections, pieces, strict=True)
    ]
    # An over-long piece is cut at its line breaks first, a line still too long into words: a line break is the
    # better cut (a log's line, a list's item), and cut between words a log's chunks started inside its lines. In
    # JSON a line is cut between its members first, a level at a time.
    for finer in (_lines, *([_members] * _JSON_LEVELS if reading.json else []), _words):
        mark = {_lines: "\n", _members: ","}.get(finer)
        long_refs = [(i, j) for i, row in enumerate(fine) for j, unit in enumerate(row) if unit.tokens > budget
                     and (mark is None or text.find(mark, unit.start, unit.end) >= 0)]
        parts = [finer(text, fine[i][j].start, fine[i][j].end) for i, j in long_refs]
        part_tokens = iter(_counts(token_counts, [text[s:e] for spans in parts for s, e in spans]))
        split = {
            ref: [_Unit(s, e, max(0, next(part_tokens) - special), fine[ref[0]][ref[1]].section) for s, e in spans]
            for ref, spans in zip(long_refs, parts, strict=True)
        }
        fine = [[w for j, u in enumerate(row) for w in split.get((i, j), [u])] for i, row in enumerate(fine)]

    units: list[list[_Unit]] = []
    for section, section_fine in zip(sections, fine, strict=True):
        total = sum(u.tokens for u in section_fine)
        if total <= budget or not section_fine:
            units.append([_Unit(section.start, section.end, total, section)])
        else:
            units.append(section_fine)
    all_fine = [u for section_fine in fine for u in section_fine]

    spans = _pack([u for section_units in units for u in section_units], all_fine, depth, budget, overlap, lead_at)
    return _enforce_limit(text, spans, token_counts, max_tokens, lead_at)


def _words(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return [m.span() for m in _WORD.finditer(text, start, end)]


def _members(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A span of JSON cut after each "," at the shallowest depth that has one inside it (strings skipped): a list's
    records, an object's members; as it is where it has none."""
    # A trailing "," cuts nothing off.
    shallowest = _shallowest([(d, at) for d, at in _json_commas(text, start, end) if text[at:end].strip()])
    if not shallowest:
        return [(start, end)]
    cuts = [start, *shallowest, end]
    parts = [_trim(text, a, b) for a, b in zip(cuts, cuts[1:], strict=False)]
    return [(a, b) for a, b in parts if a < b]


def _shallowest(commas: Sequence[tuple[int, int]]) -> list[int]:
    """The offsets after those of `commas` (depth, offset after it) at the shallowest depth among them, in order:
    where JSON is cut, between its records or an object's members rather than inside one."""
    if not commas:
        return []
    top = min(depth for depth, _ in commas)
    return [at for depth, at in commas if depth == top]


def _json_commas(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """(depth, offset after it) of each "," of the JSON in text[start:end] outside strings, depth counted from
    `start`: one linear scan, however deep the nesting."""
    depth = 0
    for match in _JSON_TOKEN.finditer(text, start, end):
        mark = match.group()
        if mark in "[{":
            depth += 1
        elif mark in "]}":
            depth -= 1
        elif mark == ",":
            yield depth, match.end()


@dataclass
class _Span:
    start: int
    end: int
    page: int | None
    headings: tuple[str, ...]
    tokens: int = 0
    lead: str = ""  # the table header it opens with (`_Lead`)


def _pack(units: list[_Unit], fine: list[_Unit], depth: int, budget: int, overlap: int, lead_at: LeadAt) -> list[_Span]:
    starts = [u.start for u in fine]
    groups: list[tuple[list[_Unit], bool]] = []  # (units, continues the previous chunk after a size break)
    current: list[_Unit] = []
    current_tokens = 0
    continued = False
    carried = 0  # tokens reserved for the overlap and the table header this chunk will start with

    def only_headings(group: list[_Unit]) -> bool:
        return all(u.section.kind == "heading" for u in group)

    def lead_tokens(unit: _Unit) -> int:
        lead = lead_at(unit.start)
        return lead.tokens if lead is not None else 0

    for unit in units:
        if not current:
            current, current_tokens, carried = [unit], unit.tokens, lead_tokens(unit)
            continue
        # A page break ends a chunk as a new section does: a chunk names one page, and a citation of it must
        # not send the reader to page 1 for a sentence on page 3.
        key_changed = (unit.section.headings[:depth] != current[-1].section.headings[:depth]
                       or unit.section.page != current[-1].section.page
                       or current[-1].section.kind == "properties")
        if key_changed and not only_headings(current):
            groups.append((current, continued))
            current, current_tokens, continued, carried = [unit], unit.tokens, False, lead_tokens(unit)
        elif current_tokens + carried + unit.tokens > budget:
            # Trailing headings belong to the text after them.
            moved: list[_Unit] = []
            while len(current) > 1 and current[-1].section.kind == "heading":
                moved.insert(0, current.pop())
            groups.append((current, continued))
            starts_fresh = bool(moved) or unit.section.kind == "heading"
            continued = not starts_fresh and unit.section.headings == current[-1].section.headings
            led = lead_tokens((moved or [unit])[0])
            room = budget - unit.tokens - led
            carry = _overlap_units(current, unit.section, fine, starts, overlap, room) if continued else []
            carried = sum(u.tokens for u in carry) + led
            current = [*moved, unit]
            current_tokens = sum(u.tokens for u in current)
        else:
            current.append(unit)
            current_tokens += unit.tokens
    groups.append((current, continued))

    spans: list[_Span] = []
    previous: list[_Unit] = []
    for group, is_continued in groups:
        first = group[0]
        if is_continued:
            room = budget - sum(u.tokens for u in group) - lead_tokens(group[0])
            carry = _overlap_units(previous, group[0].section, fine, starts, overlap, room)
            first = carry[0] if carry else first
        content = next((u for u in group if u.section.kind != "heading"), group[0])
        # The page its first text is on: headings alone on a page (a title page, a heading at a page's foot) join
        # the text after them, and a chunk named by their page sent the reader to a page without that text, or to
        # none where a title page is front matter cited by no number (a book's page "i").
        spans.append(_Span(first.start, group[-1].end, content.section.page, content.section.headings,
                           lead=_lead_text(lead_at, first.start)))
        previous = group
    return spans


def _overlap_units(
    previous: list[_Unit], follower: Section, fine: list[_Unit], starts: list[int], overlap: int, room: int
) -> list[_Unit]:
    """Trailing fine units of the previous chunk, up to `overlap` tokens, never the whole chunk.

    Prose carries over freely; lines of code or table rows only into the rest of their own block,
    since a stray tail of a code block in front of a paragraph is noise.
    """
    if overlap <= 0 or not previous or room <= 0:
        return []
    start, end = previous[0].start, previous[-1].end
    first = bisect.bisect_left(starts, start)
    carry: list[_Unit] = []
    total = 0
    for position in range(bisect.bisect_left(starts, end) - 1, first, -1):
        unit = fine[position]
        movable = unit.section.kind in ("paragraph", "list") or unit.section is follower
        if unit.end > end or not movable or total + unit.tokens > min(overlap, room):
            break
        carry.insert(0, unit)
        total += unit.tokens
    return carry


def _enforce_limit(
    text: str, spans: list[_Span], token_counts: TokenCounter, max_tokens: int, lead_at: LeadAt
) -> list[_Span]:
    """Count every chunk for real, with its table header; halve any that is over the limit, in tokens or in
    characters (MAX_TOKEN_CHARS a token), at whitespace until all fit; a half inside a table opens with its header."""
    max_chars = max_tokens * MAX_TOKEN_CHARS
    pending = list(range(len(spans)))
    while pending:
        counts = _counts(token_counts, [spans[i].lead + text[spans[i].start : spans[i].end] for i in pending])
        over = []
        for i, count in zip(pending, counts, strict=True):
            spans[i].tokens = count
            length = spans[i].end - spans[i].start
            if (count > max_tokens or len(spans[i].lead) + length > max_chars) and length > 1:
                over.append(i)
        if not over:
            break
        replaced: dict[int, list[_Span]] = {}
        for i in over:
            span = spans[i]
            cut = _cut_point(text, span.start, span.end)
            parts = (_trim(text, span.start, cut), _trim(text, cut, span.end))
            replaced[i] = [_Span(s, e, span.page, span.headings, lead=_lead_text(lead_at, s))
                           for s, e in parts if s < e]
        new_spans: list[_Span] = []
        pending = []
        for i, span in enumerate(spans):
            if i in replaced:
                for part in replaced[i]:
                    pending.append(len(new_spans))
                    new_spans.append(part)
            else:
                new_spans.append(span)
        spans = new_spans
    return spans


def _lead_text(lead_at: LeadAt, offset: int) -> str:
    lead = lead_at(offset)
    return lead.text if lead is not None else ""


def _cut_point(text: str, start: int, end: int) -> int:
    """Where an over-long chunk is halved: at the space or sentence end nearest its middle; in Chinese or Japanese
    with neither, after the comma-like mark nearest it, else beside the Han or kana character nearest it; only a
    run with none of these (a blob of base64) at its middle."""
    middle = (start + end) // 2
    gaps = [m.start() for m in _SPACE.finditer(text, start + 1, end - 1)]
    gaps += [m.end() for m in _CJK_END.finditer(text, start + 1, end - 1)]
    for pattern in (_CLAUSE_GAP, _UNSPACED_GAP):
        if gaps:
            break
        gaps = [m.start() for m in pattern.finditer(text, start + 1, end - 1)]
    return min(gaps, key=lambda g: abs(g - middle)) if gaps else middle
