"""Triple extraction quality and speed: WC2014 facts written as text, extracted back by the GGUF model.

    .venv/bin/python benchmarks/bench_graph_extract.py [--set sentences|paragraphs] [--sentences 200]
        [--paragraphs 16] [--templates first|heldout|heldout2|...|heldout11] [--per-chunk 1]
        [--methods single,focused,phrased]
        [--thresholds T ...] [--kind-weights W ...] [--replies FILE]
        [--vocabulary kb|default] [--model PATH] [--quick] [--summary FILE]

Two sets, both written from the WC2014 knowledge base at run time (its SOURCE forbids copying the
data into the repository, so the text is regenerated here, seeded, and its sha256 is printed and
kept in the summary so a rerun can show it read the same set):
- `sentences` (the first round's set): each fact as one plain sentence ("Alan PULIDO plays in club
  Tigres UANL.", a triple and its `_inverse` being one fact), a seeded sample of `--sentences`, cut
  into chunks of `--per-chunk` sentences.
- `paragraphs`: `--paragraphs` players drawn with random.Random(seed), each a short profile under
  the player's name as its heading, three or four sentences in varied wording, written from the
  player's five KB facts plus the country of his club (`PARAGRAPH_TEMPLATES`); later sentences
  say "He"/"His", as people write; `--templates heldout` draws the sentences from
  `HELDOUT_TEMPLATES` instead (other wordings, written and committed before the extraction was
  changed while looking at the first ones: a check that it was not fitted to them), and
  `--templates heldout2` from `HELDOUT2_TEMPLATES` (written before the next change) and
  `--templates heldout3` from `HELDOUT3_TEMPLATES` (written before the sixth round's) and
  `--templates heldout4` from `HELDOUT4_TEMPLATES` (written before the seventh round's) and
  `--templates heldout5` from `HELDOUT5_TEMPLATES` (written before the eighth round's) and
  `--templates heldout6` from `HELDOUT6_TEMPLATES` (written before the ninth round's) and
  `--templates heldout7` from `HELDOUT7_TEMPLATES` (written before the tenth round's) and
  `--templates heldout8` from `HELDOUT8_TEMPLATES` (written before the eleventh round's) and
  `--templates heldout9` from `HELDOUT9_TEMPLATES` (written before the twelfth round's) and
  `--templates heldout10` from `HELDOUT10_TEMPLATES` (written before the thirteenth round's) and
  `--templates heldout11` from `HELDOUT11_TEMPLATES` (written before the fourteenth round's). The gold
  triples of a paragraph are exactly the KB facts its template states (the template lists them),
  so recall is measured against what the text says.
Each chunk goes through `localrag.graph.extract.extract_chunk` once per method of `--methods`
(`ExtractConfig.method`), the step `build_graph` runs per chunk; the methods take turns chunk by
chunk, each with its own entity merger, so they see the same machine load. `--vocabulary kb` (the
default) gives the extractor the KB's own six relations with their phrasings as synonyms, as a
user with a known schema would configure it; `default` keeps extract.py's general vocabulary,
against which only the entity pairs can match.

Scored against the KB triples (both directions stored, names normalised as the graph store does):
- entity-pair precision: extracted triples whose (subject, object) is a KB pair; recall: facts of
  the processed chunks whose (head, tail) was extracted;
- triple precision / recall: the same, the relation also equal;
- relation accuracy: among extracted triples with a right pair, the share with the right relation.
Speed: seconds per chunk through the whole pipeline, generated tokens per chunk, and each method's
time as a ratio to the first method's in the same run.
`--quick` = 50 sentences or 8 paragraphs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from localrag.atomic import write_text_atomic  # noqa: E402
from localrag.graph.extract import ChunkTriples, ExtractConfig, extract_chunk  # noqa: E402
from localrag.graph.kgqa import fact_sentences, forward, read_triples  # noqa: E402
from localrag.graph.relate import KIND_WEIGHT, RelationMatcher  # noqa: E402
from localrag.graph.relate import THRESHOLD as RELATE_THRESHOLD  # noqa: E402
from localrag.graph.triple_checks import EntityMerger  # noqa: E402
from localrag.graph.triples import normalise_entity, normalise_relation  # noqa: E402
from localrag.graph.vocabulary import RelationVocabulary  # noqa: E402
from localrag.types import Chunk, GenerationStats  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "wc2014_kgqa" / "data"
KB_VOCABULARY = {
    "plays_in_club": ("plays in club", "plays for club", "club", "plays for", "member of"),
    "plays_for_country": ("plays for country", "country", "national team", "represents"),
    "plays_position": ("plays position", "position", "plays as"),
    "is_aged": ("is aged", "age", "aged", "years old"),
    "wears_number": ("wears number", "number", "shirt number", "wears"),
    "is_in_country": ("is in country", "located in", "based in", "in country"),
}

# Each sentence template with the facts it states: P player, A age, X position, N national team,
# C club, K shirt number, Q the country of the club. One sentence is drawn from each group, in order.
PARAGRAPH_TEMPLATES: list[list[tuple[str, tuple[str, ...]]]] = [
    [
        ("{P} is a {A}-year-old {x} who plays for {N}.", ("is_aged", "plays_position", "plays_for_country")),
        ("{P}, aged {A}, is a {x} playing for {N}.", ("is_aged", "plays_position", "plays_for_country")),
        ("{P} plays as a {x} for {N}. He is {A} years old.",
         ("plays_position", "plays_for_country", "is_aged")),
    ],
    [
        ("At club level he plays for {C}, a club based in {Q}.", ("plays_in_club", "club_country")),
        ("His club is {C}, which is in {Q}.", ("plays_in_club", "club_country")),
        ("He is a member of {C}. {C} is located in {Q}.", ("plays_in_club", "club_country")),
    ],
    [
        ("He wears the number {K} shirt.", ("wears_number",)),
        ("His shirt number is {K}.", ("wears_number",)),
        ("For {N} he wears number {K}.", ("wears_number",)),
    ],
]

# Held-out wordings of the same facts, in the same three groups (see the module docstring).
HELDOUT_TEMPLATES: list[list[tuple[str, tuple[str, ...]]]] = [
    [
        ("{P} ({A}) is a {x} in the {N} squad.", ("is_aged", "plays_position", "plays_for_country")),
        ("{P} is {A} and plays {x} for {N}.", ("is_aged", "plays_position", "plays_for_country")),
        ("The {A}-year-old {x} {P} represents {N}.", ("is_aged", "plays_position", "plays_for_country")),
    ],
    [
        ("He joined {C}, a club from {Q}.", ("plays_in_club", "club_country")),
        ("His club side is {C}, based in {Q}.", ("plays_in_club", "club_country")),
        ("He is on the books of {C}. {C} plays its football in {Q}.", ("plays_in_club", "club_country")),
    ],
    [
        ("He takes the number {K}.", ("wears_number",)),
        ("The number on his shirt is {K}.", ("wears_number",)),
        ("He is listed with squad number {K}.", ("wears_number",)),
    ],
]
# A second held-out set, written (issue 20, fifth round) before the extraction learned to relate names the
# vocabulary's phrasings do not join: the check on that change, which was chosen on the first templates only.
HELDOUT2_TEMPLATES: list[list[tuple[str, tuple[str, ...]]]] = [
    [
        ("{P}, {A}, is a {x} capped by {N}.", ("is_aged", "plays_position", "plays_for_country")),
        ("Now {A}, {P} lines up at {x} for the {N} national side.",
         ("is_aged", "plays_position", "plays_for_country")),
        ("{N} call on {P}, a {A}-year-old {x}.", ("is_aged", "plays_position", "plays_for_country")),
    ],
    [
        ("He spends his club career at {C} in {Q}.", ("plays_in_club", "club_country")),
        ("His employers are {C}, who play in {Q}.", ("plays_in_club", "club_country")),
        ("He signed for {C}. {C} hail from {Q}.", ("plays_in_club", "club_country")),
    ],
    [
        ("He is handed the number {K} jersey.", ("wears_number",)),
        ("His jersey bears the number {K}.", ("wears_number",)),
        ("He pulls on the {K} shirt.", ("wears_number",)),
    ],
]
# A third held-out set, written (issue 20, sixth round) before the subject-kind and number-context terms and the
# position candidates were added (chosen on the first templates only): wordings none of the sets above use.
HELDOUT3_TEMPLATES: list[list[tuple[str, tuple[str, ...]]]] = [
    [
        ("{P} turns out for {N} in the {x} role and is {A}.", ("is_aged", "plays_position", "plays_for_country")),
        ("Selected by {N} as a {x}, {P} is {A} years of age.",
         ("is_aged", "plays_position", "plays_for_country")),
        ("{P}, who is {A}, is deployed at {x} by {N}.", ("is_aged", "plays_position", "plays_for_country")),
    ],
    [
        ("His wages are paid by {C}, an outfit in {Q}.", ("plays_in_club", "club_country")),
        ("Domestically he is contracted to {C}, whose ground stands in {Q}.", ("plays_in_club", "club_country")),
        ("He is registered with {C}. {C} compete in the top flight of {Q}.", ("plays_in_club", "club_country")),
    ],
    [
        ("He sports {K} on his back.", ("wears_number",)),
        ("His kit is printed with {K}.", ("wears_number",)),
        ("Fans know him by the {K} on his back.", ("wears_number",)),
    ],
]
# A fourth held-out set, written (issue 20, seventh round) before that round's change and run once on the code
# before it: verbs and nouns none of the sets above use, ordinal-free numbers, a plural position, a pronoun.
HELDOUT4_TEMPLATES: list[list[tuple[str, tuple[str, ...]]]] = [
    [
        ("{P}, a {x} by trade, was called up by {N} at the age of {A}.",
         ("is_aged", "plays_position", "plays_for_country")),
        ("{A} this season, {P} fills the {x} slot in the {N} line-up.",
         ("is_aged", "plays_position", "plays_for_country")),
        ("{N} picked {P} as one of its {x}s. He turned {A} this year.",
         ("plays_for_country", "plays_position", "is_aged")),
    ],
    [
        ("Week in, week out he trains with {C}, a team in the {Q} league.", ("plays_in_club", "club_country")),
        ("{C}, founded in {Q}, holds his registration.", ("plays_in_club", "club_country")),
        ("He earns his living at {C}. {C} make their home in {Q}.", ("plays_in_club", "club_country")),
    ],
    [
        ("The team sheet lists him as number {K}.", ("wears_number",)),
        ("He is allotted {K} for the tournament.", ("wears_number",)),
        ("Spectators spot him in the {K} top.", ("wears_number",)),
    ],
]
# A fifth held-out set, written (issue 20, eighth round) before that round's changes and run once on the code before
# them: verbs none of the sets above use, and sentences opened as people write, by an adverb or a participle,
# often with a comma ("Internationally, P ...", "Signed last summer, he ...", "Currently 26, P ...").
HELDOUT5_TEMPLATES: list[list[tuple[str, tuple[str, ...]]]] = [
    [
        ("Currently {A}, {P} operates as a {x} for {N}.", ("is_aged", "plays_position", "plays_for_country")),
        ("Having turned {A} in the spring, {P} earns caps for {N} as a {x}.",
         ("is_aged", "plays_for_country", "plays_position")),
        ("Internationally, {P} is a {x} with {N}. Last month he reached {A}.",
         ("plays_position", "plays_for_country", "is_aged")),
    ],
    [
        ("On weekends, he lines out for {C}, who are headquartered in {Q}.", ("plays_in_club", "club_country")),
        ("Signed last summer, he now belongs to {C}. Within {Q}, {C} is among the oldest sides.",
         ("plays_in_club", "club_country")),
        ("His paycheque comes from {C}, situated in {Q}.", ("plays_in_club", "club_country")),
    ],
    [
        ("Traditionally, he dons number {K}.", ("wears_number",)),
        ("Printed on his back is the figure {K}.", ("wears_number",)),
        ("Every match day, {K} is stitched onto his top.", ("wears_number",)),
    ],
]
# A sixth held-out set, written (issue 20, ninth round) before that round's changes and run once on the code before
# them: wordings none of the sets above use, as sports profiles write them: an age or a prepositional phrase opening
# the sentence ("At A,", "Still only A,"), appositions ("C, the Q club,", "His squad number, K,"), a country's
# possessive ("N's A-year-old x"), a club "of" its country, verbs of the trade ("plies his trade", "starred for").
HELDOUT6_TEMPLATES: list[list[tuple[str, tuple[str, ...]]]] = [
    [
        ("{P}, {N}'s {A}-year-old {x}, made the final squad.", ("plays_for_country", "is_aged", "plays_position")),
        ("At {A}, {P} is an established {x} in the {N} team.", ("is_aged", "plays_position", "plays_for_country")),
        ("Still only {A}, {P} has become a regular {x} for {N}.",
         ("is_aged", "plays_position", "plays_for_country")),
    ],
    [
        ("He plies his trade with {C} of {Q}.", ("plays_in_club", "club_country")),
        ("Since his transfer he has starred for {C}, one of the leading clubs in {Q}.",
         ("plays_in_club", "club_country")),
        ("{C}, the {Q} club, bought him two years ago.", ("plays_in_club", "club_country")),
    ],
    [
        ("His squad number, {K}, was chosen by his father.", ("wears_number",)),
        ("For the tournament he was assigned the {K} shirt.", ("wears_number",)),
        ("He carries number {K} on his shirt.", ("wears_number",)),
    ],
]
# A seventh held-out set, written (issue 20, tenth round) before that round's changes and run once on the code before
# them: wordings none of the sets above use, as squad guides and match previews write them: a country and position
# before the name ("N x P, A,"), an opening apposition ("A A-year-old x, P"), a club led by its country ("Q-based
# C"), a country's possessive inside an apposition, the fact-sheet lines of a profile ("Club: C (Q).", "Shirt: K."),
# and the "No." abbreviation.
HELDOUT7_TEMPLATES: list[list[tuple[str, tuple[str, ...]]]] = [
    [
        ("{N} {x} {P}, {A}, is expected to start.", ("plays_for_country", "plays_position", "is_aged")),
        ("A {A}-year-old {x}, {P} won his first cap for {N} in 2013.",
         ("is_aged", "plays_position", "plays_for_country")),
        ("The {A}-year-old {P} features at {x} for {N}.", ("is_aged", "plays_position", "plays_for_country")),
    ],
    [
        ("He plays his club football for {Q}-based {C}.", ("plays_in_club", "club_country")),
        ("He has been with {C}, one of {Q}'s best-supported clubs, since 2012.", ("plays_in_club", "club_country")),
        ("Club: {C} ({Q}).", ("plays_in_club", "club_country")),
    ],
    [
        ("He will wear {K} at the finals.", ("wears_number",)),
        ("Shirt: {K}.", ("wears_number",)),
        ("He is No. {K} in the squad.", ("wears_number",)),
    ],
]
# An eighth held-out set, written (issue 20, eleventh round) before that round's changes and run once on the code
# before them: wordings none of the sets above use, as encyclopedias, club press releases, fan wikis, match reports and
# tournament programmes write them: a country as a modifier ("a N international", "Q side C"), a position as the
# complement of "position is", an age in brackets after "aged", a sentence opened by a hyphenated age, a club named
# only by its country later ("the Q outfit"), a move to a country, and a participle or a possessive carrying the number.
HELDOUT8_TEMPLATES: list[list[tuple[str, tuple[str, ...]]]] = [
    [
        ("{P} (aged {A}) is a {N} international footballer whose usual position is {x}.",
         ("is_aged", "plays_for_country", "plays_position")),
        ("The {N} coach has included {P}, a {x} aged {A}, in his final list.",
         ("plays_for_country", "plays_position", "is_aged")),
        ("{A}-year-old {P} was {N}'s best {x} on the night.", ("is_aged", "plays_for_country", "plays_position")),
    ],
    [
        ("He currently plays for {Q} side {C}.", ("plays_in_club", "club_country")),
        ("{C} confirmed on Tuesday that he has extended his deal with the {Q} outfit.",
         ("plays_in_club", "club_country")),
        ("He moved to {Q} to join {C}.", ("club_country", "plays_in_club")),
    ],
    [
        ("Wearing {K}, he is one to watch.", ("wears_number",)),
        ("His {K} shirt is a best seller in the club shop.", ("wears_number",)),
        ("He has worn the {K} throughout his international career.", ("wears_number",)),
    ],
]
# A ninth held-out set, written (issue 20, twelfth round) before that round's run of the eleventh round's rules and
# without reading them or the extraction code: wordings none of the sets above use, as scouting reports, obituary-style
# career summaries, quiz cards, transfer news, squad lists and commentators' notes write them: a bracketed country and
# age after a report's heading, an age as "born A years ago", a question answered by the name, a club led by "Q club",
# a club "in the Q first division", a club as "a Q institution", and the number as a question's answer, a shirt on a
# peg, or what he "goes out in".
HELDOUT9_TEMPLATES: list[list[tuple[str, tuple[str, ...]]]] = [
    [
        ("Scouting report on {P} ({N}, {A}): a {x} with a fine first touch.",
         ("plays_for_country", "is_aged", "plays_position")),
        ("Born {A} years ago, {P} went on to play {x} at international level for {N}.",
         ("is_aged", "plays_position", "plays_for_country")),
        ("Quiz card: which {N} {x} is {A} years old? Answer: {P}.",
         ("plays_for_country", "plays_position", "is_aged")),
    ],
    [
        ("{Q} club {C} have turned down a bid for him.", ("club_country", "plays_in_club")),
        ("He is attached to {C} in the {Q} first division.", ("plays_in_club", "club_country")),
        ("He gave his best years to {C}, a {Q} institution.", ("plays_in_club", "club_country")),
    ],
    [
        ("Question: which number does he wear? Answer: {K}.", ("wears_number",)),
        ("In the dressing room, the {K} shirt hangs on his peg.", ("wears_number",)),
        ("Commentator's note: he goes out in {K} tonight.", ("wears_number",)),
    ],
]
# A tenth held-out set, written (issue 20, thirteenth round) before that round's rules and without reading them or the
# extraction code: wordings none of the sets above use, as interview introductions, fan-forum posts, fantasy-football
# tips, a club's press release announcing a signing, encyclopedia prose, a kit room's note and a match-day programme
# write them: the name as the object of "sat down with" or "starting", "the lad" for the player, a question answered
# in the next sentence or by a fragment, a position "in the game", a club's training ground or home matches placing it
# in its country, the passive ("was snapped up by", "are heat-pressed onto"), and the number in an interviewer's
# question or a programme's team grid.
HELDOUT10_TEMPLATES: list[list[tuple[str, tuple[str, ...]]]] = [
    [
        ("Ahead of training we sat down with {P}, a {x} who, at {A}, is already a fixture in the {N} set-up.",
         ("plays_position", "is_aged", "plays_for_country")),
        ("Honestly, why do {N} keep starting {P} at {x}? The lad is {A} and still learning.",
         ("plays_for_country", "plays_position", "is_aged")),
        ("Fantasy tip: {P} is classed as a {x} in the game and is a nailed-on starter for {N}, which is not bad for a "
         "{A}-year-old.", ("plays_position", "plays_for_country", "is_aged")),
    ],
    [
        ("{C} are delighted to announce that he has agreed a three-year contract; he reports to the club's training "
         "ground in {Q} after the World Cup.", ("plays_in_club", "club_country")),
        ("Which club is he at these days? {C}, over in {Q}.", ("plays_in_club", "club_country")),
        ("He was snapped up by {C}, a club whose home matches are played in {Q}.", ("plays_in_club", "club_country")),
    ],
    [
        ("Kit room note: {K} and his surname are heat-pressed onto his match shirts the night before every game.",
         ("wears_number",)),
        ("Why does he wear {K}? 'It was the only one left when I arrived,' he laughs.", ("wears_number",)),
        ("Look for {K} in the team grid on the back page of this programme: that is him.", ("wears_number",)),
    ],
]
# An eleventh held-out set, written (issue 20, fourteenth round) before that round's rules and without reading them or
# the extraction code: wordings none of the sets above use, as a newspaper match report, a podcast transcript, the back
# of a trading card, a club museum's plaque, a youth academy's newsletter, a social-media post, a manager's team-sheet
# memo and a newspaper photo caption write them: the name not at the start, a country only as "the N line" or "the N
# team sheet", a speaker's turns ("HOST:", "GUEST:"), a card's fields split by bars, the passive ("were worn by him"),
# a club placed in its country by a superlative apposition, by a tour that visits him there or by "New club, new
# country. Hello Q!", and the number as a podcast question's topic, a caption's "familiar K" or what a memo puts his
# name next to.
HELDOUT11_TEMPLATES: list[list[tuple[str, tuple[str, ...]]]] = [
    [
        ("Twice in stoppage time {P} hooked the ball off the {N} line, and the {A}-year-old {x} was mobbed by his "
         "team-mates at the whistle.", ("plays_for_country", "is_aged", "plays_position")),
        ("HOST: So, {P}. {A} years young and already the first name on the {N} team sheet. GUEST: And people forget "
         "he has only been a {x} for two seasons.", ("is_aged", "plays_for_country", "plays_position")),
        ("Trading card (back): {P} | {x} | {N} | Age {A} | Strengths: reading the game, composure.",
         ("plays_position", "plays_for_country", "is_aged")),
    ],
    [
        ("A plaque in the club museum reads: 'These boots were worn by him on his debut for {C}, the first club in "
         "{Q} to turn professional.'", ("plays_in_club", "club_country")),
        ("Old boys' corner: our former youth captain is now a first-team regular at {C}, and the academy squad will "
         "visit him there on its tour of {Q} in May.", ("plays_in_club", "club_country")),
        ("His first post as a {C} player: 'New club, new country. Hello {Q}!'", ("plays_in_club", "club_country")),
    ],
    [
        ("The manager's team-sheet memo puts his name next to {K} and underlines it twice.", ("wears_number",)),
        ("Pictured above in his familiar {K}, he salutes the travelling fans.", ("wears_number",)),
        ("HOST: And the {K}, is there a story there? GUEST: His dad wore it too.", ("wears_number",)),
    ],
]
TEMPLATE_SETS = {
    "first": PARAGRAPH_TEMPLATES, "heldout": HELDOUT_TEMPLATES, "heldout2": HELDOUT2_TEMPLATES,
    "heldout3": HELDOUT3_TEMPLATES, "heldout4": HELDOUT4_TEMPLATES, "heldout5": HELDOUT5_TEMPLATES,
    "heldout6": HELDOUT6_TEMPLATES, "heldout7": HELDOUT7_TEMPLATES, "heldout8": HELDOUT8_TEMPLATES,
    "heldout9": HELDOUT9_TEMPLATES, "heldout10": HELDOUT10_TEMPLATES, "heldout11": HELDOUT11_TEMPLATES,
}


def kb_facts(kb: list[tuple[str, str, str]]) -> dict[str, dict[str, str]]:
    """Player (or club) surface name -> relation -> its one tail, from the forward triples."""
    facts: dict[str, dict[str, str]] = {}
    for triple in kb:
        head, relation, tail = forward(*triple)
        facts.setdefault(head, {})[relation] = tail
    return facts


def paragraphs(
    kb: list[tuple[str, str, str]], n: int, seed: int, templates: str = "first"
) -> list[tuple[str, str, list[tuple[str, str, str]]]]:
    """(heading, text, gold forward triples) for `n` seeded players with all five facts and a club country."""
    facts = kb_facts(kb)
    players = sorted(
        name for name, rels in facts.items()
        if {"is_aged", "plays_position", "plays_for_country", "plays_in_club", "wears_number"} <= set(rels)
        and "is_in_country" in facts.get(rels["plays_in_club"], {})
    )
    rng = random.Random(seed)
    out = []
    for player in rng.sample(players, n):
        rels = facts[player]
        club = rels["plays_in_club"]
        values = {
            "P": player.replace("_", " "), "A": rels["is_aged"], "x": rels["plays_position"].lower(),
            "N": rels["plays_for_country"].replace("_", " "), "C": club.replace("_", " "),
            "K": rels["wears_number"], "Q": facts[club]["is_in_country"].replace("_", " "),
        }
        sentences, gold = [], []
        for group in TEMPLATE_SETS[templates]:
            template, stated = rng.choice(group)
            sentences.append(template.format(**values))
            for relation in stated:
                if relation == "club_country":
                    gold.append((club, "is_in_country", facts[club]["is_in_country"]))
                else:
                    gold.append((player, relation, rels[relation]))
        heading = values["P"]
        out.append((heading, f"{heading}\n" + " ".join(sentences), gold))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", choices=["sentences", "paragraphs"], default="sentences")
    parser.add_argument("--sentences", type=int, default=200)
    parser.add_argument("--paragraphs", type=int, default=16)
    parser.add_argument("--templates", choices=list(TEMPLATE_SETS), default="first", help="profile wordings")
    parser.add_argument("--per-chunk", type=int, default=1)
    parser.add_argument("--methods", default="single,focused",
                        help="extraction methods to compare, comma-separated: single, focused, phrased (focused "
                             "with vocabulary phrasings only, as before the relation matcher)")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[RELATE_THRESHOLD],
                        help="relation matcher thresholds for `focused` (several: one run each)")
    parser.add_argument("--kind-weights", type=float, nargs="+", default=[KIND_WEIGHT],
                        help="relation matcher kind weights for `focused` (several: one run each)")
    parser.add_argument("--replies", type=Path, default=None,
                        help="a JSON file of the model's replies by prompt, read and extended (RememberingGenerator)")
    parser.add_argument("--vocabulary", choices=["kb", "default"], default="kb")
    parser.add_argument("--model", type=Path, default=None, help="a GGUF file; default: the bundled model")
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp threads (0: all cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--summary", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args()

    from localrag.embed import SentenceTransformerEmbedder
    from localrag.generate import LlamaGenerator
    from localrag.models import bundled_embedder_path, bundled_generator_path

    kb = read_triples(DATA / "WC2014.txt")
    pairs: dict[tuple[str, str], set[str]] = {}
    for head, relation, tail in kb:
        pairs.setdefault((normalise_entity(head), normalise_entity(tail)), set()).add(normalise_relation(relation))
    chunks: list[tuple[Chunk, list[tuple[str, str, str]]]] = []
    if args.set == "sentences":
        facts = list(fact_sentences(kb).items())
        random.Random(args.seed).shuffle(facts)
        facts = facts[: 50 if args.quick else args.sentences]
        for start in range(0, len(facts), args.per_chunk):
            group = facts[start : start + args.per_chunk]
            text = " ".join(sentence for _, sentence in group)
            chunk = Chunk(f"c{start}", f"d{start}", f"facts/{start}.txt", 0, text, 0, len(text))
            chunks.append((chunk, [triple for triple, _ in group]))
    else:
        profiles = paragraphs(kb, 8 if args.quick else args.paragraphs, args.seed, args.templates)
        for i, (heading, text, gold) in enumerate(profiles):
            chunks.append((Chunk(f"c{i}", f"d{i}", f"players/{i}.md", 0, text, 0, len(text), heading=heading), gold))
    n_sentences = sum(c.text.count(". ") + 1 for c, _ in chunks)
    digest = hashlib.sha256(json.dumps([[c.heading, c.text, g] for c, g in chunks]).encode()).hexdigest()

    model_path = args.model or bundled_generator_path()
    generator = RememberingGenerator(LlamaGenerator(model_path, n_ctx=2048, n_threads=args.threads), args.replies)
    embedder = SentenceTransformerEmbedder(bundled_embedder_path())
    vocabulary = RelationVocabulary(KB_VOCABULARY, fallback=None) if args.vocabulary == "kb" else RelationVocabulary()
    methods = args.methods.split(",")
    runs: dict[str, Run] = {}
    for method in methods:
        if method == "phrased":  # the focused method before the relation matcher: vocabulary phrasings only
            runs[method] = Run(method, ExtractConfig(vocabulary=vocabulary, relate_threshold=None),
                               EntityMerger(embedder, 0.9))
            continue
        grid = [(t, w) for t in args.thresholds for w in args.kind_weights] if method == "focused" else [(0.0, 0.0)]
        for threshold, weight in grid:
            name = method if len(grid) == 1 else f"{method}@t{threshold:g},w{weight:g}"
            config = ExtractConfig(vocabulary=vocabulary, method=method, relate_threshold=threshold)
            matcher = RelationMatcher(embedder, vocabulary, threshold=threshold, kind_weight=weight)
            runs[name] = Run(name, config, EntityMerger(embedder, 0.9), matcher if method == "focused" else None)
    embedder.embed(["warm up"])
    generator.count_tokens("warm up")

    for done, (chunk, gold) in enumerate(chunks, start=1):
        for run in runs.values():  # interleaved, so every method sees the same machine load
            stats = GenerationStats()
            started = time.perf_counter()
            result = extract_chunk(chunk, generator, run.merger, run.config, stats=stats,  # type: ignore[arg-type]
                                   matcher=run.matcher)
            run.seconds += time.perf_counter() - started
            run.tokens += stats.completion_tokens
            run.add(result, gold)
        if done % 2 == 0:
            print(f"  {done}/{len(chunks)} chunks: " + "; ".join(
                f"{r.method}: {len(r.extracted)} kept, {len(r.triple_found)} of "
                f"{sum(len(g) for _, g in chunks[:done])} facts, {r.seconds / done:.1f} s/chunk" for r in runs.values()
            ), flush=True)

    n_gold = sum(len(g) for _, g in chunks)
    loadavg = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else None
    print(f"model: {Path(model_path).name}; vocabulary: {args.vocabulary}; set: {args.set}, {len(chunks)} chunks, "
          f"{n_sentences} sentences, {n_gold} facts (sha256 {digest[:12]}); load average {loadavg}")
    summary = {
        "set": args.set, "templates": args.templates if args.set == "paragraphs" else None,
        "model": Path(model_path).name, "vocabulary": args.vocabulary, "seed": args.seed,
        "chunks": len(chunks), "sentences": n_sentences, "gold_facts": n_gold, "set_sha256": digest,
        "loadavg_at_end": loadavg, "replies_generated": generator.generated, "replies_remembered": generator.remembered,
        "methods": {},
    }
    first = next(iter(runs.values()))
    for run in runs.values():
        figures = run.figures(pairs, n_gold, len(chunks))
        figures["time_vs_" + first.method] = round(run.seconds / first.seconds, 2)
        summary["methods"][run.method] = figures
        print(f"{run.method}: proposed {run.proposed}, kept {len(run.extracted)}, failed replies {run.failed}, "
              f"dropped {dict(run.dropped)}")
        print(f"  entity pairs: precision {figures['pair_precision']:.3f}, recall {figures['pair_recall']:.3f}; "
              f"triples: precision {figures['triple_precision']:.3f}, recall {figures['triple_recall']:.3f}; "
              f"relation accuracy on right pairs {figures['relation_accuracy']:.3f}")
        print(f"  {figures['seconds_per_chunk']:.2f} s/chunk ({figures['time_vs_' + first.method]}x {first.method}), "
              f"{figures['tokens_per_chunk']} generated tokens/chunk")
        print(f"  wrong triples (relation -> the KB's): {figures['wrong_triples']}; "
              f"missed facts: {figures['missed_facts']}")
    generator.save()
    print(f"model replies: {generator.generated} generated, {generator.remembered} remembered (times and tokens "
          "count the generated ones only)")
    if args.summary:
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        args.summary.write_text(json.dumps(summary, indent=1) + "\n")


class RememberingGenerator:
    """The wrapped generator with its replies kept by prompt: in memory, and in `path` across runs.

    Extraction decodes greedily under a grammar, so one prompt gets one reply: with the replies
    kept, runs that ask the model the same things (the relation matcher's settings, `phrased`
    beside `focused`) generate each reply once, and a rerun after a change to what is done with
    the replies generates nothing. Only generated replies count in times and tokens.
    """

    def __init__(self, inner: Any, path: Path | None) -> None:
        self.inner = inner
        self.name, self.n_ctx = inner.name, inner.n_ctx
        self.path = path
        self.replies: dict[str, str] = json.loads(path.read_text()) if path is not None and path.exists() else {}
        self.generated = 0
        self.remembered = 0

    def count_tokens(self, text: str) -> int:
        return int(self.inner.count_tokens(text))

    def complete(self, messages: list[dict[str, str]], *, max_tokens: int, temperature: float = 0.0,
                 stop: Sequence[str] = (), grammar: str | None = None, cancel: Any = None,
                 stats: GenerationStats | None = None) -> str:
        prompt = [self.name, messages, grammar, max_tokens, temperature, list(stop)]
        key = hashlib.sha256(json.dumps(prompt).encode()).hexdigest()
        if key in self.replies:
            self.remembered += 1
            return self.replies[key]
        own = GenerationStats()
        reply: str = self.inner.complete(messages, max_tokens=max_tokens, temperature=temperature, stop=stop,
                                         grammar=grammar, cancel=cancel, stats=own)
        self.generated += 1
        if not own.cancelled:
            self.replies[key] = reply
        if stats is not None:
            stats.completion_tokens += own.completion_tokens
            stats.time_to_first_token += own.time_to_first_token
            stats.generation_seconds += own.generation_seconds
            stats.cancelled = own.cancelled
        return reply

    def save(self) -> None:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(self.path, json.dumps(self.replies) + "\n")


@dataclass
class Run:
    """One extraction method's counters over the chunks."""

    method: str
    config: ExtractConfig
    merger: EntityMerger
    matcher: RelationMatcher | None = None
    extracted: list[tuple[str, str, str]] = field(default_factory=list)
    pair_found: set[tuple[str, str, str]] = field(default_factory=set)
    triple_found: set[tuple[str, str, str]] = field(default_factory=set)
    dropped: Counter[str] = field(default_factory=Counter)
    missed: Counter[str] = field(default_factory=Counter)  # gold facts not extracted, by relation
    proposed: int = 0
    failed: int = 0
    tokens: int = 0
    seconds: float = 0.0

    def add(self, result: ChunkTriples | None, gold: list[tuple[str, str, str]]) -> None:
        if result is None:
            self.failed += 1
            return
        self.proposed += result.proposed
        self.dropped.update(result.dropped)
        got = [(t.head, t.relation, t.tail) for t in result.triples]
        self.extracted.extend(got)
        got_pairs = {(normalise_entity(h), normalise_entity(t)) for h, _, t in got}
        got_keys = {_key(t) for t in got}
        self.pair_found.update(g for g in gold if (normalise_entity(g[0]), normalise_entity(g[2])) in got_pairs)
        self.triple_found.update(g for g in gold if _key(g) in got_keys)
        self.missed.update(g[1] for g in gold if _key(g) not in got_keys)

    def figures(self, pairs: dict[tuple[str, str], set[str]], n_gold: int, n_chunks: int) -> dict[str, object]:
        pair_ok = [t for t in self.extracted if (normalise_entity(t[0]), normalise_entity(t[2])) in pairs]
        triple_ok = [t for t in pair_ok if t[1] in pairs[(normalise_entity(t[0]), normalise_entity(t[2]))]]
        n_ext = len(self.extracted)
        # Each wrong triple as "its relation -> what the KB holds for the pair" ("none": not a KB pair).
        wrong = Counter(
            f"{t[1]} -> {'/'.join(sorted(pairs.get((normalise_entity(t[0]), normalise_entity(t[2])), ()))) or 'none'}"
            for t in self.extracted if t not in triple_ok
        )
        return {
            "proposed": self.proposed, "kept": n_ext, "failed_replies": self.failed, "dropped": dict(self.dropped),
            "pair_precision": round(len(pair_ok) / max(n_ext, 1), 3),
            "pair_recall": round(len(self.pair_found) / n_gold, 3),
            "triple_precision": round(len(triple_ok) / max(n_ext, 1), 3),
            "triple_recall": round(len(self.triple_found) / n_gold, 3),
            "relation_accuracy": round(len(triple_ok) / max(len(pair_ok), 1), 3),
            "seconds_per_chunk": round(self.seconds / n_chunks, 2),
            "tokens_per_chunk": round(self.tokens / n_chunks, 1),
            "wrong_triples": dict(wrong.most_common()),
            "missed_facts": dict(self.missed.most_common()),
        }


def _key(t: tuple[str, str, str]) -> tuple[str, str, str]:
    return normalise_entity(t[0]), t[1], normalise_entity(t[2])


if __name__ == "__main__":
    main()
