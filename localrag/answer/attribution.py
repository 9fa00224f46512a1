"""Which source an answer that cites none came from: the one holding most of the answer's words.

The bundled 135M model cited by itself in at most 3 of 12 answers under any prompt wording tried
(benchmarks/README.md, "Answer quality of the bundled model on the sample corpus"), so an uncited
answer gets a citation added, marked as added (`Answer.attributed`). It used to come
from a second model turn whose grammar admitted only "[1]".."[n]"; seen as a user, that turn cited a
German note about a coffee machine for an English answer about vacation days. The rule here asks no
model: the source holding the largest share of the answer's content words, each word weighted by how
few of the sources hold it (`weighted_shares`, the best sentence's word share), the earlier source on a
tie, and no citation when no source holds any of them. The words are read as the citation check reads
them (`claims.claim_words`: "three" is "3"; "answer", "document" do not count). Measured on the same kept
answers (benchmarks/README.md, "Which source an uncited answer names"): never below the model's pick,
51 of 73 right against 40 on COVID-QA questions 1-120, 37 of 54 each on questions 121-200, 11 of 11
against 9 on the sample corpus, and right on all 20 correct answers of the three sets, where the model's
turn was right on 14.
"""

from __future__ import annotations

from collections.abc import Sequence

from localrag.answer.claims import claim_words
from localrag.answer.evidence import weighted_shares
from localrag.types import Hit

# How the front ends mark such a citation.
ATTRIBUTED_LABEL = "the answer cited no source itself; localrag cited the source holding most of its words"


def source_holding(answer_text: str, sources: Sequence[Hit]) -> int | None:
    """The number (from 1) of the source holding most of `answer_text`'s weighted content words; None
    when none holds any."""
    shares = weighted_shares(answer_text, [hit.chunk.text for hit in sources], claim_words)
    if not len(shares) or shares.max() <= 0:
        return None
    return int(shares.argmax()) + 1
