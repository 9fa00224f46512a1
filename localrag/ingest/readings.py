"""How a document was read: its loader's version and the settings that shaped its chunks.

Every document row records a `reading` (`read_with` in the store). A file whose bytes have not changed
is skipped by ingest, so a loader that learned to read its kind better, or a new `chunk_tokens`, would
otherwise never reach the documents already indexed. Comparing a document's reading with the one it
would get now names those documents: `status` counts them, ingest reports them, and `ingest --stale`
reads them again (only them, where `--force` reads everything it is given).

A reading is a short text, "txt 2; chunks 2 200/32" or "pdf 1 ocr; chunks 2 200/32", so a user can see
it and `stale_reason` can say which part differs. Its chunk size is the one the chunker really used:
`chunk_tokens` capped by what the embedder reads (`chunk_size`). Two settings that cut the same chunks
then give the same reading, and reading a document again would change nothing but the time it takes.
A store written before readings were recorded has an empty one: how those documents were read is
unknown, so they count as stale.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from localrag.config import Settings
from localrag.safe_text import disk_name, holder_on_disk
from localrag.sizes import count_text

# Bump a kind's number when its loader reads the same bytes differently (new text, title, headings or
# pages); tests/integration/test_stale_readings.py holds digests of the sample corpus that fail until it is.
# A kind not listed is at 1. Code files share one loader, so "code:python" is read as "code", unless its language
# has an entry of its own, which its reading names ("code:json 4; chunks 2 216/32").
# Every kind went up by one on 2026-12-07 (txt 6 to 7, code 1 to 2): the text of every document became
# `safe_text.plain_text` of what its loader read (NFC, no soft hyphens or zero-width characters, ligatures spelled out).
# On the same day a line opened by ‣ ◦ ▪ ● ⁃ or an en dash became a list item (structure.LIST_LINE) in txt and pdf,
# one opened by an en dash only where a list can start (sentences.dash_goes_on), not a wrapped line mid-sentence.
READERS: dict[str, int] = {
    "txt": 13,  # a chat export's message (WhatsApp's iOS "[3/14/24, 9:01:10 AM] Name:" too) is one sentence with
    # its continuation lines, and chunks are cut between messages (they started inside them, with no sender); 12: in
    # .rst, a directive's or a note's text is never a heading, however short (a one-line warning headed the paragraph
    # after it), and a version directive's version is not read ("2.1" was a heading); 11: in
    # .rst, an admonition's text on its directive's line, a footnote's and a citation's text are read
    # (their labels and references left out, under the section citing them), a csv-table's header row; a formula's
    # TeX (`.. math::`) is left out; an overlined title names the document; 10: a clause's heading over a paragraph
    # numbered "1." ("Article 5 Speed limits" over "1. A boat ...") is a heading; 9: every clause word heads a
    # clause ("Rule 4", "Regulation 12", "Paragraph 3"), a sentence naming one ("Section 4 applies where ...") does
    # not; 8: a clause's heading typed right over its text ("§ 4 Notice to quit" over "(1) ...") is a heading; 7: a
    # lone "Label: nan" (an empty cell's export) is a record's field, not a heading; a title underlined with "===" or
    # "---" (reStructuredText's sections) is a heading, at its adornment's level;
    # in .rst, directives, their options, comments and role names are blanked out; a lone line ending in 。 or
    # another script's clause mark is prose, not a heading; 6: a lone numbered title ("6. TERMINATION") is a heading;
    # 7: the chunker cuts a log (a .log file, lines opening with time stamps) between its lines, never inside one
    "pdf": 15,  # a form's signature read as its signer, a text stream's value as its text, hidden fields and
    # comments left out, a dynamic XFA form read from its data (or named in a note), text under an opaque filled
    # box drawn after it or white on white left out (and named);
    # 14: a page under a short typed text OCR'd only where that text is in the page's top or bottom band
    # (a slide or certificate over a background image is typed), and an OCR line left out only where it is a whole
    # typed line; a bold "Chapter Three: ...", "Appendix A: ..." is a title, not a field;
    # 13: a page mostly covered by images under a short typed text (a scanner app's footer) is OCR'd; a
    # record's field in bold ("Total due: $3,105.25") is text, not a title; a line of cells set apart is a table's
    # row, its cells parted by " | ", and short cells right of the middle are no right column of prose; a line
    # aligned with typed spaces (a receipt's) is a paragraph of its own;
    # 12: a page blank but for the running header gives no passage; a contents needs strictly rising page
    # numbers and a "Contents" title or a jump of more than a page (a price list was left out), a roman page number
    # a whole numeral; a sentence ending in "。" (or another script's mark) at a page's foot ends there;
    # 11: a chunk opening with headings alone on the page before (a title page) names the page of its
    # text (it named the headings' page: none for a title page labelled "i");
    # 10: a contents page of dot-leader entries is left out, a sentence running over a page break is
    # read whole on the page where it starts, a page is cited by its label (/PageLabels) where that is a number, a
    # page's only line is no running line;
    # 2: a chunk ends at a page break, so it names the page its text is on; 3: a running header or footer
    # (a line at the top or bottom of most of 3 or more pages) is left out; 4: a short line in bold at the body's
    # size that stands apart is a heading; 5: the body's size leaves a trailing list of references out, a title
    # wrapped over two lines is one heading, a word hyphenated at a line's end (or a page's) is joined, and a page of
    # two columns written row by row is read column by column; a scanned page turned a quarter or half way upright;
    # 7: a line at pages' edges whose numbers other than a page number change is text, one the same on each page is
    # read once; a page of control characters is read by OCR (or left out), a damaged page's neighbours are read;
    # 8: a line ending well before the margin keeps its break (an invoice's records); a bold or larger title over
    # one-line clauses is a heading; filled form values and comments are read; 9: a page number that starts again
    # (merged PDFs, numbering after the front matter) or stands beside a chapter's is furniture
    "md": 9,  # an image's text is parted from a word, an image or a link right after it ("a b", was "ab");
    # 8: an escaped "!" before a link (`\![text](address)`) is no image: it stays as written (it was cut,
    # leaving "\text"); 7: an image is read as its alt text and title, its address (a `data:` image's base64) left
    # out; 6: a footnote is read without its label, under the heading of the section citing it, a reference mark
    # ([^1]) left out of its sentence; Hugo's TOML front matter (`+++`) is read as YAML's is; 5: HTML comments,
    # scripts and styles are blanked out, and an HTML block's tags; Obsidian's %% comments too; the front matter's
    # properties are read; 4: they are a chunk of their own (the closing fence was in one)
    "ipynb": 9,  # a Markdown cell's image text parted from what follows it (md 9); 8: a Markdown cell's escaped "!"
    # is no image (md 8); 7: a Markdown cell's image as its alt text and
    # title (md 7); 6: a cell's outputs cut to 2,000 characters in all (each output was); 5: each output a block of its
    # own; a figure's or widget's stand-in text and a result that only names an object (`<Axes: ...>`) left out;
    # 4: the same in Markdown cells; 3: outputs without terminal colour codes, a progress bar's last frame only,
    # and an error output's name, value and traceback (it was left out)
    "html": 13,  # a picture standing alone is read "Image: its alt text." (a bare line read as a heading over the
    # text after it); the alt text Office writes itself is not read, nor a figure's alt text its caption says; 12: a
    # picture is read as its alt text, an inline SVG as its name and the text it draws; a page's main
    # part is read alone whatever its size, articles weighed against the page's text outside links (a site's menu);
    # 11: an <ol> counts from its start, down when reversed, from an item's value; 10: MediaWiki's
    # category links, menus, "From Wikipedia" line, contents box and footer that carry no role
    # are left out (Wikipedia's catlinks ended an article's last chunk); 9: a plain document's <header>, <footer> and
    # <aside> (a page that marks no <main> or <article>), an <aside> in a <main> holding no article, and footnotes
    # (docutils', Pandoc's) are its text; 8: a web page's furniture (banner, footer, sidebars, cookie notice, skip
    # links, role="navigation") is left out and its <main> or articles read; MediaWiki's "[edit]" links and a formula's
    # TeX source too; a <meta> charset past the first 1,024 bytes of the head is the page's; 7: a note mark linked into
    # the page around a <sup> or glued to the word before (Calibre's, Word's, Gutenberg's) is a note reference; 6: a
    # note reference (a footnote's number, Wikipedia's [3]) and a block marked as a contents page (role="doc-toc",
    # epub:type="toc") or a copyright page are left out of the text; 5: an authoring tool's "Untitled" title gives way
    # to the first heading of any level; a nested table is read once, in its cell; a cell's or a list item's blocks and
    # tables are kept apart; hidden rows, row groups and list items are left out; a table's caption is read; 4: read in
    # the encoding its label means to a browser (iso-8859-1 as windows-1252, shift_jis as cp932), a UTF-8 page with a
    # stray byte as UTF-8
    "epub": 7,  # a picture alone read "Image: ...", Office's own alt text and a figure's repeated one not (html 13);
    # 6: a picture is read as its alt text, an inline SVG by its text (html 12);
    # 5: a note mark linked as Calibre writes it (`<a href="#fn1"><sup>4</sup></a>`) is left out; 4:
    # the title and authors open the text, the authors name the title; a note reference, a contents
    # page and a copyright page are left out; a file the contents do not name goes on under the chapter before; an
    # anchor inside a heading, list or table opens its chapter too; 3: a chapter the contents point at inside a file
    # opens at its anchor
    "docx": 7,  # a picture in a text box is read once, with the box's text (its image was OCR'd twice);
    # 6: a picture alone read "Image: its alt text.", the alt text Office writes itself not, nor one its
    # paragraph or a caption beside it says; a header row the file marks (bold, shaded, "Repeat as header row") has a
    # rule line under it ("--- | ---"); 5: a picture is read as its alt text and, with OCR on, its image's text;
    # 4: a numbered paragraph or heading after the number Word shows ("3.", "2.1(a)"), not "- "; 3:
    # tracked insertions, content controls, text boxes, notes and nested tables are read
    "xlsx": 5,  # `Label: | value` rows above a table's header are its properties, not its header; tables side by
    # side, apart at empty columns, are read apart; a merged title over a two-row header is a heading; a title merged
    # two rows down is one heading; a table right of empty columns is read without them; 4: numbers and dates as
    # their cell formats show them (25%, €1,250.00); a blank sheet is not named; a table block longer than a chunk
    # is cut by rows, each part led by the header row (sheets.fit_tables); 3: a General number to 15 digits as Excel
    # shows it (0.3, not 0.30000000000000004), a [h]:mm duration as 25:00; a title row above the header is a
    # heading, not the header; merged cells fill the cells they cover; hidden sheets and rows are left out; a row
    # too wide for a chunk under its header is read as `column: value` lines
    "csv": 5,  # xlsx 5's rules (a `Konto;DE12 …` line above the header is a property); Excel's `sep=;` line sets the
    # delimiter and is not read; 4: that cut too; 3: a title row above the header is a heading; a row too wide as
    # `column: value` lines
    "pptx": 5,  # speaker notes under a heading "Speaker notes", not a "Notes: " label their quotes began with; 4: a
    # chart's title and its series' and categories' names, and SmartArt's text, are read; 3: a slide without any text
    # (pictures alone) is left out, not headed "Slide N"
    "eml": 6,  # a picture alone read "Image: ...", Office's own alt text and a figure's repeated one not (html 13);
    # 5: an HTML body's picture is read as its alt text, an inline SVG by its text (html 12);
    # 4: a body without a charset, raw 8-bit headers and labels such as gb2312 read as mail clients read them;
    # 3: quoted mails, the signature and an .mbox's repeated paragraphs left out; the title names sender and day
    # Not bumped when a chunk's page became its first text's (pdf 11, pptx 5, 2026-12-07): an image's OCR gives
    # pages but no headings, so no chunk opens with headings on another page. No other reader sets a page
    # (sheets.fit_tables, mail and filed_notes pass on the pages they are given).
    "image": 3,  # 2: a page turned a quarter or half way is read upright (it was read as garbage)
    "odt": 4,  # a text box's paragraphs are blocks after their paragraph, an image's alt text is left out, a list
    # item's or a table cell's footnote follows its list or table, a nested table is read once, in its cell; 3: a
    # footnote follows its paragraph instead of being glued into it; comments are left out
    "rtf": 3,  # hidden text (\v) is left out, a footnote follows its paragraph, an emoji is one character
    "code": 2, "org": 2,
    "enex": 4,  # a picture alone read "Image: ...", Office's own alt text and a figure's repeated one not (html 13);
    # 3: a note's picture is read as its alt text, an inline SVG by its text (html 12)
    "adoc": 3,  # a preprocessor line (`ifdef::internal[]`, `endif::[]`, `include::other.adoc[]`) ends a block and is in
    # no section, as a delimiter line is (it was in the sentence)
    # 5: a sound's or a note's label ("(SIGHS)", "Note:") names no speaker, and a pause of over 10 seconds ends the
    # one named last; 4: a dialogue dash or a `[NAME]`/`(NAME)` label ends the speaker named last; 3: a cue that
    # names no one is spoken by the speaker a `Name:` named last, and joined to an unfinished turn
    "vtt": 5, "srt": 5,
    "code:json": 6,  # a chat export (Telegram's result.json, DiscordChatExporter's, a Slack day file) is read as its
    # messages, "[2024-03-14 09:01] Name: text" (it was read as JSON); 5: the escapes in its strings are decoded
    # ("Zo\\u00eb" read as "Zoë", "\\n" as a space);
    # 3: a line too long for a chunk (minified JSON) is cut between its records, not inside one;
    # 4: in a file over 200,000 characters too, past the first segment the chunker reads (chunker.SEGMENT_CHARS)
}
# A page saved as one file (.mhtml) is read by the "html" reader (`webarchive`): its version is that reader's, so a
# bump of "html" reaches it too.
READERS["mhtml"] = READERS["html"]
# Bump when the chunker or the text a chunk is embedded as (title and heading prefix) changes.
# 2 (2026-12-07): a chunk that starts among a table's later rows opens with the table's header row.
CHUNKS_VERSION = 2
# Tokens kept free in every chunk for the title and heading path that precede it in the embedded
# text; the prefix is cut to fit, so the chunk's own tail is never what the embedder drops.
CONTEXT_TOKENS = 40
# Kinds whose text depends on the OCR setting: a scanned page, an image, or a Word file's picture is read only by OCR.
_OCR_KINDS = frozenset({"pdf", "image", "docx"})


def chunk_size(settings: Settings, embedder_tokens: int) -> int:
    """The tokens a chunk holds: `chunk_tokens`, or fewer where the embedder, which reads at most
    `embedder_tokens`, would otherwise drop a chunk's tail behind its title and heading prefix."""
    return min(settings.chunk_tokens, embedder_tokens - CONTEXT_TOKENS)


def reading(kind: str, settings: Settings, embedder_tokens: int) -> str:
    """The reading a document of loader kind `kind` gets from this localrag with these settings, for an
    embedder that reads at most `embedder_tokens`."""
    base = kind if kind in READERS else kind.split(":", 1)[0]
    loader = f"{base} {READERS.get(base, 1)}"
    if base in _OCR_KINDS:
        loader += " ocr" if settings.ocr else " no-ocr"
    return f"{loader}; chunks {CHUNKS_VERSION} {chunk_size(settings, embedder_tokens)}/{settings.chunk_overlap}"


def stale_reason(stored: str, now: str, embedder_tokens: int) -> str:
    """Why a document read as `stored` would be read differently `now`; "" when it would not.

    Readings recorded before they held the chunk size really used hold `chunk_tokens` as set: capped
    here the way the chunker capped it (same store, so same embedder), they are not stale for it."""
    if stored == now:
        return ""
    if not stored:
        return "read before localrag recorded how"
    old_loader, _, old_chunks = stored.partition("; ")
    new_loader, _, new_chunks = now.partition("; ")
    reasons = []
    if _older(old_loader, new_loader):
        reasons.append("an older loader")
    elif old_loader.endswith(" no-ocr") and new_loader.endswith(" ocr"):
        # Read again with OCR on, a scanned page gains its text. The other way round it would only lose
        # it, so a reading made with OCR stays current when OCR is turned off.
        reasons.append("OCR off")
    if _older(old_chunks, new_chunks):
        reasons.append("an older chunker")
    elif _sizes(old_chunks, embedder_tokens) != _sizes(new_chunks, embedder_tokens):
        reasons.append(f"chunk_tokens/chunk_overlap {old_chunks.split()[-1]}")
    return "read with " + " and ".join(reasons) if reasons else ""


def _older(stored: str, now: str) -> bool:
    """Whether a reading's part `stored` ("txt 9", "chunks 2 200/32") is an older reader's than `now`'s: another
    kind, or a lower version, compared as numbers. A newer one (a newer localrag read the document, then this one
    opened the index) is current: read again here, it was downgraded, "txt 11" was "read with an older loader" to
    localrag at txt 10 and `ingest --stale` read it with that older loader."""
    (old_kind, _, old_version), (new_kind, _, new_version) = (part.partition(" ") for part in (stored, now))
    old_number, new_number = old_version.split(" ", 1)[0], new_version.split(" ", 1)[0]
    if old_kind != new_kind or not old_number.isdigit() or not new_number.isdigit():
        # A version that does not read as one (a row edited by hand) is read again, as it was.
        return (old_kind, old_number) != (new_kind, new_number)
    return int(old_number) < int(new_number)


def _sizes(chunks: str, embedder_tokens: int) -> tuple[int, str]:
    """A reading's "chunks 2 200/32" part as (the chunk size the chunker used, the overlap)."""
    tokens, _, overlap = chunks.split()[-1].partition("/")
    # A size that does not read as one (a row edited by hand) differs from every real size: stale.
    return (min(int(tokens), embedder_tokens - CONTEXT_TOKENS) if tokens.isdigit() else -1), overlap


def stale_documents(
    readings: dict[str, tuple[str, str]], settings: Settings, embedder_tokens: int
) -> dict[str, str]:
    """path -> why, for each stored document (`Store.document_readings`) that would be read differently now
    by an embedder that reads at most `embedder_tokens`."""
    # One reading a kind: `status` asks this of every document, and most hold the current reading.
    now = {kind: reading(kind, settings, embedder_tokens) for kind in {kind for kind, _ in readings.values()}}
    reasons = {path: stale_reason(read_with, now[kind], embedder_tokens)
               for path, (kind, read_with) in readings.items() if read_with != now[kind]}
    return {path: why for path, why in sorted(reasons.items()) if why}


def split_app_folders(files: list[str], documents: Iterable[str]) -> tuple[list[str], list[str]]:
    """Of the stale `files`, those to read again, and the stored `documents` to drop instead: those a walk took from
    an application's or the system's own folder (`_walk_took`: a Logseq graph's, a recycle bin, a saved page's files)
    or a file Windows writes (`desktop.ini`). Read again, a page's backup an older localrag took stayed, found beside
    the page, though the walk of its folder now leaves it out; it leaves the index as that walk's ingest drops it."""
    stored = list(documents)
    held = {f for f in files if _walk_took(Path(f), stored)}
    dropped = sorted(d for d in stored if d in held or any(d.startswith(f"{f}/") for f in held))
    return [f for f in files if f not in held], dropped


def _walk_took(path: Path, documents: list[str]) -> bool:
    """Whether the index shows that a walk of a folder holding the file at `path` took it from an application's or
    the system's own folder inside that folder (`discover.app_folder`), or took the Windows file it is: it holds
    another document in that folder, outside the application's one (a Logseq graph's page beside its `logseq/bak`
    copy). The index keeps no record of the folders ingested; a folder so named by the user (`ingest dl/Page_files`,
    `ingest /media/USB/$RECYCLE.BIN` to recover a deleted file) and nothing around it is theirs, read again."""
    from localrag.ingest.discover import app_folder, system_file

    def beside(inner: Path) -> bool:
        """Whether the index holds a document in `inner`'s folder that `inner` does not hold."""
        outer, skip = os.path.join(inner.parent, ""), os.path.join(inner, "")
        return any(d.startswith(outer) and not d.startswith(skip) and d != str(inner) for d in documents)

    return (system_file(path.name) and beside(path)) or any(app_folder(folder) and beside(folder)
                                                          for folder in path.parents)


def dropped_note(count: int) -> str:
    """Why `ingest --stale` took documents out rather than reading them again (`split_app_folders`)."""
    return (f"dropped {count_text(count, 'document')} held in an application's or the system's own folder (a Logseq "
            "graph's `logseq`, a recycle bin, a saved page's files) or written by Windows (`desktop.ini`), as an "
            "ingest of the folder holding it leaves them out; `localrag ingest PATH` takes one back")


def holding_files(paths: Iterable[str]) -> list[str]:
    """The files on disk that hold documents `paths`: a mail's attachment (`mail.eml/report.pdf`) is read
    again through its mail. A document whose file is gone is left out (`not_held` names those)."""
    return sorted({str(held) for held in map(_holding_file, paths) if held is not None})


def not_held(paths: Iterable[str]) -> list[str]:
    """Of documents `paths`, those no file on disk holds: moved, deleted, or on a drive not mounted. What `status`,
    `documents`, `ingest --stale` and `repair` call not on disk. One stat a document that is there under its stored
    name before the other names are tried: for 5,000 documents on disk, 26-38 ms, paid by every client polling
    GET /status."""
    return [path for path in paths if not os.path.isfile(path) and _holding_file(path) is None]


def _holding_file(path: str) -> Path | None:
    """The file on disk that holds document `path`: the file by any name the disk gives it (`safe_text.disk_name`, the
    one rule ingest, forget and search judge it by), or the file it is a part of (`mail.eml/report.pdf`'s mail).
    Before 2026-12-07 only the stored name was asked: a file stored as `chimn\\xe9y.txt` (a name not UTF-8) or
    decomposed (NFD) with its composed name (NFC) on disk was not on disk to `status` and `documents`, and there
    to a search."""
    named = disk_name(path)
    return named if named.is_file() else holder_on_disk(path)
