"""The repeat guard: a looping answer ends where its loop began, and nothing else is cut or held for good."""

from __future__ import annotations

import re

from localrag.answer.repeats import OPEN_QUOTE_WORDS, RepeatGuard, loop_start

LOOP = (
    "The policy needs a manager's approval. The company will also review all travel plans within 6 months "
    "of returning. The company will also review all travel plans within 12 months of returning. The company "
    "will also review all travel plans within 18 months of returning, and so on"
)
THIRD = LOOP.index("The company will also review all travel plans within 18")


def stream(guard: RepeatGuard, text: str) -> tuple[str, list[str]]:
    """Feed `text` a token-sized piece at a time, as a model streams it; what was shown, step by step."""
    shown: list[str] = []
    for piece in re.findall(r"\s*\S+", text):
        shown.append(guard.feed(piece))
        if guard.looping:
            return "".join(shown), shown
    shown.append(guard.flush())
    return "".join(shown), shown


def test_a_loop_ends_before_its_third_occurrence_which_is_never_shown() -> None:
    assert loop_start(LOOP) == THIRD
    guard = RepeatGuard()
    shown, _ = stream(guard, LOOP)
    assert guard.looping
    assert shown == LOOP[:THIRD].rstrip()
    assert guard.flush() == ""


def test_text_without_a_loop_comes_out_whole_and_in_order() -> None:
    text = "Trains are booked through Wayfarer. " * 2 + "The director approves trips above 2,500 pounds [1]."
    guard = RepeatGuard()
    shown, steps = stream(guard, text)
    assert not guard.looping
    assert shown == text
    # Held back only by a few words: most pieces are shown before generation ends.
    assert sum(map(len, steps[:-1])) > len(text) // 2


def test_repeated_quotes_do_not_count_as_a_loop() -> None:
    quote = "the vaccine was given to 120 adults over six weeks"
    raft = (f"##begin_quote## {quote} ##end_quote## and again ##begin_quote## {quote} ##end_quote## "
            f"<ANSWER>: {quote}")
    assert loop_start(raft) is None
    plain = f'It says "{quote}" and "{quote}", so {quote}.'
    assert loop_start(plain) is None
    guard = RepeatGuard()
    assert stream(guard, raft)[0] == raft and not guard.looping


def test_a_word_still_being_written_does_not_complete_a_run() -> None:
    text = "a b c a b c a b c"
    assert loop_start(text, words=3, times=3) == len("a b c a b c ")
    assert loop_start(text, words=3, times=3, complete_only=True) is None  # "c" may yet become "cab"
    assert loop_start(text + " ", words=3, times=3, complete_only=True) == len("a b c a b c ")


def test_case_and_punctuation_do_not_hide_a_loop() -> None:
    text = "Rail is fine, and cheap. RAIL IS FINE AND CHEAP! rail is fine and cheap."
    assert loop_start(text, words=5, times=3) == text.index("rail is fine and cheap.")


def test_a_quotation_mark_that_never_closes_hides_a_loop_only_while_it_could_be_a_quote() -> None:
    opened = ('The manual says "descale it monthly with white vinegar, then rinse the tank twice and run '
              "one empty cycle before brewing again. " + LOOP + ". The company will also review all travel plans "
              "within 24 months of returning. The company will also review all travel plans within 30 months")
    # Past OPEN_QUOTE_WORDS words the open mark is a stray one, and the loop after it is caught.
    assert len(opened.split()) > OPEN_QUOTE_WORDS
    assert loop_start(opened) == opened.index("The company will also review all travel plans within 18")
    guard = RepeatGuard()
    shown = stream(guard, opened)[0]
    # Streaming, it is caught once the open quote has run past the limit: later than a closed one, but caught.
    assert guard.looping and opened.startswith(shown) and len(shown) < len(opened)
    # A quote still being written (short) keeps its words out of the count, as a closed one does.
    short = 'a b c d e f g h, so a b c d e f g h, as it says "a b c d e f g h'
    assert loop_start(short) is None
    assert loop_start(short.replace('"', "“")) is None
    assert loop_start("##begin_quote## a b c d e f g h ##end_quote## a b c d e f g h a b c d e f g h") is None


def test_a_quote_that_repeats_itself_is_a_loop_open_or_closed() -> None:
    """Before 2026-12-08 a document's stray quotation mark ("The boiler warranty answer is: "The warranty lasts 99
    years. Sources: ...") let the answer run "The warranty lasts 99 years." ten times inside the quote it opened: a
    quote's words were out of the count for OPEN_QUOTE_WORDS words."""
    sentence = "The warranty lasts 99 years. "
    opened = 'The boiler warranty answer is: "' + sentence * 10
    assert len(opened.split()) < OPEN_QUOTE_WORDS + 5
    third = len('The boiler warranty answer is: "' + sentence * 2)
    assert loop_start(opened) == third
    guard = RepeatGuard()
    shown = stream(guard, opened)[0]
    assert guard.looping and shown == opened[:third].rstrip()
    for marks in (('"', '"'), ("“", "”"), ("##begin_quote## ", " ##end_quote##")):
        # Eight words seen three times: the fourth sentence completes the third run.
        closed = f"It says {marks[0]}{sentence * 4}{marks[1]} [1]."
        assert loop_start(closed) == closed.index(sentence) + len(sentence * 2), marks
