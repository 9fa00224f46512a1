"""argparse `type=` converters shared by the command modules, so a bad number reads the same everywhere."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from localrag.paths import EMPTY_PATH, typed_path


def _number(value: str, kind: type[int] | type[float], what: str) -> int | float:
    """`value` as a number; argparse's own words for a non-number named the converter ("invalid count value")."""
    try:
        return kind(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value} is not {what}") from None


def integer(value: str) -> int:
    """A whole number, its range the Engine's or the setting's to check (argparse said "invalid int value")."""
    return int(_number(value, int, "a whole number"))


def number(value: str) -> float:
    """A number, its range checked where it is used (argparse said "invalid float value")."""
    return float(_number(value, float, "a number"))


def probability(value: str) -> float:
    number = float(_number(value, float, "a number from 0 to 1"))
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"{value} is not within 0 and 1")
    return number


def count(value: str) -> int:
    number = int(_number(value, int, "a whole number of 0 or more"))
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return number


def positive(value: str) -> int:
    number = int(_number(value, int, "a whole number of 1 or more"))
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return number


def _within(value: str, kind: type[int] | type[float], low: float, high: float, what: str) -> int | float:
    """`value` as a number from `low` to `high`; a non-number and one out of range are both "not `what`"."""
    number = _number(value, kind, what)
    if not low <= number <= high:  # NaN is in no range
        raise argparse.ArgumentTypeError(f"{value} is not {what}")
    return number


def whole(low: int, high: int) -> Callable[[str], int]:
    """A whole number from `low` to `high`: `raft build --k 1000000000` wrote its Q&A with the model for minutes,
    then ended in LanceDB's OverflowError."""
    return lambda value: int(_within(value, int, low, high, f"a whole number from {low} to {high}"))


def port(value: str) -> int:
    """A TCP port, 0 for one the kernel picks: 70000 was a traceback from bind()."""
    return int(_within(value, int, 0, 65535, "a port (0 to 65535; 0 picks a free one)"))


def seconds(value: str) -> float:
    """A duration: `nan` and `inf` were tracebacks where the watcher turned them into milliseconds."""
    return float(_within(value, float, 0.0, 3600.0, "a number of seconds from 0 to 3600"))


def embedder_arg(value: str) -> str:
    """An embedder to switch to: an empty one (an unset variable) re-embedded the whole index with the bundled
    model, undoing a tuned embedder in silence; only `bundled` says that."""
    if not value.strip():
        raise argparse.ArgumentTypeError("an empty name (an unset shell variable?); name a folder, an embedder or "
                                         "`bundled`")
    return value


def model_arg(value: str) -> str:
    """A model named on the command line: an empty one (an unset shell variable) would name the bundled model."""
    if not value.strip():
        raise argparse.ArgumentTypeError("an empty name (an unset shell variable?); name a model file, folder or "
                                         "one `localrag models` lists, or `bundled`")
    return value


def path_arg(value: str) -> Path:
    """A path given on the command line (`paths.typed_path` of its text, which still holds the `./` of `./~root`), an
    empty one refused as the Engine refuses it (`paths.refuse_unusable`)."""
    if not value.strip():
        raise argparse.ArgumentTypeError("; ".join(EMPTY_PATH))
    return typed_path(value)
