"""A `.json` file's string values as readable text: their escapes decoded in place, every line kept.

JSON writers escape what is not ASCII (Python's `json.dumps`, most exports): "Zoë" is `"Zo\\u00eb"`, a 👍 is
`"\\ud83d\\udc4d"`, a message's line break `\\n`. Indexed as written, no word with an accent, no emoji, and no
word after a line break ("\\nBring") could be found by keyword or quoted. So inside each string literal a
`\\uXXXX` (a surrogate pair as one character) and `\\/` become the characters they stand for, `\\t` a tab, and a
line break (`\\n`, `\\r\\n`, `\\u2028`) a space: a real line break would move every line below it, and a chunk's
lines are counted in this text (`lines.with_lines` reads the file through it), so they stay the file's. `\\"` and
`\\\\` stay escaped, as do control characters and a lone surrogate: the literal is still one JSON string, so the
structure stays readable and the chunker still finds where each string ends (`chunker._json_commas`). Outside
string literals nothing changes, so a file that does not parse (comments, JSON5) is read the same way.
"""

from __future__ import annotations

import re

# A string literal on one line, its escapes whole: an unpaired quote can misalign the literals of its line only.
_LITERAL = re.compile(r'"(?:[^"\\\n]|\\.)*"')
# A surrogate pair first, so its halves are read together; `\\\\` is its own escape, so `\\\\u00e9` is no "é".
_ESCAPE = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})|\\r\\n|\\u([0-9a-f]{4})|\\(.)", re.IGNORECASE)
_BREAKS = frozenset({0x0A, 0x0D, 0x2028, 0x2029})
_SIMPLE = {"n": " ", "r": " ", "t": "\t", "/": "/"}


def readable_json(text: str) -> str:
    """`text`, a JSON file's, with the escapes inside its string literals decoded; as many lines as it had."""
    if "\\" not in text:
        return text
    return _LITERAL.sub(lambda m: _ESCAPE.sub(_decoded, m.group()) if "\\" in m.group() else m.group(), text)


def _decoded(escape: re.Match[str]) -> str:
    high, low, unit, simple = escape.groups()
    if high is not None:
        return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + int(low, 16) - 0xDC00)
    if unit is not None:
        point = int(unit, 16)
        if point in _BREAKS:
            return " "
        if point == 0x09:
            return "\t"
        # What would end the literal or make it no text: quotes, backslashes, controls, a surrogate without its pair.
        if point < 0x20 or 0x7F <= point <= 0x9F or point in (0x22, 0x5C) or 0xD800 <= point <= 0xDFFF:
            return escape.group()
        return chr(point)
    if simple is None:  # `\r\n`
        return " "
    return _SIMPLE.get(simple, escape.group())
