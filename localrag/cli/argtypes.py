"""argparse `type=` converters shared by the command modules, so a bad number reads the same everywhere."""

from __future__ import annotations

import argparse
from pathlib import Path

from localrag.paths import EMPTY_PATH


def probability(value: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"{value} is not within 0 and 1")
    return number


def count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return number


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return number



def path_arg(value: str) -> Path:
    """A path given on the command line, an empty one refused as the Engine refuses it (`paths.refuse_empty`)."""
    if not value.strip():
        raise argparse.ArgumentTypeError("; ".join(EMPTY_PATH))
    return Path(value)
