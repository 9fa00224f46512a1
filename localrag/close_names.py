"""The name a user likely meant by one that is no name of the set: `--top_k` for `--top-k`, `topk` for `top_k`.

Written otherwise (dashes, underscores, case) or a letter or two wrong: the one rule for an HTTP request's or an MCP
call's field (`serve/fields.py`), a CLI option and a setting's name.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def bare_name(name: str) -> str:
    """A name as it may have been meant: `path-glob`, `pathGlob`, `PATH_GLOB` and `--path-glob` all read `pathglob`."""
    return name.replace("-", "").replace("_", "").lower()


def close_name(name: str, known: Iterable[str]) -> str | None:
    """The one of `known` that `name` is a near miss of, or None."""
    bare = {bare_name(k): k for k in known}
    if bare_name(name) in bare:
        return bare[bare_name(name)]
    close = difflib.get_close_matches(bare_name(name), list(bare), n=1, cutoff=0.75)
    return bare[close[0]] if close else None
