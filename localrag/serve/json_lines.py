"""Lines of JSON from a client, mended where the client cut a UTF-16 pair: MCP's stdio transport reads them.

JSON writes a character outside the Basic Multilingual Plane (an emoji) as two `\\uXXXX` escapes, a surrogate
pair. A client that cuts a string between the two halves (JavaScript's `slice` counts UTF-16 units) sends one
half alone. The MCP SDK's parser refuses the whole line, and as it cannot read the request's id it answers
nothing: the client waits for ever. Each lone half is written `\\ufffd` (U+FFFD) before the line is parsed,
which is what the Engine makes of a lone surrogate from any other front end (`safe_text.valid_text`).
"""

from __future__ import annotations

import io
import re

# An escaped backslash is matched as one unit, so that `\\ud83d` (a backslash, then the letters) is left as it is.
_ESCAPE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"  # a whole pair
    r"|\\u[dD][89a-fA-F][0-9a-fA-F]{2}"  # half of one
    r"|\\.",  # any other escape
    re.DOTALL,
)
_LONE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _mend(match: re.Match[str]) -> str:
    return "\\ufffd" if _LONE.fullmatch(match.group()) else match.group()


def mended_line(line: str) -> str:
    """`line` with each escape of a lone surrogate replaced by the escape of U+FFFD."""
    return _ESCAPE.sub(_mend, line) if "\\u" in line else line


class MendedLines(io.TextIOWrapper):
    """UTF-8 text read from a binary stream, a line at a time, as `mended_line`s."""

    # typeshed gives TextIOWrapper the readline of _IOBase (bytes) as well as its own (str).
    def readline(self, size: int = -1, /) -> str:  # type: ignore[override]
        return mended_line(super().readline(size))
