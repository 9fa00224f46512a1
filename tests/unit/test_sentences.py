"""Sentence spans shared by the best-sentence rule, the RAFT builder's quotes and the inverse-cloze questions."""

from __future__ import annotations

from localrag.sentences import one_line, sentence_spans


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_a_wrapped_sentence_is_one_and_a_blank_line_ends_it() -> None:
    text = "Bees leave the hive to\nfind a new home. They\nsettle nearby\n\nin a tree. Then they move."
    assert _sentences(text) == ["Bees leave the hive to\nfind a new home.", "They\nsettle nearby", "in a tree.",
                                "Then they move."]
    assert one_line("Bees leave the hive to\n  find a new home.") == "Bees leave the hive to find a new home."


def test_table_rows_without_bars_at_the_edges_are_units_of_their_own() -> None:
    """The HTML and sheet loaders write a row as "a | b | c", not "| a | b |"."""
    text = ("Plant | Light | Water\nMonstera | Bright, indirect | When dry\nSnake plant | Low | Monthly\n"
            "Water less\nin winter.")
    assert _sentences(text) == ["Plant | Light | Water", "Monstera | Bright, indirect | When dry",
                                "Snake plant | Low | Monthly", "Water less\nin winter."]
    # One bar is prose, not a table ("either | or" in a sentence).
    assert _sentences("Pick tea | coffee\nand sit down.") == ["Pick tea | coffee\nand sit down."]


def test_headings_and_list_items_end_a_sentence() -> None:
    text = "# Swarms\nA swarm is calm\nat first.\n- check the queen cells\n  every week\n* Mark the queen."
    assert _sentences(text) == ["# Swarms", "A swarm is calm\nat first.", "- check the queen cells\n  every week",
                                "* Mark the queen."]
