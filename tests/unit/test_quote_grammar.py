"""The shown-quote grammar: literals llama.cpp reads back as written, a run of words of each shown sentence under
its source's number."""

from __future__ import annotations

from localrag.raft.quote_grammar import literal, shown_quote_grammar


def test_a_literal_escapes_what_gbnf_would_read_as_syntax() -> None:
    assert literal('say "hi" \\ now') == '"say \\"hi\\" \\\\ now"'
    assert literal("a\nb\tc\x01") == '"a\\nb\\tc\\x01"'
    assert literal("naïve – 15‑45%") == '"naïve – 15‑45%"'  # UTF-8 stands as it is


def test_a_quote_is_any_run_of_three_or_more_consecutive_words_under_its_sources_number() -> None:
    grammar = shown_quote_grammar([["Alpha one two three."], [], ["Beta b c.", "Beta b c.", "Too short."]])
    assert grammar is not None
    lines = grammar.splitlines()
    assert lines[0] == 'root ::= "##begin_quote##" quote "\\n\\n<ANSWER>: " answer'
    assert lines[1] == ('quote ::= "Alpha one " w-1-0-2 "##end_quote## [1]" | "one two " w-1-0-3 "##end_quote## [1]" | '
                        '"Beta b " w-3-0-2 "##end_quote## [3]"')
    assert lines[2] == "answer ::= [^\\n]+"
    # A repeated sentence once; one of two words offers no run of three.
    assert lines[3:] == ['w-1-0-2 ::= "two" (" " w-1-0-3)?', 'w-1-0-3 ::= "three."', 'w-3-0-2 ::= "c."']
    assert shown_quote_grammar([[], ["Two words."]]) is None
