"""Follow-up questions in a conversation: does the retrieval query carry what the follow-up leans on?

    .venv/bin/python benchmarks/bench_follow_ups.py --label NAME          # the product's rule; NAME keys the summary
    .venv/bin/python benchmarks/bench_follow_ups.py --label NAME --chat   # and the long chat, generated (minutes)

A conversation of two questions over the sample corpus: a first question, then a second asked with the first in
the history, as the chat app and `ask --conversation` ask it. FOLLOW_UPS lean on the first ("And in London?",
"How long does it take?"); SWITCHES change the subject ("Descaling?" after a question on hotels) and must not be
pulled back to it; UNANSWERABLE change it to something the corpus does not hold and must be refused. Each second
question runs through `Engine.stream` with the bundled MiniLM in extract mode, so
no model is loaded and every step the answer takes is the product's own: the retrieval query
(`answer.pipeline.follow_up_query`, and in `Engine.stream` the previous question in front when the second alone
would be refused), the search, the refusal floors, the best sentence. Per question:

- found: the answering part (lower case) is in one of the sources the answer was given;
- answered: not refused, and the extracted answer, the best sentence, holds the part.

CHAINS (written on 2026-12-07, before the rule that leans on the last answered query ran) ask three follow-ups or
more in a row, one after a question that is refused: each later question is asked with the whole conversation before
it, saved as `ask --conversation` saves it (each answer with the query it was searched with, refusals kept out).

`--chat` also asks LONG_CHAT, a conversation of 22 questions over three of the sample documents, with the bundled
model writing every answer (greedy), once as one conversation and once each question alone: how many answers are
identical to an earlier answer of the conversation, and how many of those searched as asked are the answer the
question gets with no history.

Both sets were written on 2026-12-05 from the sample corpus's text before any rule was run on them; each item names
a part of the sentence that answers its second question (alternatives split by "|"). The rule before and after a
change are run from their commits with their own --label. Summary: benchmarks/summaries/follow_ups.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from _scratch import scratch_dir

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SUMMARY = Path(__file__).resolve().parent / "summaries" / "follow_ups.json"

# (first question, second question, a part of the sentence that answers the second)
FOLLOW_UPS = [
    ("What is the hotel cap in Berlin?", "And in London?", "london | 210"),
    ("What is the hotel cap in Berlin?", "What about Lisbon?", "lisbon | 130"),
    ("What is the daily meal allowance in Amsterdam?", "And on the first day of a trip?",
     "70 percent of the allowance"),
    ("How often should I descale the Aurora Duo?", "Which descaler should I use?", "clean d7"),
    ("How often should I descale the Aurora Duo?", "How long does it take?", "about 45 minutes"),
    ("What temperature is the brew boiler set to at the factory?", "And for light roasts?",
     "light roasts often taste better"),
    ("What does error E1 mean?", "And E7?", "e7: the steam boiler overheated"),
    ("How big is the brew boiler?", "And the steam boiler?", "steam boiler: 1.2 litres"),
    ("How long is the warranty on the Aurora Duo?", "What does it not cover?", "does not cover damage"),
    ("How long does a worker bee live in summer?", "And in autumn?", "five or six months"),
    ("When do most swarms leave?", "What is the warning sign?", "queen cells along the bottom"),
    ("When should I treat for varroa mites?", "And the second treatment?", "oxalic acid"),
    ("How much water should ripe honey hold?", "And how much should I leave for winter?", "18 kilograms"),
    ("How often should I water a snake plant?", "And a calathea?", "keep evenly moist"),
    ("Is a peace lily toxic to cats?", "What about dogs?", "toxic to cats and dogs"),
    ("How much humidity do ferns prefer?", "Does misting help?", "misting raises the humidity"),
    ("When was the Kestrel Point light first lit?", "How far could it be seen?", "21 nautical miles"),
    ("Who was the first principal keeper of Kestrel Point?", "And the last?", "ada penhallow"),
    ("How tall is the Kestrel Point tower?", "How many steps?", "142 steps"),
    ("When is the Kestrel Point museum open?", "Can children climb the tower?", "children under eight"),
    ("How deep can Quillpad formatting codes be nested?", "And how do I write a literal bracket?", "backslash"),
    ("Which shortcut inserts bold in Quillpad?", "And italic?", "ctrl+i"),
]
SWITCHES = [
    ("What is the hotel cap in Berlin?", "Who was the last keeper of the lighthouse?", "ada penhallow"),
    ("How often should I descale the Aurora Duo?", "How many hives does the Hollow Brook apiary have?",
     "fourteen hives"),
    ("When was the Kestrel Point light first lit?", "What is the water tank size of the Aurora Duo?",
     "water tank: 2.5"),
    ("How often should I water a snake plant?", "Varroa treatment?", "treat in august"),
    ("What is the hotel cap in Berlin?", "Descaling?", "descale"),
    ("Who was the last keeper of the lighthouse?", "Swarming?", "swarm"),
    ("How many eggs a day can a queen lay?", "What is Quillpad?", "note-taking app"),
    ("How big is the brew boiler?", "Who owns the travel policy?", "finance operations"),
]
# Written on 2026-12-05, 19:40 UTC, before the rule that refuses them ran: a second question the corpus cannot answer
# asked after one it can. Each must be refused ("" names no part: answered means not refused).
UNANSWERABLE = [
    ("When was the Kestrel Point light first lit?", "What is the population of Tokyo in 2020?", ""),
    ("What is the hotel cap in Berlin?", "Who won the 2018 football World Cup?", ""),
    ("How often should I descale the Aurora Duo?", "What is the boiling point of mercury?", ""),
    ("How long does a worker bee live in summer?", "How many moons does Jupiter have?", ""),
    ("Is a peace lily toxic to cats?", "What is the capital of Australia?", ""),
    ("Which shortcut inserts bold in Quillpad?", "Who wrote War and Peace?", ""),
    ("How big is the brew boiler?", "What is the speed of light?", ""),
    ("When should I treat for varroa mites?", "How do I renew my passport?", ""),
]

# Chains of follow-ups, each step (question, a part of the sentence that answers it; "" for none: the part is not
# checked). Written on 2026-12-07 before the rule that leans on the last answered turn ran.
CHAINS = [
    [("When was Kestrel Point first lit?", "1871"), ("How tall is it?", "38 metres"),
     ("How many steps does it have?", "142 steps"), ("Who built it?", "voss"),
     ("Where was its stone quarried?", "carrow quarry")],
    [("When was Kestrel Point first lit?", "1871"), ("What was its character?", ""), ("Who built it?", "voss"),
     ("How thick are its walls?", "1.9 metres")],
    [("How long does a worker bee live in summer?", "six weeks"), ("And in autumn?", "five or six months"),
     ("How many eggs can the queen lay?", "1,500"), ("When does she lay them?", "spring")],
    [("What is the hotel cap in Berlin?", "160"), ("And in London?", "210"),
     ("What is its daily meal allowance?", "60 euros"), ("What about Lisbon?", "130")],
    [("How often should I descale the Aurora Duo?", ""), ("How long does it take?", "about 45 minutes"),
     ("Which descaler should I use?", "clean d7"), ("How long is its warranty?", "")],
]

# Files of the sample corpus the long chat is asked over (those a tester chatted with for a week).
CHAT_FILES = ("kestrel-point-lighthouse.md", "beekeeping-basics.txt", "larkspur-travel-policy.docx")
# A week's chat: (question, a part of the right answer). Questions 1-12 are the tester's, in their order.
LONG_CHAT = [
    ("When was Kestrel Point first lit?", "1871"), ("How tall is it?", "38"),
    ("How many steps does it have?", "142"), ("Who built it?", "voss"),
    ("Where was the stone quarried?", "carrow"), ("Who was the longest-serving principal keeper?", "arkwright"),
    ("What happened in 1903?", "storm|maud"), ("Who was the first woman principal keeper?", "hobb"),
    ("What was the original lamp fuel?", "colza"), ("How far could it be seen?", "21"),
    ("What is the per diem in the travel policy?", "allowance"), ("Who approves travel?", "manager"),
    ("What is the hotel cap in Berlin?", "160"), ("And in London?", "210"),
    ("Can I fly business class?", "financial officer"), ("How many hives does the Hollow Brook apiary have?",
                                                        "fourteen|14"),
    ("How long does a worker bee live in summer?", "six weeks"), ("And in autumn?", "five or six months"),
    ("How many eggs can the queen lay in a day?", "1,500"), ("When was the light automated?", "1987"),
    ("Who was the last keeper?", "penhallow"), ("Can children climb the tower?", "under eight"),
]


def conversed(engine: Any, steps: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Ask `steps` as one conversation, saved as `ask --conversation` saves it; a row per question."""
    from localrag.conversations import Conversation, turn_from_answer
    from localrag.types import DoneEvent

    conversation = Conversation(id="bench")
    rows = []
    for question, expected in steps:
        history = conversation.add_question(question)
        answer = next(e.answer for e in engine.stream(question, history=history) if isinstance(e, DoneEvent))
        conversation.turns.append(turn_from_answer(answer, answer.query))
        parts = expected.split("|") if expected else []
        rows.append({"question": question, "query": answer.query, "refused": answer.refused,
                     "answered": not answer.refused and (not parts or any(p in answer.text.lower() for p in parts)),
                     "answer": answer.text})
    return rows


def chains(engine: Any) -> dict[str, Any]:
    """CHAINS asked in extract mode: how many of their follow-ups (every question after the first) are answered."""
    rows = [row for steps in CHAINS for row in conversed(engine, steps)[1:]]
    return {"follow_ups": len(rows), "answered": sum(r["answered"] for r in rows),
            "refused": sum(r["refused"] for r in rows), "rows": rows}


def long_chat() -> dict[str, Any]:
    """LONG_CHAT answered by the bundled model, as one conversation and each question alone."""
    import shutil

    from localrag.config import load_settings
    from localrag.engine import Engine
    from localrag.ingest.discover import sample_corpus_dir

    folder = Path(scratch_dir(prefix="localrag-long-chat-"))
    for name in CHAT_FILES:
        shutil.copy(sample_corpus_dir() / name, folder / name)
    engine = Engine(load_settings().replace(collection="longchat", temperature=0.0))
    engine.ingest([folder])
    rows = conversed(engine, LONG_CHAT)
    for row, (question, expected) in zip(rows, LONG_CHAT, strict=True):
        alone = engine.ask(question)
        row["alone"] = alone.text
        row["alone_right"] = not alone.refused and any(p in alone.text.lower() for p in expected.split("|"))
    answered = [r for r in rows if not r["refused"]]
    as_asked = [r for r in answered if r["query"] == r["question"]]
    repeats = [r["question"] for i, r in enumerate(rows) if not r["refused"]
               and any(r["answer"] == earlier["answer"] for earlier in rows[:i] if not earlier["refused"])]
    return {"questions": len(rows), "answered": len(answered), "right": sum(r["answered"] for r in rows),
            "right_alone": sum(r["alone_right"] for r in rows),
            "identical_to_an_earlier_answer": len(repeats), "repeated": repeats,
            # A question searched as asked does not lean on the conversation: it should get the answer it gets alone.
            "searched_as_asked": len(as_asked), "same_as_alone": sum(r["answer"] == r["alone"] for r in as_asked),
            "rows": rows}


def asked(engine: Any, first: str, second: str, expected: str) -> dict[str, Any]:
    from localrag.types import DoneEvent, SourcesEvent

    history = [{"role": "user", "content": first}, {"role": "assistant", "content": engine.ask(first).text}]
    events = list(engine.stream(second, history=history))
    query = next(e.query for e in events if isinstance(e, SourcesEvent))  # what was searched for in the end
    answer = next(e.answer for e in events if isinstance(e, DoneEvent))
    parts = expected.split("|") if expected else []
    found = any(part in " ".join(h.chunk.text.split()).lower() for h in answer.sources for part in parts)
    answered = not answer.refused and (not parts or any(part in answer.text.lower() for part in parts))
    return {"second": second, "query": query, "found": found, "answered": answered, "refused": answer.refused,
            "answer": answer.text}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True, help="the summary's key for this run (e.g. before, after)")
    parser.add_argument("--chat", action="store_true", help="also the long chat, answers generated (minutes)")
    args = parser.parse_args()
    os.environ["LOCALRAG_HOME"] = scratch_dir(prefix="localrag-follow-ups-")
    from localrag.config import load_settings
    from localrag.engine import Engine
    from localrag.ingest.discover import sample_corpus_dir

    engine = Engine(load_settings().replace(answer_mode="extract"))
    engine.ingest([sample_corpus_dir()])
    run: dict[str, Any] = {
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                 cwd=Path(__file__).resolve().parents[1]).stdout.strip(),
        "load_average": os.getloadavg()}
    for name, items in (("follow-ups", FOLLOW_UPS), ("switches", SWITCHES), ("unanswerable", UNANSWERABLE)):
        rows = [asked(engine, *item) for item in items]
        run[name] = {"questions": len(rows), "found": sum(r["found"] for r in rows),
                     "answered": sum(r["answered"] for r in rows), "refused": sum(r["refused"] for r in rows),
                     "rows": rows}
        print(name, {k: v for k, v in run[name].items() if k != "rows"})
    run["chains"] = chains(engine)
    print("chains", {k: v for k, v in run["chains"].items() if k != "rows"})
    if args.chat:
        run["long_chat"] = long_chat()
        print("long chat", {k: v for k, v in run["long_chat"].items() if k != "rows"})
    summary = json.loads(SUMMARY.read_text()) if SUMMARY.is_file() else {}
    summary[args.label] = run
    SUMMARY.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
