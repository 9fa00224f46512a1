"""Triple extraction quality and speed: WC2014 facts written as sentences, extracted back by the GGUF model.

    .venv/bin/python benchmarks/bench_graph_extract.py [--sentences 200] [--per-chunk 1]
        [--vocabulary kb|default] [--model PATH] [--quick]

The WC2014 triples are written as one sentence each ("Alan PULIDO plays in club Tigres UANL.", a
triple and its `_inverse` being one fact), and a seeded sample of `--sentences` of them is cut
into chunks of `--per-chunk` sentences. Each chunk goes through `localrag.graph.extract.extract_chunk`
(the few-shot prompt, the JSON grammar, the relation vocabulary, the in-chunk check, entity
merging with MiniLM), the same step `build_graph` runs per chunk. `--vocabulary kb` (the default)
gives the extractor the KB's own six relations with their phrasings as synonyms, as a user with a
known schema would configure it; `default` keeps extract.py's general vocabulary, against which
only the entity pairs can match.

Scored against the KB triples (both directions stored, names normalised as the graph store does):
- entity-pair precision: extracted triples whose (subject, object) is a KB pair; recall: facts of
  the processed sentences whose (head, tail) was extracted;
- triple precision / recall: the same, the relation also equal;
- relation accuracy: among extracted triples with a right pair, the share with the right relation.
Speed: extraction tokens/s and chunks/s (the whole pipeline: prompt, grammar, checks, merging)
against raw generation (the same model on the same prompt right after, no grammar and no pipeline,
for as many tokens as the extraction generated; decoding time only, the prompt being cached by
then), interleaved so both see the same machine load.
`--quick` = 50 sentences. The data is read in place; nothing is copied into the repository.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from localrag.graph.kgqa import fact_sentences, read_triples  # noqa: E402
from localrag.graph.store import normalise_entity, normalise_relation  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "wc2014_kgqa" / "data"
KB_VOCABULARY = {
    "plays_in_club": ("plays in club", "plays for club", "club", "plays for", "member of"),
    "plays_for_country": ("plays for country", "country", "national team", "represents"),
    "plays_position": ("plays position", "position", "plays as"),
    "is_aged": ("is aged", "age", "aged", "years old"),
    "wears_number": ("wears number", "number", "shirt number", "wears"),
    "is_in_country": ("is in country", "located in", "based in", "in country"),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=200)
    parser.add_argument("--per-chunk", type=int, default=1)
    parser.add_argument("--vocabulary", choices=["kb", "default"], default="kb")
    parser.add_argument("--model", type=Path, default=None, help="a GGUF file; default: the bundled model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n_sentences = 50 if args.quick else args.sentences

    from localrag.embed import SentenceTransformerEmbedder
    from localrag.generate import LlamaGenerator
    from localrag.graph.extract import (
        EntityMerger,
        ExtractConfig,
        RelationVocabulary,
        extract_chunk,
        extraction_messages,
    )
    from localrag.models import bundled_embedder_path, bundled_generator_path
    from localrag.types import Chunk, GenerationStats

    kb = read_triples(DATA / "WC2014.txt")
    pairs: dict[tuple[str, str], set[str]] = {}
    for head, relation, tail in kb:
        pairs.setdefault((normalise_entity(head), normalise_entity(tail)), set()).add(normalise_relation(relation))
    facts = list(fact_sentences(kb).items())
    random.Random(args.seed).shuffle(facts)
    facts = facts[:n_sentences]
    chunks: list[tuple[Chunk, list[tuple[str, str, str]]]] = []
    for start in range(0, len(facts), args.per_chunk):
        group = facts[start : start + args.per_chunk]
        text = " ".join(sentence for _, sentence in group)
        chunk = Chunk(f"c{start}", f"d{start}", f"facts/{start}.txt", 0, text, 0, len(text))
        chunks.append((chunk, [triple for triple, _ in group]))

    model_path = args.model or bundled_generator_path()
    generator = LlamaGenerator(model_path, n_ctx=2048)
    embedder = SentenceTransformerEmbedder(bundled_embedder_path())
    vocabulary = RelationVocabulary(KB_VOCABULARY, fallback=None) if args.vocabulary == "kb" else RelationVocabulary()
    config = ExtractConfig(vocabulary=vocabulary)
    merger = EntityMerger(embedder, config.merge_threshold)
    embedder.embed(["warm up"])
    generator.count_tokens("warm up")

    extracted: list[tuple[str, str, str]] = []
    gold_found: set[tuple[str, str, str]] = set()
    proposed = failed = tokens = raw_tokens = 0
    pipeline_s = raw_s = 0.0
    dropped: Counter[str] = Counter()
    for done, (chunk, gold) in enumerate(chunks, start=1):
        stats = GenerationStats()
        started = time.perf_counter()
        result = extract_chunk(chunk, generator, merger, config, stats=stats)
        pipeline_s += time.perf_counter() - started
        tokens += stats.completion_tokens
        # The same prompt, no grammar and no checks, for as many tokens: the generator's own speed.
        raw = GenerationStats()
        generator.complete(extraction_messages(chunk, vocabulary), max_tokens=max(stats.completion_tokens, 1),
                           stats=raw)
        raw_s += raw.generation_seconds
        raw_tokens += raw.completion_tokens
        if result is None:
            failed += 1
        else:
            proposed += result.proposed
            dropped.update(result.dropped)
            got = {(normalise_entity(t.head), normalise_entity(t.tail)) for t in result.triples}
            extracted.extend((t.head, t.relation, t.tail) for t in result.triples)
            gold_found.update(g for g in gold if (normalise_entity(g[0]), normalise_entity(g[2])) in got)
        if done % 5 == 0:
            right = sum((normalise_entity(t[0]), normalise_entity(t[2])) in pairs for t in extracted)
            print(f"  {done}/{len(chunks)} chunks: {len(extracted)} triples kept, {right} with a KB pair, "
                  f"{len(gold_found)} of {sum(len(g) for _, g in chunks[:done])} facts found; "
                  f"{tokens / pipeline_s:.1f} vs raw {raw_tokens / max(raw_s, 1e-9):.1f} tokens/s", flush=True)

    pair_ok = [t for t in extracted if (normalise_entity(t[0]), normalise_entity(t[2])) in pairs]
    triple_ok = [t for t in pair_ok if t[1] in pairs[(normalise_entity(t[0]), normalise_entity(t[2]))]]
    gold_triples = {g for g in gold_found for t in extracted
                    if (normalise_entity(t[0]), t[1], normalise_entity(t[2]))
                    == (normalise_entity(g[0]), g[1], normalise_entity(g[2]))}
    n_gold, n_ext = len(facts), len(extracted)
    print(f"model: {Path(model_path).name}; embedder: {Path(bundled_embedder_path()).name}; "
          f"vocabulary: {args.vocabulary}; {len(chunks)} chunks of {args.per_chunk} sentence(s), {n_gold} facts")
    print(f"proposed {proposed} triples, kept {n_ext}; failed replies {failed}; dropped {dict(dropped)}")
    print(
        f"entity pairs: precision {len(pair_ok) / max(n_ext, 1):.3f}, recall {len(gold_found) / n_gold:.3f}; "
        f"triples (relation too): precision {len(triple_ok) / max(n_ext, 1):.3f}, "
        f"recall {len(gold_triples) / n_gold:.3f}; relation accuracy on right pairs "
        f"{len(triple_ok) / max(len(pair_ok), 1):.3f}"
    )
    print(
        f"speed: extraction {tokens / pipeline_s:.1f} tokens/s, {len(chunks) / pipeline_s:.2f} chunks/s "
        f"({pipeline_s / len(chunks):.2f} s/chunk); raw decoding on the same prompts {raw_tokens / raw_s:.1f} "
        f"tokens/s; extraction runs at "
        f"{(tokens / pipeline_s) / (raw_tokens / raw_s):.2f}x the raw token rate"
    )


if __name__ == "__main__":
    main()
