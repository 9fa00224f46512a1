"""A conversation that runs long, with the bundled models over sample documents: follow-ups in a row keep their
subject, and a question that stands alone is answered as with no history."""

from __future__ import annotations

import shutil
from pathlib import Path

from localrag.answer import NO_ANSWER_TEXT
from localrag.conversations import Conversation, Turn, turn_from_answer
from localrag.engine import Engine
from localrag.ingest.discover import sample_corpus_dir
from localrag.types import Answer, DoneEvent

FIRST = "When was Kestrel Point first lit?"


def ingested(engine: Engine, tmp_path: Path, *names: str) -> Engine:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in names:
        shutil.copy(sample_corpus_dir() / name, folder / name)
    engine.ingest([folder])
    return engine


def asked(engine: Engine, conversation: Conversation, question: str) -> Answer:
    """`question` asked in `conversation` and its answer saved, as `ask --conversation` and the chat app do."""
    history = conversation.add_question(question)
    answer = next(e.answer for e in engine.stream(question, history=history) if isinstance(e, DoneEvent))
    conversation.turns.append(turn_from_answer(answer, answer.query))
    return answer


def test_follow_ups_in_a_row_keep_the_subject_and_a_refused_question_is_passed_over(
    engine: Engine, tmp_path: Path
) -> None:
    ingested(engine, tmp_path, "kestrel-point-lighthouse.md", "beekeeping-basics.txt")
    engine.settings = engine.settings.replace(answer_mode="extract")
    conversation = Conversation(id="chat")
    assert "1871" in asked(engine, conversation, FIRST).text
    assert "38 metres" in asked(engine, conversation, "How tall is it?").text
    # Before 2026-12-07 searched as "How tall is it? How many steps does it have?" and refused.
    steps = asked(engine, conversation, "How many steps does it have?")
    assert not steps.refused and "142 steps" in steps.text and steps.query.startswith(FIRST)
    conversation.turns += [Turn(role="user", text="What was its colour scheme?"),
                           Turn(role="assistant", text=NO_ANSWER_TEXT, refused=True)]
    # Before: searched as "What was its colour scheme? Who built it?" and refused.
    built = asked(engine, conversation, "Who built it?")
    assert not built.refused and "Voss" in built.text and "colour" not in built.query


def test_a_question_that_stands_alone_late_in_a_conversation_is_answered_as_with_no_history(
    engine: Engine, tmp_path: Path
) -> None:
    ingested(engine, tmp_path, "kestrel-point-lighthouse.md", "larkspur-travel-policy.docx")
    engine.settings = engine.settings.replace(max_answer_tokens=40)
    said = "The Kestrel Point Lighthouse is currently located on the northern headland of Brannock Bay."
    conversation = Conversation(id="chat")
    for question in ("Who built it?", "Where was the stone quarried?", "What happened in 1903?",
                     "Who was the first woman principal keeper?", "What was the original lamp fuel?"):
        conversation.turns += [Turn(role="user", text=question), Turn(role="assistant", text=said, query=question)]
    question = "Who approves travel?"
    alone = engine.ask(question)
    answer = asked(engine, conversation, question)
    # Before 2026-12-07 the prompt held the earlier turns, and the bundled model copied their answer. Now it is the
    # prompt the question gets alone (the text may still differ in a word: the model's cache reuses the prompt).
    assert answer.query == question and answer.stats.prompt_tokens == alone.stats.prompt_tokens
    assert "Kestrel" not in answer.text and answer.stats.history_left_out == 0
