"""The sources' best sentence (localrag/answer/evidence.py) with the bundled MiniLM."""

from __future__ import annotations

from localrag.answer import finish_answer
from localrag.answer.evidence import best_sentence, candidate_sentences, extracted_text
from localrag.embed import SentenceTransformerEmbedder
from localrag.types import Chunk, Evidence, GenerationStats, Hit, QuoteStatus


def _hit(text: str, n: int = 0) -> Hit:
    return Hit(Chunk(f"c{n}", f"d{n}", f"/docs/{n}.md", 0, text, 0, len(text)), 1.0)


SOURCES = [
    _hit("The museum opens at nine. Entry is free on Sundays. Ok then."),
    _hit("The tower stands on a granite ledge. The Kestrel Point light was first lit on 14 March 1871.", 1),
]


def test_sentences_are_numbered_by_source_and_short_ones_left_out() -> None:
    found = candidate_sentences(SOURCES)
    assert (1, "Ok then.") not in found
    assert found[0] == (1, "The museum opens at nine.")
    assert (2, "The Kestrel Point light was first lit on 14 March 1871.") in found


def test_the_sentence_with_the_asked_fact_wins(real_embedder: SentenceTransformerEmbedder) -> None:
    evidence = best_sentence("When was the Kestrel Point lighthouse first lit?", SOURCES, real_embedder)
    assert evidence is not None
    assert (evidence.source, evidence.text) == (2, "The Kestrel Point light was first lit on 14 March 1871.")
    free = best_sentence("Which day is entry free?", SOURCES, real_embedder)
    assert free is not None and free.text == "Entry is free on Sundays."


def test_no_sentence_no_evidence(real_embedder: SentenceTransformerEmbedder) -> None:
    assert best_sentence("anything?", [], real_embedder) is None
    assert best_sentence("anything?", [_hit("Too short.")], real_embedder) is None
    assert best_sentence("   ", SOURCES, real_embedder) is None


def test_an_extracted_answer_is_a_verified_quote_of_its_source() -> None:
    for text in ("The light was first lit on 14 March 1871 by the keeper.",
                 'The keeper wrote "lit at dusk" in the log book.'):
        hits = [_hit(text)]
        answer = finish_answer("q", extracted_text(Evidence(1, text, 1.0)), hits, GenerationStats(), "x")
        assert answer.cited == [1]
        assert [q.status for q in answer.quotes] == [QuoteStatus.VERIFIED]
