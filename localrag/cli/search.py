"""`localrag search "query"`: retrieval without generation.

Prints the ranked chunks with their document, page or line (`path:LINE`: the line its excerpt starts on, the one
holding the most of the query's words, localrag/excerpts.py) and heading, where
each leg (vector, BM25) ranked them, with its score, the fused score, and the codes the query names that
it holds (which put it first: localrag/exact_terms.py), so a user sees why a passage came first; `--json` gives
the same to scripts. Takes the same filters as `ask`. Chunk text is printed as plain rich `Text`, never markup,
and lines are not wrapped when stdout is not a terminal.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from localrag.cli.argtypes import integer
from localrag.cli.common import print_json
from localrag.shapes import search_json
from localrag.types import MAX_SEARCH_DEPTH, MAX_SEARCH_K, SEARCH_K, Copy


def add_commands(sub: argparse._SubParsersAction) -> None:
    from localrag.cli.collections import add_collection_flag
    from localrag.cli.common import add_filter_flags

    search = sub.add_parser("search", help="the ranked passages for a query, with each retrieval leg's rank; no answer")
    search.set_defaults(query_words="search")  # `localrag search -draft …`: its text, not an option (cli._Parser)
    search.add_argument("query", help="what to search for (-word leaves out passages holding it, \"a phrase\" puts "
                        "those holding it first, word* finds words starting so); - reads it from stdin")
    search.add_argument("-k", "--top-k", type=integer, default=SEARCH_K,
                        help=f"passages to show, 1 to {MAX_SEARCH_K} (default {SEARCH_K})")
    search.add_argument("--offset", type=integer, default=0, metavar="N",
                        help=f"skip the first N (a later page: ranks N+1 on; N + k at most {MAX_SEARCH_DEPTH})")
    add_filter_flags(search)
    search.add_argument("--json", action="store_true", help="print the ranked passages as JSON")
    add_collection_flag(search)
    search.set_defaults(handler=_search)


# The copies a hit's line names; `--json` names them all.
NAMED_COPIES = 3


def copies_note(copies: Sequence[Copy]) -> str:
    """The other files holding a hit's text (`Hit.held_by`) in a few words, each at its place there as the hit's own
    is written, for `search` and `ask` alike: "the same text in report.pdf, page 4, b.md:12 and 46 more files; part
    of it in c.md:5" (`ask` named none, `search` all 49 on one line; before 2026-12-08 the paths alone, and a copy of
    one part of a joined hit not at all)."""
    from localrag.shapes import chunk_place
    from localrag.sizes import some_of

    whole = [chunk_place(copy.chunk) for copy in copies if not copy.part]
    part = [chunk_place(copy.chunk) for copy in copies if copy.part]
    return "; ".join(([f"the same text in {some_of(whole, NAMED_COPIES, 'file')}"] if whole else [])
                     + ([f"part of it in {some_of(part, NAMED_COPIES, 'file')}"] if part else []))


def _leg_text(name: str, rank: int | None, score: float | None) -> str:
    return f"{name} -" if rank is None else f"{name} #{rank} ({score:.3f})"


def _search(args: argparse.Namespace, out: Console, err: Console) -> int:
    from localrag.cli.common import engine_from_args, filters_from_args, print_query_note, text_or_stdin

    args.query = text_or_stdin(args.query)
    engine = engine_from_args(args)
    filters = filters_from_args(args)
    hits = engine.search(args.query, k=args.top_k, filters=filters, offset=args.offset)
    print_query_note(args.query, err)
    choice = engine.fusion_choice()
    if args.json:
        print_json(search_json(args.query, hits, choice, args.offset))
        return 0
    from localrag.excerpts import excerpt
    from localrag.shapes import chunk_place

    wrap = out.is_terminal
    if not hits:
        why = engine.why_nothing_found(filters, query=args.query, offset=args.offset)
        out.print(Text(f"no passages found: {why}"), soft_wrap=not wrap)
        return 0
    for position, hit in enumerate(hits, start=args.offset + 1):
        shown = excerpt(hit.chunk, args.query)
        # Cited at the line the excerpt starts on: an editor opens the match, not the passage's first line.
        where = chunk_place(dataclasses.replace(hit.chunk, line_start=shown.line), heading=True, title=hit.title)
        legs = "  ".join(
            [
                f"fused {hit.score:.4f}",
                _leg_text("vector", hit.vector_rank, hit.vector_score),
                _leg_text("BM25", hit.text_rank, hit.text_score),
            ]
            + ([f"rerank {hit.rerank_score:.3f}"] if hit.rerank_score is not None else [])
            + ([f"holds {', '.join(hit.codes)}"] if hit.codes else [])
            + ([copies_note(hit.held_by)] if hit.held_by else [])
        )
        # The terminal folds a long path:LINE itself: a line break put in it split what an editor opens.
        out.print(Text(f"{position}. ", style="bold") + Text(where), soft_wrap=True)
        out.print(Text(f"   {legs}", style="dim"), soft_wrap=not wrap)
        out.print(Text(f"   {shown.text}"), soft_wrap=not wrap)
    from localrag.fusion import DEFAULT

    label = choice.fusion.label if choice is not None else f"{DEFAULT.label} (the default: none chosen for this index)"
    err.print(Text(f"fusion: {label}", style="dim"), soft_wrap=True)
    return 0
