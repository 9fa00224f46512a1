"""Answers in the RAFT training format: quotes checked from the tags, text tidied, raw text kept."""

from __future__ import annotations

from localrag.answer import finish_answer, quoted_answer, split_raft_answer, tidy_raft_text
from localrag.types import Chunk, GenerationStats, Hit, QuoteStatus


def hit(text: str, n: int = 0) -> Hit:
    return Hit(Chunk(f"c{n}", f"d{n}", f"/docs/{n}.md", 0, text, 0, len(text)), 1.0)


HITS = [
    hit("Bees swarm in late spring. The queen lays two thousand eggs daily in summer.", 1),
    hit("The Kestrel Point lighthouse was first lit on 14 March 1871 by keeper Ames.", 2),
]


def test_raft_reply_quotes_are_verified_and_text_is_tidied() -> None:
    raw = (
        "Document [2] answers this. It says: ##begin_quote##was first lit on 14 March 1871##end_quote## [2] "
        "So the answer is: 14 March 1871\n\n<ANSWER>: 14 March 1871"
    )
    answer = finish_answer("When was it lit?", raw, HITS, GenerationStats(), "tuned")
    assert answer.raw_text == raw
    assert "##" not in answer.text and "<ANSWER>" not in answer.text
    assert answer.text.endswith("\n\nAnswer: 14 March 1871")
    assert "“was first lit on 14 March 1871” [2]" in answer.text
    assert answer.cited == [2]
    assert [(q.status, q.source) for q in answer.quotes] == [(QuoteStatus.VERIFIED, 2)]


def test_quote_attributed_to_the_wrong_source_is_not_verified() -> None:
    raw = "##begin_quote##The queen lays two thousand eggs daily##end_quote## [2]\n<ANSWER>: two thousand"
    answer = finish_answer("How many eggs?", raw, HITS, GenerationStats(), "tuned")
    assert [q.status for q in answer.quotes] == [QuoteStatus.NOT_FOUND]


def test_uncited_raft_quote_is_found_in_any_source_and_close_matches_count() -> None:
    raw = "##begin_quote##the queen lays two thousand egs daily##end_quote## so\n<ANSWER>: 2000"
    answer = finish_answer("How many eggs?", raw, HITS, GenerationStats(), "tuned")
    assert [(q.status, q.source) for q in answer.quotes] == [(QuoteStatus.CLOSE, 1)]
    assert answer.text == "“the queen lays two thousand egs daily” so\n\nAnswer: 2000"


def test_plain_answers_are_left_exactly_as_they_were() -> None:
    raw = 'It was lit in 1871 [2]: "first lit on 14 March 1871". ## Notes #begin'
    answer = finish_answer("When?", raw, HITS, GenerationStats(), "m")
    assert answer.text == answer.raw_text == raw


def test_split_takes_the_first_answer_and_stops_at_a_repeated_tag() -> None:
    assert split_raft_answer("no tag here") is None
    assert split_raft_answer("why\n<ANSWER>: yes <ANSWER>: yes again") == ("why", "yes")
    assert split_raft_answer("<answer> 42") == ("", "42")


def test_truncated_or_unmatched_markup_is_dropped_not_shown() -> None:
    assert tidy_raft_text("It says ##begin_quote##the queen lays eggs") == "It says the queen lays eggs"
    assert tidy_raft_text("It says ##begin_quote##the queen##end_quote## and ##end_q") == "It says “the queen” and"
    assert tidy_raft_text("Because of X.\n<ANSWER>:") == "Because of X."


def test_answer_from_quote_takes_the_first_verified_quote_as_the_final_answer() -> None:
    raw = ("##begin_quote##The queen lays nine eggs##end_quote## [1] "
           "##begin_quote##was first lit on 14 March 1871 by keeper Ames##end_quote## [2]\n<ANSWER>: Ames")
    answer = finish_answer("When was it lit?", raw, HITS, GenerationStats(), "tuned", answer_from_quote=True)
    assert [q.status for q in answer.quotes] == [QuoteStatus.NOT_FOUND, QuoteStatus.VERIFIED]
    assert answer.text.endswith("\n\nAnswer: was first lit on 14 March 1871 by keeper Ames")
    assert answer.raw_text == raw and answer.cited == [1, 2]
    # Off (the default), or with nothing verified, the model's own answer stays.
    assert finish_answer("q", raw, HITS, GenerationStats(), "tuned").text.endswith("\n\nAnswer: Ames")
    unverified = "##begin_quote##The queen lays nine eggs##end_quote## [1]\n<ANSWER>: nine"
    assert finish_answer("q", unverified, HITS, GenerationStats(), "t", answer_from_quote=True).text.endswith(
        "Answer: nine")


def test_only_raft_quote_tags_stand_in_for_the_answer() -> None:
    # A base model's "double-quoted" text is verified too, but it is not a RAFT quote: its answer is untouched.
    raw = 'The record says "first lit on 14 March 1871" [2].'
    answer = finish_answer("q", raw, HITS, GenerationStats(), "base", answer_from_quote=True)
    assert answer.quotes[0].status is QuoteStatus.VERIFIED and quoted_answer(raw, answer.quotes) is None
    assert answer.text == raw
    inside = "##begin_quote##first lit on 14 March 1871 [2]##end_quote##\n<ANSWER>: 1871"
    assert finish_answer("q", inside, HITS, GenerationStats(), "t", answer_from_quote=True).text.endswith(
        "Answer: first lit on 14 March 1871")
    # A tagged quote whose answer tag was cut off by the token limit still gives the answer.
    cut = "##begin_quote##first lit on 14 March 1871##end_quote## [2] So the"
    answer = finish_answer("q", cut, HITS, GenerationStats(), "t", answer_from_quote=True)
    assert answer.text.endswith("\n\nAnswer: first lit on 14 March 1871")
