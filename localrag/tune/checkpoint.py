"""A run folder on disk: run.json, atomic checkpoints, and finding the newest complete one.

    run_dir/run.json                      status, base (path, sha256, architecture), config, data hash,
                                          metrics history, backend, seconds
    run_dir/checkpoints/step-000025/      adapter_model.safetensors + adapter_config.json (peft),
                                          trainer.pt (optimizer, scheduler, RNG states), state.json
    run_dir/adapter/                      the final peft adapter, once the run is done

Every checkpoint is written into a hidden temporary folder and renamed into place, and the rename is
the last thing that happens, so a folder named step-NNNNNN is complete: after a `kill -9` the newest
such folder is where training resumes, and a half-written temporary folder is simply deleted. Only
the newest `KEEP` checkpoints stay; an adapter is a few MB but Adam's moments double it.

run.json is replaced atomically on each update (localrag.atomic), so a reader never sees half of it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localrag.atomic import write_text_atomic
from localrag.tune.config import FinetuneConfig, FinetuneError

RUN_FILE = "run.json"
CHECKPOINTS = "checkpoints"
ADAPTER = "adapter"
KEEP = 2
_STEP_DIR = re.compile(r"step-(\d{6,})")


def read_run(run_dir: Path) -> dict[str, Any] | None:
    path = Path(run_dir) / RUN_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FinetuneError(f"{path}: unreadable run record ({exc})", "pick a new run folder") from exc
    if not isinstance(data, dict):
        raise FinetuneError(f"{path}: not a run record", "pick a new run folder")
    return data


def write_run(run_dir: Path, record: dict[str, Any]) -> None:
    write_text_atomic(Path(run_dir) / RUN_FILE, json.dumps(record, indent=2))


def check_same_run(
    run_dir: Path, record: dict[str, Any], base_sha256: str, config: FinetuneConfig, data_hash: str
) -> None:
    """Refuse to resume a run that was started with another base model, configuration or data."""
    differences = []
    if record.get("base", {}).get("sha256") != base_sha256:
        differences.append("base model")
    then, now = record.get("config"), config.to_json()
    if then != now:
        changed = [f"{key} {then.get(key)} then, {now.get(key)} now" for key in sorted(set(then) | set(now))
                   if then.get(key) != now.get(key)] if isinstance(then, dict) else []
        differences.append("configuration" + (f" ({'; '.join(changed)})" if changed else ""))
    if record.get("data", {}).get("hash") != data_hash:
        differences.append("training data")
    if differences:
        raise FinetuneError(
            f"{run_dir}: this run folder holds a run with another {' and '.join(differences)}",
            "pick a new run folder (--run DIR), or repeat the original settings to resume it",
        )


def checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints, oldest first, as (step, folder)."""
    folder = Path(run_dir) / CHECKPOINTS
    if not folder.is_dir():
        return []
    found = []
    for child in folder.iterdir():
        match = _STEP_DIR.fullmatch(child.name)
        if match and child.is_dir() and (child / "state.json").is_file():
            found.append((int(match.group(1)), child))
    return sorted(found)


def latest_checkpoint(run_dir: Path) -> tuple[int, Path] | None:
    found = checkpoints(run_dir)
    return found[-1] if found else None


def save_checkpoint(run_dir: Path, step: int, write: Callable[[Path], None], state: dict[str, Any]) -> Path:
    """Have `write(folder)` fill a temporary folder, add state.json, rename it to step-NNNNNN, prune old ones."""
    folder = Path(run_dir) / CHECKPOINTS
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"step-{step:06d}"
    tmp = folder / f".step-{step:06d}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    write(tmp)
    (tmp / "state.json").write_text(json.dumps({**state, "step": step}, indent=2), encoding="utf-8")
    _fsync_tree(tmp)
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
    for _, old in checkpoints(run_dir)[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)
    for leftover in folder.glob(".step-*.tmp"):
        if leftover != tmp:
            shutil.rmtree(leftover, ignore_errors=True)
    return final


def publish_adapter(run_dir: Path, write: Callable[[Path], None]) -> Path:
    """Write the final adapter into a temporary folder and rename it to run_dir/adapter."""
    final = Path(run_dir) / ADAPTER
    tmp = Path(run_dir) / f".{ADAPTER}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        write(tmp)
        _fsync_tree(tmp)
    except BaseException:
        # Named by this pid, a half-written folder would never be cleared by a later run.
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
    return final


def _fsync_tree(folder: Path) -> None:
    # Without this a crash soon after the rename could leave a "complete" folder of empty files.
    for file in folder.iterdir():
        if file.is_file():
            with file.open("rb") as f:
                os.fsync(f.fileno())


def finetune_command(run_dir: Path) -> str:
    """The command that trains (or resumes) the run in `run_dir`, with the RAFT folder its record names: a hint
    of `localrag finetune --run DIR` alone was refused, --data being required."""
    import shlex

    try:
        record = read_run(run_dir)
    except FinetuneError:
        record = None
    data = record.get("data", {}).get("dir") if isinstance(record, dict) and isinstance(record.get("data"), dict) \
        else None
    return (f"`localrag finetune --data {shlex.quote(str(data)) if data else 'RAFT_DIR'} "
            f"--run {shlex.quote(str(run_dir))}`")
