"""The shared tests/conftest.py: ERROR logs fail a test, every trio test has a deadline.

Runs a small suite in a subprocess with a copy of the conftest and checks the outcomes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

PYTEST_INI = """\
[pytest]
trio_mode = true
addopts = --strict-markers -p no:cacheprovider
filterwarnings = error
markers =
    allow_error_logs: expected ERROR logs
    deadline(seconds): wall-clock limit
"""

SUITE = """\
import logging
import time

import pytest
import trio


def test_error_log_fails():
    logging.getLogger("x").error("boom")


@pytest.mark.allow_error_logs
def test_error_log_allowed():
    logging.getLogger("x").error("boom")


def test_warning_is_fine():
    logging.getLogger("x").warning("careful")


@pytest.mark.deadline(0.3)
async def test_hang_fails():
    await trio.sleep_forever()


@pytest.fixture
async def hanging_fixture():
    await trio.sleep_forever()
    yield


@pytest.mark.deadline(0.3)
async def test_hanging_fixture_fails(hanging_fixture):
    pass


@pytest.mark.deadline(0.3)
async def test_blocking_past_the_deadline_fails():
    await trio.to_thread.run_sync(time.sleep, 0.6)


async def test_autojump_clock_sleeps_hours(autojump_clock):
    await trio.sleep(3600 * 5)


async def test_nursery_fixture_works(nursery):
    nursery.start_soon(trio.sleep_forever)


def test_bolts_vectors_dir(bolts_vectors_dir):
    pass
"""

EXPECTED = {
    "test_error_log_fails": "error",  # reported at teardown
    "test_error_log_allowed": "passed",
    "test_warning_is_fine": "passed",
    "test_hang_fails": "failure",
    "test_hanging_fixture_fails": "failure",
    "test_blocking_past_the_deadline_fails": "failure",
    "test_autojump_clock_sleeps_hours": "passed",
    "test_nursery_fixture_works": "passed",
    "test_bolts_vectors_dir": "skipped",  # no ../shared next to the copy
}


def outcomes(report: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in {"failure", "error", "skipped"}]
        found[case.get("name", "")] = kinds[0] if kinds else "passed"
    return found


def test_shared_conftest_rules(repo_root: Path, tmp_path: Path) -> None:
    suite = tmp_path / "repo" / "tests"
    suite.mkdir(parents=True)
    shutil.copy(repo_root / "tests" / "conftest.py", suite / "conftest.py")
    (suite / "test_rules.py").write_text(SUITE)
    (suite.parent / "pytest.ini").write_text(PYTEST_INI)
    report = tmp_path / "report.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", f"--junitxml={report}", str(suite)],
        cwd=suite.parent,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert outcomes(report) == EXPECTED
