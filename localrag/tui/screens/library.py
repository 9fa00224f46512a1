"""The library screen: ingest files or folders with a progress bar, list and forget documents.

The top row picks the collection the whole app works in (the Engine's `collection` setting, for
this session; `New` creates one) and switches watching on and off: the chosen collection's
remembered folders, or the folders typed in the paths box (then remembered), are kept in step by
a watch worker until the switch goes off or another collection is picked.

The ingest runs in a thread worker owned by this screen. The screen is an app mode, so it stays
alive when the user switches back to the chat: the ingest goes on, the status bar on every screen
shows its progress, and the chat keeps answering from what is already committed. Per-file errors
come back in the IngestReport and are listed when the run ends; they never stop the run.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    DataTable,
    DirectoryTree,
    Footer,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
    Switch,
)
from textual.worker import Worker

from localrag.config import update_saved_settings
from localrag.errors import LocalRagError
from localrag.ingest.readings import holding_files
from localrag.paths import typed_path
from localrag.safe_text import printable
from localrag.shapes import listed_size
from localrag.sizes import count_text
from localrag.tui.messages import (
    CollectionsListed,
    CollectionSwitched,
    DocumentForgotten,
    DocumentsListed,
    DocumentSummarized,
    FoldersChanged,
    IngestFinished,
    IngestProgressed,
    failure_text,
)
from localrag.tui.screens.base import LocalRagScreen
from localrag.tui.screens.dialogs import ChoiceScreen, PromptScreen
from localrag.tui.screens.summary import SummaryScreen
from localrag.tui.widgets.graph_build import WORKER_GROUP as GRAPH_BUILD
from localrag.tui.widgets.graph_build import GraphBuildFinished, GraphBuildPanel, duration_text
from localrag.tui.widgets.line_input import LineInput
from localrag.tui.widgets.status import StatusBar
from localrag.types import STALE_LABEL, Document, IngestProgress, IngestReport

if TYPE_CHECKING:
    from localrag.ingest.watch import WatchEvent


PATHS_SEPARATOR = ";"  # not a space: a path may contain spaces


def parse_paths(value: str) -> list[Path]:
    """Paths typed into the box, separated by `PATHS_SEPARATOR`."""
    return [typed_path(p.strip()) for p in value.split(PATHS_SEPARATOR) if p.strip()]


def parse_patterns(value: str) -> list[str]:
    """Globs typed into a box, separated by spaces or commas; one holding a space is quoted ("My Notes/*"), as in
    a shell: split on every space, it could not be given at all. An unclosed quote is taken as a character."""
    import shlex

    lexer = shlex.shlex(value, posix=True)
    lexer.whitespace += ","
    lexer.whitespace_split = True
    # Only double quotes group, and nothing is a comment or an escape: `C#/*.cs`, `John's*.md` and `a\[b\]` are
    # globs as typed (an exclude glob cut at its # let the files it named in).
    lexer.commenters = ""
    lexer.quotes = '"'
    lexer.escape = ""
    try:
        return [p for p in lexer if p]
    except ValueError:
        return [p for p in value.replace(",", " ").split() if p]


def progress_line(p: IngestProgress) -> Text:
    return Text.assemble(
        (f"{p.files_done}/{p.files_total or '?'} files", "bold"),
        f" · {p.chunks_written} chunks · {duration_text(p.elapsed)} elapsed · ETA {duration_text(p.eta)}\n",
        ("now: ", "dim"),
        printable(p.activity or p.current, multiline=False),
    )


def report_text(r: IngestReport) -> Text:
    head = "Stopped" if r.cancelled else "Done"
    text = Text.assemble(
        (head, "bold"),
        f": {r.summary()}",
    )
    if r.errors:
        text.append(f"\n{len(r.errors)} file(s) could not be read:", style="bold red")
        for e in r.errors:
            # The reason names the file first, as the CLI's "failed:" line gives it.
            text.append("\n  ")
            text.append(printable(e.reason, multiline=False))
    return text


class PathPickerScreen(ModalScreen[Path | None]):
    """Browse for a file or folder; Enter on a folder or file picks it."""

    DEFAULT_CSS = """
    PathPickerScreen { align: center middle; }
    PathPickerScreen > Vertical { width: 90; max-width: 100%; height: 85%; border: thick $primary;
                                  background: $surface; }
    PathPickerScreen DirectoryTree { height: 1fr; }
    PathPickerScreen Horizontal { height: auto; align-horizontal: right; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"), Binding("ctrl+u", "use", "Use highlighted")]

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Choose a file, or highlight a folder and press Ctrl+U")
            yield DirectoryTree(self.root)
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Use highlighted", variant="primary", id="use")
        yield Footer()

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self.dismiss(event.path)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "use":
            self.action_use()
        else:
            self.dismiss(None)

    def action_use(self) -> None:
        node = self.query_one(DirectoryTree).cursor_node
        self.dismiss(node.data.path if node is not None and node.data is not None else None)


class DocumentsTable(DataTable[str | Text]):
    """The indexed documents. The single keys that act on the highlighted one are bound here, not on the screen: there,
    with focus in the Collection picker, a path typed into the Library read the first document again at its `r`,
    opened its key sentences at `s` and read every stale document again at `R` (before 2026-12-07)."""

    BINDINGS = [
        Binding("delete,f", "screen.forget", "Forget doc"),
        Binding("s", "screen.summarize", "Summarize doc"),
        Binding("r", "screen.reread", "Read doc again", show=False),
        Binding("R", "screen.reread_stale", "Read stale docs again", show=False),
    ]


class LibraryScreen(LocalRagScreen):
    # The path box, as F2 puts focus in the question box: the Library is opened to add documents, and the first
    # focusable widget, the Collection picker, took the keys typed.
    AUTO_FOCUS = "#paths"
    WORKER_ACTIONS = {
        "documents": "listing documents",
        "forget": "forgetting a document",
        "summarize": "summarizing a document",
        "ingest": "ingesting",
        "collections": "listing collections",
        "collection": "switching collection",
        "watch": "watching folders",
        GRAPH_BUILD: "building the graph",
    }
    DEFAULT_CSS = """
    LibraryScreen #add { height: auto; padding: 0 1; }
    LibraryScreen #collection { width: 24; }
    LibraryScreen .row Label { padding: 1 1 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    LibraryScreen #watch-state { width: 1fr; }
    /* At 60 columns the watch switch and its state were past the edge: the button shrinks to its word and, below
       80 columns, the row's "Collection" label goes (the picker names the collection). */
    LibraryScreen.-narrow #new-collection { min-width: 7; }
    LibraryScreen.-narrow #collection-label { display: none; }
    /* Scrolled sideways on a narrow terminal: at 40 columns the first row cut off New and the watch switch, which
       Tab still focused unseen, and Space started watching a folder with nothing on the screen. */
    LibraryScreen .row { height: auto; overflow-x: auto; scrollbar-size-horizontal: 1; }
    LibraryScreen #paths { width: 1fr; }
    LibraryScreen #include, LibraryScreen #exclude { width: 1fr; }
    LibraryScreen #progress, LibraryScreen #ingest-report { margin: 0 1; display: none; }
    LibraryScreen.-ingesting #progress, LibraryScreen.-reported #progress { display: block; }
    LibraryScreen.-ingesting #ingest-report, LibraryScreen.-reported #ingest-report { display: block; }
    LibraryScreen #ingest-report { height: auto; max-height: 20vh; }
    LibraryScreen #ingest-line { height: auto; }
    LibraryScreen #documents { height: 1fr; min-height: 3; margin: 0 1; border: round $primary 50%; }
    LibraryScreen #documents:focus { border: heavy $primary; }
    """
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (80, "-wide")]
    BINDINGS = [
        Binding("ctrl+o", "browse", "Browse"),
        Binding("ctrl+g", "ingest", "Ingest"),
        Binding("escape", "stop", "Stop ingest", show=False),
        Binding("ctrl+b", "graph_build", "Build graph / stop"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.cancel_event: threading.Event | None = None
        self.graph_panel = GraphBuildPanel(id="graph-build")
        self.documents: list[Document] = []
        self.watch_stop: threading.Event | None = None
        self.watched: list[Path] = []
        self._listing_failed = False  # the last listing of the documents failed, and its error is shown

    def compose(self) -> ComposeResult:
        with Vertical(id="add"):
            with Horizontal(classes="row"):
                yield Label("Collection", id="collection-label")
                current = self.localrag.engine.settings.collection
                yield Select([(current, current)], value=current, allow_blank=False, id="collection")
                yield Button("New", id="new-collection")
                yield Switch(False, id="watch")
                yield Label("not watching", id="watch-state")
            with Horizontal(classes="row"):
                # A paste of several paths, one a line as file managers copy them, keeps them all.
                yield LineInput(placeholder=f"files or folders to add, separated by {PATHS_SEPARATOR}", id="paths",
                                joiner=f"{PATHS_SEPARATOR} ")
                yield Button("Browse", id="browse")
                yield Button("Ingest", variant="primary", id="ingest")
            with Horizontal(classes="row"):
                yield LineInput(placeholder='include globs, e.g. *.md *.pdf "My Notes/*"', id="include")
                yield LineInput(placeholder="exclude globs, e.g. drafts/*", id="exclude")
        yield ProgressBar(id="progress", show_eta=False)
        # Scrolled, by Tab then the arrows as by the mouse: a report of 20 files that could not be read showed the
        # first few, and no key reached the others; at 80x24 it left the documents no row. (Inside a box of auto
        # height the box took the report's whole height.)
        with VerticalScroll(id="ingest-report"):
            yield Static(id="ingest-line")
        yield self.graph_panel
        yield DocumentsTable(id="documents", cursor_type="row", zebra_stripes=True)
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#documents", DataTable)
        table.border_title = "Indexed documents"
        table.add_columns("document", "type", "chunks", "size", "folder")
        self._list_documents()
        self._list_collections()

    def on_screen_resume(self) -> None:
        if self._listing_failed:
            # The error dialog just closed: listing again would fail again and open it again, for ever (a
            # collection another process deleted). The next switch or ingest lists them.
            self._listing_failed = False
            return
        if not self.has_class("-ingesting"):
            self._list_documents()
        self._list_collections()  # others may have been made, renamed or deleted from another terminal

    # -- documents -------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="documents", exit_on_error=False)
    def _list_documents(self) -> None:
        documents = self.localrag.engine.documents()
        self.post_message(DocumentsListed(documents, self.localrag.engine.stale_documents(documents)))

    def on_documents_listed(self, message: DocumentsListed) -> None:
        table = self.query_one("#documents", DataTable)
        # A refill follows every closed dialog (on_screen_resume): the cursor stays on the document the user
        # picked, or lands where it was in the path order if that one is gone, so the next `s`, `r` or `f`
        # acts on the document the user sees highlighted, not on the first row.
        highlighted = self._highlighted()
        self.documents = sorted(message.documents, key=lambda d: d.path)
        table.clear()
        for d in self.documents:
            path = Path(d.path)
            kind = Text(d.file_type) + (Text(" stale", style="yellow") if d.path in message.stale else Text())
            # A mailbox's mails are told apart by their titles (their names are digests or numbers), and show no
            # size: theirs is the mailbox's (`localrag documents` shows the same).
            name = d.title or path.name if d.holder else path.name
            table.add_row(
                Text(printable(name, multiline=False)), kind, Text(str(d.n_chunks)),
                Text(listed_size(d)), Text(printable(str(path.parent), multiline=False)), key=d.doc_id,
            )
        if highlighted is not None and self.documents:
            paths = [d.path for d in self.documents]
            table.move_cursor(row=min(bisect_left(paths, highlighted.path), len(paths) - 1), animate=False)
        stale = f" · {len(message.stale)} stale ({STALE_LABEL}): R reads them again" if message.stale else ""
        table.border_subtitle = (f"{len(self.documents)} documents · s summarizes · r reads again · Delete forgets"
                                 f"{stale}")

    def _highlighted(self) -> Document | None:
        """The document under the table's cursor, if any."""
        row = self.query_one("#documents", DataTable).cursor_row
        return self.documents[row] if 0 <= row < len(self.documents) else None

    def action_forget(self) -> None:
        doc = self._highlighted()
        if doc is None:
            return

        def answered(choice: str | None) -> None:
            if choice == "purge":
                self.notify("Erasing: the index is written anew without its old versions (a large one takes a minute)…")
            if choice is not None:
                self._forget(doc.path, choice == "purge")

        self.app.push_screen(
            ChoiceScreen(
                f"Forget {printable(doc.path, multiline=False)}? Its chunks leave the index; the file stays on disk. "
                "Forget and erase also erases its text from the index's files and from saved conversations.",
                [("forget", "Forget"), ("purge", "Forget and erase")],
            ),
            answered,
        )

    def action_summarize(self) -> None:
        doc = self._highlighted()
        if doc is not None:
            self.notify("Finding the key sentences…")
            self._summarize(doc.path)

    @work(thread=True, exclusive=True, group="summarize", exit_on_error=False)
    def _summarize(self, path: str) -> None:
        _, summary = self.localrag.engine.summarize(path)
        self.post_message(DocumentSummarized(path, summary))

    def on_document_summarized(self, message: DocumentSummarized) -> None:
        self.app.push_screen(SummaryScreen(message.path, message.summary))

    @work(thread=True, group="forget", exit_on_error=False)
    def _forget(self, path: str, purge: bool) -> None:
        forgotten = self.localrag.engine.forget(path, purge=purge, conversations=self.localrag.conversations)
        self.post_message(DocumentForgotten(forgotten))

    def on_document_forgotten(self, message: DocumentForgotten) -> None:
        done = message.forgotten
        path = printable(", ".join(done.paths), multiline=False)
        held = count_text(len(done.conversations), "saved conversation")
        if done.purged:
            self.localrag.erased_paths = (tuple(done.paths), tuple(done.spared))
            erased = "; its text erased from the index's files" + (f" and {held}" if done.conversations else "")
            if done.not_erased:
                erased += (f"; not erased: {count_text(len(done.not_erased), 'folder')} of datasets, runs or exports "
                           "(`localrag forget PATH --purge` names them)")
        elif done.conversations:
            erased = f"; its text stays in {held} until erased (`localrag forget PATH --purge`)"
        else:
            erased = ""
        self.notify(f"Forgot {path} ({count_text(done.chunks, 'chunk')}){erased}", markup=False)
        if done.watched:
            self.notify(f"It is still in a watched folder ({printable(', '.join(done.watched), multiline=False)}): "
                        "watching reads it again; move it out of the folder to keep it out.", severity="warning",
                        markup=False)
        elif done.still_on_disk:
            self.notify("It is still on disk: an ingest of its folder (of its file, once that changes) reads it "
                        "again; delete it, or name it in a .localragignore, to keep it out.", markup=False)
        self._list_documents()
        self.localrag.refresh_status()

    # -- collections -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="collections", exit_on_error=False)
    def _list_collections(self) -> None:
        engine = self.localrag.engine
        self.post_message(CollectionsListed(engine.collections(), engine.settings.collection))

    def on_collections_listed(self, message: CollectionsListed) -> None:
        select: Select[str] = self.query_one("#collection", Select)
        names = [c.name for c in message.collections]
        if message.current not in names:  # chosen but still empty: it is made by the first ingest
            names.append(message.current)
        with self.prevent(Select.Changed):
            select.set_options((name, name) for name in sorted(names))
            select.value = message.current

    def _writing_now(self) -> str:
        """What this app is writing to the collection now, "" when nothing: a switch of collection would wait
        for its end in silence (engine_writes.py), behind a graph build for as long as it runs."""
        if self.graph_panel.running:
            return "the graph build to finish (Ctrl+B stops it)"
        if self.cancel_event is not None:
            return "the ingest to finish (Esc stops it)"
        if any(worker.group == "forget" and worker.is_running for worker in self.workers):
            return "the forget to finish"
        return ""

    def _switch_refused(self) -> bool:
        """Whether a switch of collection must wait (then the user is told what for)."""
        busy = self._writing_now()
        if busy:
            self.notify(f"Wait for {busy} before switching collection.", severity="warning")
        return bool(busy)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "collection" and isinstance(event.value, str):
            current = self.localrag.engine.settings.collection
            if event.value == current:
                return
            if self._switch_refused():
                picker: Select[str] = self.query_one("#collection", Select)
                with self.prevent(Select.Changed):
                    picker.value = current
                return
            self._stop_watching()
            self._switch_collection(event.value, create=False)

    @work(thread=True, exclusive=True, group="collection", exit_on_error=False)
    def _switch_collection(self, name: str, create: bool) -> None:
        engine = self.localrag.engine
        created = engine.create_collection(name) if create else ""
        # The settings read once the writes under way are done: read before, they undid a Settings save made while
        # the switch waited.
        with engine.writing():
            engine.update_settings(engine.settings.replace(collection=name))
        self.post_message(CollectionSwitched(name, created))

    def on_collection_switched(self, message: CollectionSwitched) -> None:
        engine = self.localrag.engine
        try:
            # Kept as a model switch is: the next start asks the same collection (a LOCALRAG_COLLECTION still wins).
            update_saved_settings({"collection": message.name}, engine.config_file)
        except (LocalRagError, OSError) as exc:
            self.notify(f"Switched, but the choice was not saved: {failure_text(exc)}", severity="warning",
                        markup=False)
        # A new one says so, and which it was made beside when only the case differs (`Private` beside `private`).
        said = message.created[:1].upper() + message.created[1:]
        self.notify(said or f"Collection: {message.name}", markup=False)
        self._list_collections()
        self._list_documents()
        self.localrag.refresh_status()

    def action_new_collection(self) -> None:
        if self._switch_refused():
            return

        def named(name: str | None) -> None:
            if name and name.strip() and not self._switch_refused():
                self._stop_watching()
                self._switch_collection(name.strip(), create=True)

        self.app.push_screen(PromptScreen("Name of the new collection", placeholder="e.g. work-notes"), named)

    # -- watching ----------------------------------------------------------------------------------

    def on_switch_changed(self, event: Switch.Changed) -> None:
        if event.switch.id != "watch":
            return
        if not event.value:
            self._stop_watching()
            return
        if self.watch_stop is not None:
            return
        engine = self.localrag.engine
        typed = parse_paths(self.query_one("#paths", Input).value)
        try:
            folders = engine.folders_to_watch(typed)
        except LocalRagError as exc:
            self.notify(f"{exc}: type the folders in the paths box", severity="warning", markup=False)
            with self.prevent(Switch.Changed):
                event.switch.value = False
            return
        if not typed and (note := engine.missing_watched_note()):  # the remembered folders that are there are watched
            self.notify(note, severity="warning", markup=False)
        self.watch_stop = threading.Event()
        self.watched = folders
        self._set_watch_state()
        self._watch(folders, self.watch_stop)

    @work(thread=True, group="watch", exit_on_error=False)
    def _watch(self, folders: list[Path], stop: threading.Event) -> None:
        engine = self.localrag.engine
        engine.remember_watched(folders, add=True)

        def changed(event: WatchEvent) -> None:
            self.post_message(FoldersChanged(event))

        engine.watch(folders, stop=stop, on_event=changed, conversations=self.localrag.conversations)

    def on_folders_changed(self, message: FoldersChanged) -> None:
        event = message.event
        for note in event.notes:  # a watched folder gone, or back
            self.notify(note, severity="warning", markup=False)
        if event.erased:
            self.localrag.erased_paths = (tuple(event.erased), ())
            held = f" and {count_text(len(event.conversations), 'saved conversation')}" if event.conversations else ""
            erased = printable(", ".join(event.erased), multiline=False)
            self.notify(f"Deleted from a watched folder, so erased from the index's files{held}: {erased}",
                        markup=False)
        self._list_documents()
        self.localrag.refresh_status()

    def _stop_watching(self) -> None:
        if self.watch_stop is not None:
            self.watch_stop.set()
        self.watch_stop = None
        self.watched = []
        with self.prevent(Switch.Changed):
            self.query_one("#watch", Switch).value = False
        self._set_watch_state()

    def _set_watch_state(self) -> None:
        label = self.query_one("#watch-state", Label)
        if self.watched:
            plural = "s" if len(self.watched) > 1 else ""
            label.update(Text(f"watching {len(self.watched)} folder{plural}"))
            # The folders' names are file-system text: plain Text, never markup.
            label.tooltip = Text("\n".join(printable(str(f), multiline=False) for f in self.watched))
        else:
            label.update(Text("not watching"))
            label.tooltip = None

    def on_unmount(self) -> None:
        # The app is quitting: its worker threads are not daemons, and the process waited for a graph build or
        # an ingest to run to its end, the terminal blocked with no word. Each stops after its current step.
        if self.watch_stop is not None:
            self.watch_stop.set()
        stopping = [self.localrag.stopping] if self.localrag.stopping else []  # another screen's (an answer)
        if self.cancel_event is not None:
            self.cancel_event.set()
            stopping.append("the ingest")
        if self.graph_panel.stop():  # held here: its widget may be unmounted before this screen
            stopping.append("the graph build")
        self.localrag.stopping = " and ".join(stopping)

    # -- ingest ----------------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "new-collection":
            self.action_new_collection()
        elif event.button.id == "browse":
            self.action_browse()
        elif event.button.id == "ingest":
            if self.cancel_event is not None:
                self.action_stop()
            else:
                self.action_ingest()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "paths":
            self.action_ingest()

    def action_browse(self) -> None:
        def picked(path: Path | None) -> None:
            if path is None:
                return
            box = self.query_one("#paths", Input)
            box.value = f"{PATHS_SEPARATOR} ".join([*(p for p in box.value.split(PATHS_SEPARATOR) if p.strip()),
                                                    str(path)]).strip(f"{PATHS_SEPARATOR} ")

        self.app.push_screen(PathPickerScreen(Path.home()), picked)

    def _ingest_running(self) -> bool:
        """Whether an ingest is under way (then the user is told): one at a time, whichever key started it."""
        if self.cancel_event is not None:
            self.notify("An ingest is already running.", severity="warning")
        return self.cancel_event is not None

    def action_ingest(self) -> None:
        if self._ingest_running():
            return
        paths = parse_paths(self.query_one("#paths", Input).value)
        if not paths:
            self.notify("Type or browse for a file or folder first.", severity="warning")
            self.query_one("#paths", Input).focus()
            return
        include = parse_patterns(self.query_one("#include", Input).value)
        exclude = parse_patterns(self.query_one("#exclude", Input).value)
        self._start_ingest(paths, include, exclude, force=False)

    def action_reread(self) -> None:
        """Read the highlighted document again though its file is unchanged (`ingest --force`)."""
        doc = self._highlighted()
        if doc is None or self._ingest_running():
            return
        path = doc.path
        # A mail attachment's path names a document inside its message file: the file is what is read.
        self._start_ingest([Path(p) for p in holding_files([path]) or [path]], [], [], force=True)

    def action_reread_stale(self) -> None:
        """Read again every document an older localrag or other settings read (`ingest --stale`)."""
        if self._ingest_running():
            return
        self._start_ingest([], [], [], stale=True)

    def _start_ingest(self, paths: list[Path], include: list[str], exclude: list[str], *, force: bool = False,
                      stale: bool = False) -> None:
        self.cancel_event = threading.Event()
        self.remove_class("-reported")
        self.add_class("-ingesting")
        self.query_one("#progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#ingest-line", Static).update(Text("finding files…", style="italic"))
        self.query_one("#ingest", Button).label = "Stop"
        self.localrag.set_activity("ingest", "ingesting…")
        self._ingest(paths, include, exclude, self.cancel_event, force, stale)

    @work(thread=True, exclusive=True, group="ingest", exit_on_error=False)
    def _ingest(self, paths: list[Path], include: list[str], exclude: list[str], cancel: threading.Event,
                force: bool, stale: bool) -> None:
        report = self.localrag.engine.ingest(
            paths,
            include=include,
            exclude=exclude,
            progress=self._post_progress,
            cancel=cancel,
            force=force,
            stale=stale,
        )
        self.post_message(IngestFinished(report))

    def worker_failed(self, worker: Worker[object], error: LocalRagError) -> None:
        if worker.group == "documents":
            self._listing_failed = True
        elif worker.group == "ingest":  # the progress bar and Stop button go back as after a cancelled ingest
            self.post_message(IngestFinished(IngestReport(cancelled=True)))
        elif worker.group == "watch":
            self._stop_watching()
        elif worker.group == "collection":  # the picker shows the collection still in use
            self._list_collections()
        elif worker.group == GRAPH_BUILD:
            self.query_one(GraphBuildPanel).failed()
            self.localrag.set_activity("graph", "")

    def _post_progress(self, progress: IngestProgress) -> None:
        self.post_message(IngestProgressed(progress))

    def on_ingest_progressed(self, message: IngestProgressed) -> None:
        p = message.progress
        self.query_one("#progress", ProgressBar).update(total=max(p.files_total, 1), progress=p.files_done)
        self.query_one("#ingest-line", Static).update(progress_line(p))
        self.localrag.set_activity("ingest", f"ingesting {p.files_done}/{p.files_total or '?'}")

    def on_ingest_finished(self, message: IngestFinished) -> None:
        self.cancel_event = None
        self.remove_class("-ingesting")
        self.add_class("-reported")
        self.query_one("#ingest", Button).label = "Ingest"
        bar = self.query_one("#progress", ProgressBar)
        if not message.report.cancelled:
            bar.update(total=bar.total or 1, progress=bar.total or 1)
        self.query_one("#ingest-line", Static).update(report_text(message.report))
        self.localrag.set_activity("ingest", "")
        r = message.report
        self.notify(
            f"Ingest {'stopped' if r.cancelled else 'finished'}: files indexed {r.added + r.updated}, "
            f"errors {len(r.errors)}",
            severity="warning" if r.errors else "information",
        )
        self._list_documents()
        self.localrag.refresh_status()

    def action_stop(self) -> None:
        if self.cancel_event is not None:
            self.cancel_event.set()
            self.localrag.set_activity("ingest", "stopping ingest…")

    # -- graph build -----------------------------------------------------------------------------

    def action_graph_build(self) -> None:
        """Extract triples from the indexed chunks not yet in the graph (`localrag graph build`), or stop it."""
        panel = self.query_one(GraphBuildPanel)
        if panel.stop():
            self.localrag.set_activity("graph", "stopping the graph build…")
        else:
            panel.start(self)

    def on_graph_build_finished(self, message: GraphBuildFinished) -> None:
        self.localrag.set_activity("graph", "")
        r = message.report
        self.notify(
            f"Graph build {'stopped' if r.cancelled else 'finished'}: {count_text(r.triples_added, 'triple')} added",
            severity="warning" if r.errors else "information",
        )
        self.localrag.refresh_status()
