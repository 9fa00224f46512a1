"""Answer quality of the bundled model over the sample corpus: right answers and right citations.

Twelve questions, each answered by one sample document, asked through `Engine.ask` (hybrid top-4,
greedy). Reports how many answers contain the expected words, how many cited a source by themselves,
how many needed the attribution turn, and how many cite the right document. This is how the prompt
layout in localrag/answer/prompt.py was chosen; rerun it after changing the prompt.

    .venv/bin/python benchmarks/bench_prompt.py [--model PATH] [--summary benchmarks/summaries/prompt.json]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from _scratch import scratch_dir
from _summary import load_at_start, write_summary

ROOT = Path(__file__).resolve().parents[1]

QUESTIONS = [
    ("When was the Kestrel Point lighthouse first lit?", "1871", "kestrel"),
    ("How many hives does the Hollow Brook teaching apiary have?", "14|fourteen", "beekeeping"),
    ("How many eggs a day can a queen bee lay in spring?", "1,500", "beekeeping"),
    ("How often should a colony be inspected from April to July?", "seven to ten", "beekeeping"),
    ("How many frames does a brood box hold?", "eleven|11", "beekeeping"),
    ("How long does a worker bee live in summer?", "six weeks", "beekeeping"),
    ("What is the brewing pressure of the Aurora Duo set to at the factory?", "9 bar", "aurora"),
    ("How large is the water tank of the Aurora Duo?", "2.5", "aurora"),
    ("Above what trip cost is a director's approval needed?", "2,500", "travel"),
    ("Which travel desk must Larkspur employees book through?", "wayfarer", "travel"),
    ("How many plants do the Fernhill volunteers look after?", "300", "houseplant"),
    ("How far from a sunny window should houseplants be placed?", "two metres|2 metres", "houseplant"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="")
    parser.add_argument("--summary", type=Path, help="keep the JSON summary in this file")
    args = parser.parse_args()
    load = load_at_start()
    os.environ["LOCALRAG_HOME"] = scratch_dir(prefix="localrag-prompt-")
    sys.path.insert(0, str(ROOT))
    from localrag.config import load_settings
    from localrag.engine import Engine
    from localrag.ingest.discover import sample_corpus_dir

    engine = Engine(load_settings(model=args.model or None))
    engine.ingest([sample_corpus_dir()])
    correct = self_cited = attributed = right_doc = 0
    for question, expected, doc in QUESTIONS:
        answer = engine.ask(question)
        ok = any(e in answer.text.lower() for e in expected.split("|"))
        cited_docs = [Path(answer.sources[n - 1].chunk.path).name for n in answer.cited]
        right = any(doc in name for name in cited_docs)
        correct += ok
        self_cited += bool(answer.cited) and not answer.attributed
        attributed += answer.attributed
        right_doc += right
        print(f"{'✓' if ok else '✗'} {'✓' if right else '✗'}  {question}\n      {answer.text[:150]!r}")
    n = len(QUESTIONS)
    print(f"\n{engine.model_name()}: correct {correct}/{n}, cited by itself {self_cited}/{n}, "
          f"citation added by localrag {attributed}/{n}, cites the right document {right_doc}/{n}")
    write_summary("bench_prompt.py", load, [{
        "model": engine.model_name(), "prompt_sentences": engine.settings.prompt_sentences, "questions": n,
        "correct": correct, "cited_by_itself": self_cited, "citation_added": attributed, "right_document": right_doc,
    }], args.summary)


if __name__ == "__main__":
    main()
