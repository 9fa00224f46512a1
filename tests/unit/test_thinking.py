"""ThoughtFilter: a reasoning model's <think> block cut from its reply, whatever pieces it arrives in."""

from __future__ import annotations

import pytest

from localrag.thinking import ThoughtFilter, closed_thinking


def shown(pieces: list[str]) -> tuple[str, ThoughtFilter]:
    thoughts = ThoughtFilter()
    text = "".join(thoughts.feed(piece) for piece in pieces) + thoughts.flush()
    return text, thoughts


@pytest.mark.parametrize("pieces", [
    ["<think>\nhm [2]\n</think>\n\nAda [1]."],
    ["<", "thi", "nk>", "hm", "</", "think", ">", "\n", "\n", "Ada", " [1]."],
    ["  \n<think>", "hm</think>Ada [1]."],
])
def test_the_block_is_cut_whatever_pieces_it_comes_in(pieces: list[str]) -> None:
    text, thoughts = shown(pieces)
    assert text == "Ada [1]." and thoughts.thought and not thoughts.thinking
    # Every piece up to the one that closes the block, the markers' included.
    assert thoughts.pieces == {1: 1, 11: 7, 2: 2}[len(pieces)]


@pytest.mark.parametrize("reply", ["<thinking> is a tag.", "Ada <think>x</think>", "<", "  <thi"])
def test_a_reply_that_opens_no_block_at_its_start_is_kept_whole(reply: str) -> None:
    text, thoughts = shown(list(reply))
    assert text == reply and not thoughts.thought


def test_a_block_never_closed_shows_nothing() -> None:
    text, thoughts = shown(["<think>", "hm </thi"])
    assert text == "" and thoughts.thinking


def test_a_block_the_prompt_opens_is_closed_there() -> None:
    assert closed_thinking("<|im_start|>assistant\n<think>\n") == "<|im_start|>assistant\n<think>\n\n</think>\n\n"
    done = "<|im_start|>assistant\n<think>\n\n</think>\n\n"
    assert closed_thinking(done) == done
