"""Opening a long conversation in the chat app: how long `ChatScreen.open_conversation` takes, before and after.

    .venv/bin/python benchmarks/bench_open_conversation.py --before DIR [--turns 20 60 120 244] [--repeats 2]
        [--summary S]

A saved conversation of 20 turns (10 questions; answers of two Markdown paragraphs and a list, citing two sources)
is cloned to each length (as the store writes it, `ConversationStore.save`), and each is opened in the chat app
under Textual's headless driver (`run_test`, 120x40, over the tests' FakeEngine: no model is loaded), timed to the
end of the open and the next frame, after an untimed open of a short one. Three variants, each open in a process
of its own, taking turns `--repeats` times per length (the fastest counts): the localrag in DIR (`git archive
<commit> localrag | tar -x -C DIR`, before), this checkout, and this checkout with every turn shown (`SHOWN_TURNS`
lifted: the one-batch mount alone). This checkout's runs also time the line above the turns shown (the next
`SHOWN_TURNS` earlier turns). Compare the figures as ratios within one run: the load of the machine changes
them. Summary: benchmarks/summaries/open_conversation.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SUMMARY = HERE / "summaries" / "open_conversation.json"
ANSWER = ("Descale it every four weeks [1]. The manual says **white vinegar** works best, diluted one part to "
          "two of water [2].\n\n- Fill it half way\n- Boil it twice\n- Rinse it with clean water\n\n"
          "See `kettle.md` for the filter.")


def _saved(store: Any, turns: int) -> str:
    """A 20-turn conversation saved, then cloned to `turns` turns in a file of its own; its id."""
    from localrag.conversations import SavedSource, Turn

    first = store.new()
    for i in range(10):
        sources = [SavedSource(n=n, chunk_id=f"c{n}", doc_id="d", path="/docs/kettle.md", cited=True,
                               text="Descale the kettle every four weeks with white vinegar, then rinse it twice.")
                   for n in (1, 2)]
        first.turns += [Turn(role="user", text=f"How do I descale the kettle, step {i}?"),
                        Turn(role="assistant", text=ANSWER, query="descale kettle", sources=sources)]
    store.save(first)
    saved = store.load(first.id)
    clone = store.new()
    clone.turns = [saved.turns[n % len(saved.turns)] for n in range(turns)]
    store.save(clone)
    store.delete(first.id)
    return clone.id


async def _child(turns: int, all_turns: bool) -> dict[str, Any]:
    """One open of a conversation of `turns` turns, after an untimed one of a short one (which pays for Textual's
    first Markdown and styles); with MoreTurns, then one click's worth of earlier turns."""
    sys.path.insert(0, str(HERE.parent / "tests"))
    from fakes import FakeEngine

    from localrag.conversations import ConversationStore
    from localrag.tui.app import LocalRagApp
    from localrag.tui.screens.chat import ChatScreen
    from localrag.tui.widgets import chat as chat_widgets

    if all_turns:
        chat_widgets.SHOWN_TURNS = 10**9
    store = ConversationStore()
    conversation_id, short_id = _saved(store, turns), _saved(store, 4)
    result: dict[str, Any] = {}
    app = LocalRagApp(FakeEngine())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await screen.open_conversation(store.load(short_id))
        await pilot.pause()
        conversation = store.load(conversation_id)
        started = time.perf_counter()
        await screen.open_conversation(conversation)
        await pilot.pause()
        result["open_s"] = time.perf_counter() - started
        log = screen.query_one("#log")
        result["shown_widgets"] = len(log.children)
        if getattr(chat_widgets, "MoreTurns", None) is not None and screen.query(chat_widgets.MoreTurns):
            started = time.perf_counter()
            await log.show_earlier()
            await pilot.pause()
            result["show_earlier_s"] = time.perf_counter() - started
    return result


VARIANTS = ("before", "after", "after, every turn shown")


def _run(variant: str, before: Path | None, turns: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(before if variant == "before" and before else HERE.parent)}
    from _scratch import scratch_dir

    env["LOCALRAG_HOME"] = scratch_dir(prefix="localrag-open-conversation-")
    command = [sys.executable, __file__, "--child", *(["--all"] if variant == VARIANTS[2] else []),
               "--turns", str(turns)]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    sys.stderr.write(out.stderr)
    out.check_returncode()
    return dict(json.loads(out.stdout.splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="a localrag checkout to time too (the code before)")
    parser.add_argument("--turns", type=int, nargs="+", default=[20, 60, 120, 244])
    parser.add_argument("--repeats", type=int, default=2, help="opens of each length; the fastest counts")
    parser.add_argument("--summary", type=Path, help=f"write the JSON summary here (e.g. {SUMMARY})")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--all", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(_child(args.turns[0], args.all))))
        return
    from _summary import load_at_start, write_summary

    load = load_at_start()
    variants = VARIANTS if args.before is not None else VARIANTS[1:]
    rows = []
    for turns in args.turns:
        # The variants take turns, each open in a process of its own: a peer's load falls on each alike.
        runs: dict[str, list[dict[str, Any]]] = {variant: [] for variant in variants}
        for _ in range(args.repeats):
            for variant in variants:
                runs[variant].append(_run(variant, args.before, turns))
        row: dict[str, Any] = {"turns": turns}
        for variant in variants:
            fastest = min(runs[variant], key=lambda run: run["open_s"])
            row[variant] = {"open_s": round(fastest["open_s"], 3), "shown_widgets": fastest["shown_widgets"]}
            if "show_earlier_s" in fastest:
                row[variant]["show_earlier_s"] = round(min(r["show_earlier_s"] for r in runs[variant]), 3)
        if args.before is not None:
            row["before_over_after"] = round(row["before"]["open_s"] / row["after"]["open_s"], 1)
            row["before_over_one_batch"] = round(row["before"]["open_s"] / row[VARIANTS[2]]["open_s"], 1)
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    write_summary(Path(__file__).name, load, rows, args.summary)


if __name__ == "__main__":
    main()
