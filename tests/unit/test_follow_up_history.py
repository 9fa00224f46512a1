"""What a follow-up leans on, and the history an answer's prompt gets (answer/pipeline.py)."""

from __future__ import annotations

from localrag.answer import NO_ANSWER_TEXT
from localrag.answer.pipeline import follow_up_query, leaning_query, prompt_history

FIRST = "When was Kestrel Point first lit?"


def saved(*turns: tuple[str, str, str]) -> list[dict[str, str]]:
    """History as a saved conversation gives it: each answer with the query its question was searched with."""
    history = []
    for question, answer, query in turns:
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer, "query": query}]
    return history


def test_follow_ups_in_a_row_lean_on_the_last_answered_query() -> None:
    history = saved((FIRST, "On 14 March 1871.", FIRST),
                    ("How tall is it?", "38 metres.", f"{FIRST} How tall is it?"))
    # Before 2026-12-07: "How tall is it? How many steps does it have?", the lighthouse lost (and refused).
    assert follow_up_query("How many steps does it have?", history) == (
        f"{FIRST} How tall is it? How many steps does it have?")
    history += saved(("How many steps does it have?", "142 steps.",
                      f"{FIRST} How tall is it? How many steps does it have?"))
    # The subject stays, and the query holds three questions at most.
    assert follow_up_query("Who built it?", history) == f"{FIRST} How many steps does it have? Who built it?"


def test_an_elliptical_follow_up_answered_after_the_question_keeps_its_subject() -> None:
    berlin = "What is the hotel cap in Berlin?"
    history = saved((berlin, "160 euros.", berlin), ("And in London?", "210 euros.", f"{berlin} And in London?"))
    assert leaning_query("What is its meal allowance?", history) == (
        f"{berlin} And in London? What is its meal allowance?")


def test_a_refused_question_is_passed_over() -> None:
    # A saved conversation leaves the refusal out; an API client sends it back.
    saved_history = [*saved((FIRST, "On 14 March 1871.", FIRST)),
                     {"role": "user", "content": "What was its character?"}]
    api_history = [{"role": "user", "content": FIRST}, {"role": "assistant", "content": "On 14 March 1871."},
                   {"role": "user", "content": "What was its character?"},
                   {"role": "assistant", "content": NO_ANSWER_TEXT}]
    for history in (saved_history, api_history):
        # Before 2026-12-07: "What was its character? Who built it?", refused.
        assert follow_up_query("Who built it?", history) == f"{FIRST} Who built it?"


def test_messages_without_queries_are_read_by_the_same_rule() -> None:
    api_history = [{"role": "user", "content": FIRST}, {"role": "assistant", "content": "On 14 March 1871."},
                   {"role": "user", "content": "How tall is it?"}, {"role": "assistant", "content": "38 metres."}]
    assert follow_up_query("How many steps does it have?", api_history) == (
        f"{FIRST} How tall is it? How many steps does it have?")
    # A question without a word that leans stood alone: the next follow-up leans on it.
    api_history += [{"role": "user", "content": "Who approves travel?"},
                    {"role": "assistant", "content": "Your line manager."}]
    assert follow_up_query("Who else must approve it?", api_history) == "Who approves travel? Who else must approve it?"
    assert leaning_query("Who built it?", []) is None


def test_a_question_searched_as_asked_gets_no_history_and_a_follow_up_only_the_exchange_it_leans_on() -> None:
    history = saved(*[(f"Question {n} on the lighthouse?", f"Answer {n}.", f"Question {n} on the lighthouse?")
                      for n in range(10)])
    history.append({"role": "user", "content": "A refused question?"})
    assert prompt_history("Who approves travel?", "Who approves travel?", history) == []
    query = follow_up_query("How tall is it?", history)
    assert prompt_history("How tall is it?", query, history) == [
        {"role": "user", "content": "Question 9 on the lighthouse?"}, {"role": "assistant", "content": "Answer 9."}]


def test_pronouns_of_each_question_language_and_short_elliptical_questions_lean() -> None:
    from localrag.answer.pipeline import leans

    # Before 2026-12-08 only English pronouns marked a follow-up.
    for question in ("Wie hoch ist er?", "Wann wurde sie gebaut?", "Wer hat ihn gebaut?",
                     "Quand a-t-il été construit ?", "Combien d'employés a-t-elle ?", "Quanto è alta essa?",
                     "¿Cuándo abrió ella?",
                     "Quantos funcionários tem ela?", "and in 2023?", "What about Lisbon?", "Und in Köln?",
                     "Et à Paris ?", "¿Y en 2023?", "Why?", "And E7?"):
        assert leans(question), question
    # The same words as articles, the polite "Sie", the impersonal "il", Spanish "y" inside a question, and a longer
    # question opening with "and" say what they ask about.
    for question in ("Wann wurde die Brücke gebaut?", "Können Sie mir die Öffnungszeiten sagen?",
                     "Combien de temps faut-il pour venir ?", "Y a-t-il un parking ?",
                     "Quelle est la hauteur du phare ?",
                     "¿Cuál es la diferencia entre té y café?", "Who approves travel?", "Descaling?",
                     "And what does the travel policy say about business class flights?"):
        assert not leans(question), question
