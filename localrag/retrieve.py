"""Hybrid retrieval: dense vectors and BM25, fused by reciprocal rank, optionally reranked.

Why both legs: MiniLM finds paraphrases but misses rare names, numbers and codes, which BM25 nails
(on COVID-QA's chunks BM25 hit@5 is 0.691 against 0.441 for dense:
`benchmarks/bench_fusion.py --sets covid --choice-only`, summary in
benchmarks/summaries/fusion_choice_covid.json). Each leg over-fetches `FETCH_FACTOR * k`
candidates; reciprocal rank fusion adds `weight / (rrf_k + rank)` per leg, which needs no score
calibration between cosine similarities and BM25 scores. `RRF_K` is 10, not the textbook 60: a
smaller k lets a leg's first ranks count more than agreement far down both lists. On HotpotQA
(recall@5 vector 0.785, BM25 0.795) equal-weight fusion gives 0.810 at any k; on MuSiQue, where
BM25 is weak (0.499 against 0.622), k=10 loses least (0.608 against 0.602 at k=60) and has the best
MRR (0.846, vector 0.832). Weighting BM25 up helps HotpotQA and hurts MuSiQue, and the reverse, so
the default weighs the legs the same (benchmarks/bench_recall.py --sweep prints the whole grid), and
each index chooses its own k and weights, or one leg alone, from its own text (localrag/fusion.py).

After fusion (and the optional cross-encoder rerank), overlapping or touching chunks of the same
document are merged into one hit, so the prompt does not spend tokens on the same sentences twice.

Filters become a SQL predicate over the chunks table; every user-supplied string goes through
`sql_literal` / LIKE escaping, so a quote in a path cannot change the query.
"""

from __future__ import annotations

import dataclasses
import os
import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from localrag.copy_names import original_first
from localrag.errors import LocalRagError
from localrag.exact_terms import codes_first
from localrag.fts_terms import folded
from localrag.paths import typed_path
from localrag.query_syntax import QuerySyntax, prefix_words, word_regex
from localrag.query_syntax import parse as parse_query
from localrag.safe_text import disk_name, holder_on_disk, valid_text
from localrag.store_schema import FTS_COLUMN, sql_in, sql_literal
from localrag.types import HEADING_JOIN, Chunk, Copy, Hit

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from localrag.embed import Embedder
    from localrag.fusion import Fusion
    from localrag.rerank import Reranker
    from localrag.store import Store

Mode = Literal["hybrid", "vector", "text"]
# The longest path glob taken, in characters: no path is longer (4095 bytes), and LanceDB cannot compile the LIKE
# pattern of one about 10,000 characters long ("Compiled regex exceeds size limit").
MAX_PATH_GLOB_CHARS = 4096
FETCH_FACTOR = 4
MIN_FETCH = 20
# The most hits a leg asks for to find `FETCH_FACTOR * k` different texts among copies (`distinct_texts`).
MAX_FETCH = 2000
RRF_K = 10
VECTOR_WEIGHT = 1.0
TEXT_WEIGHT = 1.0


# The most path patterns one filter takes: each is a scan of the paths in the query (`_path_predicate`).
MAX_PATH_GLOBS = 100


@dataclass
class SearchFilters:
    """`path_glob`: `*`/`?` wildcards; a relative pattern matches at any folder depth, a pattern with
    no wildcard matches that file or everything under that folder. Several patterns (a tuple): a document
    matching any of them, so that two files can be compared in one question (`--path A --path B`; before
    2026-12-08 the filter was one pattern and a second --path was refused). `file_types`: e.g. ("md", "pdf")."""

    path_glob: str | tuple[str, ...] | None = None
    file_types: tuple[str, ...] = ()

    @property
    def path_globs(self) -> tuple[str, ...]:
        """The path patterns, one or several; () when the path is not filtered. An empty list stays one to refuse
        (`filters_to_sql`)."""
        if self.path_glob is None or self.path_glob == "":
            # "" from the API or MCP filters nothing, as filters_to_sql reads it (refusals said "path " before
            # 2026-12-08)
            return ()
        return (self.path_glob,) if isinstance(self.path_glob, str) else tuple(self.path_glob)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def glob_to_like(pattern: str) -> str:
    """A shell-style glob as a LIKE pattern (backslash escapes): `*` -> `%`, `?` -> `_`."""
    out: list[str] = []
    for ch in pattern:
        if ch == "*":
            # `**` and `*` both cross folder separators, as LIKE has no notion of them.
            if not out or out[-1] != "%":
                out.append("%")
        elif ch == "?":
            out.append("_")
        else:
            out.append(_like_escape(ch))
    return "".join(out)


def _real_glob(path_glob: str) -> str:
    """An absolute pattern with the folders before its first wildcard resolved on the disk, its wildcards kept: an
    ingest names a document by its real path, and `--path /x/Documents/docs` through a link `Documents` -> `data`
    matched nothing, over the API and MCP too. The pattern itself where nothing in it is a link."""
    pattern = os.path.expanduser(path_glob)  # typed_path's rule, on the text: a Path drops a trailing "/"
    if not os.path.isabs(pattern):
        return path_glob
    parts = Path(pattern).parts
    fixed = next((i for i, part in enumerate(parts) if any(ch in part for ch in "*?")), len(parts))
    try:
        real = Path(*parts[:fixed]).resolve()
    except (OSError, RuntimeError):  # a link that loops leads nowhere: the pattern as given
        return path_glob
    return str(real.joinpath(*parts[fixed:])) + ("/" if pattern.endswith("/") else "")


def path_predicate(path_glob: str) -> str:
    """The SQL predicate of a path glob, matching a name in either Unicode form: macOS writes "é" decomposed
    (NFD) and a keyboard types it composed (NFC), and `--path '*café*'` found no document named so. An absolute
    one matches through links too (`_real_glob`), and as given: a link named to the ingest keeps its own path."""
    globs = dict.fromkeys((path_glob, _real_glob(path_glob)))
    forms = [_path_predicate(form)
             for form in dict.fromkeys(unicodedata.normalize(f, glob) for glob in globs for f in ("NFC", "NFD"))]
    return forms[0] if len(forms) == 1 else f"({' OR '.join(forms)})"


def _path_predicate(path_glob: str) -> str:
    """In any case, as `--type` and ingest's `--include`/`--exclude` match and as Windows and macOS match names:
    `--path '*.txt'` left `DREDGING.TXT` out, and `--path notes/dredging.txt` found nothing (before 2026-12-07).
    The pattern is lower-cased here and the path by the query (`lower(path)`): a scan of the paths either way, as
    no index serves a LIKE."""
    pattern = str(typed_path(path_glob)) if path_glob.startswith("~") else path_glob
    while pattern.startswith("./"):
        pattern = pattern[2:]
    pattern = pattern.lower()
    if not any(ch in pattern for ch in "*?"):
        folder = _like_escape(pattern.rstrip("/"))
        if pattern.startswith("/"):
            return (f"(lower(path) = {sql_literal(pattern.rstrip('/'))} OR "
                    f"lower(path) LIKE {sql_literal(folder + '/%')})")
        # Relative: that file or folder at any depth (`notes`, `notes/a.txt`); it matched no path at all.
        return (f"(lower(path) LIKE {sql_literal('%/' + folder)} OR "
                f"lower(path) LIKE {sql_literal('%/' + folder + '/%')})")
    if not pattern.startswith(("/", "*")):
        pattern = "*/" + pattern
    return f"lower(path) LIKE {sql_literal(glob_to_like(pattern))}"


def _paths_predicate(globs: tuple[str, ...]) -> str:
    """The SQL predicate of one or more path patterns (any of them), each checked by one rule for every front end:
    the CLI's repeated --path and the API's and MCP's `path_glob` list."""
    if not globs:
        raise LocalRagError("the path filter (--path, path_glob) is an empty list: there is no path pattern to "
                            "match", "give one pattern or more, or leave the filter out", field="path_glob")
    if len(globs) > MAX_PATH_GLOBS:
        raise LocalRagError(f"the path filter (--path, path_glob) has {len(globs)} patterns; the limit is "
                            f"{MAX_PATH_GLOBS}", "match them with fewer patterns: a folder, or * and ?",
                            field="path_glob")
    predicates = []
    for glob in globs:
        if not glob.strip():
            raise LocalRagError("a path pattern (--path, path_glob) is blank", "give a file, a folder or a pattern "
                                "with * and ?", field="path_glob")
        if len(glob) > MAX_PATH_GLOB_CHARS:
            raise LocalRagError(f"the path filter (--path, path_glob) has {len(glob)} characters; the "
                                f"limit is {MAX_PATH_GLOB_CHARS}", "no path is longer: give a shorter pattern",
                                field="path_glob")
        predicates.append(path_predicate(valid_text(glob)))  # half an emoji from a client: 500 before
    return predicates[0] if len(predicates) == 1 else f"({' OR '.join(predicates)})"


def filters_to_sql(filters: SearchFilters | None) -> str | None:
    """The SQL predicate for `filters`, or None when they filter nothing."""
    if filters is None:
        return None
    parts = []
    if filters.path_glob is not None and filters.path_glob != "":  # "" filters nothing, as an unset one
        parts.append(_paths_predicate(filters.path_globs))
    if filters.file_types:
        from localrag.ingest.loaders import extension_named, types_named

        named = {name: types_named(name) for name in filters.file_types}  # a name of no type is refused first
        whole = sorted({t for name, types in named.items() if not extension_named(name) for t in types})
        kinds = [sql_in("file_type", whole)] if whole else []
        kinds += [f"(file_type = {sql_literal(named[n][0])} AND lower(path) LIKE {sql_literal('%' + ext)})"
                  for n in sorted(named) if (ext := extension_named(n))]
        parts.append(kinds[0] if len(kinds) == 1 else f"({' OR '.join(kinds)})")
    return " AND ".join(parts) if parts else None


def excluded_sql(words: Sequence[str]) -> str | None:
    """The SQL predicate leaving out the passages holding any of `words` whole in their heading or text, in any
    case (`query_syntax`: a query's `-word`); None for none. Over the full-text column, which holds both folded as
    BM25 reads them: a scan of the passages' text, about 45 ms a 100,000 passages."""
    if not words:
        return None
    return " AND ".join(f"NOT regexp_like({FTS_COLUMN}, {sql_literal(word_regex(word))})" for word in words)


def _and(*predicates: str | None) -> str | None:
    given = [f"({p})" if " OR " in p else p for p in predicates if p]
    return " AND ".join(given) if given else None


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], k: int = 60, weights: Sequence[float] | None = None
) -> list[tuple[str, float]]:
    """Fuse ranked id lists: score(id) = sum over lists of weight / (k + rank), rank from 1.

    Ties keep the order in which ids were first seen, walking the lists best rank first, so the
    result is deterministic.
    """
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings")
    scores: dict[str, float] = {}
    depth = max((len(r) for r in rankings), default=0)
    for position in range(depth):
        for ranking, weight in zip(rankings, weights, strict=True):
            if position < len(ranking):
                item = ranking[position]
                scores[item] = scores.get(item, 0.0) + weight / (k + position + 1)
    order = {item: i for i, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))


def _min_rank(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _max_score(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _merge_pair(first: Hit, second: Hit) -> Hit:
    """`second` starts inside, right at the end of `first` or past it as its next chunk (same document)."""
    a, b = first.chunk, second.chunk
    if b.end <= a.end:
        text = a.text
    elif b.start > a.end:  # the next chunk, past lines that are in no chunk: a line break or two stand for them
        text = a.text + "\n" * min(b.start - a.end, 2) + b.own_text
    else:
        # `second`'s repeated table header (`Chunk.lead`) is not repeated inside the merged text.
        overlap = a.end - b.start
        own = b.own_text
        text = a.text + own[overlap:] if 0 <= overlap <= len(own) else a.text + own
    chunk = dataclasses.replace(
        a, text=text, start=min(a.start, b.start), end=max(a.end, b.end), n_tokens=a.n_tokens + b.n_tokens
    )
    return Hit(
        chunk=chunk,
        score=max(first.score, second.score),
        vector_rank=_min_rank(first.vector_rank, second.vector_rank),
        text_rank=_min_rank(first.text_rank, second.text_rank),
        vector_score=_max_score(first.vector_score, second.vector_score),
        text_score=_max_score(first.text_score, second.text_score),
        rerank_score=_max_score(first.rerank_score, second.rerank_score),
        codes=tuple(dict.fromkeys(first.codes + second.codes)),
        held_by=_joined_copies(first.held_by, second.held_by),
    )


def _joined_copies(first: tuple[Copy, ...], second: tuple[Copy, ...]) -> tuple[Copy, ...]:
    """The copies of a joined hit: each file holding either part, at its first part's place there, a `part` where it
    holds one part only (a front matter of its own beside a copied section is no copy of the whole). Before
    2026-12-08 only the files holding both were named: an essay's opening joined with a paragraph copied from another
    essay named no copy, and the other essay, whose copy had been folded into this hit, was shown nowhere."""
    seconds = {copy.chunk.path: copy for copy in second}
    joined = [Copy(copy.chunk, copy.part or copy.chunk.path not in seconds or seconds[copy.chunk.path].part)
              for copy in first]
    held = {copy.chunk.path for copy in first}
    return (*joined, *(Copy(copy.chunk, part=True) for copy in second if copy.chunk.path not in held))


# A passage and its neighbour, not a whole file: every chunk of a long function touches the next, and an identifier
# found in many of them merged them all into one hit of 2,469 tokens, cited at the function's first line, its
# snippet far from the match, two other sources left out of the prompt to fit it.
MERGE_MAX_PARTS = 2


def merge_overlapping(hits: list[Hit]) -> list[Hit]:
    """Merge hits of one document whose character ranges overlap or touch, or that are next to each other with only
    text in no chunk between (`_next_chunks`), `MERGE_MAX_PARTS` at most into one.

    Only parts of one place are joined (`_one_place`): the joined hit is cited at its first part's page and
    heading, so that place must hold the second part too. In rank order, each hit not yet taken takes in the
    best-ranked hit of its document that touches it, reaches past it and shares its place (paired by position, the
    two best chunks of a function went to two hits, and a weak neighbour led the best one), and every hit that lies
    inside it. A hit that overlaps one formed before keeps only its text past that one (the shared lines were in two
    sources, cited twice); one inside it goes. A merged hit keeps the first chunk's id, heading and page, spans
    start=min to end=max with the overlap written once, and takes the best score and ranks of its parts.
    It sits where its best part sat in `hits`.
    """
    taken: set[int] = set()
    formed: list[Hit] = []
    for hit in hits:
        if id(hit) in taken:
            continue
        taken.add(id(hit))
        current, parts = hit, 1
        same = [h for h in hits if h.chunk.doc_id == hit.chunk.doc_id and id(h) not in taken]
        for other in same:  # in rank order: the best neighbour first
            a, b = current.chunk, other.chunk
            touching = b.start <= a.end and a.start <= b.end or _next_chunks(a, b)
            inside = a.start <= b.start and b.end <= a.end
            if touching and (inside or parts < MERGE_MAX_PARTS and _one_place(a, b)):
                current = _merge_pair(current, other) if a.start <= b.start else _merge_pair(other, current)
                parts += not inside
                taken.add(id(other))
        kept = _past(current, [f.chunk for f in formed if f.chunk.doc_id == hit.chunk.doc_id])
        if kept is not None:
            formed.append(kept)
    return formed


def _next_chunks(a: Chunk, b: Chunk) -> bool:
    """Whether one of `a` and `b` is the chunk after the other, apart only by text in no chunk: a Markdown note's
    front matter and its body, the closing `---` line between them, came back as two hits of one note, two of
    `ask`'s four sources (before 2026-12-07)."""
    first, second = (a, b) if a.start <= b.start else (b, a)
    return second.index == first.index + 1 and second.start >= first.end


def _one_place(a: Chunk, b: Chunk) -> bool:
    """Whether the earlier of `a` and `b` names a place that holds the later too: the same page, and a heading
    path that is the later's or one above it. The chunker ends a chunk at each page break and section change so that
    a chunk cites one place; joined across one, the hit kept the first part's page and heading, and a sentence of
    page 2 was cited "page 1", a slide's speaker note the slide before it, an HTML page's "7.3 Thrashing" under
    "7.2 Page Replacement" (before 2026-12-07). A heading path above the later's still holds it: a Markdown note's
    front matter (no heading: the note's opening) is joined with the body after it, cited at the note, and a
    chapter's opening with its first section, cited at the chapter."""
    first, second = (a, b) if a.start <= b.start else (b, a)
    return first.page == second.page and (not first.heading or second.heading == first.heading
                                          or second.heading.startswith(first.heading + HEADING_JOIN))


def _past(hit: Hit, before: list[Chunk]) -> Hit | None:
    """`hit` without the text that the spans `before` (formed earlier, of its document) hold: None when they hold
    all of it; as it is when one lies inside it (its text would be cut in two)."""
    chunk = hit.chunk
    for earlier in before:
        if earlier.end <= chunk.start or chunk.end <= earlier.start or (chunk.start < earlier.start
                                                                        and earlier.end < chunk.end):
            continue
        if earlier.start <= chunk.start and chunk.end <= earlier.end:
            return None
        if earlier.start <= chunk.start:  # it overlaps this one's start
            cut = earlier.end - chunk.start
            # The rows left still open with their table's header (`Chunk.lead`).
            chunk = dataclasses.replace(chunk, text=chunk.text[: chunk.lead] + chunk.own_text[cut:], start=earlier.end)
        else:  # its end
            cut = chunk.end - earlier.start
            chunk = dataclasses.replace(chunk, text=chunk.text[: len(chunk.text) - cut], end=earlier.start)
    return hit if chunk is hit.chunk else dataclasses.replace(hit, chunk=chunk)


def fuse_legs(
    vector_hits: Sequence[tuple[Chunk, float]], text_hits: Sequence[tuple[Chunk, float]], fusion: Fusion | None
) -> list[Hit]:
    """Both legs' hits as one list, each keeping its ranks and scores in both legs.

    `fusion` None: the legs' hits in order, vector first (a one-leg search); else ordered by the fused score.
    """
    hits: dict[str, Hit] = {}
    for rank, (chunk, score) in enumerate(vector_hits, start=1):
        hits[chunk.chunk_id] = Hit(chunk, score, vector_rank=rank, vector_score=score)
    for rank, (chunk, score) in enumerate(text_hits, start=1):
        hit = hits.setdefault(chunk.chunk_id, Hit(chunk, score))
        hit.text_rank, hit.text_score = rank, score
    if fusion is None:
        return list(hits.values())
    ranked = []
    for chunk_id, score in fusion.fuse([c.chunk_id for c, _ in vector_hits], [c.chunk_id for c, _ in text_hits]):
        hits[chunk_id].score = score
        ranked.append(hits[chunk_id])
    return ranked


def rank_hits(
    vector_hits: Sequence[tuple[Chunk, float]],
    text_hits: Sequence[tuple[Chunk, float]],
    fusion: Fusion,
    k: int,
    *,
    mode: Mode = "hybrid",
    rerank: Callable[[list[Hit]], list[Hit]] | None = None,
    question: str = "",
    phrases: QuerySyntax | None = None,
    avoid: Collection[str] = (),
) -> list[Hit]:
    """The `k` best hits from both legs' lists: each text once in each leg (`copies_shown`, the copies of `avoid`
    shown last), fused (one leg alone unless `mode` is hybrid), reranked, those holding a rare code the `question`
    names first (hybrid only: localrag/exact_terms.py), those holding more of the query's quoted `phrases` before all
    (localrag/query_syntax.py), and touching chunks of one document merged."""
    shown = copies_shown([chunk for chunk, _ in (*vector_hits, *text_hits)], avoid)
    vector_hits, text_hits = _once(vector_hits, shown), _once(text_hits, shown)
    ranked = fuse_legs(vector_hits, text_hits, fusion if mode == "hybrid" else None)
    ranked = [dataclasses.replace(hit, held_by=tuple(map(Copy, copies))) if (copies := shown[_text_key(hit.chunk)][1])
              else hit for hit in ranked]
    if rerank is not None:
        ranked = rerank(ranked)
    if question and mode == "hybrid":
        candidates = {c.chunk_id: c.text for c, _ in (*vector_hits, *text_hits)}
        ranked = codes_first(question, ranked, list(candidates.values()))
    if phrases is not None and phrases.phrases:
        held = {id(hit): phrases.holds_phrases(f"{hit.chunk.heading}\n{hit.chunk.text}") for hit in ranked}
        ranked = sorted(ranked, key=lambda hit: -held[id(hit)])
    return merge_overlapping(ranked)[:k]


def _on_disk(path: str) -> bool:
    """Whether a document's file is there (under any name the disk gives it: `safe_text.disk_name`): a part
    (`mail.eml/report.pdf`) is while the file holding it is."""
    return disk_name(path).exists() or holder_on_disk(path) is not None


def _text_key(chunk: Chunk) -> str:
    """What makes two chunks copies: their text, spacing aside."""
    return " ".join(chunk.text.split())


def copies_shown(chunks: Sequence[Chunk], avoid: Collection[str] = ()) -> dict[str, tuple[Chunk, tuple[Chunk, ...]]]:
    """For each text of `chunks` (`_text_key`), the chunk shown for it and the other files' chunks holding it (where
    each file holds it: a copy was named by its path alone, before 2026-12-08), in the order found. A file copied
    into a second folder came back twice, and took two of `ask`'s four sources with one text; the copies are
    collapsed in each leg before fusion, as 50 copies of one note took every candidate place of both legs:
    `search -k 5` showed 1 hit, and a note holding the words only BM25 matched never came (before 2026-12-07). Of
    the copies, one is shown (in the best-ranked one's place, with its scores; the others named): one not in `avoid`
    (the documents a query's `-word` marks: `-draft` showed the draft's copy of a section the approved version holds
    word for word), then one whose file is still there (a file moved out of an index's view left its old path first,
    cited though gone), then the original (`original_first`): which copy ranked first was down to ties, and
    `fire drill - Copy.txt` was cited for `fire drill.txt` one search and not the next. The other paths are named in
    that order too."""
    groups: dict[str, dict[str, Chunk]] = {}
    for chunk in chunks:
        groups.setdefault(_text_key(chunk), {}).setdefault(chunk.path, chunk)
    out: dict[str, tuple[Chunk, tuple[Chunk, ...]]] = {}
    for key, by_path in groups.items():
        first = next(iter(by_path.values()))
        shown = first if len(by_path) == 1 else min(by_path.values(), key=lambda chunk: _shown_key(chunk, avoid))
        out[key] = shown, tuple(sorted((chunk for path, chunk in by_path.items() if path != shown.path),
                                       key=lambda chunk: original_first(chunk.path)))
    return out


def _once(leg: Sequence[tuple[Chunk, float]], shown: dict[str, tuple[Chunk, tuple[Chunk, ...]]]
          ) -> list[tuple[Chunk, float]]:
    """`leg` with each text once, at its best rank and score, as the chunk `shown` for it."""
    seen: set[str] = set()
    out = []
    for chunk, score in leg:
        key = _text_key(chunk)
        if key not in seen:
            seen.add(key)
            out.append((shown[key][0], score))
    return out


def _shown_key(chunk: Chunk, avoid: Collection[str]) -> tuple[bool, bool, tuple[int, str]]:
    """Which of several chunks of one text `copies_shown` shows: the least key."""
    return chunk.path in avoid, not _on_disk(chunk.path), original_first(chunk.path)


def distinct_texts(search: Callable[[int], list[tuple[Chunk, float]]], fetch: int) -> list[tuple[Chunk, float]]:
    """A leg's hits (`search(n)`: its `n` best) for `fetch` different texts with their copies, asking for more while
    copies fill its places (their scores are the same, so they come together), up to `MAX_FETCH` hits: 40 copies
    of a wifi note were BM25's 40 candidates for `search garden` in a 5,000-note wiki, and no note about a garden
    was (before 2026-12-07)."""
    asked = fetch
    while True:
        found = search(asked)
        texts = list(dict.fromkeys(_text_key(chunk) for chunk, _ in found))
        if len(found) < asked or len(texts) >= fetch or asked >= MAX_FETCH:
            break
        # As many more as the copies so far say it takes, at least twice as many.
        asked = min(MAX_FETCH, max(2 * asked, -(-asked * (fetch + 1) // max(len(texts), 1))))
    kept = set(texts[:fetch])
    return [(chunk, score) for chunk, score in found if _text_key(chunk) in kept]


class Retriever:
    def __init__(
        self, store: Store, embedder: Embedder, reranker: Reranker | None = None, fusion: Fusion | None = None
    ) -> None:
        from localrag.fusion import DEFAULT

        self.store = store
        self.embedder = embedder
        self.reranker = reranker
        self.fusion = fusion or DEFAULT
        # LanceDB releases the GIL while it searches, so the BM25 leg runs beside the vector leg.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bm25")

    def search(self, query: str, k: int, filters: SearchFilters | None = None, mode: Mode = "hybrid", *,
               query_vector: NDArray[np.float32] | None = None) -> list[Hit]:
        """The `k` best hits for `query`, best first, after fusion, reranking and merging, its search operators
        applied (localrag/query_syntax.py); `query_vector`: the text it searches for (its operators taken out,
        `QuerySyntax.text`) as `embedder.embed_queries` embeds it, when the caller has it already."""
        if k <= 0 or not query.strip():
            return []
        syntax = parse_query(query)
        if not syntax.plain:
            if not syntax.text.strip():
                raise LocalRagError(f"the query only leaves out words ({query.strip()}): there is nothing to search "
                                    "for", f"add words to search for: 'hotel {query.strip()}'", field="query")
            query = syntax.text
        where = _and(filters_to_sql(filters), excluded_sql(syntax.excluded))
        fetch = max(FETCH_FACTOR * k, MIN_FETCH)
        if syntax.prefixes and mode != "vector":
            if query_vector is None:  # the vector leg's too: of the query, not of the words found for its prefixes
                query_vector = self.embedder.embed_queries([query])[0]
            query = self._with_prefix_words(query, syntax.prefixes, where, query_vector, fetch)
        text_future = (self._pool.submit(distinct_texts, lambda n: self.store.text_search(query, n, where), fetch)
                       if mode != "vector" else None)
        vector_hits: list[tuple[Chunk, float]] = []
        if mode != "text":
            vector = self.embedder.embed_queries([query])[0] if query_vector is None else query_vector
            vector_hits = distinct_texts(lambda n: self.store.vector_search(vector, n, where), fetch)
        text_hits = text_future.result() if text_future is not None else []
        avoid = self._marked([chunk for chunk, _ in (*vector_hits, *text_hits)], syntax.excluded)
        reranker = self.reranker
        rerank = (lambda ranked: reranker.rerank(query, ranked)) if reranker is not None else None
        return rank_hits(vector_hits, text_hits, self.fusion, k, mode=mode, rerank=rerank, question=query,
                         phrases=syntax, avoid=avoid)

    def _marked(self, chunks: list[Chunk], excluded: tuple[str, ...]) -> set[str]:
        """The paths of `chunks` that have copies among them and whose document a query's `excluded` words mark: its
        file's name holds one, or one of its passages (left out of the legs) does. A copy of them is shown last."""
        if not excluded:  # most searches: no grouping of the candidates' texts for them
            return set()
        groups: dict[str, set[str]] = {}
        for chunk in chunks:
            groups.setdefault(_text_key(chunk), set()).add(chunk.path)
        copied = {chunk.path: chunk.doc_id for chunk in chunks if len(groups[_text_key(chunk)]) > 1}
        if not copied:
            return set()
        words = {folded(word).lower() for word in excluded}
        marked = {path for path in copied if words & set(re.split(r"[\W_]+", folded(Path(path).stem).lower()))}
        holding = " OR ".join(f"regexp_like({FTS_COLUMN}, {sql_literal(word_regex(word))})" for word in excluded)
        left = {doc_id for path, doc_id in copied.items() if path not in marked}
        while left:  # a document per round at least: BM25's best k may all be one document's passages
            found = {chunk.doc_id for chunk, _ in self.store.text_search(" ".join(excluded), len(left),
                                                                         _and(sql_in("doc_id", sorted(left)), holding))}
            if not found:
                break
            marked |= {path for path, doc_id in copied.items() if doc_id in found}
            left -= found
        return marked

    def _with_prefix_words(self, query: str, prefixes: tuple[str, ...], where: str | None,
                           vector: NDArray[np.float32], fetch: int) -> str:
        """`query` with the words starting with each of `prefixes` that the passages nearest it holding one hold:
        BM25 matches whole words only, and the index lists no words to expand a prefix against."""
        words: list[str] = []
        for prefix in prefixes:
            holding = _and(where, f"regexp_like({FTS_COLUMN}, {sql_literal(word_regex(prefix, prefix=True))})")
            texts = [f"{chunk.heading}\n{chunk.text}" for chunk, _ in self.store.vector_search(vector, fetch, holding)]
            words += prefix_words(prefix, texts)
        return f"{query} {' '.join(words)}" if words else query
