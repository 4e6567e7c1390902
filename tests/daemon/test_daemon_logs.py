"""The system log: journald priority prefixes under systemd, timestamps elsewhere."""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchgeard.daemon import logs


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    if logs._handler is not None:
        root.removeHandler(logs._handler)
        logs._handler = None
    root.handlers[:] = handlers
    root.setLevel(level)


def journal_of(path: Path) -> tuple[io.TextIOWrapper, dict[str, str]]:
    stream = path.open("w", encoding="utf-8")
    st = os.fstat(stream.fileno())
    return stream, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}


@pytest.mark.usefixtures("restore_logging")
def test_under_journald_lines_carry_a_priority_and_no_timestamp(tmp_path: Path) -> None:
    stream, environ = journal_of(tmp_path / "stderr")
    with stream:
        logs.setup_logging("info", stream=stream, environ=environ)
        log = logging.getLogger("switchgeard.test")
        log.info("ready")
        log.warning("two\nlines")
        log.debug("hidden at info")
    assert (tmp_path / "stderr").read_text().splitlines() == [
        "<6>switchgeard.test: ready",
        "<4>switchgeard.test: two",
        "<4>lines",
    ]


@pytest.mark.usefixtures("restore_logging")
def test_elsewhere_lines_carry_a_timestamp(tmp_path: Path) -> None:
    stream = (tmp_path / "stderr").open("w", encoding="utf-8")
    with stream:
        # a JOURNAL_STREAM naming another file (inherited by a child) does not count
        logs.setup_logging("debug", stream=stream, environ={"JOURNAL_STREAM": "1:2"})
        logging.getLogger("switchgeard.test").debug("details")
    line = (tmp_path / "stderr").read_text().strip()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} DEBUG   switchgeard.test: details", line
    )


@pytest.mark.usefixtures("restore_logging")
def test_the_level_follows_the_config() -> None:
    stream = io.StringIO()
    logs.setup_logging("warning", stream=stream, environ={})
    logging.getLogger("switchgeard.test").info("not yet")
    logs.set_log_level("debug")
    logging.getLogger("switchgeard.test").info("now")
    assert "not yet" not in stream.getvalue() and "now" in stream.getvalue()


@pytest.mark.parametrize(
    ("level", "priority"),
    [(logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6), (5, 7)],
)
def test_syslog_priorities(level: int, priority: int) -> None:
    assert logs.syslog_priority(level) == priority
