"""The ingest pipeline: discover files, skip unchanged ones, load, chunk, embed, commit in batches.

Why it is shaped this way:
- A content hash per file decides the work: equal hash -> skipped; new or different -> (re)chunked;
  a document whose file is gone from a folder being ingested (deleted, a folder now, or a link now to a file
  indexed under its real path) -> forgotten; one whose folder cannot be searched is kept, not known to be
  gone. A path given that is missing is refused, naming the documents still indexed under it (a drive not
  mounted must not empty the index). An unchanged file that was
  read differently from how it would be now (`ingest.readings`: an older loader, other chunk settings)
  is counted as stale, and read again only when asked (`stale`), so an upgrade never starts hours of
  re-embedding on its own.
- Work is committed every `Settings.commit_chunks` chunks through `Store.write_batch`, which makes a
  document visible only together with all its chunks. `Store.repair()` at the start removes whatever
  a killed run left half-written, and the hashes make the re-run resume where it stopped, without
  duplicate chunks.
- Only one batch of chunks and vectors is held in memory, so memory does not grow with the corpus.
- One bad file becomes a `FileError` line in the report; the ingest goes on. A parser that fails in
  a way no loader foresaw (a third-party library's own exception, MemoryError, RecursionError) is
  still one file's failure, and a run that stops for good (a store write, Ctrl-C) commits the files
  already read before it goes, so the good files of a batch are never lost with a bad one.
- Files are identified by `safe_text.path_text`: a name that is not valid UTF-8 gets `\\xNN` escapes
  instead of breaking the id, the store or the report.
- A file can hold several documents (a mail and its attachments, a mailbox's messages; see
  `ingest.parts`). They carry the file's hash, join a batch together once the whole file is read,
  and parts the file no longer holds are forgotten when it is read again.
- Slow steps inside a file (OCR, page by page) report through `notify`, which is also where a
  cancel takes effect without waiting for the rest of a long scan.
- `refresh=False` leaves compaction and index folding to the caller: `watch` runs many one-file
  ingests and compacts when the folders go quiet (new rows are searchable before that anyway).
- `embedding_texts` is the text a file's chunks would be embedded as, without writing to the store:
  `watch` embeds a changed file while waiting for it to settle (ingest/prefetch.py).
- A file read again embeds only the chunks whose embedded text is new: the others take the vectors stored with
  its documents (checked against their checksums), so one mail appended to an .mbox of thousands, or one
  paragraph changed in a long document, costs the embedding of those chunks, not the file's.
- A file stopped while it is embedded is not committed, but each step of it embedded is kept aside
  (`ingest.pending`) as it ends, a kill included: the next ingest embeds only the rest.
"""

from __future__ import annotations

import bisect
import errno
import functools
import hashlib
import os
import stat
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from localrag.config import Settings
from localrag.copy_names import original_first
from localrag.errors import LoaderError, NeedsOcrError, NoTextError
from localrag.forget import forget_command
from localrag.ingest.chunker import chunk_document
from localrag.ingest.discover import as_text, cannot, discover, excluded, for_root, never_taken
from localrag.ingest.loaders import file_type
from localrag.ingest.mail import clear_dead_copies
from localrag.ingest.ocr import OCR_ON
from localrag.ingest.parts import load_parts, part_path
from localrag.ingest.pending import PendingVectors
from localrag.ingest.readings import chunk_size, reading, stale_reason
from localrag.paths import typed_path
from localrag.safe_text import disk_name, holder_on_disk, line_text, path_text
from localrag.sizes import count_text, some_of
from localrag.types import (
    HOLDER_SUFFIXES,
    Chunk,
    Document,
    FileError,
    IngestProgress,
    IngestReport,
    LoadedText,
    part_holder,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from localrag.embed import Embedder
    from localrag.store import Store

ProgressCallback = Callable[[IngestProgress], None]


def doc_id_for(path: str) -> str:
    """Stable per absolute path, so a changed file replaces its own chunks."""
    return hashlib.sha1(path_text(path).encode("utf-8")).hexdigest()[:16]


def _not_regular(path: Path) -> LoaderError:
    return LoaderError(f"{path}: not a regular file (a FIFO, socket or device)", "name a regular file")


def file_hash(path: Path) -> str:
    # O_NONBLOCK: opening a FIFO named on the command line must not wait forever for a writer.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket cannot be opened at all: "No such device or address" said not why
            raise _not_regular(path) from exc
        raise
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _not_regular(path)
        return hashlib.file_digest(f, "sha256").hexdigest()


# The title and heading prefix is cut to this, so it fits the room `readings.CONTEXT_TOKENS` keeps free.
_CONTEXT_CHARS = 120


def embedding_text(chunk: Chunk, title: str) -> str:
    """The heading path rides along into the vector: a chunk's heading often names its topic."""
    context = " > ".join(part for part in (title, chunk.heading) if part)[:_CONTEXT_CHARS]
    return f"{context}\n{chunk.text}" if context else chunk.text


@dataclass
class _Batch:
    docs: list[Document] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)
    updated: set[str] = field(default_factory=set)  # doc ids that replace an older version
    # Each file in the batch, in order: its name and where its documents and chunks end.
    files: list[tuple[str, int, int]] = field(default_factory=list)
    # The stored vectors of updated files' chunks, by the text they were embedded as: taken again, not embedded.
    reuse: dict[str, NDArray[np.float32]] = field(default_factory=dict)
    # Each file's parts new in it (a mail appended to an .mbox), counted as added: left out with the file on a stop.
    new_parts: dict[str, list[str]] = field(default_factory=dict)
    # Each file moved here (read for the first time, the bytes of an indexed file now gone): the old one's paths.
    moved: dict[str, list[str]] = field(default_factory=dict)
    # Each file added with the bytes of an indexed file not found, outside the folders ingested: that file's paths.
    elsewhere: dict[str, list[str]] = field(default_factory=dict)


class _Cancelled(Exception):
    """Raised through a loader by `notify` when the ingest is cancelled mid-file."""


def _parts_by_file(known: dict[str, str], files: set[str]) -> dict[str, list[str]]:
    """Stored part paths (`mail.eml/report.pdf`) grouped by the file among `files` that holds them."""
    parts: dict[str, list[str]] = {}
    for stored in known:
        lowered = stored.lower()
        if stored in files or not any(f"{suffix}/" in lowered for suffix in HOLDER_SUFFIXES):
            continue
        holder = next((str(p) for p in Path(stored).parents if str(p) in files), None)
        if holder is not None:
            parts.setdefault(holder, []).append(stored)
    return parts


def _is_under(path: str, folders: Sequence[Path]) -> bool:
    return any(Path(path).is_relative_to(folder) for folder in folders)


def _excluded(path: str, patterns: dict[Path, list[str]]) -> bool:
    """Whether an exclude pattern leaves out `path` below one of the folders `patterns` holds (made for each)."""
    return any(excluded(Path(path), folder, made) for folder, made in patterns.items()
               if made and Path(path).is_relative_to(folder))


def _gone(path: str, present: set[str]) -> bool:
    """Whether the file a document (of a folder being ingested, not met by its walk) was read from is known to be
    gone from its place: deleted, replaced by a folder or anything but a file, or reached through a link now, to
    a file this walk took (`present`) under its real path, where a fresh index holds it once (README: links).
    A file whose folder the OS refuses to search is not known to be gone: its documents stay. A part of a file
    (a mail's attachment, `mail.eml/report.pdf`) is gone with that file, or when the file was read again without
    it; a file this walk left out (`--include '*.md'`) keeps its parts as it keeps itself. A name stored with
    `\\xNN` escapes (bytes not UTF-8) is asked of the disk by those bytes, one in the other Unicode form by that
    (`safe_text.disk_name`)."""
    where = disk_name(path)
    try:
        info = where.stat()
    except FileNotFoundError:
        return True
    except NotADirectoryError:
        holder = holder_on_disk(path)
        return holder is None or path_text(holder) in present
    except OSError as exc:  # a link that loops is gone like one that leads nowhere; EACCES and the like are not
        return exc.errno == errno.ELOOP
    if not stat.S_ISREG(info.st_mode):
        return True
    real = path_text(where.resolve())
    return real != path and real in present


def _left(path: str, present: set[str], folders: Sequence[Path]) -> bool:
    """Whether a stored document left its place: in a folder being ingested (`folders`), not met by its walk
    (`present`), and gone (`_gone`). A document outside those folders is not known to be gone, whatever the disk
    says: its drive may be one not mounted just now, which must not empty the index."""
    return path not in present and _is_under(path, folders) and _gone(path, present)


def _copies(report: IngestReport, hashes: dict[str, str], names: set[str]) -> list[str]:
    """Each file this ingest added or updated whose bytes another indexed file holds, as "PATH (as OTHER)": the
    other one indexed before, else the original (`original_first`: `fire drill.txt` before `fire drill - Copy.txt`
    and `fire drill (1).txt`, which sorted first by name and were called the original). A file's parts (a mail's
    attachments) share its hash, so only files are compared, not parts (`names`: the files of this ingest; an
    earlier one is looked for on the disk)."""
    new = (set(report.added_paths) | set(report.updated_paths)) & names
    wanted = {hashes[path] for path in new if path in hashes}
    alike: dict[str, list[str]] = {}
    for path, digest in hashes.items():
        if digest in wanted:
            alike.setdefault(digest, []).append(path)
    out = []
    for path in sorted(new, key=original_first):
        earlier = [p for p in alike.get(hashes.get(path, ""), [])
                   if p != path and (p not in new or original_first(p) < original_first(path))
                   and (p in names or Path(p).is_file())]
        if earlier:
            out.append(f"{path} (as {min(earlier, key=lambda p: (p in new, original_first(p)))})")
    return out


def _holder(path: str) -> str:
    """The file a stored document was read from: a part's (`mail.eml/report.pdf`) holder, else the path itself."""
    return part_holder(path) or path


def _settle_moves(batch: _Batch, store: Store, report: IngestReport, elsewhere: list[str]) -> None:
    """Once the batch is written, the documents of the files its moved files came from go, and the moves are
    counted: a file a stop left out (not written) leaves its old documents where they were, for the next ingest.
    Those found elsewhere stay, named (`report.moved_elsewhere`; their paths, parts and all, added to `elsewhere`)."""
    written = {_holder(d.path) for d in batch.docs}
    for name, old in batch.moved.items():
        if name in written:
            store.delete_documents([doc_id_for(p) for p in old])
            report.moved += 1
            report.moved_paths.append(f"{_holder(old[0])} -> {name}")
    for name, old in batch.elsewhere.items():
        if name in written:
            report.moved_elsewhere.append(f"{_holder(old[0])} -> {name}")
            elsewhere.extend(old)


def _elsewhere_note(report: IngestReport, old: Sequence[str], stored: Sequence[str], collection: str,
                    configured: str | None) -> str:
    """One line on the files added with the bytes of indexed files not found where they were, outside the folders
    ingested (`old`: those files' documents), and the forget that takes them out: their folder where it holds no
    other document, else the files themselves (up to three). They are not removed here: the old place may be a
    drive not mounted just now, which must not empty the index."""
    holders = sorted({_holder(p) for p in old})
    folder = os.path.commonpath([str(Path(h).parent) for h in holders])
    olds = set(old)
    if all(p in olds for p in stored if Path(p).is_relative_to(folder)):
        named: Sequence[str] = [folder]
    elif len(holders) <= 3:
        named = holders
    else:
        named = []
    forget = forget_command(named, collection, configured=configured) + (" takes the old paths out" if named else
                                                  " with the old paths (`moved_elsewhere` in `--json`) takes them out")
    count = len(report.moved_elsewhere)
    have = "has the bytes of an indexed file" if count == 1 else "have the bytes of indexed files"
    return line_text(f"{count_text(count, 'file')} {have} not found where they were (moved, or on a drive not "
                     f"mounted): {some_of(report.moved_elsewhere)}; {forget}")


def _passed_over_note(passed_over: Sequence[Path]) -> str:
    """One line on the files of folders that are of no type localrag reads: how many, of which types, the first
    ones by name (a count alone left a user to guess which files, in a repository a Makefile and a Dockerfile)."""
    counted = Counter(path.suffix.lower() or "no extension" for path in passed_over)
    types = sorted(counted, key=lambda kind: (-counted[kind], kind))  # the walk's order is the disk's: not twice alike
    kinds = some_of([f"{kind} {counted[kind]}" for kind in types], 5)
    some = some_of([path_text(path) for path in sorted(passed_over)])
    # The most common text type is the example.
    rename = as_text(sorted(passed_over, key=lambda path: types.index(path.suffix.lower() or "no extension")))
    return line_text(f"passed over {count_text(len(passed_over), 'file')} of types localrag does not read ({kinds}): "
                     f"{some} (README, \"What it reads\", lists the types{rename})")


def _gitignored_note(gitignored: Sequence[Path], respecting: bool) -> str:
    """One line on what the folders' `.gitignore` and `.localragignore` files left out: how many folders and files,
    the first ones."""
    folders = [f"{path_text(p)}/" for p in gitignored if p.is_dir()]
    files = [path_text(p) for p in gitignored if not p.is_dir()]
    counts = " and ".join(count_text(len(kind), noun) for kind, noun in ((folders, "folder"), (files, "file")) if kind)
    # The setting's hint only where it can help: with it off, a .localragignore left them out (the retest).
    hint = " (respect_gitignore = false reads what .gitignore names)" if respecting else ""
    return line_text(f"left out {counts} that .gitignore or .localragignore names: {some_of(folders + files)}{hint}")


def _built_note(built: Sequence[Path]) -> str:
    """One line on what a built documentation site holds besides its pages, and the minified code, that a walk left
    out (`discover.site_machinery`): how many folders and files, the first ones."""
    folders = [f"{path_text(p)}/" for p in built if p.is_dir()]
    files = [path_text(p) for p in built if not p.is_dir()]
    counts = " and ".join(count_text(len(kind), noun) for kind, noun in ((folders, "folder"), (files, "file")) if kind)
    return line_text(f"left out {counts} of built documentation sites' themes, scripts, search indexes and page "
                     f"sources, or minified code, not pages: {some_of(folders + files)} (name a file to read it)")


def _staying_note(kept: Sequence[str], why: str) -> str:
    """One line on the indexed files a walk now leaves out (`why`), which stay in the index until forgotten."""
    return line_text(f"{count_text(len(kept), 'indexed file')} that {why} {'stays' if len(kept) == 1 else 'stay'} "
                     f"in the index: {some_of(kept)} (a forget takes one out)")


def _named_by(path: str, gitignored: frozenset[Path]) -> bool:
    """Whether `path` is one of the files an ignore file left out, or lies in one of its folders: looked up by its
    own path and its folders' (each document against each ignored path took 24 s for 2,000 of each)."""
    at = Path(path)
    return at in gitignored or any(folder in gitignored for folder in at.parents)


def _refuse_missing(paths: Sequence[Path], store: Store, configured: str | None) -> None:
    """A path that is not there but still has documents indexed under it is refused naming how many and the
    command that removes them. They are not removed here: a missing path may be a drive not mounted just now."""
    missing = [p for p in (typed_path(p) for p in paths) if not p.exists() and not p.is_symlink()]
    if not missing:
        return
    store.catch_up()
    documents = [Path(d.path) for d in store.documents()]
    for path in missing:
        where = Path(path_text(path.resolve()))
        held = sum(d == where or d.is_relative_to(where) for d in documents)
        if held:
            is_, them = ("is", "it") if held == 1 else ("are", "them")
            forget = forget_command([str(where)], store.collection, configured=configured)
            raise LoaderError(f"{where}: no such file or folder, but {count_text(held, 'document')} {is_} still "
                              "indexed under it", f"{forget} removes {them}; if it is on a drive not mounted now, "
                              "mount it and ingest again")


def run_ingest(
    paths: Sequence[Path],
    *,
    store: Store,
    embedder: Embedder,
    settings: Settings,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    refresh: bool = True,
    force: bool = False,
    stale: bool = False,
    own_roots: bool = False,
    configured: str | None = None,
) -> IngestReport:
    """Ingest `paths`; a file whose bytes are unchanged is skipped unless `force` (read it again whatever
    read it) or `stale` and it was read differently from how it would be now (`ingest.readings`). `own_roots`:
    `paths` are localrag's own corpus, inside its folders (`discover`). `configured`: the collection a command
    without --collection acts on, for the commands the notes name (`collection.collection_option`)."""
    started = time.monotonic()
    report = IngestReport()
    problems: list[tuple[str, str]] = []
    _refuse_missing(paths, store, configured)
    clear_dead_copies()  # a killed ingest's copy of an attachment: a document's text outside the index
    # The paths as given: discover keeps a named link's own path (resolving it here would lose it). It checks
    # them first: a link that loops is its one-line error, not resolve()'s RuntimeError below.
    passed_over: list[Path] = []
    links_out: list[tuple[str, str]] = []
    unmatched: list[str] = []
    gitignored: list[Path] = []
    unmatched_include: list[str] = []
    include_untyped = Counter[str]()
    built: list[Path] = []
    files = list(discover(paths, include, exclude, problems, settings.follow_links_outside, own_roots, passed_over,
                          links_out, unmatched, settings.respect_gitignore, gitignored, unmatched_include,
                          include_untyped, built))
    gitignored = sorted(set(gitignored))  # folders given inside one another are walked twice
    if passed_over:
        report.notes.append(_passed_over_note(passed_over))
    if gitignored:
        report.notes.append(_gitignored_note(gitignored, settings.respect_gitignore))
    if built:
        report.notes.append(_built_note(sorted(set(built))))
    # In words every front end's user reads: the CLI's --exclude is the API's and MCP's `exclude`.
    # A pattern that matched only files of types localrag does not read says so: "took in nothing: a pattern is
    # matched ..." sent the user to the pattern's spelling, which was right (`--include '*.gz'`).
    for pattern in [p for p in unmatched_include if include_untyped[p]]:
        report.notes.append(line_text(
            f"include {pattern!r} matched {count_text(include_untyped[pattern], 'file')} of types localrag does not "
            "read, and took in nothing (README, \"What it reads\", lists the types)"))
    unmatched_include = [p for p in unmatched_include if not include_untyped[p]]
    for kind, unused, did in (("include", unmatched_include, "took in"), ("exclude", unmatched, "left out")):
        if unused:
            report.notes.append(line_text(
                f"{kind} {', '.join(repr(p) for p in unused)} {did} nothing: a pattern is matched against each "
                "file's and folder's path below the folder given, and against its bare name"))
    # Skipped by a setting's choice, or named and of no type localrag reads, not failed: said, and the exit status
    # stays 0.
    report.notes += [line_text(f"skipped {path_text(where)}: {why}") for where, why in links_out]
    roots = [typed_path(p).resolve() for p in paths]
    folders = [Path(path_text(r)) for r in roots if r.is_dir()]
    for where, why in problems:
        report.errors.append(FileError(path_text(where), line_text(f"{path_text(where)}: {why}")))
    if not settings.ocr:  # an image holds no text without OCR: left out, in one note rather than an error each
        images = [f for f in files if file_type(f) == "image"]
        files = [f for f in files if file_type(f) != "image"]
        if images:
            # Said: with `ocr = false` set once, a receipt dropped in later was left out without a word.
            report.notes.append(line_text(f"left out {count_text(len(images), 'image')}, read only by OCR, which is "
                                          f"off: {some_of([path_text(f) for f in images])} ({OCR_ON})"))
    store.catch_up()  # the writer before this one (another process) may have ended a moment ago
    store.repair()
    known = store.document_hashes()
    walked = {path_text(f) for f in files}
    stored = _Known(known, store.document_readings(), stale, folders, walked)
    parts_of = _parts_by_file(known, walked)
    batch = _Batch()
    written: dict[str, str] = {}  # the content hash of each document this ingest wrote, by path
    processed = 0  # files whose turn came (read, unchanged or failed)
    left_read = 0  # of those, files read but not embedded when a stop came
    pending = PendingVectors.for_store(store.path, store.collection, embedder.name, embedder.dim)
    elsewhere: list[str] = []  # the documents of files found elsewhere (`_settle_moves`), which stay
    taken_aside = 0  # chunks taken from the vectors a stop kept aside
    kept_aside = 0  # chunks kept aside by a stop in this run

    def flush() -> None:
        nonlocal left_read, taken_aside, kept_aside
        if not batch.docs:
            return
        texts = [embedding_text(c, batch.titles.get(c.doc_id, "")) for c in batch.chunks]
        taken_aside += _take_pending(batch, texts, pending)
        todo = [i for i, text in enumerate(texts) if text not in batch.reuse]

        def embedding(count: int, total: int) -> None:
            # One big file is one batch, embedded for minutes: without this a pipe heard nothing until it ended.
            # The batch's first chunks up to the next one to embed have vectors now (the reused ones need none).
            # Named as the batch's: "Embedding 128/256 chunks: 128/300 files 128 chunks" read as 256 chunks in all,
            # and the summary then said 300 (before 2026-12-07).
            if progress is not None:
                covered = todo[count] if count < len(todo) else len(texts)
                progress(IngestProgress(finished(covered), len(files), chunks_done() + covered, name,
                                        time.monotonic() - started, None,
                                        f"Embedding a batch of {total} chunks, {count} done"))

        try:
            fresh = embedded_in_steps([texts[i] for i in todo], embedder, embedding,
                                      max(EMBED_STEP, settings.embed_batch_size), stopped,
                                      _keeping(batch, texts, todo, pending)) if todo else None
            vectors = _with_reused(texts, todo, fresh, batch.reuse, embedder.dim)
        except Exception:
            # One document's text broke the embedder: find it, so the rest of the batch still goes in.
            vectors = _embed_each(batch, texts, embedder, report)
        committed = [file for file, _, end in batch.files if end <= len(vectors)]
        if len(vectors) < len(batch.chunks):  # cancelled while embedding: the files embedded whole go in
            left_read += _keep_embedded_files(batch, len(vectors), report)
            kept_aside += len(vectors) - len(batch.chunks)
            vectors = vectors[: len(batch.chunks)]
            report.cancelled = True
        if batch.docs:
            store.write_batch(batch.docs, batch.chunks, vectors)
            pending.drop(committed)
            written.update((d.path, d.content_hash) for d in batch.docs)
            _settle_moves(batch, store, report, elsewhere)
            report.chunks_written += len(batch.chunks)
            # `texts` lines up with the chunks kept: a stop leaves out the batch's last files, not its first.
            report.chunks_reused += sum(text in batch.reuse for text in texts[:len(batch.chunks)])
        batch.docs.clear()
        batch.chunks.clear()
        batch.titles.clear()
        batch.updated.clear()
        batch.files.clear()
        batch.reuse.clear()
        batch.new_parts.clear()
        batch.moved.clear()
        batch.elsewhere.clear()

    def stopped() -> bool:
        # A server's stop or a client's cancel waited for a whole batch (up to commit_chunks chunks, 30 s and
        # more) to be embedded, and a server's grace ran out; Ctrl-C in the CLI keeps what was read instead.
        return cancel is not None and cancel.is_set()

    def finished(embedded: int = 0) -> int:
        """Files whose turn is over: unchanged, failed, or read and embedded. A file read into the batch counts only
        once the batch's first `embedded` chunks hold all of its own: counted when read, a file shown 1/1 at 100 %
        went back to 0/1 while it was embedded, and the chunks from those read to those embedded. One a stop left
        read but not embedded (`left_read`) never counts: counted after the stop's batch, it went 1 then 0."""
        return processed - left_read - sum(end > embedded for _, _, end in batch.files)

    def chunks_done() -> int:
        """Chunks embedded for good: written, or kept aside by a stop for the next ingest (`kept_aside`). Shown while
        embedded, the chunks of a file the stop left out went back to 0 once the stop was seen."""
        return report.chunks_written + kept_aside

    def notify(activity: str) -> None:
        # Called between slow steps inside one file (OCR pages), so a cancel need not wait for a long scan.
        if cancel is not None and cancel.is_set():
            raise _Cancelled
        if progress is not None:
            elapsed = time.monotonic() - started
            progress(IngestProgress(finished(), len(files), chunks_done(), name, elapsed, None, activity))

    name = ""
    cut_short = ""  # the file a stop came in the middle of (between its OCR pages)
    flushing = False
    try:
        for path in files:
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                break
            name = path_text(path)
            try:
                _ingest_file(path, name, stored, parts_of, batch, report, store, embedder, settings, notify, force)
            except _Cancelled:
                report.cancelled = True
                cut_short = name
                break
            processed += 1
            # Only between files: all parts of a file commit together, so a file's hash is never stored
            # for some of its parts but not others.
            if len(batch.chunks) >= settings.commit_chunks:
                flushing = True
                flush()
                flushing = False
            if progress is not None:
                elapsed, ended = time.monotonic() - started, finished()
                eta = elapsed / ended * (len(files) - ended) if ended else None
                progress(IngestProgress(ended, len(files), chunks_done(), name, elapsed, eta))
    except BaseException:
        if not flushing:
            flush()  # the files read so far are whole; keep them
        raise
    flush()
    if progress is not None:  # the last batch is in: the count where embedding it left off is not the end
        # Files a stop left read but not embedded are not done (the next ingest takes them).
        progress(IngestProgress(finished(), len(files), chunks_done(), name,
                                time.monotonic() - started, None if report.cancelled else 0.0))
    if report.cancelled and (left_read or len(files) > processed):
        # Each file the stop left out, read and not yet embedded, stopped in the middle or not reached (which may be
        # unchanged): the client counted the ones added and could not tell that the others were missing. A scan
        # stopped at its 14th page of 20 was "1 file not reached".
        # Its chunks embedded so far are kept aside (ingest/pending.py): "goes on" is then true of the embedding too.
        kept = f" (its {count_text(kept_aside, 'chunk')} embedded so far kept for it)" if kept_aside else ""
        parts = [f"{count_text(left_read, 'file')} read but not yet in the index{kept}"] if left_read else []
        parts += [f"{cut_short} stopped while being read (read again from its start)"] if cut_short else []
        unreached = len(files) - processed - bool(cut_short)
        parts += [f"{count_text(unreached, 'file')} not reached"] if unreached else []
        # Under --force a plain ingest passes the unchanged ones over: it said it would go on with them, and did not.
        then = "the next `ingest --force` goes on with them (a plain ingest reads only those that changed)" if force \
            else "the next ingest goes on with them"
        report.notes.append(line_text(f"stopped: {' and '.join(parts)}; {then}"))

    if taken_aside:
        report.notes.append(f"went on from a stop: {count_text(taken_aside, 'chunk')} embedded before it were taken, "
                            "not embedded again")
    if not report.cancelled:
        # A file the walk found and that went before its turn came is gone too, like one deleted before the walk.
        present = {path_text(p) for p in files if p.exists()} | {p for paths in parts_of.values() for p in paths}
        missed = [d for d in store.documents() if d.path not in present and _is_under(d.path, folders)]
        # A document in a recycle bin or a saved page's folder whose file is there stays, as a hidden one does: the
        # user may have named it (`ingest /media/USB/$RECYCLE.BIN` was undone by the next `ingest /media/USB`).
        gone = [d for d in missed if _gone(d.path, present) or never_taken(Path(d.path))]
        # A file stopped mid-embedding and deleted since never commits: what was kept aside for it goes.
        pending.drop_left(lambda kept_for: _left(kept_for, present, folders))
        if gone:
            store.delete_documents([d.doc_id for d in gone])
            report.removed += len(gone)
            report.removed_paths.extend(sorted(d.path for d in gone))
        # Made once a folder: a pattern written as a path is resolved on the disk, and each document asked again.
        patterns = {folder: for_root(exclude, folder) for folder in folders}
        report.excluded_paths = sorted(d.path for d in missed if d not in gone and _excluded(d.path, patterns))
        if report.excluded_paths:
            report.notes.append(_staying_note(report.excluded_paths, "exclude leaves out"))
        # Kept, as what exclude leaves out is: a .gitignore above the folder (a dotfiles repository's `*` in the home
        # folder) can name everything, and taking the documents out would cost a whole ingest to undo.
        named = frozenset(gitignored)
        ignored = sorted(d.path for d in missed if d not in gone and _named_by(d.path, named))
        if ignored:
            report.notes.append(_staying_note(ignored, ".gitignore or .localragignore names"))
    if report.added_paths or report.updated_paths:
        # What the index holds now, from what it held and what this ingest wrote: asked of the store again, each
        # change `watch` ingests read every document's row a second time.
        removed = set(report.removed_paths)
        held = {path: digest for path, digest in known.items() if path not in removed} | written
        report.copied_paths = _copies(report, held, {path_text(f) for f in files})
    if report.copied_paths:
        report.notes.append(line_text(f"{count_text(len(report.copied_paths), 'file')} read of the same bytes as "
                                      f"another indexed file (a search shows such text once, naming both): "
                                      f"{some_of(report.copied_paths)}"))
    if report.gone_paths:
        report.notes.append(line_text(f"{count_text(len(report.gone_paths), 'file')} gone during the ingest (deleted "
                                      f"or moved meanwhile; not failed): {some_of(report.gone_paths)}"))
    if report.moved_paths:
        report.notes.append(line_text(f"moved {count_text(report.moved, 'file')} (the index follows, its vectors kept, "
                                      f"its old path gone): {some_of(report.moved_paths)}"))
    if report.moved_elsewhere:
        report.notes.append(_elsewhere_note(report, elsewhere, list(known), store.collection, configured))
    if report.blank_paths:
        # A scan of a few small words that OCR could not find is not "blank" to the eye that sees them.
        scans = any(file_type(Path(p)) in ("image", "pdf", "docx") for p in report.blank_paths)
        why = "empty or blank, or none that OCR found" if scans else "empty or blank"
        report.notes.append(line_text(f"passed over {count_text(len(report.blank_paths), 'file')} with no text "
                                      f"({why}): {some_of(report.blank_paths)}"))
    if report.decoded_paths:
        # Said, so a user can check the text and re-save the file as UTF-8: a wrong guess is silent mojibake.
        report.notes.append(line_text(f"read {count_text(len(report.decoded_paths), 'file')} not in UTF-8 or with "
                                      f"bytes not valid in it (check the text): {some_of(report.decoded_paths)}"))
    note = store.refresh_indexes() if refresh else ""
    if note:
        report.notes.append(note)
    report.seconds = time.monotonic() - started
    return report


# Chunks embedded between two progress reports at the least (seconds of work on 2 cores); never fewer than the
# `embed_batch_size` setting, the embedder's own batch.
EMBED_STEP = 64


def embedded_in_steps(
    texts: list[str], embedder: Embedder, step: Callable[[int, int], None], size: int,
    stopped: Callable[[], bool], kept: Callable[[int, NDArray[np.float32]], None] | None = None,
) -> NDArray[np.float32]:
    """`texts` embedded `size` at a time, `step(done, total)` after each part; the first ones only (fewer rows
    than texts) once `stopped()` says so. `kept(start, vectors)` gets each part of several as it is embedded."""
    if len(texts) <= size and not stopped():
        return embedder.embed(texts)
    parts = [np.zeros((0, embedder.dim), dtype=np.float32)]
    for start in range(0, len(texts), size):
        if stopped():
            break
        parts.append(embedder.embed(texts[start : start + size]))
        if kept is not None:
            kept(start, parts[-1])
        step(min(start + size, len(texts)), len(texts))
    return np.concatenate(parts)


def _take_pending(batch: _Batch, texts: list[str], pending: PendingVectors) -> int:
    """Add to `batch.reuse` the vectors a stop kept aside for its files' chunks (`texts`): how many chunks those are."""
    wanted = {text for text in texts if text not in batch.reuse}
    found = pending.taken(wanted) if wanted else {}
    batch.reuse.update(found)
    return sum(text in found for text in texts)


def _keeping(batch: _Batch, texts: list[str], todo: list[int],
             pending: PendingVectors) -> Callable[[int, NDArray[np.float32]], None]:
    """What keeps each embedded part of a batch aside, file by file, until the batch commits: `todo` maps the
    part's rows to `texts`, `batch.files` those to their files. A file whose chunks to embed all lie in one part is
    not kept: embedded whole, a stop commits it (`_keep_embedded_files`), and an fsynced write for each of 1,500
    one-chunk files doubled the time of their ingest."""
    ends = [end for _, _, end in batch.files]

    def kept(start: int, vectors: NDArray[np.float32]) -> None:
        rows = todo[start : start + len(vectors)]
        before = todo[start - 1] if start else -1  # the row embedded before this part, and the one after it
        after = todo[start + len(rows)] if start + len(rows) < len(todo) else len(texts)
        at = 0
        while at < len(rows):
            which = bisect.bisect_right(ends, rows[at])
            begin, end = ends[which - 1] if which else 0, ends[which]
            upto = next((j for j in range(at, len(rows)) if rows[j] >= end), len(rows))
            if before >= begin or after < end:  # the file has rows to embed in another part
                pending.keep(batch.files[which][0], [texts[i] for i in rows[at:upto]], vectors[at:upto])
            at = upto

    return kept


def _keep_embedded_files(batch: _Batch, embedded: int, report: IngestReport) -> int:
    """Leave in `batch` only the files whose chunks are all among the first `embedded`; the others were read
    but not embedded, so they are not counted as ingested (the next ingest takes them): how many."""
    docs_kept, chunks_kept, left = 0, 0, 0
    for name, docs_end, chunks_end in batch.files:
        if chunks_end <= embedded:
            docs_kept, chunks_kept = docs_end, chunks_end
            continue
        left += 1
        for counted in (report.added_paths, report.updated_paths):
            for path in (name, *batch.new_parts.get(name, ())):
                if path in counted:
                    counted.remove(path)
    report.added, report.updated = len(report.added_paths), len(report.updated_paths)
    del batch.docs[docs_kept:], batch.chunks[chunks_kept:]
    return left


def _with_reused(texts: list[str], todo: list[int], fresh: NDArray[np.float32] | None,
                 reuse: dict[str, NDArray[np.float32]], dim: int) -> NDArray[np.float32]:
    """The vectors of `texts`: those at `todo` from `fresh` (embedded now, in order), the others from `reuse`. A stop
    that cut `fresh` short leaves out the rows from the first text it did not embed on."""
    done = 0 if fresh is None else len(fresh)
    covered = todo[done] if done < len(todo) else len(texts)
    vectors = np.empty((covered, dim), dtype=np.float32)
    embedded = iter(() if fresh is None else fresh)
    for i in range(covered):
        vectors[i] = reuse[texts[i]] if texts[i] in reuse else next(embedded)
    return vectors


def _embed_each(batch: _Batch, texts: list[str], embedder: Embedder, report: IngestReport) -> NDArray[np.float32]:
    """Embed a batch document by document, dropping (and reporting) those the embedder fails on."""
    keep_docs: list[Document] = []
    keep_chunks: list[Chunk] = []
    parts: list[NDArray[np.float32]] = []
    for doc in batch.docs:
        rows = [i for i, c in enumerate(batch.chunks) if c.doc_id == doc.doc_id]
        own = [texts[i] for i in rows]
        todo = [j for j, text in enumerate(own) if text not in batch.reuse]
        try:
            fresh = embedder.embed([own[j] for j in todo]) if todo else None
            parts.append(_with_reused(own, todo, fresh, batch.reuse, embedder.dim))
        except Exception as exc:
            reason = f"{doc.path}: its text could not be embedded ({type(exc).__name__}: {str(exc)[:200]})"
            report.errors.append(FileError(doc.path, line_text(reason)))
            counted = report.updated_paths if doc.doc_id in batch.updated else report.added_paths
            if doc.path in counted:  # a part of a file that failed is the file's failure, not counted again
                counted.remove(doc.path)
                report.updated, report.added = len(report.updated_paths), len(report.added_paths)
            continue
        keep_docs.append(doc)
        keep_chunks.extend(batch.chunks[i] for i in rows)
    batch.docs[:] = keep_docs
    batch.chunks[:] = keep_chunks
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)


def _chunked(loaded: LoadedText, kind: str, part_name: str, embedder: Embedder, settings: Settings) -> list[Chunk]:
    from localrag.ingest.sheets import SHEET_KINDS, fit_tables

    max_tokens = chunk_size(settings, embedder.max_tokens)
    if kind in SHEET_KINDS:
        # Every chunk of a table starts with its header row: blocks too long for a chunk are cut here, by rows.
        loaded = fit_tables(loaded, embedder.token_counts, max_tokens)
    return chunk_document(
        loaded,
        doc_id=doc_id_for(part_name),
        path=part_name,
        file_type=kind,
        token_counts=embedder.token_counts,
        max_tokens=max_tokens,
        overlap=settings.chunk_overlap,
    )


def embedding_texts(path: Path, embedder: Embedder, settings: Settings, store: Store | None = None) -> list[str]:
    """The texts ingesting `path` would embed, in order; [] for a file that cannot be read. With `store`, those
    whose stored vectors the ingest takes again are left out: one mail appended to an .mbox is one text."""
    name = path_text(typed_path(path).resolve())
    texts: list[str] = []
    names = [name]
    try:
        for part in load_parts(Path(name), ocr=settings.ocr, notify=lambda _activity: None):
            if part.loaded is not None:
                names.append(part_path(name, part.name))
                chunks = _chunked(part.loaded, part.kind, names[-1], embedder, settings)
                texts.extend(embedding_text(c, part.loaded.title) for c in chunks)
        if store is not None and texts:
            now = reading("txt", settings, embedder.max_tokens)  # its chunker version is every kind's
            stored = _reusable(store, [doc_id_for(n) for n in dict.fromkeys(names)], set(texts), now)
            texts = [t for t in texts if t not in stored]
    except Exception:  # the ingest itself reports this file's error; a guess that fails costs nothing
        return []
    return texts


def _chunker(read_with: str) -> list[str]:
    """A reading's chunker version ("chunks 2"), which changes with the text a chunk is embedded as."""
    return read_with.partition("; ")[2].split()[:2]


def _reusable(store: Store, doc_ids: Sequence[str], wanted: set[str], read_with: str) -> dict[str, NDArray[np.float32]]:
    """The stored vectors of the documents `doc_ids` (a file indexed before, read again) whose embedded text is
    among `wanted` (the texts its chunks have now), by that text. The store holds one embedder's vectors (it
    refuses another), as float32, the embedder's output itself: taken again, a vector is the one embedding the
    text would give. Only documents read by this chunker (`read_with`'s version) qualify: a new one may compose
    the embedded text (title and heading prefix) otherwise, and the same text rebuilt here would not be what was
    embedded."""
    docs, stored = store.embedded_chunks(doc_ids)
    found: dict[str, NDArray[np.float32]] = {}
    for chunk, vector in stored:
        doc = docs[chunk.doc_id]
        if not doc.read_with or _chunker(doc.read_with) != _chunker(read_with):
            continue
        text = embedding_text(chunk, doc.title)
        if text in wanted:
            found[text] = vector
    return found


@dataclass
class _Known:
    """What the store holds: each document's content hash and reading; `reread_stale`: read stale ones again."""

    hashes: dict[str, str]
    readings: dict[str, tuple[str, str]]
    reread_stale: bool
    # The folders being ingested and the files their walk found: where a file can be known to have left (`_left`).
    folders: list[Path] = field(default_factory=list)
    present: set[str] = field(default_factory=set)
    # The files this ingest found moved (`same_bytes`): each one moves once, so two copies moved are two moves.
    claimed: set[str] = field(default_factory=set)

    @functools.cached_property
    def by_hash(self) -> dict[str, list[str]]:
        """The stored paths of each content hash: looked up once a new file, not every document asked each time."""
        found: dict[str, list[str]] = {}
        for path, digest in self.hashes.items():
            found.setdefault(digest, []).append(path)
        return found

    def same_bytes(self, name: str, digest: str) -> tuple[list[str], list[str]]:
        """The stored documents of a file that `name`, read for the first time, is the same bytes of, and whose
        file is not found (`_gone`), as (moved, elsewhere); their paths, parts (a mail's attachments) and all.
        Moved: that file left its place in a folder being ingested, as the end of an ingest removes a file gone (a
        folder renamed, a file filed away), and its documents go, their vectors taken again. Elsewhere, where none
        moved: it lies outside those folders (`ingest r/archive` after `mv r/notes r/archive`, or a copy of a file
        of a drive not mounted); their vectors are taken again (harmless: a vector is what the embedder gives for
        its text), but they stay, named in a note: they may be a drive's, back once mounted, and a drive not
        mounted just now (`usb/report.txt`) must not lose its documents to a copy ingested at home. A file still in
        its place is a copy, neither. Of several gone, the one of the same name, else the first by path, claimed;
        ([], []) when none. The holders are sorted inside/outside in one pass: each is asked of the disk once."""
        holders: dict[str, list[str]] = {}
        for path in self.by_hash.get(digest, ()):
            holders.setdefault(_holder(path), []).append(path)
        inside: list[str] = []
        outside: list[str] = []
        for held in sorted(holders):
            if held not in self.claimed and held != name and held not in self.present and _gone(held, self.present):
                (inside if _is_under(held, self.folders) else outside).append(held)
        gone = inside or outside
        if not gone:
            return [], []
        old = min(gone, key=lambda h: (Path(h).name != Path(name).name, h))
        self.claimed.add(old)
        return (sorted(holders[old]), []) if inside else ([], sorted(holders[old]))

    def is_stale(self, paths: Sequence[str], settings: Settings, embedder_tokens: int) -> bool:
        """Whether any of a file's documents (`paths`) was read differently from how it would be now."""
        return any(stale_reason(read_with, reading(kind, settings, embedder_tokens), embedder_tokens)
                   for kind, read_with in (self.readings[p] for p in paths if p in self.readings))


# A file this large takes seconds to read and chunk: its name is shown as the activity meanwhile.
BIG_FILE_BYTES = 2**20


def _ingest_file(
    path: Path, name: str, known: _Known, parts_of: dict[str, list[str]], batch: _Batch,
    report: IngestReport, store: Store, embedder: Embedder, settings: Settings, notify: Callable[[str], None],
    force: bool = False,
) -> None:
    """Load and chunk one file (every document it holds) into `batch`, or add its one-line error to `report`."""
    try:
        digest = file_hash(path)
        old_parts = parts_of.get(name, [])
        hashes = known.hashes
        if not force and hashes.get(name, hashes.get(old_parts[0]) if old_parts else None) == digest:
            if not known.is_stale([name, *old_parts], settings, embedder.max_tokens):
                report.unchanged += 1
                return
            if not known.reread_stale:
                report.unchanged += 1
                report.stale += 1
                return
        info = path.stat()
        new_paths: set[str] = set()
        this = _Batch()  # joins the batch only once the whole file is read
        if info.st_size > BIG_FILE_BYTES:
            # Reading and chunking a 12 MB log took 40 s with nothing said: the progress shows the file meanwhile.
            notify(f"Reading {line_text(path.name)}")
        for part in load_parts(path, ocr=settings.ocr, notify=notify):
            part_name = part_path(name, part.name)
            if part.loaded is None:
                report.errors.append(FileError(part_name, line_text(str(part.error))))
                continue
            new_paths.add(part_name)
            if part.loaded.note:
                report.decoded_paths.append(f"{part_name} ({part.loaded.note})")
            if part.loaded.left_out:
                report.notes.append(line_text(f"{part_name}: {part.loaded.left_out}"))
            doc_id = doc_id_for(part_name)
            chunks = _chunked(part.loaded, part.kind, part_name, embedder, settings)
            this.docs.append(
                Document(doc_id, part_name, part.kind, digest, info.st_size, info.st_mtime, part.loaded.title,
                         len(chunks), reading(part.kind, settings, embedder.max_tokens), part.loaded.left_out)
            )
            this.chunks.extend(chunks)
            this.titles[doc_id] = part.loaded.title
            if part_name in hashes:
                this.updated.add(doc_id)
        indexed_before = name in hashes or bool(old_parts)
        # A folder renamed re-embedded every file of it, and the old paths stayed, cited by answers, gone from disk.
        # A folder renamed and ingested by its new name (not the folder above it) embedded every file again.
        moved, elsewhere = known.same_bytes(name, digest) if this.docs and not indexed_before else ([], [])
        if (indexed_before or moved or elsewhere) and this.docs:
            # Read before the parts it no longer holds are deleted below: a mail named by a digest of its bytes
            # (no Message-ID) is another part once a client rewrites its Status header, with the same text.
            stored_ids = [doc_id_for(p) for p in (name, *old_parts, *moved, *elsewhere) if p in hashes]
            wanted = {embedding_text(c, this.titles.get(c.doc_id, "")) for c in this.chunks}
            batch.reuse.update(_reusable(store, stored_ids, wanted, this.docs[0].read_with))
        batch.docs.extend(this.docs)
        batch.chunks.extend(this.chunks)
        batch.titles.update(this.titles)
        batch.updated.update(this.updated)
        batch.files.append((name, len(batch.docs), len(batch.chunks)))
        # Parts the file no longer holds (an attachment removed from a draft, say) go with it.
        parts_of[name] = sorted(new_paths - {name})
        dropped = [p for p in old_parts if p not in new_paths]
        if dropped:
            store.delete_documents([doc_id_for(p) for p in dropped])
            report.removed += len(dropped)
            report.removed_paths.extend(dropped)
        if indexed_before:
            # The file is updated; the parts new in it (a mail appended to an .mbox) are added, as those gone from
            # it are removed: documents, named, where a file read for the first time is one file added.
            added = sorted(p for p in new_paths - {name} if p not in hashes)
            batch.new_parts[name] = added
            report.added_paths.extend(added)
            report.added += len(added)
            report.updated_paths.append(name)
            report.updated += 1
        elif moved:
            batch.moved[name] = moved  # counted once written (`_settle_moves`), neither added nor removed
        else:
            if elsewhere:
                batch.elsewhere[name] = elsewhere  # named once written (`_settle_moves`)
            report.added_paths.append(name)
            report.added += 1
    except _Cancelled:
        raise
    except NoTextError:
        # Nothing failed: a note made from a template, a new file not yet written, an app's empty CSS. Counted as
        # failed, each one made every ingest and every watch round exit 1.
        report.blank_paths.append(name)
        # Emptied on purpose, often to take its text out: what it held must not be found any more.
        emptied = [p for p in (name, *parts_of.get(name, [])) if p in known.hashes]
        if emptied:
            store.delete_documents([doc_id_for(p) for p in emptied])
            report.removed += len(emptied)
            report.removed_paths.extend(emptied)
    except NeedsOcrError:
        # As an image is with OCR off: an all-scanned PDF failed (exit 1) where its images were a note.
        report.notes.append(line_text(f"left out {name}, read only by OCR, which is off ({OCR_ON})"))
    except (LoaderError, OSError) as exc:
        if not os.path.lexists(path):
            # Deleted or moved away since the walk found it (a sync tool's work): gone, not failed, so a cron job's
            # ingest does not exit 1 for it; the end of the ingest takes it out of the index as any file gone.
            report.gone_paths.append(name)
            parts_of.pop(name, None)  # its parts (a mail's attachments) are gone with it
        elif isinstance(exc, LoaderError):
            report.errors.append(FileError(name, line_text(str(exc))))
        else:
            report.errors.append(FileError(name, line_text(f"{name}: {cannot('read', exc)}")))
    except Exception as exc:
        # A third-party parser failed in a way no loader foresaw (its own exception types, MemoryError,
        # RecursionError): still this one file's problem, and the other files go on.
        reason = f"{name}: could not be parsed ({type(exc).__name__}: {str(exc)[:200]})"
        report.errors.append(FileError(name, line_text(reason + "; exclude it or re-save it")))
