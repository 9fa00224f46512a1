"""Follow-ups in a conversation over documents that tell several subjects apart by one word (an office's city, a
tower's name): the follow-up is searched after its subject and answered with the subject's sentence, in English and
German, and a short "and in 2023?" is one even when, alone, it finds something (answer/pipeline.py, `leans`)."""

from __future__ import annotations

from pathlib import Path

from localrag.conversations import Conversation, turn_from_answer
from localrag.engine import Engine
from localrag.types import Answer, DoneEvent

OFFICES = """# Offices

## Munich office

The Munich office opened in 2015 and has 40 employees. It is led by Petra Vogel. The Munich office is in the centre.

## Berlin office

The Berlin office opened in 2019 and has 120 employees. It is led by Jonas Keller. The Berlin office is by the station.

## Paris office

The Paris office opened in 2021 and has 25 employees. It is led by Claire Dubois. The Paris office is on the left bank.
"""
REVENUE = """# Revenue

In 2022 Acme reported revenue of 14 million EUR, driven by hardware sales. In 2023 Acme reported revenue of 19 million
EUR, driven by cloud subscriptions. The growth in 2023 was caused by the launch of the Nimbus cloud platform in March
2023.
"""
OPENING_HOURS = """# Visiting

The museum and tower are open daily from April to October, from 10:00 to 17:00.
"""


def ingested(engine: Engine, tmp_path: Path, files: dict[str, str]) -> Engine:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    engine.ingest([folder])
    engine.settings = engine.settings.replace(answer_mode="extract")
    return engine


def conversed(engine: Engine, *questions: str) -> list[Answer]:
    """`questions` asked in one conversation, each answer saved as `ask --conversation` saves it."""
    conversation = Conversation(id="chat")
    answers = []
    for question in questions:
        history = conversation.add_question(question)
        answer = next(e.answer for e in engine.stream(question, history=history) if isinstance(e, DoneEvent))
        conversation.turns.append(turn_from_answer(answer, answer.query))
        answers.append(answer)
    return answers


def test_a_follow_up_is_answered_with_its_subject_s_sentence(engine: Engine, tmp_path: Path) -> None:
    ingested(engine, tmp_path, {"offices.md": OFFICES, "revenue.md": REVENUE, "visiting.md": OPENING_HOURS})
    first = "When did the Berlin office open?"
    _, people = conversed(engine, first, "how many people work there?")
    assert people.query == f"{first} how many people work there?"
    # Before 2026-12-08: "The Paris office opened in 2021 and has 25 employees.", chosen for "how many people" alone.
    assert "120 employees" in people.text
    _, opened = conversed(engine, first, "when did it open?")
    # Before: "The museum and tower are open daily ...", the sentence holding "open".
    assert "Berlin office opened in 2019" in opened.text


def test_a_short_follow_up_opening_with_and_keeps_its_subject(engine: Engine, tmp_path: Path) -> None:
    ingested(engine, tmp_path, {"offices.md": OFFICES, "revenue.md": REVENUE})
    first = "What was Acme's revenue in 2022?"
    _, later = conversed(engine, first, "and in 2023?")
    # Before 2026-12-08 searched as asked (alone it found "The growth in 2023 was caused by ...", which it quoted).
    assert later.query == f"{first} and in 2023?"
    assert "19 million EUR" in later.text


def test_a_german_follow_up_leans_on_the_question_before_it(engine: Engine, tmp_path: Path) -> None:
    ingested(engine, tmp_path, {
        "leuchtturm.md": "Der Leuchtturm von Norderoog wurde 1902 gebaut. Er ist 31 Meter hoch und hat 180 Stufen.\n",
        "wasserturm.md": "Der Wasserturm von Lindenau wurde 1911 gebaut. Er ist 45 Meter hoch und hat 210 Stufen.\n"})
    first = "Wann wurde der Wasserturm von Lindenau gebaut?"
    _, height = conversed(engine, first, "Wie hoch ist er?")
    # Before 2026-12-08 searched as asked and answered with the lighthouse's 31 metres.
    assert height.query == f"{first} Wie hoch ist er?"
    assert "45 Meter" in height.text


def test_asked_where_the_answer_says_so_the_same_sentence_and_document_answer(engine: Engine, tmp_path: Path) -> None:
    ingested(engine, tmp_path, {"offices.md": OFFICES, "revenue.md": REVENUE})
    _, where = conversed(engine, "What was Acme's revenue in 2023?", "which document says that?")
    # Before 2026-12-08: "It is led by Petra Vogel." from offices.md, chosen for "which document says that" alone.
    assert "19 million EUR" in where.text
    assert [where.sources[n - 1].chunk.path for n in where.cited] == [str(tmp_path / "docs" / "revenue.md")]
