"""Fixtures and hooks shared by the whole suite.

* Every test fails if it logged at ERROR or above, unless it is marked
  ``@pytest.mark.allow_error_logs`` (the test then asserts on the records itself).
* Every trio test, fixtures included, runs under a wall-clock deadline (30 s; change it
  with ``@pytest.mark.deadline(seconds)``). The deadline is real time, so tests on the
  ``autojump_clock`` may still sleep for hours of virtual time.
* ``repo_root`` and ``bolts_vectors_dir`` locate the checkout and the shared BOLT vectors.
"""

from __future__ import annotations

import _thread
import contextlib
import faulthandler
import functools
import logging
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterator
from inspect import iscoroutinefunction
from pathlib import Path
from typing import Any

import pytest
import trio

DEFAULT_DEADLINE = 30.0
HARD_STOP_AFTER = 15.0
"""Seconds after the deadline's cancellation before a test that ignores it is interrupted."""


# -- ERROR logs fail the test -------------------------------------------------------------


class _ErrorCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def _fail_on_error_logs(request: pytest.FixtureRequest) -> Iterator[None]:
    collector = _ErrorCollector()
    root = logging.getLogger()
    root.addHandler(collector)
    try:
        yield
    finally:
        root.removeHandler(collector)
    if collector.records and request.node.get_closest_marker("allow_error_logs") is None:
        lines = "\n".join(f"  {r.levelname} {r.name}: {r.getMessage()}" for r in collector.records)
        pytest.fail(
            f"the test logged at ERROR or above (mark it allow_error_logs if expected):\n{lines}",
            pytrace=False,
        )


# -- logging state never leaks from one test into the next -------------------------------


@pytest.fixture(autouse=True)
def _restore_logger_state() -> Iterator[None]:
    """Levels, propagation and handlers of the root and every ``switchgeard`` logger are put
    back after each test, so a test that configures logging cannot silence the next one."""
    loggers = [logging.getLogger()] + [
        logging.getLogger(name)
        for name in list(logging.root.manager.loggerDict)
        if name == "switchgeard" or name.startswith("switchgeard.")
    ]
    saved = [(lg, lg.level, lg.propagate, list(lg.handlers), lg.disabled) for lg in loggers]
    yield
    for logger, level, propagate, handlers, disabled in saved:
        logger.setLevel(level)
        logger.propagate = propagate
        logger.handlers[:] = handlers
        logger.disabled = disabled
    for name, created in list(logging.root.manager.loggerDict.items()):
        ours = name == "switchgeard" or name.startswith("switchgeard.")
        if ours and isinstance(created, logging.Logger) and created not in loggers:
            created.setLevel(logging.NOTSET)  # created during the test: back to defaults
            created.propagate = True


# -- a deadline for every trio test ---------------------------------------------------------


def _run_with_deadline(seconds: float) -> Callable[..., Any]:
    """A pytest-trio ``run`` function: trio.run with a wall-clock deadline around everything."""

    def run(async_fn: Callable[[], Awaitable[Any]], **run_kwargs: Any) -> Any:
        return trio.run(functools.partial(_bounded, async_fn, seconds), **run_kwargs)

    return run


async def _bounded(async_fn: Callable[[], Awaitable[Any]], seconds: float) -> Any:
    token = trio.lowlevel.current_trio_token()
    with trio.CancelScope() as scope:
        timer = threading.Timer(seconds, _cancel_from_thread, (token, scope))
        timer.daemon = True
        timer.start()
        # A task that never reaches a checkpoint cannot be cancelled: after the grace,
        # dump every thread's stack and interrupt the main thread so the run cannot hang.
        hard_stop = threading.Timer(seconds + HARD_STOP_AFTER, _interrupt_stuck_test)
        hard_stop.daemon = True
        hard_stop.start()
        try:
            result = await async_fn()
        finally:
            timer.cancel()
            hard_stop.cancel()
    if scope.cancel_called:
        pytest.fail(f"the test did not finish within its {seconds:g} s deadline", pytrace=False)
    return result


def _interrupt_stuck_test() -> None:
    print("\nconftest: a test ignored its deadline's cancellation; stacks:", file=sys.stderr)
    faulthandler.dump_traceback(all_threads=True)
    _thread.interrupt_main()


def _cancel_from_thread(token: trio.lowlevel.TrioToken, scope: trio.CancelScope) -> None:
    with contextlib.suppress(trio.RunFinishedError):  # the test finished meanwhile
        token.run_sync_soon(scope.cancel)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        func = getattr(item, "obj", None)
        inner = func.hypothesis.inner_test if hasattr(func, "hypothesis") else func
        if func is None or not iscoroutinefunction(inner):
            continue
        marker = item.get_closest_marker("deadline")
        seconds = float(marker.args[0]) if marker is not None else DEFAULT_DEADLINE
        # pytest-trio uses the first ``trio`` marker that names a runner: put ours first.
        item.add_marker(pytest.mark.trio(run=_run_with_deadline(seconds)), append=False)


# -- locations ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The root of this checkout."""
    return Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def bolts_vectors_dir(repo_root: Path) -> Path:
    """``<repo>/../shared/bolts-test-vectors``; skips the test when the directory is absent."""
    path = repo_root.parent / "shared" / "bolts-test-vectors"
    if not path.is_dir():
        pytest.skip(f"BOLT test vectors not found at {path}")
    return path


@pytest.fixture
def short_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory whose paths fit AF_UNIX's limit (``tmp_path`` when it is short enough)."""
    if len(str(tmp_path / "admin.sock")) < 100:
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(prefix="sg") as short:
        yield Path(short)
