"""The CLI's two consoles: safe for any text a document holds, and plain when piped.

- Every renderable printed goes through a render hook that runs its text segments through
  `safe_text.printable`, so an escape sequence in a file name, heading, quote, triple or error
  message is shown as `\\x1b[41m`, never executed, whichever command printed it. Rich's own styling
  is applied after the text is rendered (and its cursor controls are control segments), so colours
  and the progress bar still work on a terminal.
- When the stream is not a terminal, nothing wraps or is cropped and no colour is written: a
  file name in an error stays on one line for `grep`, however long.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

from rich.console import Console, ConsoleOptions, ConsoleRenderable, RenderableType, RenderHook
from rich.segment import Segment

from localrag.safe_text import printable

# Wide enough that no line of a table or message is folded when the output goes to a pipe or file.
PIPE_WIDTH = 100_000


class _Printable:
    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        for segment in console.render(self.renderable, options):
            if segment.control or not segment.text:
                yield segment
            else:
                yield Segment(printable(segment.text), segment.style)


class _SanitiseHook(RenderHook):
    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        return [_Printable(r) for r in renderables]


def make_console(*, stderr: bool = False) -> Console:
    """A console for stdout (or stderr) that shows control characters and does not wrap in a pipe."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        console = Console(stderr=stderr, highlight=False)
    else:
        # Not a terminal even when FORCE_COLOR says so (CI runners and dotfiles set it): rich then took the pipe for
        # one, and tables, progress bars and bold escapes went into what scripts read.
        console = Console(stderr=stderr, highlight=False, soft_wrap=True, width=PIPE_WIDTH, no_color=True,
                          force_terminal=False)
    console.push_render_hook(_SanitiseHook())
    return console
