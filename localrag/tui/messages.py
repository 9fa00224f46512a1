"""Messages that workers post back to the UI thread.

Engine calls run in thread workers; a worker never touches a widget. It posts one of these to the
screen or app that started it, and that node's handler changes the widgets on the UI thread.
`post_message` is thread safe, which is what makes this split work. A worker that fails just raises:
`LocalRagApp.on_worker_failed` is the one place failures are shown and logged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from localrag.disk_errors import after, disk_trouble
from localrag.errors import LocalRagError
from localrag.types import Answer, Document, Hit, IngestProgress, IngestReport

if TYPE_CHECKING:
    from localrag.answer.summary import Summary
    from localrag.engine_collections import CollectionInfo
    from localrag.engine_status import EngineStatus
    from localrag.forget import Forgotten
    from localrag.ingest.watch import WatchEvent
    from localrag.models import ModelInfo


class EngineReady(Message):
    """Warm-up finished (or a status refresh came back)."""

    def __init__(self, status: EngineStatus) -> None:
        super().__init__()
        self.status = status


class WriterWaiting(Message):
    """A write of the app's waits for another process's writer: the writer lock's "waiting for ..." line."""

    def __init__(self, line: str) -> None:
        super().__init__()
        self.line = line


class AnswerStarted(Message):
    def __init__(self, hits: list[Hit], query: str) -> None:
        super().__init__()
        self.hits = hits
        self.query = query


class AnswerToken(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class AnswerFinished(Message):
    def __init__(self, answer: Answer) -> None:
        super().__init__()
        self.answer = answer


class IngestProgressed(Message):
    def __init__(self, progress: IngestProgress) -> None:
        super().__init__()
        self.progress = progress


class IngestFinished(Message):
    def __init__(self, report: IngestReport) -> None:
        super().__init__()
        self.report = report


class DocumentsListed(Message):
    def __init__(self, documents: list[Document], stale: dict[str, str]) -> None:
        super().__init__()
        self.documents = documents
        self.stale = stale  # path -> why, for documents read differently from how they would be now


class DocumentForgotten(Message):
    def __init__(self, forgotten: Forgotten) -> None:
        super().__init__()
        self.forgotten = forgotten


class DocumentSummarized(Message):
    def __init__(self, path: str, summary: Summary) -> None:
        super().__init__()
        self.path = path
        self.summary = summary


class ModelsListed(Message):
    def __init__(self, models: list[ModelInfo], current: ModelInfo | None) -> None:
        super().__init__()
        self.models = models
        self.current = current


class ModelSwitched(Message):
    def __init__(self, spec: str, name: str, was_extracting: bool = False) -> None:
        super().__init__()
        self.spec = spec
        self.name = name
        self.was_extracting = was_extracting  # answers were extracted before: the model writes them now


class CollectionsListed(Message):
    def __init__(self, collections: list[CollectionInfo], current: str) -> None:
        super().__init__()
        self.collections = collections
        self.current = current


class CollectionSwitched(Message):
    def __init__(self, name: str, created: str = "") -> None:
        super().__init__()
        self.name = name
        self.created = created  # what creating it said (`Engine.create_collection`), "" when it was not created


class FoldersChanged(Message):
    """A watched folder's change went into the index (or out of it)."""

    def __init__(self, event: WatchEvent) -> None:
        super().__init__()
        self.event = event


def user_error(exc: Exception) -> LocalRagError:
    """What the user sees of a worker's failure: a LocalRagError as is; anything else (a bug) wrapped.

    The traceback goes to the Textual log and the log file (`LocalRagApp.on_worker_failed`).
    """
    if isinstance(exc, LocalRagError):
        return exc
    trouble = disk_trouble(exc)  # a full or read-only disk, a folder the user may not write: no bug
    if trouble is not None:
        return trouble
    wrapped = LocalRagError(
        f"unexpected {exc.__class__.__name__}: {exc}",
        "this is a bug in localrag: please report it with the steps that led here",
    )
    wrapped.__cause__ = exc
    return wrapped


def write_error(exc: OSError, failed: str, hint: str) -> LocalRagError:
    """`failed` ("could not save the conversation") and why, as the CLI says it (`disk_trouble`): the disk is full,
    with its free space, or read-only, or the folder at fault with its owner, mode and fix. Any other OSError in its
    own words, with `hint`: "check the data folder is writable" was all the app said, for a full disk too."""
    trouble = disk_trouble(exc)
    if trouble is None:
        return LocalRagError(f"{failed} ({exc})", hint)
    return after(trouble, failed)


def failure_text(exc: Exception) -> str:
    """`exc` in words for a notice (a choice switched but not saved): a write's OSError as `write_error` says it."""
    trouble = disk_trouble(exc) if isinstance(exc, OSError) else None
    return str(trouble or exc)
