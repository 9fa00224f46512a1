"""A reasoning model's thinking, kept out of its answer.

Reasoning models (Qwen3, DeepSeek-R1's distills, QwQ: models users already keep in Ollama and LM Studio)
write `<think> … </think>` before they answer. Shown, that block was the answer: its sentences were checked
as claims, its "[1]"s counted as citations, and with the default `max_answer_tokens` the block often took the
whole budget, leaving an "answer" that was half a thought. Qwen3's template is asked not to think
(`enable_thinking=False`, as `ollama run --think=false` asks it); a model that thinks all the same has the
block cut from what it writes, counted, and said. DeepSeek-R1's template opens the block itself at the end of
the prompt; localrag closes it there (`closed_thinking`), as Qwen3's template does when asked not to think: inside
an open block a reply held to a grammar (a quote, a question's JSON, a graph step) could never write the "</think>"
that ends it, and came back empty.
"""

from __future__ import annotations

OPEN = "<think>"
CLOSE = "</think>"

# What a chat template is given so that a model able to answer without thinking does (Qwen3's templates write an
# empty think block when it is False; every other template ignores a variable it does not use).
TEMPLATE_VARIABLES = {"enable_thinking": False}


def closed_thinking(prompt: str) -> str:
    """A rendered prompt with the think block its template opened (DeepSeek-R1's assistant cue ends with
    "<think>\\n") closed empty, as Qwen3's template closes it; any other prompt as it is."""
    return f"{prompt.rstrip()}\n\n{CLOSE}\n\n" if prompt.rstrip().endswith(OPEN) else prompt


def held_back(text: str, marker: str) -> int:
    """The length of `text`'s longest tail that could still grow into `marker`: what a stream holds back so that
    the marker is never let out half-written (a stop string, "</think>")."""
    for size in range(min(len(marker) - 1, len(text)), 0, -1):
        if text.endswith(marker[:size]):
            return size
    return 0


class ThoughtFilter:
    """Feed it a reply's text piece by piece (a token's text each); it returns the answer's text, without the think
    block.

    A reply opens a block only at its start (after blank space); the answer's text after a block starts at its
    first non-blank character. `thinking` is True while inside a block, `thought` once one was seen, `pieces` counts
    the pieces the block took, its markers' included."""

    def __init__(self) -> None:
        self.thinking = False
        self.pieces = 0
        self._at_start = True  # the reply's first characters may still open a block
        self._opening = 0  # pieces fed while that is undecided: "<", "think", ">" are the block's once it opens
        self._after_block = False  # blank space after a block is not the answer's
        self._pending = ""

    @property
    def thought(self) -> bool:
        return self.pieces > 0

    def feed(self, piece: str) -> str:
        self._pending += piece
        if self.thinking:
            self.pieces += 1
        if self._at_start:
            self._opening += 1
            head = self._pending.lstrip()
            if not head or (OPEN.startswith(head) and head != OPEN):
                return ""
            self._at_start = False
            if head.startswith(OPEN):
                self.thinking = True
                self.pieces += self._opening
                self._pending = head[len(OPEN):]
        if self.thinking:
            end = self._pending.find(CLOSE)
            if end < 0:
                held = held_back(self._pending, CLOSE)
                self._pending = self._pending[len(self._pending) - held:]
                return ""
            self.thinking = False
            self._after_block = True
            self._pending = self._pending[end + len(CLOSE):]
        if self._after_block:
            self._pending = self._pending.lstrip()
            if not self._pending:
                return ""
            self._after_block = False
        out, self._pending = self._pending, ""
        return out

    def flush(self) -> str:
        """What is left once the reply ended: text held back at its start that never became `<think>`; nothing of
        a block that never closed."""
        out = "" if self.thinking else self._pending
        self._pending = ""
        return out
