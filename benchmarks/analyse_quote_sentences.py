"""Sentences the RAFT builder can quote: how many are fragments of a sentence wrapped over lines.

    .venv/bin/python benchmarks/analyse_quote_sentences.py [--covid-articles 40] [--code DIR]
        [--summary benchmarks/summaries/quote_sentences.json]

`raft.dataset.sentences` cuts the oracle chunk into the sentences a RAFT example quotes (and `tune --retriever`'s
inverse-cloze pairs take their pseudo-questions from). Every chunk an ingest would make of the bundled sample
corpus and of the first `--covid-articles` COVID-QA articles (one text file each) is cut by it; a sentence of three
or more words counts as a fragment when it does not end a sentence (no ".", "!", "?" or ":" at its end, closing
quotes and brackets aside) or does not start one (a lower-case first letter): an upper bound, since headings and
list items end without a stop too. The clear cases are counted apart: a sentence cut where its line wraps (no stop,
and the next line goes on in lower case), one cut at a full stop with the text going on in lower case (an
abbreviation's: "et al. found"), one cut after a title or "Fig." ("Dr.", "(Fig."), and a numbered item's "1."
alone. `--code DIR` imports localrag from
another checkout, for a before/after comparison.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import _checkout  # noqa: F401  (first: it chooses which localrag the imports below get)
import bench_ingest_backends
from _scratch import scratch_dir

SUMMARY = Path(__file__).resolve().parent / "summaries" / "quote_sentences.json"
_ENDS = re.compile(r"[.!?:][\"'”’)\]]*$")
_WRAP = re.compile(r"[ \t]*\n[ \t]*[a-z]")
_GOES_ON = re.compile(r"\s+[a-z]")
_ITEM_NUMBER = re.compile(r"\d{1,3}[.)]")
_TITLE_OR_FIG = re.compile(r"\b(?:Figs?|Eqs?|Refs?|Dr|Mrs?|Ms|Prof|vs|cf|approx|e\.g|i\.e)\.$")


def chunk_texts(folder: Path) -> list[str]:
    from localrag.config import load_settings
    from localrag.embed import load_embedder
    from localrag.ingest.chunker import chunk_document
    from localrag.ingest.parts import load_parts
    from localrag.ingest.readings import chunk_size
    from localrag.models import bundled_embedder_path

    settings = load_settings()
    embedder = load_embedder(bundled_embedder_path(), "torch")
    texts: list[str] = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.name != "SOURCE.md"):
        for part in load_parts(path, ocr=False, notify=lambda _activity: None):
            if part.loaded is None:
                continue
            chunks = chunk_document(part.loaded, doc_id=path.name, path=str(path), file_type=part.kind,
                                    token_counts=embedder.token_counts,
                                    max_tokens=chunk_size(settings, embedder.max_tokens),
                                    overlap=settings.chunk_overlap)
            texts.extend(c.text for c in chunks)
    return texts


def fragments(texts: list[str]) -> dict[str, object]:
    from localrag.sentences import sentence_spans

    total = unended = unstarted = wrapped = abbreviation = titles = numbers = 0
    examples: list[str] = []
    for text in texts:
        for start, end in sentence_spans(text):
            sentence = text[start:end]
            # Three more clear cuts: at an abbreviation's full stop ("et al." with the sentence going on in lower
            # case), after a title or "Fig." (not at the text's end), and a numbered item's "1." on its own.
            abbreviation += sentence.endswith(".") and _GOES_ON.match(text, end) is not None
            titles += _TITLE_OR_FIG.search(sentence) is not None and end < len(text)
            numbers += _ITEM_NUMBER.fullmatch(sentence) is not None
            if len(sentence.split()) < 3:
                continue
            total += 1
            no_end, no_start = not _ENDS.search(sentence), sentence[0].islower()
            unended += no_end
            unstarted += no_start
            # The clearest fragment: cut where a line wraps, the sentence going on in lower case.
            cut = no_end and _WRAP.match(text, end) is not None
            wrapped += cut
            if cut and len(examples) < 5:
                examples.append(" ".join(sentence.split())[-100:])
    either = unended + unstarted
    return {"chunks": len(texts), "sentences": total, "not_ending_a_sentence": unended,
            "not_starting_one": unstarted, "fragment_share_upper_bound": round(either / max(total, 1), 3),
            "cut_where_a_line_wraps": wrapped, "cut_share": round(wrapped / max(total, 1), 3),
            "cut_before_a_lower_case_word": abbreviation, "cut_after_a_title_or_fig": titles,
            "item_numbers_alone": numbers, "examples": examples}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--covid-articles", type=int, default=40)
    parser.add_argument("--code", type=Path, help="a checkout to import localrag from")
    parser.add_argument("--summary", type=Path, default=SUMMARY)
    args = parser.parse_args()
    from localrag.ingest.discover import sample_corpus_dir

    covid = Path(scratch_dir(prefix="localrag-quote-sentences-")) / "covid"
    bench_ingest_backends.write_corpus(covid, args.covid_articles)
    summary = {"command": " ".join(["benchmarks/analyse_quote_sentences.py", *sys.argv[1:]]),
               "sample corpus": fragments(chunk_texts(sample_corpus_dir())),
               f"COVID-QA, first {args.covid_articles} articles": fragments(chunk_texts(covid))}
    print(json.dumps(summary, indent=2))
    args.summary.parent.mkdir(parents=True, exist_ok=True)
    args.summary.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
