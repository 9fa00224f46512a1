"""Watched folders: keep the index in step with folders as files are saved, renamed and deleted.

`watchfiles` (Rust `notify`: inotify, FSEvents, ReadDirectoryChangesW) reports changes. Each changed
path waits until it has been quiet for `settle` seconds, so an editor's save-twice or a copy in
progress is ingested once, as its final version (a file that fails to read is read again once it stayed
unchanged for `FAILED_SETTLE` seconds, and reported only when the same bytes fail again: a copy may pause); then
the settled paths go through the ordinary `Engine.ingest` (content hashes, batched kill-safe commits, per-file
errors), and deleted paths through `Engine.forget`. A rename is a delete plus an add. Editors' temporary and swap
files and anything ingest would not pick up (unsupported types, hidden files, `.git`, `node_modules`) are ignored,
by the same rules as `discover`.

A changed file is embedded while it settles (`Engine.prefetch`, ingest/prefetch.py), so the ingest
after the settle mostly commits. Those one-file ingests skip compaction; it runs once the folders
have been quiet for `COMPACT_AFTER` seconds, after `COMPACT_EVERY` seconds of ingests that never fall
quiet, and when watching stops (new rows are searchable before: LanceDB scans what its indexes do not
cover yet).

With `purge` (`watch --purge`, the `watch_purge` setting) a deleted file is forgotten with `purge` as well:
its text is erased from the index's files and from saved conversations (localrag/forget.py), as a user who
deletes a file expects. A file that moved, its bytes still in a present file of the same batch (a rename, a
folder moved within the watched ones), is only forgotten: its text is still on disk, and its saved passages
are what the user asked about.

On start every folder is ingested once, which catches up with whatever changed while nothing was
watching. A watched folder deleted, or moved away, is said to be gone and its documents are forgotten; watching
goes on over the others, and when a folder of that name is there again (`rm -rf notes && git clone ... notes`,
an unzip, a sync tool's replace) it is read whole and followed again. The watcher of a folder follows the folder
itself (its inode), not its name: without this, nothing in the new folder was ever indexed.

The folders are remembered per collection in `watched.json` beside the config file
(`{"collection": [folders]}`; the bare list an earlier version wrote is `default`'s), so
`localrag watch` with no paths resumes the chosen collection's. `include` and `exclude` patterns are those of
ingest (`discover`), matched below each watched folder, and are remembered with them, in `watch-patterns.json`
(`{"collection": {"include": [...], "exclude": [...]}}`, a file of its own so that an earlier version still reads
the folders): a resumed watch left out nothing it had been told to, and its catch-up ingested it. What a
`.gitignore` or `.localragignore` names is left out as ingest leaves it out; one changed is read again, and its
watched folder with it, so what it no longer names is taken in.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from localrag import paths
from localrag.atomic import write_text_atomic
from localrag.collection import DEFAULT_COLLECTION, CollectionError
from localrag.errors import LocalRagError
from localrag.forget import KeptPassages, removed_note
from localrag.ingest.discover import (
    SKIP_DIRS,
    app_folder_below,
    deletion_record,
    discover,
    for_root,
    leads_out,
    leftover,
    link_outside,
    readable,
    system_file,
    takes,
    walk_takes,
)
from localrag.ingest.gitignore import GITIGNORE, LOCALRAGIGNORE, Ignores
from localrag.safe_text import disk_name, line_text, path_text
from localrag.sizes import count_text
from localrag.types import Document, IngestReport
from localrag.writer_lock import file_lock

if TYPE_CHECKING:
    import watchfiles

    from localrag.conversations import ConversationStore
    from localrag.engine import Engine

_T = TypeVar("_T")
# Quiet seconds after the last ingest before the tables are compacted and their indexes updated.
COMPACT_AFTER = 10.0
# Seconds of ingests without a quiet spell after which they are compacted all the same: a file changed every few
# seconds (a log, a synced note) kept the folders from falling quiet, and the tables grew about 1 MB a minute for
# one small file (12 minutes: 498 versions), old versions, with the text cut from the file, kept on disk.
COMPACT_EVERY = 300.0
# Seconds (or `settle`, if longer) a file whose read failed must stay unchanged before the failure is reported: a
# copy or download that paused for longer than `settle` was read half written, and called corrupt ("not a readable
# PDF ... (it may be corrupt or truncated)", "open it and save it again") seconds before it was whole and added.
FAILED_SETTLE = 10.0


def watched_file() -> Path:
    return paths.config_dir() / "watched.json"


def patterns_file() -> Path:
    return paths.config_dir() / "watch-patterns.json"


# A collection's remembered folders, or its patterns ({"include": [...], "exclude": [...]}).
_Remembered = dict[str, list[str]] | dict[str, dict[str, list[str]]]


def _read(file: Path, what: str, shaped: Callable[[Any], _T]) -> _T:
    """The JSON in `file` (an empty object when there is none) as `shaped` makes it; one line naming the file when
    it is no JSON, or not of the shape."""
    try:
        return shaped(json.loads(file.read_text(encoding="utf-8")) if file.is_file() else {})
    except (ValueError, TypeError, AttributeError) as exc:
        raise LocalRagError(f"{file}: not a JSON object of collection -> {what} ({exc})", "fix or delete the file") \
            from exc


def _folders(value: Any) -> dict[str, list[str]]:
    if isinstance(value, list):
        value = {DEFAULT_COLLECTION: value}
    return {str(name): [str(f) for f in folders] for name, folders in value.items()}


def _patterns(value: Any) -> dict[str, dict[str, list[str]]]:
    return {str(name): {kind: [str(p) for p in kept.get(kind, [])] for kind in ("include", "exclude")}
            for name, kept in value.items()}


def _remembered() -> dict[str, list[str]]:
    return _read(watched_file(), "folders", _folders)


def _remembered_patterns() -> dict[str, dict[str, list[str]]]:
    return _read(patterns_file(), "patterns", _patterns)


def _write(file: Path, remembered: _Remembered) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    kept = {name: value for name, value in sorted(remembered.items()) if value}
    write_text_atomic(file, json.dumps(kept, indent=1) + "\n")


def remembered_folders(collection: str = DEFAULT_COLLECTION) -> list[Path]:
    return [Path(p) for p in _remembered().get(collection, [])]


def remembered_patterns(collection: str = DEFAULT_COLLECTION) -> tuple[list[str], list[str]]:
    """The `include` and `exclude` patterns remembered for `collection`'s watch."""
    kept = _remembered_patterns().get(collection, {})
    return kept.get("include", []), kept.get("exclude", [])


@contextmanager
def _editing() -> Iterator[tuple[dict[str, list[str]], dict[str, dict[str, list[str]]]]]:
    """The remembered folders and patterns to change, written back at the end of the block. Edits take turns: two
    `watch` commands on two collections, or a watch beside a `collections rename`, each lost the other's change."""
    with file_lock(watched_file().with_name("watched.json.lock")):
        remembered, patterns = _remembered(), _remembered_patterns()
        before = json.dumps([remembered, patterns], sort_keys=True)
        yield remembered, patterns
        if json.dumps([remembered, patterns], sort_keys=True) != before:
            _write(watched_file(), remembered)
            _write(patterns_file(), {name: {kind: kept[kind] for kind in kept if kept[kind]}
                                     for name, kept in patterns.items()})


def remember_folders(folders: Sequence[Path], collection: str = DEFAULT_COLLECTION, *, add: bool = False,
                     include: Sequence[str] | None = None, exclude: Sequence[str] | None = None) -> None:
    """Remember `folders` for `collection`, in place of those remembered or, with `add`, beside them. Patterns
    given (either) replace those remembered; none remembered are kept once no folder is."""
    with _editing() as (remembered, patterns):
        kept = remembered.get(collection, []) if add else []
        remembered[collection] = sorted({*kept, *map(str, folders)})
        if include is not None or exclude is not None:
            patterns[collection] = {"include": list(include or ()), "exclude": list(exclude or ())}
        if not remembered[collection]:
            patterns.pop(collection, None)


def rename_watched(old: str, new: str | None) -> None:
    """Follow a collection's rename (`new`) or deletion (None) in the remembered folders and patterns."""
    with _editing() as (remembered, patterns):
        folders = remembered.pop(old, [])
        if new is not None and folders:
            remembered[new] = folders
        kept = patterns.pop(old, None)
        if new is not None and kept:
            patterns[new] = kept


def is_watched_name(path: Path, roots: Sequence[Path]) -> bool:
    """Whether a change to `path` concerns ingest: a supported type, not a temp file, nor in a hidden, tool or
    application's folder below the watched folder of `roots` holding it (`_holder`), as its walk judges it. The
    watched folder itself and those above it are the user's choice: `watch dl/Page_files` or `watch ~/.notes`
    ignored every change in it."""
    name = path.name
    if name.startswith(".") or leftover(name) or system_file(name) or deletion_record(path):
        return False
    root = _holder(path, roots) or Path(path.anchor)
    if any(part in SKIP_DIRS or (part.startswith(".") and part not in (".", ".."))
           for part in path.relative_to(root).parts[:-1]):
        return False
    if app_folder_below(path, root) is not None:
        return False
    return readable(path)


@dataclass
class WatchEvent:
    """What one settled batch of changes did, by document (a folder deleted is the documents it held)."""

    ingested: list[str] = field(default_factory=list)  # added or updated: `report` counts them
    forgotten: list[str] = field(default_factory=list)
    # Of `forgotten`, those whose text was erased too (with `purge`), and the saved conversations it was
    # erased from.
    erased: list[str] = field(default_factory=list)
    conversations: list[KeptPassages] = field(default_factory=list)
    report: IngestReport | None = None
    notes: list[str] = field(default_factory=list)  # a watched folder gone, or back


@dataclass
class _Pending:
    last_change: dict[Path, float] = field(default_factory=dict)

    def add(self, path: Path, when: float) -> None:
        self.last_change[path] = when

    def settled(self, now: float, settle: float) -> list[Path]:
        ready = [p for p, t in self.last_change.items() if now - t >= settle]
        for path in ready:
            del self.last_change[path]
        return sorted(ready)


def watch(
    engine: Engine,
    folders: Sequence[Path],
    *,
    settle: float = 1.0,
    stop: threading.Event | None = None,
    on_event: Callable[[WatchEvent], None] | None = None,
    ready: threading.Event | None = None,
    purge: bool = False,
    conversations: ConversationStore | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> None:
    """Ingest `folders`, then follow their changes until `stop` is set (or Ctrl-C); with `purge`, a deleted
    file's text is erased from the index's files and from `conversations` too. `include` and `exclude` are
    ingest's patterns, matched below each folder."""
    import watchfiles
    from watchfiles._rust_notify import WatchfilesRustInternalError

    roots = [paths.typed_path(f).resolve() for f in folders]
    for root in roots:
        if not root.is_dir():
            raise LocalRagError(f"{root}: not a folder", "watch folders; ingest single files with `localrag ingest`")
    stop = stop or threading.Event()
    pending = _Pending()
    # Files whose last read failed, with their size and modification time after it: a failure is reported once a
    # read of the same bytes fails again, `retry_after` seconds on.
    failing: dict[Path, tuple[int, int] | None] = {}
    retry_after = max(FAILED_SETTLE, settle)
    # How often settled paths are looked for: a path is ingested at most this late after it settles.
    poll_ms = max(50, min(100, int(settle * 250)))

    own = paths.own_folders()
    made = {root: (for_root(include, root), for_root(exclude, root)) for root in roots}
    ignores: dict[Path, Ignores] = {}
    rules_changed: set[Path] = set()  # watched folders whose ignore files changed

    def rules_read() -> None:
        ignores.update({root: Ignores(root, engine.settings.respect_gitignore) for root in roots})

    rules_read()

    def patterns_take(path: Path) -> bool:
        root = _holder(path, roots)
        return root is None or takes(path, root, *made[root], ignores[root])

    def wanted(_change: watchfiles.Change, path: str) -> bool:
        changed = _through_links(Path(path), roots)
        if changed.name in (GITIGNORE, LOCALRAGIGNORE):
            rules_read()  # the changes after it are judged by it
            # And its folder is read again once it settles: what it no longer names was never taken in (the retest).
            holder = _holder(changed, roots)
            if holder is not None:
                rules_changed.add(holder)
            return False
        if any(changed.is_relative_to(folder) for folder in own) or not patterns_take(changed):
            return False  # localrag's own files, which its ingests write (`discover` leaves them out too)
        # A name of no type localrag reads may be a folder moved in or out (`proj.v2`, `2026.archive`, `arch.bak` too:
        # taking only names without a suffix, such a folder moved out stayed searchable): `_apply` tells once it
        # settles, and passes over a file of that name (an editor's leftover).
        return is_watched_name(changed, roots) or (not readable(changed)
                                                   and is_watched_name(Path(path, "x.txt"), roots))

    # Its one warning is "KeyboardInterrupt caught, stopping watch" (raise_interrupt=False, so that the loop
    # below ends and the last refresh runs); the front ends say "stopped" themselves.
    logging.getLogger("watchfiles.main").setLevel(logging.ERROR)
    folders_now = {root: _identity(root) for root in roots}
    # Files whose names are not UTF-8 that the watcher choked on, by their real path, with their state when last
    # looked at (`_inode_state`), and those already named in a note. The watcher chokes on any event for such a
    # file, a read too: the catch-up's own read of it at the start was taken for a change, and each rescan that
    # followed read it again, so the folders were read again and again with nothing changed.
    undecodable: dict[Path, tuple[int, int, int, int] | None] = {}
    said: set[Path] = set()
    # A file whose inode changed (ctime: written, renamed, made, chmod) since the watch began changed while watched;
    # reading one changes no ctime. The catch-up that follows reads what changed before.
    began_ns = time.time_ns()
    # When the watcher last handed over its changes, and, after it died of such a name with that file unchanged,
    # the time from which the changes it dropped are looked for on disk (`_changed_since`): none is read again.
    delivered_ns = began_ns
    look_since: int | None = None
    caught_up = False
    last_ingest: float | None = None  # set while ingests wait for compaction
    first_ingest: float | None = None  # the first of them

    def step(changes: set[tuple[watchfiles.Change, str]]) -> None:
        nonlocal last_ingest, first_ingest
        now = time.monotonic()
        for root in rules_changed:
            pending.add(root, now)
        rules_changed.clear()
        for change, name in changes:
            changed = _through_links(Path(name), roots)
            pending.add(changed, now)
            if change != watchfiles.Change.deleted and is_watched_name(changed, roots) and changed.is_file():
                engine.prefetch(changed)
        # The watcher reports changes through folder links, which a walk does not follow (a link to `..` holding
        # the index would have each ingest answer its own writes), and file links a walk takes only by its rules.
        quiet = pending.settled(now, settle)
        settled = [p for p in quiet if not p.exists() or any(
            p.is_relative_to(root) and walk_takes(p, root, engine.settings.follow_links_outside) for root in roots)]
        skipped = _links_out([p for p in quiet if p not in settled], roots, engine.settings.follow_links_outside)
        if skipped and on_event is not None:
            on_event(WatchEvent(notes=skipped))  # an ingest names them too
        if settled:
            try:
                with engine.writing():
                    if stop.is_set():
                        # Stopped (for a switch of collection, which waited for this: not into that one): still
                        # pending, so that the stop says they were not taken in.
                        for path in settled:
                            pending.add(path, now)
                        return
                    event, again = _apply(engine, settled, roots, purge=purge, conversations=conversations, stop=stop,
                                          patterns=(roots, include, exclude) if include or exclude else None)
            except LocalRagError as exc:
                if engine.collection_exists():
                    raise
                # Its tables went with a `collections delete` from another command: not damage, nothing to repair.
                raise CollectionError(f"collection '{engine.settings.collection}' was deleted while it was watched",
                                      "watching stopped; watch the folders into another collection") from exc
            for path in again:  # a stop came before the ingest read them: the stop counts them as not taken in
                pending.add(path, now)
            if event.report is not None:
                for path in _failed_while_changing(event.report, settled, failing):
                    pending.add(path, now + retry_after - settle)
            if event.ingested or event.forgotten:
                last_ingest, first_ingest = now, first_ingest or now
            if on_event is not None and (event.ingested or event.forgotten or (event.report and (
                    event.report.errors or event.report.blank_paths or event.report.cancelled))):
                on_event(event)
        rested = last_ingest is not None and not pending.last_change and now - last_ingest >= COMPACT_AFTER
        if rested or (first_ingest is not None and now - first_ingest >= COMPACT_EVERY):
            engine.refresh_indexes()
            last_ingest = first_ingest = None

    def folders_moved() -> bool:
        """Whether a watched folder went or came back since the watcher was made (then it is made again)."""
        seen = {root: _identity(root) for root in roots}
        moved = [root for root in roots if seen[root] != folders_now[root]]
        for root in moved:
            pending.add(root, time.monotonic())  # gone: its documents are forgotten; back: it is read whole
            if on_event is not None:
                on_event(WatchEvent(notes=[f"{root}: the folder is back; reading it" if seen[root] is not None else
                                           f"{root}: the folder is gone; its documents are forgotten, and it is "
                                           "followed again if it comes back"]))
        folders_now.update(seen)
        return bool(moved)

    while not stop.is_set():
        live = [root for root in roots if folders_now[root] is not None]
        if not live:  # every folder gone: wait for one to come back, settling what is pending meanwhile
            stop.wait(poll_ms / 1000)
            step(set())
            folders_moved()
            continue
        changes_seen = watchfiles.watch(
            *live, watch_filter=wanted, debounce=poll_ms, step=50, rust_timeout=poll_ms, yield_on_timeout=True,
            stop_event=stop, raise_interrupt=False,
        )
        try:
            for changes in changes_seen:
                if not caught_up:
                    # The watcher runs from the first step of the loop, so what changes during this first
                    # ingest is queued and follows; ingesting first would miss saves made meanwhile.
                    caught_up = True
                    with engine.writing():
                        if stop.is_set():
                            break
                        # A stop (a switch of collection) ends it.
                        first = engine.ingest(roots, include=include, exclude=exclude, cancel=stop)
                    if on_event is not None:
                        # The files deleted while nothing watched are named too: a script read `"forgotten": []`
                        # of a catch-up that had removed 476 documents.
                        on_event(WatchEvent(first.added_paths + first.updated_paths, sorted(first.removed_paths),
                                            report=first, notes=list(first.notes)))
                    if ready is not None:
                        ready.set()
                delivered_ns = time.time_ns()
                if look_since is not None:  # this watcher runs: what changed from the last one's death on is seen
                    dropped = _changed_since(live, look_since, own, lambda: [d.path for d in engine.documents()])
                    # A file not UTF-8 whose state is the one its last event left was only read since (by the
                    # rescan that event asked for): its recent write, inside the slack, is taken in already. Counted,
                    # it asked for another rescan, and a stop meanwhile said "stopped before taking in" one.
                    changes = changes | {(change, name) for change, name in dropped if wanted(change, name)
                                         and not (Path(name) in undecodable
                                                  and undecodable[Path(name)] == _inode_state(Path(name)))}
                    look_since = None
                step(changes)
                if folders_moved():
                    break  # a watcher over the folders as they are now
            else:
                break  # stopped (or Ctrl-C, which watchfiles takes as a stop)
        except WatchfilesRustInternalError as exc:
            named = _undecodable(exc)
            if named is None:
                raise
            # Any event for a file whose name is not UTF-8 (`caf\xe9.md` from an old zip or a Latin-1 disk), a read
            # of it too, ends the watcher for good, its error kept, and drops the changes it held: `watch` quit with
            # a traceback at the save. A new watcher follows the folders; where that file changed (or went), they
            # are read again as a catch-up reads them, which takes in that file and whatever the watcher dropped.
            changed = _through_links(named, roots)
            state = _inode_state(changed)
            # Met before: changed where its state did; first met: where it went, or its inode changed since the start.
            if (state != undecodable[changed] if changed in undecodable
                    else state is None or state[3] >= began_ns):
                for root in live:
                    pending.add(root, time.monotonic())
                if changed not in said and on_event is not None:
                    on_event(WatchEvent(notes=[line_text(
                        f"{path_text(changed)}: its name is not UTF-8, so the watcher cannot say what changed; each "
                        "change to it reads the watched folders again (rename it to a UTF-8 name to have it followed "
                        "alone)")]))
                said.add(changed)
            else:  # a read: the changes this watcher held, lost with it, are found on disk (a ctime's grain of slack)
                look_since = delivered_ns - 1_000_000_000
            undecodable[changed] = state
        finally:
            changes_seen.close()
    # Changes seen but not settled when the watch stopped: dropped in silence, they left deleted files searchable
    # and new ones out until the next watch or ingest. A name of no type localrag reads counts only as a folder, or
    # gone, as one that held indexed documents: an editor's save (Vim's `4913` probe and `note.md~` backup, JetBrains'
    # `note.md___jb_old___`), gone by the stop, was "at least 3 changed paths" for the one file it changed.
    gone = [p for p in pending.last_change if not p.exists() and not is_watched_name(p, roots)]
    indexed = [d.path for d in engine.documents()] if gone else []
    untaken = [p for p in pending.last_change if is_watched_name(p, roots) or p.is_dir()
               or (p in gone and any(d.startswith(f"{p}/") for d in indexed))]
    if untaken and on_event is not None:
        # "At least": what changed in the last tenth of a second before the stop was still in the watcher's hands
        # and is not counted (the next watch's catch-up finds it all the same).
        on_event(WatchEvent(notes=[f"stopped before taking in at least {count_text(len(untaken), 'changed path')}; "
                                   "the next `localrag watch` (or an ingest of the folders) takes them"]))
    if last_ingest is not None:
        engine.refresh_indexes()


def _holder(path: Path, roots: Sequence[Path]) -> Path | None:
    """The innermost of the watched `roots` that holds `path`: its walk is the one that judges it."""
    return max((root for root in roots if path.is_relative_to(root)), key=lambda root: len(root.parts), default=None)


# The escapes of Rust's `{:?}` of a path, in which the watcher names one it cannot decode: `\xE9` a byte of no UTF-8,
# `\u{1b}` a control character, `\"` `\\` `\n` and the like themselves.
_RUST_ESCAPE = re.compile(r"\\(?:x([0-9A-Fa-f]{2})|u\{([0-9A-Fa-f]+)\}|(.))", re.DOTALL)
_RUST_CHARS = {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}


def _undecodable(error: RuntimeError) -> Path | None:
    """The path of the file whose name is not UTF-8 that `error` is about, as the watcher names it (a link's path,
    where it reached the file through one); None for any other error of the watcher."""
    found = re.fullmatch(r'Unable to decode path "(.*)" to string', str(error), re.DOTALL)
    if found is None:
        return None
    raw = bytearray()
    at = 0
    for escape in _RUST_ESCAPE.finditer(found[1]):
        raw += found[1][at:escape.start()].encode()
        byte, code, char = escape.groups()
        text = chr(int(code, 16)) if code else _RUST_CHARS.get(char, char)
        raw += bytes([int(byte, 16)]) if byte else text.encode()
        at = escape.end()
    raw += found[1][at:].encode()
    return Path(os.fsdecode(bytes(raw)))


def _changed_since(roots: Sequence[Path], since_ns: int, own: frozenset[Path],
                   indexed: Callable[[], list[str]]) -> set[tuple[watchfiles.Change, str]]:
    """What changed under `roots` since `since_ns` by the inode-change times a stat gives (no file is opened, so the
    watcher sees nothing): files written, made or moved in; folders moved in (holding no indexed document); the
    indexed files and subfolders gone from a folder that changed. Not through links, nor into localrag's `own`
    folders."""
    from watchfiles import Change

    found: set[tuple[Change, str]] = set()
    changed_folders: list[Path] = []
    stack = list(roots)
    while stack:
        folder = stack.pop()
        try:
            if folder.stat().st_ctime_ns >= since_ns:
                changed_folders.append(folder)
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        if Path(entry.path) not in own:
                            stack.append(Path(entry.path))
                    elif entry.stat(follow_symlinks=False).st_ctime_ns >= since_ns:
                        found.add((Change.modified, entry.path))
        except OSError:  # gone or unreadable meanwhile: the watcher or the next ingest says so
            continue
    if changed_folders:
        documents = indexed()  # stored paths (`path_text`): a name not UTF-8 is on the disk as `disk_name` says
        for folder in changed_folders:
            stored = path_text(folder)
            held = [d for d in documents if d.startswith(f"{stored}/")]
            if not held:
                found.add((Change.added, str(folder)))
            # A document is gone with the entry of this folder that holds it: itself, or a subfolder deleted or
            # moved away, which changed no folder still on the disk (its documents were left searchable).
            holders = {f"{stored}/{d[len(stored) + 1:].split('/', 1)[0]}" for d in held}
            found.update((Change.deleted, h) for h in holders if not os.path.lexists(disk_name(h)))
    return found


def _inode_state(path: Path) -> tuple[int, int, int, int] | None:
    """The file's inode, size, modification and inode-change times (ns); None when it is gone. A read changes none."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns


def _through_links(path: Path, roots: Sequence[Path]) -> Path:
    """`path` by its real folder, where that is in a watched folder: the watcher names a folder reached through a
    link as the link's path (inotify has one watch per folder, named by the path it was last added under), so a
    link to `..` in a watched folder had every change in it reported as `notes/up/notes/a.md`, which no walk
    takes: nothing was indexed after the start, in silence. A path whose real folder is outside every watched one
    stays as it was, the link's own, for the walk's rules to judge."""
    real = Path(os.path.realpath(path.parent), path.name)
    return real if real != path and _holder(real, roots) is not None else path


def _links_out(passed: list[Path], roots: list[Path], follow: bool) -> list[str]:
    """The notes an ingest gives for the links among `passed` that leave their watched folder."""
    if follow:
        return []
    notes = []
    for path in passed:
        root = next((r for r in roots if path.is_relative_to(r)), None)
        target = leads_out(path, root) if root is not None else None
        if target is not None and root is not None:
            notes.append(line_text(f"skipped {path_text(path)}: {link_outside(target, root)}"))
    return notes


def _identity(folder: Path) -> tuple[int, int] | None:
    """The folder's device and inode; None when no folder has its name now."""
    try:
        found = folder.stat()
    except OSError:
        return None
    return (found.st_dev, found.st_ino) if folder.is_dir() else None


def _file_state(path: Path) -> tuple[int, int] | None:
    """The file's size and modification time; None when it is gone."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_size, found.st_mtime_ns


def _failed_while_changing(report: IngestReport, settled: list[Path],
                           failing: dict[Path, tuple[int, int] | None]) -> list[Path]:
    """The files that failed in `report` and are to be read again rather than reported, taken out of it: each the
    first time it fails, or when it changed since its last failed read (while or after it was read; a change seen
    since takes it again all the same). `failing` keeps each one's size and modification time after the read, and
    forgets the `settled` files that did not fail."""
    again = []
    kept = []
    for error in report.errors:
        path = Path(error.path)
        state = _file_state(path)
        if path in failing and failing[path] == state:
            del failing[path]  # the same bytes failed twice: broken, not half written
            kept.append(error)
        else:
            failing[path] = state
            again.append(path)
    report.errors = kept
    for path in settled:
        if path not in again:
            failing.pop(path, None)
    return again


def _did_nothing(report: IngestReport) -> bool:
    """Whether a stopped ingest stopped before it read or removed anything."""
    return not (report.added or report.updated or report.unchanged or report.removed or report.moved
                or report.errors or report.blank_paths or report.gone_paths or report.chunks_written)


def _apply(
    engine: Engine, settled: list[Path], roots: Sequence[Path], *, purge: bool = False,
    conversations: ConversationStore | None = None, stop: threading.Event | None = None,
    patterns: tuple[list[Path], Sequence[str], Sequence[str]] | None = None,
) -> tuple[WatchEvent, list[Path]]:
    """Ingest what exists (a folder moved in is ingested whole); forget what is gone, with its parts, of the watched
    folders `roots`. `patterns`
    (the watched folders, include, exclude): a folder moved in is read by them as a walk of its watched folder
    reads it. With the event, the paths a stop kept the ingest from reading (it reports nothing of them)."""
    event = WatchEvent()
    # A file of no type localrag reads was let through in case it was a folder (Vim's `4913` probe, `data.xyz`):
    # named to the ingest, it counted as failed at each save. A FIFO, socket or device is passed over as a walk
    # passes it over: named to the ingest, it was "not a regular file", a failure at each round.
    present = [p for p in settled if p.is_dir() or (p.is_file() and is_watched_name(p, roots))]
    documents = engine.documents()
    gone = {path: [d for d in documents if d.path == str(path) or d.path.startswith(f"{path}/")]
            for path in settled if not path.exists()}
    gone = {path: docs for path, docs in gone.items() if docs}
    if gone:
        moved = _moved(gone, present) if purge else set(gone)
        erased = [path for path in gone if path not in moved]
        # A folder deleted is reported with the files in it, often as events of its own: each document once.
        event.forgotten = sorted({d.path for docs in gone.values() for d in docs})
        event.erased = sorted({d.path for path in erased for d in gone[path]})
        if moved:
            # Without a purge, the text stays where a forget leaves it, which the round says as an ingest does.
            kept = engine.forget(*sorted(moved), conversations=None if purge else conversations)
            if not purge:
                # Counted by document, as the lines naming them are: the paths forgotten are a folder moved away, or
                # a folder and its files, each an event of its own ("1 document removed" of a folder of 300, "301" of
                # its deletion). Its purge command names the outermost ones: the files' own are under them.
                outermost = [path for path in kept.paths
                             if not any(path.startswith(f"{other}/") for other in kept.paths)]
                event.notes.append(removed_note(outermost, len(kept.conversations), engine.settings.collection,
                                                documents=kept.documents, field="forgotten",
                                                configured=kept.configured,
                                                indexed=lambda: [d.path for d in engine.documents()]))
        if erased:
            done = engine.forget(*erased, purge=True, conversations=conversations)
            event.conversations = done.conversations
            event.erased = [path for path in event.erased if path not in done.spared]
    if present:
        include: Sequence[str] = ()
        exclude: Sequence[str] = ()
        if patterns is not None and any(path.is_dir() for path in present):
            # Patterns are written for the watched folder (`notes/*.md`) and would not mean the same below it: its
            # folder is read by them, what did not change passing as unchanged. Files came through them already.
            roots, include, exclude = patterns
            present = sorted({_holder(path, roots) or path for path in present})
        report = engine.ingest(present, include=include, exclude=exclude, refresh=False, cancel=stop)
        if report.cancelled and _did_nothing(report):
            # Its "0 added, 0 updated, ..., 0 failed" line came before the stop's own, which counts these.
            return event, present
        event.report = report
        event.ingested = event.report.added_paths + event.report.updated_paths
        event.notes += event.report.notes  # a stop's "N read but not yet in the index" among them
        event.forgotten = sorted({*event.forgotten, *event.report.removed_paths})  # gone from a folder moved in
        # The round's summary line counts what left the index in it: the files deleted or moved away as well.
        event.report.removed_paths = list(event.forgotten)
        event.report.removed = len(event.forgotten)
    return event, []


def _moved(gone: dict[Path, list[Document]], present: list[Path]) -> set[Path]:
    """The gone paths whose every document's bytes are in a present file (or one under a present folder)."""
    from localrag.ingest.pipeline import file_hash  # the ingest's own: numpy and the chunker, only when purging

    try:
        files = list(discover(present))  # the files the ingest that follows reads
    except LocalRagError:
        return set()  # one went again meanwhile: erase rather than guess
    hashes = set()
    for file in files:
        try:
            hashes.add(file_hash(file))
        except (OSError, LocalRagError):
            continue  # unreadable: the ingest that follows names it
    return {path for path, docs in gone.items() if all(d.content_hash in hashes for d in docs)}
