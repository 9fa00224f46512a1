"""Many saved conversations: what the chat app's list, `--conversation last` and `forget` read.

    .venv/bin/python benchmarks/bench_conversation_store.py [--counts 200 2000] [--summary S]

For each count, that many conversations are saved, each of ten questions whose answers keep four sources of
real passages from the shared data (`_corpus.benchmark_pieces`, about 1,300 characters each), cited from 500
documents. Timed in the same run, on the same files:

- `list()`: every conversation read whole, as the chat app's list did after every answer, and `find("last")`
  and `forget` did on every call;
- `summaries()`: the list the app and `conversations list` show now, the first time (every file read) and
  again after one conversation was saved (only that file read);
- `find("last")`, which now reads the summaries and then the one conversation;
- the forget scan: which conversations hold a passage of one document, by reading them all (`list()` then
  `kept_passages`, as before) and by `holding` (only the files that hold the path's text are parsed).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import benchmark_pieces  # noqa: E402
from _summary import load_at_start, write_summary  # noqa: E402

TURNS, SOURCES, DOCUMENTS = 10, 4, 500


def _timed(work: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def run(count: int, pieces: list[tuple[str, str]]) -> dict[str, object]:
    from localrag.conversations import ConversationStore, SavedSource, Turn
    from localrag.forget import conversations_keeping, forget_path, kept_passages

    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="conversations-") as tmp:
        store = ConversationStore(Path(tmp))
        for _ in range(count):
            conversation = store.new()
            for _ in range(TURNS):
                conversation.add_question(rng.choice(pieces)[1][:80])
                conversation.turns.append(Turn("assistant", rng.choice(pieces)[1][:400], sources=[
                    SavedSource(n, f"c{n}", "d", f"/home/user/docs/document-{rng.randrange(DOCUMENTS)}.txt",
                                rng.choice(pieces)[1]) for n in range(1, SOURCES + 1)]))
            store.save(conversation)
        megabytes = sum(p.stat().st_size for p in Path(tmp).glob("*.json")) / 1e6
        forgotten = "/home/user/docs/document-7.txt"
        targets = {forget_path(forgotten)}

        list_s, _ = _timed(store.list)
        cold_s, _ = _timed(store.summaries)
        store.save(store.list()[-1])  # one conversation changed, as an answer changes it
        warm_s, _ = _timed(store.summaries)
        last_s, _ = _timed(lambda: store.find("last"))
        read_all_s, before = _timed(lambda: [k for c in store.list() if (k := kept_passages(c, targets))])
        holding_s, after = _timed(lambda: conversations_keeping(store, [forgotten]))
        assert isinstance(before, list) and isinstance(after, list)
        assert [k.conversation_id for k in before] == [k.conversation_id for k in after]
        row = {
            "conversations": count, "megabytes": round(megabytes, 1), "list_s": round(list_s, 3),
            "summaries_first_s": round(cold_s, 3), "summaries_after_one_save_s": round(warm_s, 4),
            "find_last_s": round(last_s, 4),
            "forget_scan": {"read_all_s": round(read_all_s, 3), "holding_s": round(holding_s, 3),
                            "conversations_holding": len(after)},
        }
        print(json.dumps(row), flush=True)
        return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[200, 2_000])
    parser.add_argument("--summary", type=Path)
    args = parser.parse_args()
    pieces = benchmark_pieces(20_000)
    load = load_at_start()
    rows = [run(count, pieces) for count in args.counts]
    write_summary("bench_conversation_store.py", load, rows, args.summary)


if __name__ == "__main__":
    main()
