"""Each source's heading path in the prompt, and the answer's language stated, against the prompt before 2026-12-07.

    .venv/bin/python benchmarks/bench_prompt_headings.py --home /tmp/cov/after --covid 60

Every question is answered through `Engine.ask` with the bundled model and default settings (greedy, k = 4, 4
sentences of each source, repeat guard and attribution on) in three arms that differ only in the prompt:

- before: the prompt before 2026-12-07: "[n] sentences", the system prompt without a language sentence;
- after: `prompt_headings = true` (off by default): "[n] (Drinks > Hot Chocolate)" on its own line above the
  sentences where the heading paths tell the sources apart for the question (`answer.prompt.headings_tell_apart`;
  on every source with a heading in the first run, kept in prompt_headings.json), and the default "Answer in
  German." in the system prompt of a question that is not English (`answer.prompt.language_sentence`);
- english line: after, with `answer_language = "English"`, so every English question's system prompt says "Answer
  in English." too: does the line cost English answers (sample corpus and recipes only)?

Sets: the sample corpus's twelve questions (bench_prompt.py: does the answer hold the expected words); ten recipe
questions over two Markdown files whose sections share their ingredients (the finding: "how much sugar in the hot
chocolate" was answered with the lemonade's 100 g); sixteen German, French, Italian and Spanish questions over four
notes in those languages (holds the expected words; answered not in English: English function words that outweigh
the other languages' in the answer, `question_language`); COVID-QA held-out questions 121-(120+N) over the
98-article home (`--home`, `--covid N`; token F1, the figure `prompt_sentences = 4` was adopted on). Replies are
kept by prompt within the run: an arm whose prompt for a question is the same as an earlier arm's reuses that reply
(greedy decoding gives one reply per prompt), and the summary counts the prompts that differ. Paired 95 % bootstrap
intervals (localrag.evaluate.metrics.paired_difference). Summary: `--summary`, by default
benchmarks/summaries/prompt_headings_gated.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _scratch import scratch_dir  # noqa: E402
from bench_answer_repeats import covid_items  # noqa: E402
from bench_prompt import QUESTIONS  # noqa: E402

SUMMARY = Path(__file__).resolve().parent / "summaries" / "prompt_headings_gated.json"

RECIPES = {
    "drinks.md": """# Drinks

## Lemonade

Squeeze six lemons into a jug. Add 100 g sugar and stir until it dissolves. Top up with one litre of cold water
and add ice.

## Hot Chocolate

Warm 250 ml milk in a small pan. Whisk in 2 tbsp cocoa powder and 2 tsp sugar. Serve with a pinch of cinnamon.
""",
    "baking.md": """# Baking

## Banana Bread

Mash three ripe bananas. Mix in 280 g flour, 1 tsp baking soda and 100 g melted butter. Bake for 60 minutes at
175 °C.

## Pizza Dough

Combine 500 grams bread flour with 7 g dried yeast and 325 ml warm water. Knead for ten minutes and leave to rise.

## Shortbread

Rub 250 g plain flour with 175 g butter and 75 g caster sugar. Press into a tin and bake for 25 minutes.
""",
}
RECIPE_QUESTIONS = [
    ("How much sugar is in the hot chocolate?", "2 tsp"),
    ("How much sugar goes into the lemonade?", "100 g|100g"),
    ("How much flour is in the banana bread?", "280"),
    ("How much flour does the pizza dough need?", "500"),
    ("How much flour is in the shortbread?", "250"),
    ("How long does the banana bread bake?", "60"),
    ("How long does the shortbread bake?", "25"),
    ("How much milk goes into the hot chocolate?", "250"),
    ("How much butter is in the shortbread?", "175"),
    ("How much butter is in the banana bread?", "100"),
]
NOTES = {
    "mietvertrag.md": """# Mietvertrag Wohnung Lindenstraße 12

## Mietbeginn

Das Mietverhältnis beginnt am 1. März 2027. Die Schlüssel werden am 28. Februar übergeben.

## Miete und Kaution

Die monatliche Kaltmiete beträgt 850 Euro. Die Nebenkosten betragen 190 Euro im Monat. Die Kaution beträgt drei
Monatsmieten und ist vor dem Einzug zu zahlen.

## Kündigung

Die Kündigungsfrist beträgt drei Monate zum Monatsende. Haustiere sind nur mit Zustimmung des Vermieters erlaubt.
""",
    "facture-plombier.md": """# Facture du plombier

## Intervention

Le plombier Marc Dubois est intervenu le 14 janvier pour réparer une fuite sous l'évier de la cuisine.
L'intervention a duré deux heures.

## Montant

Le montant de la facture est de 245 euros TTC. Le déplacement est facturé 40 euros. Le paiement est dû sous trente
jours par virement bancaire.

## Garantie

La réparation est garantie six mois.
""",
    "corso-pianoforte.md": """# Corso di pianoforte

## Iscrizione

Le iscrizioni al corso di pianoforte aprono il 1 settembre. La quota annuale del corso è di 480 euro, pagabile in
due rate.

## Lezioni

Le lezioni si tengono ogni martedì alle 18:30 nella sala Verdi. Ogni lezione dura quarantacinque minuti.

## Insegnante

L'insegnante del corso è la maestra Giulia Rossi. Il saggio finale si tiene a giugno.
""",
    "natacion.md": """# Club de natación

## Horario

La piscina abre a las siete de la mañana y cierra a las diez de la noche. Los domingos está cerrada.

## Cuotas

La cuota mensual del club es de 35 euros. La matrícula cuesta 20 euros y se paga una sola vez.

## Normas

Es obligatorio usar gorro de baño. Los niños menores de doce años deben ir acompañados.
""",
}
LANGUAGE_QUESTIONS = [
    ("Wann ist der Mietbeginn?", "1. märz|1 märz"),
    ("Wie hoch ist die monatliche Kaltmiete?", "850"),
    ("Wie lang ist die Kündigungsfrist?", "drei monate"),
    ("Wie hoch sind die Nebenkosten?", "190"),
    ("Quel est le montant de la facture du plombier ?", "245"),
    ("Combien coûte le déplacement du plombier ?", "40"),
    ("Combien de temps la réparation est-elle garantie ?", "six mois"),
    ("Quand le plombier est-il intervenu ?", "14 janvier"),
    ("Quanto costa la quota annuale del corso di pianoforte?", "480"),
    ("Quando si tengono le lezioni di pianoforte?", "martedì|18:30"),
    ("Chi è l'insegnante del corso di pianoforte?", "giulia rossi|rossi"),
    ("Quanto dura ogni lezione?", "quarantacinque|45"),
    ("¿Cuánto cuesta la cuota mensual del club?", "35"),
    ("¿A qué hora abre la piscina?", "siete|7"),
    ("¿Cuánto cuesta la matrícula del club?", "20"),
    ("¿Qué día está cerrada la piscina?", "domingo"),
]


def arm(name: str) -> None:
    """Set the prompt to arm `name`'s: the functions the answer path looks up at each call."""
    from localrag.answer import prompt

    saved = ARMS.setdefault("saved", {"_section": prompt._section, "language_sentence": prompt.language_sentence})
    prompt._section = saved["_section"] if name != "before" else (lambda heading: "")  # type: ignore[assignment]
    prompt.language_sentence = (saved["language_sentence"] if name != "before"  # type: ignore[assignment]
                                else (lambda question, answer_language="question": ""))


ARMS: dict[str, Any] = {}


class KeptReplies:
    """The engine's generator, its replies kept by prompt: the same messages are answered once per run."""

    def __init__(self, generator: Any) -> None:
        self.generator = generator
        self.replies: dict[str, list[str]] = {}
        self.reused = 0
        self.last_key = ""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.generator, name)

    def stream_chat(self, messages: list[dict[str, str]], **kwargs: Any) -> Iterator[str]:
        key = json.dumps(messages, ensure_ascii=False)
        self.last_key = key
        if key in self.replies:
            self.reused += 1
            yield from self.replies[key]
            return
        pieces = []
        for piece in self.generator.stream_chat(messages, **kwargs):
            pieces.append(piece)
            yield piece
        self.replies[key] = pieces


def answers(home: Path, questions: list[str], name: str, language: str = "question") -> list[dict[str, Any]]:
    """Each question's answer under arm `name`: its text, the prompt it was asked in, seconds."""
    os.environ["LOCALRAG_HOME"] = str(home)
    from localrag.config import load_settings
    from localrag.engine import Engine

    engine = ENGINES.get(str(home))
    if engine is None:
        engine = ENGINES[str(home)] = Engine(load_settings())
        engine.ask("warm up")
        engine._generator = KeptReplies(engine.generator)  # type: ignore[attr-defined]
    engine.settings = engine.settings.replace(answer_language=language, prompt_headings=True)
    arm(name)
    kept = engine.generator
    out = []
    for question in questions:
        started = time.perf_counter()
        answer = engine.ask(question)
        out.append({"question": question, "text": answer.text, "seconds": round(time.perf_counter() - started, 3),
                    "prompt": kept.last_key if answer.sources else ""})
        print(f"{name} {len(out)}/{len(questions)} {out[-1]['seconds']:.1f}s", file=sys.stderr, flush=True)
    return out


ENGINES: dict[str, Any] = {}


def compared(runs: dict[str, list[dict[str, Any]]], judge: Callable[[dict[str, Any]], float]) -> dict[str, Any]:
    """Each arm's mean score and its paired difference against before, with the prompts that differ."""
    from localrag.evaluate.metrics import paired_difference

    scores = {name: [judge(r) for r in records] for name, records in runs.items()}
    out: dict[str, Any] = {}
    for name, records in runs.items():
        row: dict[str, Any] = {"score": round(sum(scores[name]) / len(records), 4)}
        if name != "before":
            row["vs before"] = paired_difference(scores["before"], scores[name]).to_json()
            pairs = list(zip(scores["before"], scores[name], strict=True))
            row["higher / lower"] = [sum(b > a for a, b in pairs), sum(b < a for a, b in pairs)]
            row["prompts differing"] = sum(r["prompt"] != b["prompt"]
                                           for r, b in zip(records, runs["before"], strict=True))
        out[name] = row
    out["records"] = {name: [{k: v for k, v in r.items() if k != "prompt"} for r in records]
                      for name, records in runs.items()}
    return out


def holds(expected: dict[str, str]) -> Callable[[dict[str, Any]], float]:
    return lambda r: float(any(e in r["text"].lower() for e in expected[r["question"]].split("|")))


def in_english(text: str) -> bool:
    """Whether an answer is written in English: English function words and none of another language's that
    outweigh them ("850 Euro [2]" is in no language)."""
    import re

    from localrag.answer.prompt import _ENGLISH_WORDS, question_language

    words = re.findall(r"[^\W\d_]+", text.lower())
    return not question_language(text) and any(word in _ENGLISH_WORDS for word in words)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="the 98-article COVID-QA home")
    parser.add_argument("--covid", type=int, default=80, help="COVID-QA held-out questions 121-(120+N)")
    parser.add_argument("--summary", type=Path, default=SUMMARY, help="where the summary goes")
    args = parser.parse_args()
    from localrag.config import load_settings
    from localrag.engine import Engine
    from localrag.evaluate.metrics import token_f1
    from localrag.ingest.discover import sample_corpus_dir

    summary: dict[str, Any] = {}
    started = time.time()
    sample_home = Path(scratch_dir(prefix="localrag-prompt-headings-"))
    notes_home = Path(scratch_dir(prefix="localrag-prompt-headings-notes-"))
    os.environ["LOCALRAG_HOME"] = str(sample_home)
    Engine(load_settings()).ingest([sample_corpus_dir()])
    folder = notes_home / "notes"
    folder.mkdir()
    for name, text in {**RECIPES, **NOTES}.items():
        (folder / name).write_text(text)
    os.environ["LOCALRAG_HOME"] = str(notes_home)
    Engine(load_settings()).ingest([folder])

    expected = {q: e for q, e, _ in QUESTIONS}
    sample = [q for q, _, _ in QUESTIONS]
    summary["sample corpus"] = compared({name: answers(sample_home, sample, name, language)
                                         for name, language in (("before", "question"), ("after", "question"),
                                                                ("english line", "English"))}, holds(expected))
    recipes = [q for q, _ in RECIPE_QUESTIONS]
    summary["recipes"] = compared({name: answers(notes_home, recipes, name, language)
                                   for name, language in (("before", "question"), ("after", "question"),
                                                          ("english line", "English"))}, holds(dict(RECIPE_QUESTIONS)))
    foreign = [q for q, _ in LANGUAGE_QUESTIONS]
    runs = {name: answers(notes_home, foreign, name) for name in ("before", "after")}
    summary["languages: holds the words"] = compared(runs, holds(dict(LANGUAGE_QUESTIONS)))
    summary["languages: not in English"] = compared(runs, lambda r: float(not in_english(r["text"])))
    if args.covid:
        items = covid_items(200)[120:120 + args.covid]
        gold = dict(items)
        questions = [q for q, _ in items]
        summary[f"COVID-QA 121-{120 + args.covid}"] = compared(
            {name: answers(args.home.resolve(), questions, name) for name in ("before", "after")},
            lambda r: token_f1(r["text"], gold[r["question"]]))
    summary["replies reused (same prompt as an earlier arm)"] = sum(
        e.generator.reused for e in ENGINES.values())
    summary["command"] = " ".join(sys.argv)
    summary["seconds"] = round(time.time() - started)
    summary["load_average"] = os.getloadavg()
    args.summary.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    for name, part in summary.items():
        if isinstance(part, dict):
            print(name, {k: row for k, row in part.items() if k != "records"})


if __name__ == "__main__":
    main()
