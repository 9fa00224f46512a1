"""A stop in the middle of one big file keeps the chunks it embedded, for the next ingest to go on from: a 10 MB page
stopped after 70 s of embedding was embedded from its first chunk again (README: "Ctrl-C")."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from localrag.engine import Engine
from localrag.ingest.pending import folder_for
from localrag.ingest.pipeline import doc_id_for, embedding_text
from tests.network_probe import child_args, users_env

WORDS = ("harbour crane ledger tide anchor beacon cargo dredge ferry gantry hull jetty keel lock mooring pier quay "
         "rope sail stern tug vessel wharf yard berth buoy channel dock estuary fathom gale helm inlet").split()


@pytest.mark.parametrize("how", ["SIGINT", "SIGKILL"])
def test_a_stop_mid_file_keeps_its_embedded_chunks_and_the_next_ingest_embeds_only_the_rest(
    localrag_home: Path, engine: Engine, tmp_path: Path, how: str
) -> None:
    folder = tmp_path / "wiki"
    folder.mkdir()
    rng = random.Random(7)
    page = folder / "wiki.md"
    page.write_text("\n\n".join(f"## Part {s}\n\n" + " ".join(rng.choice(WORDS) for _ in range(120)) + "."
                                for s in range(700)), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, *child_args("ingest", str(folder))], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=users_env(localrag_home, tmp_path / "user-home"))
    # This collection's steps: the tests share one cache folder (conftest), and other tests' steps lie there too (a
    # stop sent as soon as those were seen came before the child listened for it).
    kept = folder_for(engine.store.path, engine.store.collection)
    deadline = time.monotonic() + 300
    while len(list(kept.rglob("*.npz"))) < 3:  # three steps embedded, most of the file still to come
        assert proc.poll() is None and time.monotonic() < deadline, "the ingest ended or made no progress"
        time.sleep(0.05)
    proc.send_signal(getattr(signal, how))  # the python process itself, not a wrapper
    _, err = proc.communicate(timeout=120)
    if how == "SIGINT":
        assert proc.returncode == 130, err
        assert "read but not yet in the index (its " in err and "chunks embedded so far kept for it)" in err, err
    else:
        assert proc.returncode == -signal.SIGKILL
    steps = len(list(kept.rglob("*.npz")))

    report = engine.ingest([folder])
    assert report.added == 1 and not report.cancelled, report.notes
    (note,) = [n for n in report.notes if n.startswith("went on from a stop: ")]
    taken = int(note.split()[5].replace(",", ""))
    assert taken >= 64 * min(steps, 3) and taken < report.chunks_written, note
    assert not list(kept.rglob("*.npz"))  # the file is in the index: what was kept for it goes
    # A vector taken is the one the embedder gives for the chunk's text.
    docs, stored = engine.store.embedded_chunks([doc_id_for(str(page))])
    chunk, vector = stored[0]
    fresh = engine.embedder.embed([embedding_text(chunk, docs[chunk.doc_id].title)])[0]
    assert np.allclose(vector, fresh, atol=1e-5)
