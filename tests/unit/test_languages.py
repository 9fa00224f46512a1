"""Documents not in English: sentences cut at their own marks, words counted in scripts written without spaces,
quotes in their own quote marks found and checked (the sentence splitter, the best sentence, summaries, quotes)."""

from __future__ import annotations

import pytest

from localrag.answer import extract_quotes, verify_quotes
from localrag.answer.evidence import candidate_sentences, weighted_shares
from localrag.answer.summary import document_sentences
from localrag.sentences import sentence_spans
from localrag.types import Chunk, Hit, QuoteStatus

CHINESE = "员工出差住宿费每晚不得超过五百元。北京和上海的住宿标准为每晚八百元。报销时必须提供正式发票。"


def _hit(text: str) -> Hit:
    return Hit(Chunk("d:0", "d", "/d.md", 0, text, 0, len(text)), 1.0)


@pytest.mark.parametrize(("text", "sentences"), [
    (CHINESE, ["员工出差住宿费每晚不得超过五百元。", "北京和上海的住宿标准为每晚八百元。", "报销时必须提供正式发票。"]),
    ("「在宅勤務は週二日まで認められる。」有給休暇は年間二十日である。",
     ["「在宅勤務は週二日まで認められる。」", "有給休暇は年間二十日である。"]),
    ("पुस्तकालय सुबह नौ बजे खुलता है। देर से लौटाने पर जुर्माना लगेगा।",
     ["पुस्तकालय सुबह नौ बजे खुलता है।", "देर से लौटाने पर जुर्माना लगेगा।"]),
    ("هل يمكن استعارة الكتب لمدة شهر؟ نعم يمكن ذلك.", ["هل يمكن استعارة الكتب لمدة شهر؟", "نعم يمكن ذلك."]),
    ("Il a déclaré : « Nous partons demain. » Puis il est parti.",
     ["Il a déclaré : « Nous partons demain. »", "Puis il est parti."]),
    # Greek's question mark is ";" (U+037E, a semicolon under NFC) before a capital; "Ναι; ναι." is one sentence.
    ("Πόσα αγγεία θα βρεθούν\u037e Κανείς δεν ξέρει. Ναι; ναι.",
     ["Πόσα αγγεία θα βρεθούν\u037e", "Κανείς δεν ξέρει.", "Ναι; ναι."]),
    ("Πόσα αγγεία θα βρεθούν; Κανείς δεν ξέρει.", ["Πόσα αγγεία θα βρεθούν;", "Κανείς δεν ξέρει."]),
    # An English semicolon joins clauses, before a capital too.
    ("He came early; Anna left late. Then it rained.", ["He came early; Anna left late.", "Then it rained."]),
    # A quote closing after its full stop stays in the sentence it ends, and ends it (before 2026-12-08 the sentence
    # went on: 'He said "Stop." Then he left.').
    ('He said "Stop." Then he left. Dr. Li et al. found it.',
     ['He said "Stop."', "Then he left.", "Dr. Li et al. found it."]),
])
def test_sentences_end_at_the_marks_of_their_script(text: str, sentences: list[str]) -> None:
    assert [text[s:e] for s, e in sentence_spans(text)] == sentences


def test_a_chinese_sentence_is_a_candidate_for_the_best_sentence_and_a_summary() -> None:
    # Each was one "word" without spaces: under the three words of the best sentence, the six of a summary's.
    assert len(candidate_sentences([_hit(CHINESE)])) == 3
    chunk = Chunk("d:0", "d", "/d.md", 0, CHINESE, 0, len(CHINESE))
    assert len(document_sentences([chunk])) == 3
    # The question's words are its characters: the sentence that holds them scores the highest share.
    shares = weighted_shares("住宿费每晚不得超过多少元", [CHINESE[s:e] for s, e in sentence_spans(CHINESE)])
    assert max(range(3), key=lambda i: shares[i]) == 0


@pytest.mark.parametrize(("answer", "quote"), [
    ("Il a dit « Nous ne garantissons pas la correspondance » [1].", "Nous ne garantissons pas la correspondance"),
    ("Er sagte „Wir fahren morgen früh los“ [1].", "Wir fahren morgen früh los"),
    ("規則では「在宅勤務は週二日まで認められる」[1]。", "在宅勤務は週二日まで認められる"),
    ("规定是“员工出差住宿费每晚不得超过五百元”[1]。", "员工出差住宿费每晚不得超过五百元"),
])
def test_quotes_in_the_marks_of_other_languages_are_found(answer: str, quote: str) -> None:
    assert extract_quotes(answer) == [(quote, 1)]


def test_a_chinese_quote_of_part_of_a_sentence_is_verified_and_a_misquote_is_not() -> None:
    [part] = verify_quotes("规定“每晚不得超过五百元”[1]。", [_hit(CHINESE)])
    assert part.status is QuoteStatus.VERIFIED  # it was `close` at 100 %: not on "whole words"
    [wrong] = verify_quotes("规定“每晚不得超过九百元”[1]。", [_hit(CHINESE)])
    assert wrong.status is not QuoteStatus.VERIFIED
    [french] = verify_quotes("« Nous ne garantissons pas la correspondances » [1]",
                             [_hit("Le directeur a déclaré : « Nous ne garantissons pas la correspondance. »")])
    assert french.status is QuoteStatus.CLOSE
