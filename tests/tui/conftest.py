"""Shared helpers for the TUI tests: the app over a FakeEngine and a wait-until for pilots."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fakes import FakeEngine
from textual.pilot import Pilot

from localrag.tui.app import LocalRagApp
from localrag.tui.failures import log_file


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test shows the tracebacks the app logged: an error modal in the way says only its title."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call" and report.failed:
        # The test's LOCALRAG_HOME is still set: fixtures are torn down after the call's report.
        log = log_file()
        if log.is_file():
            report.sections.append(("localrag tui.log", log.read_text(encoding="utf-8", errors="replace")))


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds; fail the test if it never does."""
    steps = int(timeout / 0.02)
    for _ in range(steps):
        if condition():
            return
        await pilot.pause(0.02)
    assert condition(), "condition not reached before the timeout"


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def app(fake_engine: FakeEngine) -> LocalRagApp:
    return LocalRagApp(fake_engine)
