"""A citation without a quote is checked: its source must hold some of the words its sentence adds to the question."""

from __future__ import annotations

from localrag.answer import finish_answer
from localrag.answer.claims import UNSUPPORTED_LABEL, unsupported_citations
from localrag.conversations import Conversation, SavedSource, export_markdown, turn_from_answer
from localrag.shapes import answer_json
from localrag.tui.widgets.sources import source_label
from localrag.types import Chunk, GenerationStats, Hit

QUESTION = "How many vacation days do employees get?"
COFFEE = "Die Kaffeemaschine im zweiten Stock wird jeden Freitag von Anna gereinigt."
HANDBOOK = "Vacation. Employees get 25 days of paid vacation per year, booked through the portal."
EXPENSES = "Expenses. Employees book trips through the travel desk; the portal holds the forms."


def hit(text: str, name: str) -> Hit:
    return Hit(Chunk(name, name, f"/home/me/docs/{name}.md", 0, text, 0, len(text)), 1.0, vector_score=0.9)


SOURCES = [hit(COFFEE, "de"), hit(HANDBOOK, "handbook"), hit(EXPENSES, "expenses")]


def test_a_source_holding_none_of_the_added_words_is_unsupported() -> None:
    assert unsupported_citations(QUESTION, "Employees get 25 days of paid vacation per year [1].", SOURCES) == [1]
    assert unsupported_citations(QUESTION, "Employees get 25 days of paid vacation per year [2].", SOURCES) == []
    # The expenses section holds "employees", a word of the question, but none of what the answer adds.
    assert unsupported_citations(QUESTION, "Employees get 25 days of paid vacation per year [3].", SOURCES) == [3]


def test_each_citation_is_read_with_its_own_sentence() -> None:
    text = "Employees get 25 days [2]. Trips go through the travel desk [3]. The portal is run by Anna [1]."
    assert unsupported_citations(QUESTION, text, SOURCES) == []
    swapped = "Employees get 25 days [3]. Trips need the travel desk [2]."
    assert unsupported_citations(QUESTION, swapped, SOURCES) == [3, 2]


def test_a_mark_after_the_full_stop_and_a_short_sentence_read_the_sentence_before() -> None:
    assert unsupported_citations(QUESTION, "Employees get 25 days of paid vacation. [1]", SOURCES) == [1]
    assert unsupported_citations(QUESTION, "Employees get 25 days of paid vacation. [2]", SOURCES) == []
    assert unsupported_citations(QUESTION, "They get 25 paid days. The answer is: 25 [2]", SOURCES) == []


def test_an_echoed_prompt_label_is_not_a_claim() -> None:
    text = "Employees get 25 days of paid vacation.\n\nQuestion again: How many vacation days do employees get?\n\n" \
           "The answer is: [2]"
    assert unsupported_citations(QUESTION, text, SOURCES) == []


def test_a_citation_localrag_added_cites_the_whole_answer() -> None:
    text = "Employees get 25 days of paid vacation. Staff may start early. [2]"
    assert unsupported_citations(QUESTION, text, SOURCES) == [2]
    assert unsupported_citations(QUESTION, text, SOURCES, attributed=True) == []
    assert unsupported_citations(QUESTION, "Staff may start early. [1]", SOURCES, attributed=True) == [1]


def test_numbers_written_as_words_count_as_their_digits() -> None:
    sources = [hit("The teaching apiary has fourteen hives behind the mill.", "bees")]
    assert unsupported_citations("How many hives does the apiary have?", "It has 14 hives [1].", sources) == []


def test_a_sources_own_reference_mark_inside_a_verbatim_quote_is_not_checked() -> None:
    paper = hit("Mortality was 15-45% [2] in the first wave.", "paper")
    text = 'The paper says "Mortality was 15-45% [2] in the first wave" [1].'
    assert unsupported_citations("What was the mortality?", text, [paper, hit(COFFEE, "de")]) == []


def test_the_answer_carries_the_check_into_json_saved_turns_exports_and_the_sources_panel() -> None:
    answer = finish_answer(QUESTION, "Employees get 25 days of paid vacation per year [1].", SOURCES,
                           GenerationStats(), "m")
    assert answer.cited == [1] and answer.unsupported_citations == [1]
    assert answer_json(answer)["unsupported_citations"] == [1]
    turn = Conversation.from_json(Conversation("c", turns=[turn_from_answer(answer)]).to_json()).turns[0]
    assert turn.unsupported_citations == [1]
    assert f"cited ({UNSUPPORTED_LABEL})" in export_markdown(Conversation("c", turns=[turn]))
    first: SavedSource = turn.sources[0]
    assert "✗ cited, unsupported" in source_label(first, turn).plain
    assert "● cited" not in source_label(first, turn).plain


def test_the_cli_marks_the_unsupported_source_on_its_line() -> None:
    import io

    from rich.console import Console

    from localrag.cli.everyday import _print_sources

    answer = finish_answer(QUESTION, "Employees get 25 days of paid vacation per year [1][2].", SOURCES,
                           GenerationStats(), "m")
    out = io.StringIO()
    _print_sources(answer, Console(file=out, width=300, no_color=True))
    lines = out.getvalue().splitlines()
    assert f"[1] /home/me/docs/de.md  (cited, but it {UNSUPPORTED_LABEL})" in lines
    assert "[2] /home/me/docs/handbook.md  (cited)" in lines
