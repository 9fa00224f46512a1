"""`localrag search "query"`: retrieval without generation.

Prints the ranked chunks with their document, page or first line (`path:LINE`) and heading, where
each leg (vector, BM25) ranked them, with its score, the fused score, and the codes the query names that
it holds (which put it first: localrag/exact_terms.py), so a user sees why a passage came first; `--json` gives
the same to scripts. Takes the same filters as `ask`. Chunk text is printed as plain rich `Text`, never markup,
and lines are not wrapped when stdout is not a terminal.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from localrag.cli.argtypes import integer
from localrag.cli.common import print_json
from localrag.shapes import search_json
from localrag.types import MAX_SEARCH_K, SEARCH_K

EXCERPT_CHARS = 240


def add_commands(sub: argparse._SubParsersAction) -> None:
    from localrag.cli.collections import add_collection_flag
    from localrag.cli.common import add_filter_flags

    search = sub.add_parser("search", help="the ranked passages for a query, with each retrieval leg's rank; no answer")
    search.set_defaults(query_words="search")  # `localrag search -draft …`: its text, not an option (cli._Parser)
    search.add_argument("query", help="what to search for (-word leaves out passages holding it, \"a phrase\" puts "
                        "those holding it first, word* finds words starting so); - reads it from stdin")
    search.add_argument("-k", "--top-k", type=integer, default=SEARCH_K,
                        help=f"passages to show, 1 to {MAX_SEARCH_K} (default {SEARCH_K})")
    add_filter_flags(search)
    search.add_argument("--json", action="store_true", help="print the ranked passages as JSON")
    add_collection_flag(search)
    search.set_defaults(handler=_search)


# The copies a hit's line names; `--json` names them all.
NAMED_COPIES = 3


def copies_note(copies: Sequence[str]) -> str:
    """The other files holding a hit's very text (`Hit.copies`) in a few words, for `search` and `ask` alike: "the
    same text in a.md, b.md, c.md and 46 more files" (`ask` named none, `search` all 49 on one line)."""
    from localrag.safe_text import printable
    from localrag.sizes import some_of

    return f"the same text in {some_of([printable(path, multiline=False) for path in copies], NAMED_COPIES, 'file')}"


def _leg_text(name: str, rank: int | None, score: float | None) -> str:
    return f"{name} -" if rank is None else f"{name} #{rank} ({score:.3f})"


def _search(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args, filters_from_args, print_query_note, text_or_stdin

    args.query = text_or_stdin(args.query)
    engine = engine_from_args(args)
    filters = filters_from_args(args)
    hits = engine.search(args.query, k=args.top_k, filters=filters)
    print_query_note(args.query, err)
    choice = engine.fusion_choice()
    if args.json:
        print_json(search_json(args.query, hits, choice))
        return 0
    from localrag.shapes import chunk_place

    wrap = out.is_terminal
    if not hits:
        out.print(Text(f"no passages found: {engine.why_nothing_found(filters)}"), soft_wrap=not wrap)
        return 0
    for position, hit in enumerate(hits, start=1):
        chunk = hit.chunk
        where = chunk_place(chunk, heading=True)
        legs = "  ".join(
            [
                f"fused {hit.score:.4f}",
                _leg_text("vector", hit.vector_rank, hit.vector_score),
                _leg_text("BM25", hit.text_rank, hit.text_score),
            ]
            + ([f"rerank {hit.rerank_score:.3f}"] if hit.rerank_score is not None else [])
            + ([f"holds {', '.join(hit.codes)}"] if hit.codes else [])
            + ([copies_note(hit.copies)] if hit.copies else [])
        )
        excerpt = " ".join(chunk.text.split())
        if len(excerpt) > EXCERPT_CHARS:
            excerpt = excerpt[:EXCERPT_CHARS].rstrip() + "…"
        # The terminal folds a long path:LINE itself: a line break put in it split what an editor opens.
        out.print(Text(f"{position}. ", style="bold") + Text(where), soft_wrap=True)
        out.print(Text(f"   {legs}", style="dim"), soft_wrap=not wrap)
        out.print(Text(f"   {excerpt}"), soft_wrap=not wrap)
    from localrag.fusion import DEFAULT

    label = choice.fusion.label if choice is not None else f"{DEFAULT.label} (the default: none chosen for this index)"
    err.print(Text(f"fusion: {label}", style="dim"), soft_wrap=True)
    return 0
