"""The API's JSON response: Starlette's, written by the rule of the CLI's `--json` (`safe_text.json_text`).

Starlette's own wrote C1 controls, bidirectional overrides and invisible characters as they were: a file named
`invoice\\u202efdp.md` printed reversed in `curl`, where `search --json` escaped it.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from localrag.safe_text import json_text


class SafeJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        # Starlette's options but for the escapes: compact, and no NaN (which is no JSON).
        return json_text(content, allow_nan=False, indent=None, separators=(",", ":")).encode("utf-8")
