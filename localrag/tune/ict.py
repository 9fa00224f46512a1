"""Inverse-cloze pairs: training pairs for the embedder that need no language model.

A sentence of a chunk is the question and the chunk is its answer (Lee et al. 2019, "Latent Retrieval
for Weakly Supervised Open Domain QA"). Most of the time the sentence is cut out of the chunk the model
sees as the positive, so it has to learn what the surrounding text is about rather than to match the
sentence's own words; now and then it is left in, as at search time, where the index holds whole chunks.
They go through the same miner as the model-written questions (`tune.retriever.mine_pairs`: top-50
filter, hard negatives, split by document).
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Sequence

from localrag.raft.qa import QAPair
from localrag.sentences import chunk_sentences, one_line, spaced
from localrag.types import Chunk

# QAPair.origin of an inverse-cloze pair: its chunk is the positive as given (the sentence cut out).
ICT_ORIGIN = "ict"
# Share of pairs whose positive keeps the sentence (the paper's 10 %).
KEEP_SENTENCE = 0.1
# Shorter sentences (headings, figure labels, "Results.") say too little to be a question.
MIN_WORDS = 6
_WORD = re.compile(r"\w+")


def ict_pairs(chunks: Sequence[Chunk], *, limit: int = 0, seed: int = 0) -> list[QAPair]:
    """One pair per chunk that has two or more usable sentences (a random one of them), deterministic for
    a seed; `limit` > 0 keeps that many, drawn at random."""
    rng = random.Random(seed)
    pairs: list[QAPair] = []
    for chunk in chunks:
        spans = [(a, b) for a, b in chunk_sentences(chunk)
                 if len(_WORD.findall(spaced(chunk.text[a:b]))) >= MIN_WORDS]
        if len(spans) < 2:
            continue
        start, end = rng.choice(spans)
        question = one_line(chunk.text[start:end])
        keep = rng.random() < KEEP_SENTENCE
        rest = chunk.text if keep else (chunk.text[:start].rstrip() + " " + chunk.text[end:].lstrip()).strip()
        pairs.append(QAPair(question, "", dataclasses.replace(chunk, text=rest), origin=ICT_ORIGIN))
    if limit and len(pairs) > limit:
        pairs = rng.sample(pairs, limit)
    return pairs
