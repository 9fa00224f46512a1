"""`min_evidence`: refuse when no sentence of the sources scores enough by the evidence rule, asked with the
retrieval query (a follow-up carries the subject it leans on)."""

from __future__ import annotations

from localrag.answer.pipeline import answer_events, answerable
from localrag.answer.prompt import NO_ANSWER_TEXT
from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.types import DoneEvent
from tests.unit.test_prompt_sentences import HANDBOOK, QUESTION, Recorder, hit

OFF_TOPIC = "Which garage do the visitors' dogs sleep in on Sundays?"


def _done(question: str, query: str, settings: Settings, recorder: Recorder) -> DoneEvent:
    events = list(answer_events(question, query, [hit(HANDBOOK, "handbook")], generator=recorder,
                                embedder=HashEmbedder(), settings=settings))
    return next(e for e in events if isinstance(e, DoneEvent))


def test_a_question_whose_words_no_source_sentence_holds_is_refused_without_asking_the_model() -> None:
    embedder = HashEmbedder()
    sources = [hit(HANDBOOK, "handbook")]
    # Hash vectors mean nothing, so the word share decides: the handbook holds most of QUESTION's words, none of these.
    assert answerable(QUESTION, sources, embedder, embedder.embed_queries([QUESTION])[0], 0.8)
    assert not answerable(OFF_TOPIC, sources, embedder, embedder.embed_queries([OFF_TOPIC])[0], 0.8)
    recorder = Recorder()
    done = _done(OFF_TOPIC, OFF_TOPIC, Settings(min_evidence=0.8), recorder)
    assert done.answer.refused and done.answer.text == NO_ANSWER_TEXT and recorder.messages == []
    assert not _done(OFF_TOPIC, OFF_TOPIC, Settings(min_evidence=0.0), Recorder()).answer.refused  # 0: never


def test_a_follow_up_is_judged_by_its_retrieval_query_and_sources_without_sentences_are_not_judged() -> None:
    follow_up = "Do they lapse?"
    refused = _done(follow_up, follow_up, Settings(min_evidence=0.8), Recorder())
    assert refused.answer.refused  # alone, it shares only "lapse" with the handbook
    kept = _done(follow_up, f"{QUESTION} {follow_up}", Settings(min_evidence=0.8), Recorder())
    assert not kept.answer.refused
    embedder = HashEmbedder()
    terse = [hit("Parking: north.", "terse")]  # no sentence of three words to score
    assert answerable(OFF_TOPIC, terse, embedder, embedder.embed_queries([OFF_TOPIC])[0], 0.8)
