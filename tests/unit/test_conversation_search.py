"""Finding saved conversations by their words (`localrag conversations search`, the chat app's `/`)."""

from __future__ import annotations

from localrag.conversation_search import search_conversations
from localrag.conversations import Conversation, SavedSource, Turn


def _conversation(cid: str, title: str, *texts: str) -> Conversation:
    turns = [Turn("user" if i % 2 == 0 else "assistant", text) for i, text in enumerate(texts)]
    return Conversation(cid, title, turns=turns)


HOTELS = _conversation("a", "What is the hotel cap in Berlin?", "What is the hotel cap in Berlin?",
                       "The cap is 140 euros a night.", "And in London?",
                       "In London the cap for Hotels is 180 pounds a night, VAT included.")
PARKING = _conversation("b", "Where is parking?", "Where is parking?", "Parking is in the basement, level minus two.")


def test_every_word_in_any_case_somewhere_in_the_conversation() -> None:
    found = search_conversations([HOTELS, PARKING], "LONDON hotel")
    assert [m.conversation.id for m in found] == ["a"]
    # The turn holding most of the words, cut a little before the first of them.
    assert found[0].turn == 3 and found[0].snippet.startswith("In London the cap for Hotels")
    assert [m.conversation.id for m in search_conversations([HOTELS, PARKING], "berlin basement")] == []
    assert [m.conversation.id for m in search_conversations([HOTELS, PARKING], "a night")] == ["a"]


def test_the_order_given_stays_and_an_empty_query_finds_nothing() -> None:
    assert [m.conversation.id for m in search_conversations([PARKING, HOTELS], "the")] == ["b", "a"]
    assert search_conversations([HOTELS, PARKING], "   ") == []


def test_a_title_alone_matches_and_a_source_s_text_does_not() -> None:
    renamed = _conversation("c", "Travel budget 2027", "How much?", "Forty.")
    renamed.turns[1].sources = [SavedSource(1, "c1", "d1", "/docs/travel.md", "The budget for rail travel is fixed.")]
    (found,) = search_conversations([renamed], "travel budget")
    assert (found.turn, found.snippet) == (-1, "Travel budget 2027")
    assert search_conversations([renamed], "rail") == []


def test_a_long_answer_is_cut_around_the_word() -> None:
    answer = "Unplug the kettle first. " * 20 + "Then descale it with vinegar and water, " + "rinse twice. " * 20
    long = _conversation("d", "Cleaning", "How do I descale it?", answer)
    (found,) = search_conversations([long], "vinegar")
    assert found.snippet.startswith("…") and found.snippet.endswith("…") and "vinegar" in found.snippet
    # Cut between words, not inside one ("…hen was the Greywater Dam").
    inner = found.snippet.strip("…")
    assert all(f" {word} " in f" {text} " for word in inner.split() for text in [" ".join(
        t.text for t in found.conversation.turns)])
    assert len(found.snippet) < 120


def test_accents_apostrophes_and_ligatures_are_folded_as_search_folds_them() -> None:
    """"don't pay" and "dont pay" did not find "don’t pay", nor "cafe espresso" "café espresso": a plain lower()."""
    spelled = _conversation("c", "Coffee", "Where?",
                            "Don\u2019t pay at the caf\u00e9 espresso bar; the o\ufb03ce does.")
    for query in ("don't pay", "dont pay", "DON\u2019T", "cafe espresso", "caf\u00e9", "cafe\u0301", "office"):
        [found] = search_conversations([spelled, PARKING], query)
        assert found.turn == 1, query
    [found] = search_conversations([spelled], "espresso")
    assert found.snippet == "…at the caf\u00e9 espresso bar; the o\ufb03ce does."  # cut at the word found
    [found] = search_conversations([spelled], "dont")
    assert found.snippet.startswith("Don\u2019t pay")


def test_greek_capitals_and_joiners_match_in_any_case_and_never_crash_the_snippet() -> None:
    """"ΟΔΟΣ" raised ValueError in the snippet (a whole text folded its final Σ to ς, a single Σ to σ) and "οδος"
    missed "Η ΟΔΟΣ ΕΡΜΟΥ"; "cafeteria" crashed on "cafe\u200dteria" (the joiner dropped in the whole text, kept a
    character at a time)."""
    capitals = _conversation("g", "Athens", "Where?", "Η ΟΔΟΣ ΕΡΜΟΥ είναι κεντρική [1].")
    small = _conversation("h", "Athens", "Where?", "Η οδός Ερμού είναι κεντρική [1].")
    for query in ("ΟΔΟΣ", "οδος", "οδός", "Οδός ερμου"):
        found = search_conversations([capitals, small], query)
        assert [m.conversation.id for m in found] == ["g", "h"], query
        assert [m.snippet for m in found] == [capitals.turns[1].text, small.turns[1].text], query
    joined = _conversation("j", "Lunch", "Where?", "The cafe\u200dteria on level two.")
    [found] = search_conversations([joined], "cafeteria")
    assert found.turn == 1 and "teria on level two." in found.snippet


def test_a_long_answer_with_apostrophes_and_accents_before_the_word_is_cut_around_it() -> None:
    # Each apostrophe folds to nothing and "İ" to two characters: the word is found in the whole answer's fold and
    # placed back by the characters whose fold changes its length (answers of 240,000 characters exist). Placed a
    # character off, the line would end elsewhere among the one-letter words after it.
    def snippet(repeat: int) -> str:
        text = "Don\u2019t pay the caf\u00e9 twice, \u0130stanbul. " * repeat + "Vinegar " + " ".join("abcdefghij" * 20)
        return search_conversations([_conversation("a", "Shopping", "where is it", text)], "vinegar")[0].snippet
    assert snippet(6000) == snippet(1)
    assert snippet(1).startswith("…\u0130stanbul. Vinegar a b c") and snippet(1).endswith(" f…")
