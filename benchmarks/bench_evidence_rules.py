"""Rules for the best source sentence (answer/evidence.py), side by side on the same sources and vectors.

    .venv/bin/python benchmarks/bench_evidence_rules.py                 # the sample corpus and COVID-QA 1-120
    .venv/bin/python benchmarks/bench_evidence_rules.py --held-out RULE # COVID-QA 121-200 for RULE against "plain"
    .venv/bin/python benchmarks/bench_evidence_rules.py --labels        # headings and tables' first rows left out
    .venv/bin/python benchmarks/bench_evidence_rules.py --question-form # the asking's words left out of the share

The rule before 2026-12-04 ("plain": cosine to the question plus half the share of the question's content
words the sentence holds) was chosen on the sample corpus's twelve questions and the first 60 of COVID-QA's
Random(7) draw, and checked on the next 60 (bench_extract.py). The variants here add to the word share what the
question asks for: a number for "how many / how much / how long ...", a time or date for "when / what year", a
frequency for "how often" (a bonus of W when the sentence holds one; the answer-type idea of classic question
answering); a stop-word list that also leaves out pronouns and auxiliaries ("I", "should", "can"); and a share
whose words are weighted by how few of the candidate sentences hold them ("idfW": weight W instead of 0.5;
"idf1.0" has been the product's rule since, `answer.evidence.weighted_shares`). They are chosen on the sample
corpus and COVID-QA 1-120; questions 121-200 of the draw, which no rule has been chosen on, judge the one
chosen, once (`--held-out`, against "plain"). Every rule scores the same sentences of the same hits
(`Engine.search`, the default k) with the same cosines, so a difference is the rule's alone.
`--question-form` compares idf1.0 with "idf1.0q", the same share over the question's words less those that phrase
the asking (QUESTION_FORM_WORDS: "does", "say", "about", "I", "can", ...), on the sample corpus's
twelve questions, on CONVERSATIONAL (32 questions over the sample corpus phrased as users ask, written before either
rule was run on them), and on COVID-QA 1-200.
Summary: benchmarks/summaries/evidence_rules.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _corpus  # noqa: E402
from _scratch import scratch_dir
from bench_answer_repeats import covid_items  # noqa: E402
from bench_prompt import QUESTIONS  # noqa: E402

SUMMARY = Path(__file__).resolve().parent / "summaries" / "evidence_rules.json"
WEIGHTS = (0.1, 0.2, 0.3)
# (question, a part of the sentence that answers it, the document). Written on 2026-12-05 from the sample corpus's
# text, in the words a user types, after QUESTION_FORM_WORDS was fixed and before any rule was run on them. The first
# one was met by hand: its best sentence was "Questions about this policy go to Finance Operations ...".
CONVERSATIONAL = [
    ("What does the travel policy say about rail travel?", "under 4 hours by rail", "travel"),
    ("Can I fly business class?", "business class needs approval", "travel"),
    ("Do I need a receipt for a 10 euro taxi?", "itemised receipt", "travel"),
    ("How much can I spend on a hotel in Berlin?", "berlin", "travel"),
    ("Will I get paid back for minibar items?", "minibar items", "travel"),
    ("When do I get my expenses paid?", "next monthly salary run", "travel"),
    ("Who should I ask if I have questions about the travel policy?", "questions about this policy go to", "travel"),
    ("What should I do if the machine shows E4?", "e4: the brew boiler", "aurora"),
    ("Tell me how to descale the espresso machine.", "to descale, remove", "aurora"),
    ("Can you tell me what temperature I should use for dark roasts?", "dark roasts at 90 to 92", "aurora"),
    ("How much coffee do I need for a double espresso?", "grind 18 grams", "aurora"),
    ("Does the warranty cover damage from scale?", "does not cover damage from scale", "aurora"),
    ("How long do I have to register my machine?", "register your machine within 30 days", "aurora"),
    ("What do I do when the pump sounds loud?", "pump sounds loud", "aurora"),
    ("Can I borrow a bee suit as a new member?", "borrow a full protective suit", "beekeeping"),
    ("When should I treat my bees for varroa?", "treat in august", "beekeeping"),
    ("How much honey should I leave for the bees over winter?", "18 kilograms of stores", "beekeeping"),
    ("What does the guide say about swarming season?", "between mid-may and the end of june", "beekeeping"),
    ("When does the association meet?", "first tuesday", "beekeeping"),
    ("Is my honey ready to harvest if half the cells are capped?", "80 percent of its cells", "beekeeping"),
    ("How often should I water my snake plant?", "every 2 to 3 weeks", "houseplant"),
    ("Is a peace lily safe for my cat?", "toxic to cats", "houseplant"),
    ("What does it mean when the lower leaves go yellow?", "yellow lower leaves", "houseplant"),
    ("Should I feed my plants in winter?", "not at all in winter", "houseplant"),
    ("Do I need to mist my ferns?", "misting|ferns and calatheas", "houseplant"),
    ("Can children climb the lighthouse tower?", "children under eight", "kestrel"),
    ("Who was the last keeper of the lighthouse?", "ada penhallow", "kestrel"),
    ("What happened to the lighthouse during the storm of 1903?", "a wave broke two panes", "kestrel"),
    ("How do I write a literal square bracket in Quillpad?", "put a backslash", "quillpad"),
    ("How deep can I nest formatting codes?", "nested up to 8 levels", "quillpad"),
    ("What should I do if I find pests on a plant as a volunteer?", "quarantine shelf", "houseplant"),
    ("Do I need approval for a trip that costs 3,000 euros?", "above 2,500 euros", "travel"),
]


def prepared(home: Path, questions: list[str], *, labels: bool = False) -> list[dict[str, Any]]:
    """Per question: its candidate sentences (one line each) and their cosines to it; with `labels`, the headings
    and tables' first rows that the product leaves out (`sentences.is_label`) too, marked in "label"."""
    os.environ["LOCALRAG_HOME"] = str(home)
    from localrag.answer.evidence import MIN_WORDS, candidate_sentences
    from localrag.config import load_settings
    from localrag.engine import Engine
    from localrag.sentences import is_label, one_line, sentence_spans

    engine = Engine(load_settings())
    out = []
    for question in questions:
        hits = engine.search(question)
        if labels:
            candidates = [(n, s, e) for n, hit in enumerate(hits, start=1) for s, e in sentence_spans(hit.chunk.text)
                          if len(hit.chunk.text[s:e].split()) >= MIN_WORDS]
        else:
            candidates = candidate_sentences(hits)
        texts = [one_line(hits[n - 1].chunk.text[s:e]) for n, s, e in candidates]
        label = [is_label(hits[n - 1].chunk.text, s, e, hits[n - 1].chunk.heading, hits[n - 1].chunk.file_type)
                 for n, s, e in candidates]
        cosines = (engine.embedder.embed(texts) @ engine.embedder.embed_queries([question])[0]) if texts else []
        out.append({"question": question, "texts": texts, "cosines": np.asarray(cosines, dtype=float),
                    "label": np.asarray(label, dtype=bool)})
    return out


# Pronouns, auxiliaries and question words that localrag's stop words (raft.qa) keep as content words.
EXTRA_STOP = frozenset("i you we he she they me my your our his her them do does did can could should would will "
                       "shall may might must much many often long far old".split())
# Words that phrase the asking, not what is asked ("What does the policy say about rail travel?" asks about rail and
# travel): EXTRA_STOP's pronouns, auxiliaries and "how" words, with verbs of telling, "about", "there", "any".
# Weighted by rarity, such a word counts most exactly where a source happens to hold it.
QUESTION_FORM_WORDS = EXTRA_STOP | frozenset(
    "mine yours ours theirs us him am been being doing about say says said tell know mention explain describe please "
    "there any".split())
NUMBER_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|twenty|"
                "thirty|forty|fifty|hundred|thousand|million|billion|half|dozen")
ANSWER_TYPES = [
    # (what the question says, what a sentence that answers it holds)
    (r"\bhow often\b|\bhow frequently\b",
     r"\bevery\b|\bper\b|\beach (?:day|week|month|year)\b|\b(?:daily|weekly|monthly|yearly|annually|hourly)\b|"
     r"\b(?:once|twice)\b|\btimes? an?\b"),
    (r"\bhow (?:many|much|long|large|big|old|far|high|heavy|tall|wide|deep)\b|\bwhat (?:percentage|proportion|"
     r"fraction|number|amount|dose|size)\b",
     rf"\d|\b(?:{NUMBER_WORDS})\b"),
    (r"^\s*when\b|\bwhat (?:year|date|time|month|day)\b|\bwhich year\b",
     # Month names by their capital: "may" and "march" are words too.
     r"\b(?:1[5-9]|20)\d\d\b|\b(?-i:January|February|March|April|May|June|July|August|September|October|"
     r"November|December)\b|\b\d{1,2}:\d\d\b|\b(?:century|decade|spring|summer|autumn|winter)\b"),
]


def question_words(text: str) -> list[str]:
    """A question's content words (`raft.qa.content_words`) less QUESTION_FORM_WORDS."""
    from localrag.raft.qa import content_words

    return [word for word in content_words(text) if word not in QUESTION_FORM_WORDS]


def word_share(question: str, text: str, *, pronouns: bool) -> float:
    from localrag.raft.qa import content_words

    asked = set(content_words(question))
    if pronouns:
        asked -= EXTRA_STOP
    return len(asked.intersection(content_words(text))) / max(1, len(asked))


def answer_type_bonus(question: str, text: str, weight: float) -> float:
    import re

    for asks, holds in ANSWER_TYPES:
        if re.search(asks, question, re.IGNORECASE):
            return weight if re.search(holds, text, re.IGNORECASE) else 0.0
    return 0.0


def choose(item: dict[str, Any], rule: str) -> str:
    """The sentence `rule` picks for one prepared question ("" when the sources have none)."""
    texts, cosines = item["texts"], item["cosines"]
    if rule.endswith("-labels"):  # the same rule over the candidates that are not headings or first rows
        keep = ~item["label"]
        kept = {**item, "texts": [t for t, k in zip(texts, keep, strict=True) if k], "cosines": cosines[keep]}
        return choose(kept, rule.removesuffix("-labels"))
    if not texts:
        return ""
    name, _, weight = rule.partition("+type")
    if name.startswith("idf"):
        from localrag.answer.evidence import weighted_shares

        form = name.endswith("q")
        shares = weighted_shares(item["question"], texts, question_words) if form else weighted_shares(
            item["question"], texts)
        scores = cosines + float(name[3:].removesuffix("q") or 0.5) * shares
    else:
        shares = np.array([word_share(item["question"], text, pronouns=name == "pronouns") for text in texts])
        scores = cosines + 0.5 * shares
    if weight:
        scores = scores + np.array([answer_type_bonus(item["question"], text, float(weight)) for text in texts])
    return str(texts[int(np.argmax(scores))])


def rules() -> list[str]:
    typed = [f"{base}+type{w}" for base in ("plain", "pronouns") for w in WEIGHTS]
    return ["plain", "pronouns", "idf0.5", "idf1.0", "idf1.5", "idf2.0", *typed, "idf1.0+type0.1"]


def scored(items: list[dict[str, Any]], judge: Any, names: list[str], base: str = "plain") -> dict[str, Any]:
    from localrag.evaluate.metrics import paired_difference

    picks = {rule: [choose(item, rule) for item in items] for rule in names}
    values = {rule: [judge(item, text) for item, text in zip(items, texts, strict=True)]
              for rule, texts in picks.items()}
    out: dict[str, Any] = {"questions": len(items)}
    for rule in names:
        out[rule] = {"score": round(float(np.mean(values[rule])), 4)}
        if rule != base:
            out[rule][f"vs {base}"] = paired_difference(values[base], values[rule]).to_json()
            out[rule]["higher / lower"] = [sum(b > a for a, b in zip(values[base], values[rule], strict=True)),
                                           sum(b < a for a, b in zip(values[base], values[rule], strict=True))]
    out["picks"] = [{"question": item["question"], **{rule: picks[rule][i] for rule in names}}
                    for i, item in enumerate(items)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=_corpus.RESULTS / "tune_retriever_home_98")
    parser.add_argument("--held-out", default="", metavar="RULE", help="judge RULE on COVID-QA 121-200 against plain")
    parser.add_argument("--labels", action="store_true",
                        help="idf1.0 with and without headings and tables' first rows: sample corpus, COVID-QA 1-200")
    parser.add_argument("--question-form", action="store_true",
                        help="idf1.0 against idf1.0q: sample corpus, CONVERSATIONAL, COVID-QA 1-200")
    args = parser.parse_args()
    from localrag.config import load_settings
    from localrag.engine import Engine
    from localrag.evaluate.metrics import token_f1
    from localrag.ingest.discover import sample_corpus_dir

    summary = json.loads(SUMMARY.read_text()) if SUMMARY.is_file() else {}
    items = covid_items(200)
    gold = dict(items)

    def f1(item: dict[str, Any], text: str) -> float:
        return token_f1(text, gold[item["question"]])

    if args.labels:
        sample_home = Path(scratch_dir(prefix="localrag-evidence-"))
        os.environ["LOCALRAG_HOME"] = str(sample_home)
        Engine(load_settings()).ingest([sample_corpus_dir()])
        expected = {q: e.split("|") for q, e, _ in QUESTIONS}
        sample = prepared(sample_home, [q for q, _, _ in QUESTIONS], labels=True)
        both = ["idf1.0", "idf1.0-labels"]
        summary["labels: sample corpus"] = scored(
            sample, lambda item, text: float(any(e in text.lower() for e in expected[item["question"]])), both,
            base="idf1.0")
        covid = prepared(args.home.resolve(), [q for q, _ in items], labels=True)
        summary["labels: COVID-QA 1-200"] = scored(covid, f1, both, base="idf1.0")
        summary["labels: candidates that are labels"] = {
            name: [int(sum(item["label"].sum() for item in part)), sum(len(item["texts"]) for item in part)]
            for name, part in (("sample corpus", sample), ("COVID-QA 1-200", covid))}
    elif args.question_form:
        sample_home = Path(scratch_dir(prefix="localrag-evidence-"))
        os.environ["LOCALRAG_HOME"] = str(sample_home)
        Engine(load_settings()).ingest([sample_corpus_dir()])
        both = ["idf1.0", "idf1.0q"]
        for name, questions in (("sample corpus", QUESTIONS), ("conversational", CONVERSATIONAL)):
            expected = {q: e.split("|") for q, e, _ in questions}
            summary[f"question form: {name}"] = scored(
                prepared(sample_home, [q for q, _, _ in questions]),
                lambda item, text, expected=expected: float(any(e in text.lower() for e in expected[item["question"]])),
                both, base="idf1.0")
        summary["question form: COVID-QA 1-200"] = scored(prepared(args.home.resolve(), [q for q, _ in items]), f1,
                                                           both, base="idf1.0")
    elif args.held_out:
        held = prepared(args.home.resolve(), [q for q, _ in items[120:]])
        summary["held out: COVID-QA 121-200"] = scored(held, f1, ["plain", args.held_out])
    else:
        sample_home = Path(scratch_dir(prefix="localrag-evidence-"))
        os.environ["LOCALRAG_HOME"] = str(sample_home)
        Engine(load_settings()).ingest([sample_corpus_dir()])
        expected = {q: e.split("|") for q, e, _ in QUESTIONS}
        sample = prepared(sample_home, [q for q, _, _ in QUESTIONS])
        summary["sample corpus"] = scored(
            sample, lambda item, text: float(any(e in text.lower() for e in expected[item["question"]])), rules())
        chosen = prepared(args.home.resolve(), [q for q, _ in items[:120]])
        summary["COVID-QA 1-120"] = scored(chosen, f1, rules())
    summary["command"] = " ".join(sys.argv)
    summary["load_average"] = os.getloadavg()
    SUMMARY.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    for name, part in summary.items():
        if isinstance(part, dict):
            print(name, {k: v for k, v in part.items() if k != "picks"})


if __name__ == "__main__":
    main()
