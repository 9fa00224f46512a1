"""The shown-quote grammar: literals llama.cpp reads back as written, one choice per shown sentence."""

from __future__ import annotations

from localrag.raft.quote_grammar import literal, shown_quote_grammar


def test_a_literal_escapes_what_gbnf_would_read_as_syntax() -> None:
    assert literal('say "hi" \\ now') == '"say \\"hi\\" \\\\ now"'
    assert literal("a\nb\tc\x01") == '"a\\nb\\tc\\x01"'
    assert literal("naïve – 15‑45%") == '"naïve – 15‑45%"'  # UTF-8 stands as it is


def test_each_shown_sentence_is_a_choice_under_its_own_number() -> None:
    grammar = shown_quote_grammar([["Alpha one two.", "Beta three four."], [], ["Gamma five six."]])
    assert grammar is not None
    root, quote, answer = grammar.splitlines()
    assert root == 'root ::= "##begin_quote##" quote "\\n\\n<ANSWER>: " answer'
    assert quote == ('quote ::= "Alpha one two." "##end_quote## [1]" | "Beta three four." "##end_quote## [1]" | '
                     '"Gamma five six." "##end_quote## [3]"')
    assert answer == "answer ::= [^\\n]+"
    assert shown_quote_grammar([[], []]) is None


def test_with_spans_a_quote_is_any_run_of_three_or_more_consecutive_words() -> None:
    grammar = shown_quote_grammar([["Alpha one two three."], ["Beta b c."]], spans=True)
    assert grammar is not None
    lines = grammar.splitlines()
    assert lines[1] == ('quote ::= "Alpha one " w-1-0-2 "##end_quote## [1]" | "one two " w-1-0-3 "##end_quote## [1]" | '
                        '"Beta b " w-2-0-2 "##end_quote## [2]"')
    assert lines[3:] == ['w-1-0-2 ::= "two" (" " w-1-0-3)?', 'w-1-0-3 ::= "three."', 'w-2-0-2 ::= "c."']
