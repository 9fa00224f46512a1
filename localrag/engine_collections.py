"""The Engine's collections and watched folders: the folder's registry, and the folders kept in step.

`Engine` (localrag/engine.py) inherits these methods; they are kept apart because they act on the whole
store folder, not on the one collection an Engine works in. A registry change holds the folder's writer
lock, and an Engine whose collection is renamed or deleted drops the parts it had opened on it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from localrag import paths
from localrag.collection import DEFAULT_COLLECTION, CollectionError, collection_option
from localrag.config import configured_collection
from localrag.engine_writes import one_collection
from localrag.errors import LocalRagError
from localrag.safe_text import line_text, path_text
from localrag.sizes import count_text
from localrag.writer_lock import writer_lock

if TYPE_CHECKING:
    from localrag.config import Settings
    from localrag.embed import Embedder
    from localrag.graph.paths import GraphIndex
    from localrag.graph.store import GraphStore
    from localrag.retrieve import Retriever
    from localrag.store import Store


@dataclass
class CollectionInfo:
    name: str
    documents: int
    chunks: int


class Collections:
    """Collections and watched folders over the parts an Engine loads."""

    settings: Settings
    config_file: Path | None
    _lock: threading.RLock
    _store: Store | None
    _opened_collection: tuple[str, str] | None
    _retriever: Retriever | None
    _graph: GraphStore | None
    _graph_index: tuple[tuple[int, int], GraphIndex] | None

    if TYPE_CHECKING:

        @property
        def embedder(self) -> Embedder: ...

    # -- watched folders -----------------------------------------------------------------------

    def watched_folders(self) -> list[Path]:
        """The folders remembered for this collection, which `watch` with none resumes."""
        from localrag.ingest.watch import remembered_folders

        return remembered_folders(self.settings.collection)

    def folders_to_watch(self, given: Sequence[Path]) -> list[Path]:
        """The folders a watch of `given` watches: those, each of which must be a folder, else the ones remembered
        for this collection that are folders now (`missing_watched_note` names the others). The chat app had a rule
        of its own: a mistyped folder or a file typed there was passed over, and the remembered folders watched
        instead, in silence."""
        paths.refuse_unusable(given)  # a name longer than the system takes: resolve() raised it as a traceback
        folders = [paths.typed_path(p).resolve() for p in given]
        if not folders:
            remembered = self.watched_folders()
            if not remembered:
                raise LocalRagError("no folders to watch", "name the folders to watch; they are remembered for the "
                                    "next watch of this collection")
            # A remembered folder moved, or on a drive not mounted, refused every resume for good ("not a folder",
            # advice for a file typed by mistake), even beside a folder that is there.
            found = [folder for folder in remembered if folder.is_dir()]
            if not found:
                raise LocalRagError(_not_found(remembered), self._forget_folders_hint())
            return found
        for folder in folders:
            if not folder.is_dir():
                raise LocalRagError(f"{folder}: not a folder", "watch folders; ingest single files instead")
        return folders

    def missing_watched_note(self) -> str:
        """One line naming the folders remembered for this collection's watch that are not folders now, which a
        resume passes over; "" when there are none."""
        missing = [folder for folder in self.watched_folders() if not folder.is_dir()]
        return line_text(f"not watched: {_not_found(missing)}; {self._forget_folders_hint()}") if missing else ""

    def collection_option(self, name: str | None = None) -> str:
        """The --collection a command this engine's messages suggest needs to act on `name` (this engine's collection
        by default): `collection.collection_option` against the collection the settings file this engine reads
        (--config) makes the one a command without --collection acts on."""
        return collection_option(self.settings.collection if name is None else name,
                                 configured_collection(self.config_file))

    def _forget_folders_hint(self) -> str:
        option = self.collection_option()
        return (f"`localrag watch --forget-folders{option}` forgets the remembered folders, then `localrag watch "
                f"FOLDER...{option}` names those to watch")

    def remember_watched(self, folders: Sequence[Path], *, add: bool = False, include: Sequence[str] | None = None,
                         exclude: Sequence[str] | None = None) -> None:
        """Remember `folders` for this collection: in place of those remembered, or with `add` beside them. The
        `include` and `exclude` patterns given (ingest's, matched below each folder) replace those remembered: a
        watch reads by them. A path written from the current folder (`./drafts`) is remembered whole."""
        from localrag.ingest.discover import anchored
        from localrag.ingest.watch import remember_folders

        roots = [*(self.watched_folders() if add else []), *folders]
        remember_folders(folders, self.settings.collection, add=add,
                         include=None if include is None else anchored(include, roots),
                         exclude=None if exclude is None else anchored(exclude, roots))

    def watch_patterns(self) -> tuple[list[str], list[str]]:
        """The `include` and `exclude` patterns remembered for this collection's watch (`remember_watched`)."""
        from localrag.ingest.watch import remembered_patterns

        return remembered_patterns(self.settings.collection)

    # -- collections ---------------------------------------------------------------------------

    def collections(self) -> list[CollectionInfo]:
        """Every collection in the store folder with its document and chunk counts, by name."""
        from localrag.store import Store, recorded_embedder

        paths.check_places()  # a LOCALRAG_HOME naming a file: said, not listed as an empty index
        if recorded_embedder(paths.db_dir()) is None:
            return [CollectionInfo(DEFAULT_COLLECTION, 0, 0)]
        folder = self._folder()
        found = []
        for name in sorted(folder.registry()):
            try:
                store = Store.open_existing(paths.db_dir(), name)
            except CollectionError:
                continue  # renamed or deleted by another process since the registry was read
            found.append(CollectionInfo(name, store.document_count(), store.chunk_count()))
        return found

    def stale_elsewhere(self, max_tokens: int) -> dict[str, int]:
        """How many stale documents (`ingest.readings`) each other collection holds, those with any: `ingest --stale`
        reads this collection's, and after an upgrade the others' looked up to date (`status` counts this one's)."""
        from localrag.ingest.readings import stale_documents
        from localrag.store import Store

        counts = {}
        for name in sorted(self._folder().registry()):
            if name == self.settings.collection:
                continue
            try:
                store = Store.open_existing(paths.db_dir(), name)
                counts[name] = len(stale_documents(store.document_readings(), self.settings, max_tokens))
            except LocalRagError:
                # Renamed or deleted by another process meanwhile, or damaged: its own commands say so. Raised here,
                # it failed an ingest of this collection that had done its work.
                continue
        return {name: count for name, count in counts.items() if count}

    def indexed_elsewhere(self, places: Iterable[str | Path]) -> dict[str, list[str]]:
        """The collections other than this Engine's that index documents at or under `places` (named as `forget`
        names them), by name, each with those documents' paths in order."""
        from localrag.forget import forget_path, is_under

        targets = {forget_path(place) for place in places}
        others = sorted(name for name in self._folder().registry() if name != self.settings.collection)
        found = {name: sorted(path for path in self._paths_in([name]) if is_under(path, targets)) for name in others}
        return {name: held for name, held in found.items() if held}

    def indexed_paths(self) -> set[str]:
        """The paths of the documents every collection indexes now."""
        return self._paths_in({*self._folder().registry(), self.settings.collection})

    def _paths_in(self, names: Iterable[str]) -> set[str]:
        """The paths of the documents the collections `names` index (none before the first ingest)."""
        from localrag.store import Store, recorded_embedder

        if recorded_embedder(paths.db_dir()) is None:
            return set()
        return {document.path for name in names for document in Store.open_existing(paths.db_dir(), name).documents()}

    def collection_exists(self) -> bool:
        """Whether this Engine's collection is still in the store folder (another command may have deleted it)."""
        name = self.settings.collection
        return name == DEFAULT_COLLECTION or name in self._folder().registry()

    @one_collection
    def create_collection(self, name: str) -> str:
        """Make an empty collection; what to say of it (`collection.created_note`: another case of a name beside)."""
        from localrag.collection import created_note

        paths.ready_places(create=True)  # a script's first write may be this one (the CLI made them before)
        with writer_lock(paths.db_dir()):
            folder = self._folder()
            folder.create_collection(name)
            return created_note(name, folder.registry())

    def _collection_names(self) -> set[str]:
        """The names of the store folder's collections (`default` alone before the first ingest)."""
        from localrag.store import recorded_embedder

        if recorded_embedder(paths.db_dir()) is None:
            return {DEFAULT_COLLECTION}
        return set(self._folder().registry())

    @one_collection
    def rename_collection(self, old: str, new: str) -> None:
        """Rename a collection (its tables stay); an Engine working in it follows it to the new name."""
        from localrag.ingest.watch import rename_watched

        with writer_lock(paths.db_dir()):
            self._folder().rename_collection(old, new)
            rename_watched(old, new)
            self._follow_in_settings_file(old, new)
        with self._lock:
            self._drop_store()
            if self.settings.collection == old:
                self.settings = self.settings.replace(collection=new)

    @one_collection
    def delete_collection(self, name: str) -> None:
        """Delete a collection: its documents, chunks, graph and remembered folders."""
        from localrag.ingest.watch import rename_watched

        with writer_lock(paths.db_dir()):
            self._folder().delete_collection(name)
            rename_watched(name, None)
            self._follow_in_settings_file(name, None)
        with self._lock:
            self._drop_store()
            if self.settings.collection == name:
                self.settings = self.settings.replace(collection=DEFAULT_COLLECTION)
                self._opened_collection = None  # its own delete: nothing to say of it later

    def _follow_in_settings_file(self, old: str, new: str | None) -> None:
        """The `collection` setting of the settings file follows a rename (or, on a delete, goes): left naming a
        collection that is no longer there, it failed every command, the chat app's included."""
        from localrag.config import remove_saved_settings, saved_setting, update_saved_settings

        file = self.config_file or paths.config_file()
        if not file.is_file() or saved_setting(file, "collection") != old:
            return
        if new is None:
            remove_saved_settings(["collection"], file)
        else:
            update_saved_settings({"collection": new}, file)

    def _folder(self) -> Store:
        """A store of the folder for registry changes: opened with the embedder it records, if any."""
        from localrag.reembed import finish_swap
        from localrag.store import Store, recorded_embedder

        finish_swap(paths.db_dir())
        if recorded_embedder(paths.db_dir()) is not None:
            return Store.open_existing(paths.db_dir())
        return Store(paths.db_dir(), embedder_name=self.embedder.name, dim=self.embedder.dim)

    def _drop_store(self) -> None:
        self._store = self._retriever = self._graph = self._graph_index = None


def _not_found(missing: Sequence[Path]) -> str:
    """The remembered folders `missing` that are not folders now, named."""
    listed = ", ".join(path_text(folder) for folder in missing)
    which = "is" if len(missing) == 1 else "are"
    return line_text(f"{count_text(len(missing), 'remembered folder')} {which} not found (moved? drive not mounted?): "
                     f"{listed}")
