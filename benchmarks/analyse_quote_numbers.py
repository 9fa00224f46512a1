"""A RAFT-tuned model's quotes under the wrong number: how much citation precision a corrected number would give.

    .venv/bin/python benchmarks/analyse_quote_numbers.py /tmp/rs/full raft-sentences --questions 600

RUN is the --out folder of a `bench_rag_vs_raft.py` run in the sentence layout (and of `bench_quote_grammar.py`,
whose copy of the eval index this reads). For each of the model's answers, the sources are found again as the
answer found them (the same retrieval over the same index, then the prompt's sentences), checked against the
record's own list, and its quotes checked again (`verify_quotes`). A quote not in the source it cites but word for
word in another (`Quote.found_in`) is counted, and the answer's citation precision is computed twice: as written,
and with each such number replaced by the source that holds the quote. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from localrag.config import load_settings  # noqa: E402
from localrag.evaluate.datasets import load_dataset  # noqa: E402
from localrag.evaluate.metrics import citation_precision, mean_figure  # noqa: E402
from localrag.evaluate.runner import read_records  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    parser.add_argument("tuned")
    parser.add_argument("--questions", type=int, default=600)
    parser.add_argument("--index", default="eval-grammar", help="the folder under RUN whose index copy to read")
    args = parser.parse_args()

    from localrag.answer import answer_citations, verify_quotes
    from localrag.answer.evidence import prompt_sentences
    from localrag.embed import open_embedder
    from localrag.engine import Engine
    from localrag.store import Store
    from localrag.types import QuoteStatus

    run = json.loads((args.run / "eval" / "run.json").read_text())
    order = run["questions"][: args.questions]
    records = {r["qid"]: r for r in read_records(args.run / "eval") if r["spec"] == args.tuned and r["mode"] == "rag"}
    names = json.loads((args.run / "eval" / "corpus.json").read_text())
    dataset = load_dataset(DATA / run["dataset"]["name"], run["dataset"]["name"])
    asked = {q.qid: q for q in dataset.questions}
    settings = load_settings(args.run / "no-config.toml", top_k=run["config"]["k"])
    embedder = open_embedder(settings.embedder, settings.embed_backend, settings.embed_batch_size)
    store = Store(args.run / args.index / "index", embedder_name=embedder.name, dim=embedder.dim)
    engine = Engine(settings, embedder=embedder, store=store)

    def doc(path: str) -> str:
        return names.get(Path(path).stem, Path(path).name)

    counts = {"answers": 0, "sources_differ": 0, "statuses_differ": 0, "quotes": 0, "not_found": 0,
              "not_found_but_elsewhere": 0, "answers_corrected": 0}
    written: list[float | None] = []
    corrected: list[float | None] = []
    for qid in order:
        record = records[qid]
        question = asked[qid]
        hits = engine.search(question.question, k=run["config"]["k"])
        used = [hit for hit, _ in prompt_sentences(question.question, hits, embedder,
                                                   run["config"]["prompt_sentences"])] or hits
        counts["answers"] += 1
        if [doc(h.chunk.path) for h in used] != record["sources"]:
            counts["sources_differ"] += 1
            continue
        quotes = verify_quotes(record["answer"], used)
        if [q.status.value for q in quotes] != record["quotes"]:
            counts["statuses_differ"] += 1
        counts["quotes"] += len(quotes)
        counts["not_found"] += sum(q.status is QuoteStatus.NOT_FOUND for q in quotes)
        moved = {q.source: q.found_in for q in quotes if q.found_in is not None and q.source is not None}
        counts["not_found_but_elsewhere"] += len(moved)
        counts["answers_corrected"] += bool(moved)
        cited = answer_citations(record["answer"], used)[0]
        sources = [doc(h.chunk.path) for h in used]
        written.append(citation_precision([sources[n - 1] for n in cited], question.gold_ids))
        fixed = list(dict.fromkeys(moved.get(n, n) for n in cited))
        corrected.append(citation_precision([sources[n - 1] for n in fixed], question.gold_ids))

    def points(values: list[float | None]) -> dict[str, Any]:
        figure = mean_figure(values)
        assert figure.value is not None and figure.low is not None and figure.high is not None
        return {"value": round(100 * figure.value, 1), "low": round(100 * figure.low, 1),
                "high": round(100 * figure.high, 1), "n": figure.n}

    print(json.dumps({**counts, "citation_precision_as_written": points(written),
                      "citation_precision_numbers_corrected": points(corrected)}, indent=1))


if __name__ == "__main__":
    main()
