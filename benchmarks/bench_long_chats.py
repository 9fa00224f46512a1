"""Long conversations: do the retrieved sources still reach the prompt when the history is long?

    .venv/bin/python benchmarks/bench_long_chats.py [--code DIR] --label NAME   # summary key NAME

bench_follow_ups.py's 22 follow-ups over the sample corpus (a first question, then a second that leans on it, with
the part of the sentence that answers the second), each asked after FILLER earlier messages of another subject
(about 60 words each, as in a long chat about houseplants), then the first question and a short answer. Through
`Engine.stream` with the bundled models, stopped once the prompt's sources are known (`SourcesEvent`: what
`build_messages` kept), so no answer is generated: per history length, how many sources the prompt held (mean) and
for how many follow-ups the answering part was in them. `--code DIR`: the localrag to import (`git archive <commit>
localrag | tar -x -C DIR`), for the figures before a change. Summary: benchmarks/summaries/long_chats.json.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import _checkout  # noqa: F401  (first: it chooses which localrag the imports below get)
from _scratch import scratch_dir
from bench_follow_ups import FOLLOW_UPS

SUMMARY = Path(__file__).resolve().parent / "summaries" / "long_chats.json"
FILLER = (0, 20, 40, 60)


def _filler(messages: int) -> list[dict[str, str]]:
    words = "how often should a fern be watered in winter when the air in the room is dry and warm " * 4
    return [{"role": "user" if n % 2 == 0 else "assistant", "content": f"Turn {n // 2}: {words.strip()}"}
            for n in range(messages)]


def _prompt_sources(engine: Any, history: list[dict[str, str]], second: str) -> list[str]:
    from localrag.types import SourcesEvent

    for event in engine.stream(second, history=history):
        if isinstance(event, SourcesEvent):
            return [" ".join(h.chunk.text.split()).lower() for h in event.hits]
    return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, help="a localrag checkout to import instead of this one")
    parser.add_argument("--label", required=True, help="the summary's key for this run (e.g. before, after)")
    args = parser.parse_args()
    os.environ["LOCALRAG_HOME"] = scratch_dir(prefix="localrag-long-chats-")
    from localrag.engine import Engine
    from localrag.ingest.discover import sample_corpus_dir

    engine = Engine()
    engine.ingest([sample_corpus_dir()])
    run: dict[str, Any] = {"load_average": os.getloadavg(), "follow_ups": len(FOLLOW_UPS)}
    for messages in FILLER:
        sources, found = 0, 0
        for first, second, expected in FOLLOW_UPS:
            history = [*_filler(messages), {"role": "user", "content": first},
                       {"role": "assistant", "content": "Here is what your documents say about that."}]
            texts = _prompt_sources(engine, history, second)
            sources += len(texts)
            found += any(part.strip() in text for text in texts for part in expected.split("|"))
        run[f"history_{messages}"] = {"mean_sources": round(sources / len(FOLLOW_UPS), 2), "found_in_prompt": found}
        print(messages, run[f"history_{messages}"], flush=True)
    summary = json.loads(SUMMARY.read_text()) if SUMMARY.is_file() else {}
    summary[args.label] = run
    SUMMARY.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
