"""Importing the core must not import textual: the core stays usable without the UI.

The core modules are imported in a fresh interpreter, since one test process has textual loaded by
the TUI tests already; if any of them pulled textual in, the whole set would. Everything in
localrag/ except the tui package, the CLI (which starts the app) and the servers counts as core; new
modules are picked up automatically. The import-linter contracts in pyproject.toml check the same
layering statically (`lint-imports` in scripts/test); the last test keeps their module list complete.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import localrag

UI_MODULES = ("localrag.tui", "localrag.cli", "localrag.serve", "localrag.__main__")


def core_modules() -> list[str]:
    found = ["localrag"]
    for info in pkgutil.walk_packages(localrag.__path__, prefix="localrag."):
        if not info.name.startswith(UI_MODULES):
            found.append(info.name)
    return sorted(found)


def test_core_module_list_is_complete() -> None:
    modules = core_modules()
    for expected in ("localrag.engine", "localrag.conversations", "localrag.config", "localrag.types"):
        assert expected in modules
    assert not any(m.startswith("localrag.tui") for m in modules)


def test_core_modules_do_not_import_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for module in {core_modules()!r}:\n"
        "    importlib.import_module(module)\n"
        "loaded = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"the core imports textual: {result.stdout.strip()}"


def test_the_check_would_catch_textual() -> None:
    code = "import importlib, sys\nimportlib.import_module('localrag.tui.app')\nprint('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "True"


def test_the_import_contract_names_every_core_module() -> None:
    config = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    contract = config["tool"]["importlinter"]["contracts"][0]
    top_level = {".".join(m.split(".")[:2]) for m in core_modules() if m != "localrag"}
    assert set(contract["source_modules"]) == top_level
