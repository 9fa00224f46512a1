"""Errors a user can act on.

Every error carries a one-line message naming the thing at fault and what to do about it. The CLI
prints `str(error)` to stderr with exit code 2; the TUI shows it in a modal. Anything that is not a
LocalRagError is a bug and keeps its traceback.
"""

from __future__ import annotations


class LocalRagError(Exception):
    """Base class: `message` says what went wrong, `hint` what to do."""

    title = "localrag error"

    def __init__(self, message: str, hint: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        # The request field at fault (`k`, `sentences`), which the API names as `param`; the CLI says it in words.
        self.field = field

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(LocalRagError):
    title = "Configuration error"


class ModelError(LocalRagError):
    title = "Model error"


class QuestionTooLongError(ModelError):
    """The question (with the instructions) leaves no room for a source in the model's prompt."""


class LoaderError(LocalRagError):
    """One file could not be read; the ingest reports it and goes on."""

    title = "Could not read file"


class NoTextError(LoaderError):
    """A file read whole holds no text: empty or blank. Its documents, if it had text before, leave the index."""


class NeedsOcrError(LoaderError):
    """A file whose text only OCR would read (a PDF of scanned pages), with OCR off: left out and said, as an image
    is then, not a failure."""


class StoreError(LocalRagError):
    title = "Store error"


class DiskError(LocalRagError):
    """A write that failed for want of a place to write (`disk_errors.py`): the disk is full or read-only, or the
    temporary folder is gone. Not the index's damage, and not the request's fault: the API answers 507."""

    title = "No room to write"


class EmptyGraphError(LocalRagError):
    """A graph question, and no triples to follow: each front end says how it builds the graph."""

    title = "The knowledge graph is empty"


class EmbedderMismatchError(StoreError):
    """The index was built by another embedder than the one asked to read or write it."""


class IndexReembeddedError(EmbedderMismatchError):
    """Another process re-embedded the index since this one opened it: its embedder no longer reads it."""

    title = "Index re-embedded by another command"


class MissingExtraError(LocalRagError):
    title = "Missing optional package"


class CancelledError(LocalRagError):
    title = "Cancelled"


def unreadable(exc: OSError | UnicodeDecodeError, wanted: str) -> tuple[str, str]:
    """Why a file a user named could not be read, and the fix, in words (Python's "[Errno 2] No such file or
    directory: 'x'" and codec messages, in the line, were read as a crash): `wanted` says what it should be."""
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text", f"save it as UTF-8 ({wanted})"
    if isinstance(exc, FileNotFoundError):
        return "no such file", f"check the path ({wanted})"
    if isinstance(exc, IsADirectoryError):
        return "a folder, not a file", f"name the file ({wanted})"
    return exc.strerror or str(exc), f"check the file ({wanted})"
