"""What `forget` leaves behind, and `forget --purge`, which erases it.

Forgetting deletes a document's rows, so no search finds it again; its text still lies in two places: the
index's files (a delete only marks rows, and old versions are kept for readers in other processes: see
`table_versions`) and the saved conversations whose answers it was a source of (each keeps its sources'
text, to show them when reopened). A purge erases both: the tables are written anew with no old version,
and a saved source of a forgotten file keeps its place (number, path, where in the file) without its text.

Conversations are not per collection, and one file may be indexed in several: a document another collection
still indexes is spared (its text is still in that collection's files, so erasing it from the conversations
would only break them), and the report says how many were.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from localrag import paths
from localrag.collection import DEFAULT_COLLECTION, collection_option
from localrag.safe_text import disk_name, holder_on_disk, line_text, path_text
from localrag.sizes import count_text, some_of

if TYPE_CHECKING:
    from localrag.conversations import Conversation, ConversationStore, SavedPath, Turn

# What a reopened conversation shows where a purged source's text was, and in place of an answer that was a
# sentence of it.
PURGED_LABEL = "text erased: its document was forgotten with --purge"
ERASED_ANSWER = "(erased: this answer was a sentence of a document since forgotten with --purge)"
# In place of a graph answer every supporting path of which, or a list of related entities some path of
# which, ran through a triple of such a document: its entity names are that document's words.
ERASED_GRAPH_ANSWER = ("(erased: this answer's reasoning paths ran through triples of a document since forgotten "
                       "with --purge)")


# What localrag writes from documents' text besides the index and the conversations, by folder of the data
# folder. A purge leaves them be: each is something the user made (a dataset, a training run, an evaluation,
# an export) and may be wanted; the report names those that exist.
DERIVED_FOLDERS = (
    ("raft", "datasets `raft build` wrote"),
    ("runs", "fine-tuning runs"),
    ("tune", "`tune` runs and their datasets"),
    ("evals", "evaluation runs"),
    ("exports", "exported conversations"),
    ("quarantine", "tables `localrag repair` set aside, damaged, as they were"),
)


@dataclass
class KeptPassages:
    """A saved conversation holding the text of forgotten files: `passages` sources, and `answers` drawn from
    them (an extracted sentence, a graph answer through their triples)."""

    conversation_id: str
    title: str
    passages: int
    answers: int = 0


@dataclass
class Forgotten:
    """What `Engine.forget` did: documents and chunks removed, and where the text still is or was erased from."""

    paths: list[str]
    documents: int
    chunks: int
    purged: bool = False
    # Saved conversations holding passages of the forgotten files: still (without a purge) or until now.
    conversations: list[KeptPassages] = field(default_factory=list)
    # With a purge: the folders of DERIVED_FOLDERS that hold files, as (path, what they hold).
    not_erased: list[tuple[str, str]] = field(default_factory=list)
    # Documents of these paths that another collection still indexes: saved conversations keep their text.
    spared: list[str] = field(default_factory=list)
    # The watched folders of this collection holding a forgotten path still on disk: a watch reads it again.
    watched: list[str] = field(default_factory=list)
    collection: str = DEFAULT_COLLECTION  # the one forgotten from, for the commands the report names
    # Each forgotten path still on disk, as "PATH" (a file or folder) or "PATH in FILE" (a mail in its .mbox): an
    # ingest of its folder, or of that file once it changes, reads it again (a forgotten mail came back with the
    # next mail to arrive in its mailbox, and nothing had said it would).
    still_on_disk: list[str] = field(default_factory=list)
    # `spared` by collection: each other collection that indexes some of them, with their paths.
    spared_in: dict[str, list[str]] = field(default_factory=dict)
    # The collection a command without --collection acts on: where it is not `default`, a command the report names
    # for `default` says --collection default (without it, it acted on that other collection again).
    configured: str = DEFAULT_COLLECTION


def on_disk(path: Path) -> Path:
    """`path` as the disk names it (`safe_text.disk_name`): as given, or in the other Unicode form where only that
    exists. A forget finds the documents of a name typed composed (NFC) stored decomposed (NFD, a Mac's zip) and
    the other way round (`Engine._documents_at`), so what is still on disk is asked of the name that matched, not
    only of the one typed: the file named decomposed was forgotten without the note that the next ingest reads
    it again."""
    return disk_name(str(path))


def still_held(paths: Iterable[Path]) -> list[str]:
    """`paths` still on disk, each as `Forgotten.still_on_disk` says it (under the name the disk gives it)."""
    out = []
    for path in map(on_disk, paths):
        if path.exists():
            out.append(str(path))
        elif (holder := holder_on_disk(str(path))) is not None:
            out.append(f"{path} in {holder}")
    return out


def text_stays(conversations: int) -> str:
    """Where a removal without a purge leaves a document's text, `conversations` the saved ones quoting it: said
    by `forget`, and by an ingest or a watch that removes the documents of deleted files."""
    held = f", and in {count_text(conversations, 'saved conversation')}" if conversations else ""
    return ("its text stays in the index's files (a delete only marks rows, and old versions are kept for readers) "
            f"until a later ingest compacts them, usually{held}")


def forget_command(paths: Sequence[str], collection: str, purge: bool = False,
                   configured: str | None = None) -> str:
    """The `localrag forget` of `paths` from `collection`, in backticks, each path quoted for a shell, as every
    message that names it writes it; with `purge`, the command that erases what a removal of them left (a purge of
    paths no longer indexed erases it all the same). `configured`: the collection a command without --collection
    acts on (`config.configured_collection`; by default the user's settings file's, as `collection_option` says)."""
    option = collection_option(collection, configured)
    return f"`{shlex.join(['localrag', 'forget', *paths])}{option}{' --purge' * purge}`"


# Paths a line names before ", ..." (`sizes.some_of`), and a purge command names before PATH...: more (a folder's
# files) made a note a page long; `forget wiki/daily/standup*` named 127, in three lines of 6,000 characters and
# more, before 2026-12-07.
LISTED = 3


def removed_note(removed: Sequence[str], conversations: int, collection: str, *, documents: int | None = None,
                 field: str = "removed_paths", configured: str | None = None,
                 indexed: Callable[[], Iterable[str]] = tuple) -> str:
    """The note of an ingest or a watch that removed the documents at `removed` (their files deleted or moved
    away), in `forget`'s words: only "1 removed" was said, while a deleted file's text stayed in the index's files
    (for good where little of a file was deleted: compaction leaves it) and in the conversations quoting it.
    `documents`: how many were removed, where `removed` names folders (a watch's folder moved away); one each
    otherwise. `field`: the `--json` field of the output the note is in that lists them all (`removed_paths` of an
    ingest, `forgotten` of a watch round: a watch's note named `removed_paths`, which its output does not have).
    `configured`: as `forget_command` takes it. `indexed`: the stored paths of the documents indexed now.

    A removed path a folder now has that holds indexed documents (a file replaced by a folder of its name) is named in
    no command: a forget of a path takes every document under it, and the one suggested forgot the folder's live
    documents with the removed file's text. A folder holding none is named: a watched folder moved away and back
    before the note was written held only what the note is about."""
    count = len(removed) if documents is None else documents
    said = f"{count_text(count, 'document')} removed, not erased: {text_stays(conversations)}"
    folders = [path for path in removed if Path(path).is_dir()]
    if folders:
        stored = list(indexed())
        folders = [path for path in folders if any(d.startswith(f"{path}/") for d in stored)]
    files = [path for path in removed if path not in folders]
    some = some_of([path_text(path) for path in folders], LISTED)
    taken = (f"a folder is now named {some}, so no command names it: a forget of that name would take the folder's "
             "documents too") if folders else ""
    if not files:
        return line_text(f"{said}; {taken}")
    named = files if len(files) <= LISTED else ["PATH..."]
    which = "" if named == files else f" naming them (`{field}` in `--json`)"
    return line_text(f"{said}; {forget_command(named, collection, purge=True, configured=configured)}{which} erases "
                     f"it now{'; ' * bool(taken)}{taken}")


def not_found_note(missing: Sequence[str], stored: Iterable[str], collection: str, *, what: tuple[str, str],
                   listed_by: str, configured: str | None = None) -> str:
    """One line on indexed documents (`missing`, `what` they are: one, many) whose files are not on disk, and the
    forget that takes them out: their folder where it is gone and holds no other of the `stored` documents, else the
    files themselves (up to LISTED), else PATH... and `listed_by`, what lists them all. A restore onto a machine
    where the documents moved is the common case: `repair` said it read their details again, `ingest --stale` said
    nothing at all."""
    import os

    folder = os.path.commonpath([str(Path(p).parent) for p in missing])
    gone = set(missing)
    if not Path(folder).exists() and all(p in gone for p in stored if Path(p).is_relative_to(folder)):
        named: list[str] = [folder]
    else:
        named = list(missing) if len(missing) <= LISTED else ["PATH..."]
    which = f" naming them ({listed_by} lists them)" if named == ["PATH..."] else ""
    some = some_of([path_text(p) for p in missing], LISTED)
    is_, them, their = ("is", "it", "its") if len(missing) == 1 else ("are", "them", "their")
    return line_text(f"{count_text(len(missing), *what)} {is_} not on disk (moved, or on a drive not mounted): {some}; "
                     f"{forget_command(named, collection, configured=configured)}{which} takes {them} out, and an "
                     f"ingest of {their} new place reads {them} there")


def derived_folders() -> list[tuple[str, str]]:
    """The folders of DERIVED_FOLDERS in the data folder that hold any file, with what they hold."""
    root = paths.data_dir()
    return [(path_text(root / name), what) for name, what in DERIVED_FOLDERS
            if (root / name).is_dir() and any(p.is_file() for p in (root / name).rglob("*"))]


def forget_path(path: str | Path) -> Path:
    """The path a forgotten `path` stands for, as an ingest names documents: a link to a file (or one that leads
    nowhere) by its own name in its real folder, where an ingest indexes a named link or one leaving a folder;
    anything else by its real path. Never a link's target besides: that is a file the user did not name, indexed
    under its own path if at all (from its folder, say), and not forgotten with the link."""
    given = paths.typed_path(path)
    if given.is_symlink() and not given.is_dir():
        return Path(path_text(given.absolute().parent.resolve() / given.name))
    return Path(path_text(given.resolve()))


def is_under(source_path: str, targets: Iterable[Path]) -> bool:
    saved = Path(source_path)
    return any(saved == target or saved.is_relative_to(target) for target in targets)


def _forgotten_sources(turn: Turn, targets: set[Path], spared: Collection[str], texts: Collection[str]) -> set[int]:
    """The sources of `turn` that are passages of the forgotten files: under one of their paths, or holding the
    words of one of their passages (`texts`) under a path no collection indexes and where no file is now, as
    after a rename then a forget. A document still indexed (a mail's attachment with the same words, a file on
    a drive not mounted now) or a copy still on disk keeps its own: the `spared` paths say which are indexed."""
    return {s.n for s in turn.sources if not s.purged and s.path not in spared
            and (is_under(s.path, targets) or (s.text in texts and not Path(s.path).exists()))}


def _extracted_from(turn: Turn, numbers: set[int]) -> bool:
    """The answer is the best sentence of one of these sources, word for word (`--extract`)."""
    from localrag.answer.evidence import EXTRACT_MODEL

    return turn.model == EXTRACT_MODEL and not turn.refused and turn.evidence_source in numbers and bool(turn.text)


def _runs_through(path: SavedPath, chunk_ids: set[str]) -> bool:
    return any(step.source in chunk_ids for step in path.steps)


def _through(turn: Turn, numbers: set[int]) -> bool:
    """A graph answer or a related list whose paths ran through triples of these sources (their chunks)."""
    from localrag.graph.turns import RELATED_MODEL

    chunk_ids = {s.chunk_id for s in turn.sources if s.n in numbers}
    return turn.model == RELATED_MODEL or any(_runs_through(path, chunk_ids) for path in turn.graph_paths)


def _drawn_from(turn: Turn, numbers: set[int]) -> bool:
    """The answer itself holds words of these sources: an extracted sentence, or entity names of their triples."""
    return _extracted_from(turn, numbers) or _through(turn, numbers)


def _purge_graph(turn: Turn, numbers: set[int]) -> None:
    """Drop the paths through these sources' triples; the answer is written again from the paths left, or
    erased when none of them supports it."""
    from localrag.graph.turns import answer_from_turn, graph_turn_text

    chunk_ids = {s.chunk_id for s in turn.sources if s.n in numbers}
    turn.graph_paths = [path for path in turn.graph_paths if not _runs_through(path, chunk_ids)]
    found = answer_from_turn(turn)
    turn.text = graph_turn_text(*found) if found is not None and found[0].candidates else ERASED_GRAPH_ANSWER


def _purge_turn(turn: Turn, numbers: set[int]) -> None:
    if _through(turn, numbers):
        _purge_graph(turn, numbers)
    for source in turn.sources:
        if source.n in numbers:
            # Its heading is the document's words too (a Markdown title can hold what the text held).
            source.text = source.heading = ""
            source.purged = True
    if _extracted_from(turn, numbers):
        turn.text = ERASED_ANSWER
        # Its quotes are that sentence again; a model's quotes stay with the answer that holds them.
        turn.quotes = [quote for quote in turn.quotes if quote.source not in numbers]
    if turn.evidence_source in numbers:
        turn.evidence_text = turn.evidence_header = ""
        turn.evidence_start = turn.evidence_end = None


def kept_passages(
    conversation: Conversation, targets: set[Path], *, purge: bool = False, spared: Collection[str] = (),
    texts: Collection[str] = frozenset(),
) -> KeptPassages | None:
    """How much text of files at or under `targets` (or of their passages, `texts`, saved under a name gone),
    but for the `spared` ones, the conversation holds; with `purge`, erased from it."""
    passages = answers = 0
    for turn in conversation.turns:
        numbers = _forgotten_sources(turn, targets, spared, texts)
        if not numbers:
            continue
        passages += len(numbers)
        answers += _drawn_from(turn, numbers)
        if purge:
            _purge_turn(turn, numbers)
    if not passages:
        return None
    return KeptPassages(conversation.id, conversation.title, passages, answers)


def _targets(paths: Iterable[str | Path]) -> set[Path]:
    return {forget_path(path) for path in paths}


def erase_from(conversation: Conversation, paths: Iterable[str | Path], spared: Collection[str] = ()) -> bool:
    """Erase the text of files at or under `paths` (but the `spared` ones) from a conversation in memory (one
    open in the chat app, as a purge erased it from its file); whether it held any."""
    return kept_passages(conversation, _targets(paths), purge=True, spared=spared) is not None


def conversations_keeping(
    store: ConversationStore, paths: Iterable[str | Path], *, purge: bool = False, spared: Collection[str] = (),
    texts: Collection[str] = frozenset(),
) -> list[KeptPassages]:
    """The saved conversations holding text of files at or under any of `paths` (but the `spared` ones), or their
    passages' words (`texts`) under a name gone, most recent first; with `purge`, that text is erased from each
    (the conversations keep their place in the list: their update time stays)."""
    targets = _targets(paths)
    found: list[KeptPassages] = []
    holding = store.holding(str(target) for target in targets)
    if texts:
        # Read whole and matched by set: every passage of a large folder as a needle in every file's text took
        # minutes where this takes the time of `conversations` listing them.
        words = frozenset(texts)
        named = {conversation.id for conversation in holding}
        holding += [conversation for conversation in store.list() if conversation.id not in named
                    and any(source.text in words for turn in conversation.turns for source in turn.sources)]
        holding.sort(key=lambda conversation: conversation.updated, reverse=True)
        texts = words
    for conversation in holding:
        if not purge:
            kept = kept_passages(conversation, targets, spared=spared, texts=texts)
            found.extend([kept] if kept is not None else [])
            continue

        # Erased from the file as it is when its turn comes: an answer saved since it was read stays.
        def erase(current: Conversation) -> bool:
            kept = kept_passages(current, targets, purge=True, spared=spared, texts=texts)
            found.extend([kept] if kept is not None else [])
            return kept is not None

        store.update(conversation.id, erase, touch=False)
    return found
