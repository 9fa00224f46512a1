"""Which sources an answer that cites none came from: for each of its sentences, the one holding most of its words.

The bundled 135M model cited by itself in at most 3 of 12 answers under any prompt wording tried
(benchmarks/README.md, "Answer quality of the bundled model on the sample corpus"), so an uncited answer gets a
citation added, marked as added (`Answer.attributed`). It used to come from a second model turn whose grammar admitted
only "[1]".."[n]"; seen as a user, that turn cited a German note about a coffee machine for an English answer about
vacation days. The rule here asks no model: the source holding the largest share of the answer's content words, each
word weighted by how few of the sources hold it (`weighted_shares`, the best sentence's word share), on a tie the one
holding most of the words the answer adds to the question (since 2026-12-08), then the earlier one, and no citation
when no source holds any of them. The words are read as the citation check reads them (`claims.claim_words`: "three"
is "3"; "answer", "document" do not count). Measured on the same kept answers (benchmarks/README.md, "Which source an
uncited answer names"): never below the model's pick, 51 of 73 right against 40 on COVID-QA questions 1-120, 37 of 54
each on questions 121-200, 11 of 11 against 9 on the sample corpus, and right on all 20 correct answers of the three
sets, where the model's turn was right on 14 (before the tie rule, which the benchmark applies since; not re-scored).
Those figures are of the whole answer read at once; since 2026-12-08 each sentence of `MIN_CLAIM_WORDS` words or more
is read apart (`sources_holding`) and the answer cites each one's source: an answer whose first sentence came from a
boiler policy and its second from a note on widgets cited the note alone, and showed the policy, holding the best
sentence, "not cited". A one-sentence answer is read as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from localrag.answer.claims import MIN_CLAIM_WORDS, claim_words
from localrag.answer.evidence import weighted_shares
from localrag.sentences import sentence_spans
from localrag.types import Hit

# How the front ends mark such a citation.
ATTRIBUTED_LABEL = ("the answer cited no source itself; localrag cited, for each sentence, the source holding most of "
                    "its words")


def source_holding(answer_text: str, sources: Sequence[Hit], question: str = "") -> int | None:
    """The number (from 1) of the source holding most of `answer_text`'s weighted content words; None when none holds
    any. Of sources tied on them, the one holding most of the words `answer_text` adds to `question`, the words the
    citation check reads (`claims.unsupported_citations`), then the earlier one."""
    texts = [hit.chunk.text for hit in sources]
    shares = weighted_shares(answer_text, texts, claim_words)
    if not len(shares) or shares.max() <= 0:
        return None
    tied = np.flatnonzero(np.isclose(shares, shares.max()))
    added: list[str] = []
    if len(tied) > 1 and question:  # the question's words are read only for a tie
        asked = set(claim_words(question))
        added = [word for word in claim_words(answer_text) if word not in asked]
    if added:
        # Before 2026-12-08 the earlier source won: "The margin of Alpha in 2026 was 12%." cited the 2026 sheet (margin,
        # Alpha, 2026) over the 2025 one holding its 12 (margin, Alpha, 12), and the check flagged localrag's own
        # citation. Only a tie: ranked by the added words alone, the right source was named less often
        # (benchmarks/README.md, "Which source an uncited answer names", "words the question lacks").
        added_shares = weighted_shares(" ".join(added), texts, claim_words)
        return int(tied[np.argmax(added_shares[tied])]) + 1
    return int(tied[0]) + 1


def sources_holding(answer_text: str, sources: Sequence[Hit], question: str = "") -> list[int]:
    """The numbers (from 1) of the sources holding most of each sentence's weighted content words (`source_holding`,
    ties broken by the words it adds to `question`), in the order the sentences first name them; a sentence of under
    MIN_CLAIM_WORDS content words ("Yes.", "It is 10.") is too short to tell sources apart and names none. With no
    such sentence, `source_holding` of the whole answer; [] when no source holds any of its words."""
    numbers: list[int] = []
    for start, end in sentence_spans(answer_text):
        sentence = answer_text[start:end]
        if len(claim_words(sentence)) < MIN_CLAIM_WORDS:
            continue
        number = source_holding(sentence, sources, question)
        if number is not None and number not in numbers:
            numbers.append(number)
    if numbers:
        return numbers
    whole = source_holding(answer_text, sources, question)
    return [] if whole is None else [whole]
