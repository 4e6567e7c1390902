"""The system log: stderr, in a format journald understands.

Under systemd (``$JOURNAL_STREAM`` names our stderr) every line starts with a syslog
priority prefix such as ``<6>`` and carries no timestamp, since the journal adds its own.
Elsewhere lines carry a local timestamp and the level name. Multi-line messages
(tracebacks) get the prefix on every line so the journal keeps their priority.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TextIO

import trio
from trio_util import AsyncValue

from switchgeard.config import LoggingConfig
from switchgeard.telemetry.redact import RedactingFilter, Redactor

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

_SYSLOG_PRIORITY = [
    (logging.CRITICAL, 2),
    (logging.ERROR, 3),
    (logging.WARNING, 4),
    (logging.INFO, 6),
]

_handler: logging.Handler | None = None


class JournalFormatter(logging.Formatter):
    """``<prio>logger: message``, the prefix repeated on every line."""

    def __init__(self) -> None:
        super().__init__("%(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{syslog_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines())


def syslog_priority(levelno: int) -> int:
    """The syslog priority (0-7) for a logging level."""
    for threshold, priority in _SYSLOG_PRIORITY:
        if levelno >= threshold:
            return priority
    return 7


def under_journal(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """True when ``stream`` is the journal stream systemd announced in $JOURNAL_STREAM."""
    announced = environ.get("JOURNAL_STREAM", "")
    if not announced:
        return False
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError):
        return False
    return announced == f"{st.st_dev}:{st.st_ino}"


def setup_logging(
    level: str, *, stream: TextIO | None = None, environ: Mapping[str, str] | None = None
) -> None:
    """Send the root logger to ``stream`` (stderr) at ``level`` ("debug" ... "error").

    Replaces the handler a previous call installed; other handlers are left alone.
    """
    global _handler
    stream = sys.stderr if stream is None else stream
    environ = os.environ if environ is None else environ
    handler = logging.StreamHandler(stream)
    if under_journal(stream, environ):
        handler.setFormatter(JournalFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    root.addHandler(handler)
    _handler = handler
    set_log_level(level)


@contextmanager
def redact_system_log(redactor: Redactor) -> Iterator[None]:
    """While open, remove ``redactor``'s secrets from every line of the stderr handler."""
    handler = _handler
    if handler is None:
        yield
        return
    redacting = RedactingFilter(redactor)
    handler.addFilter(redacting)
    try:
        yield
    finally:
        handler.removeFilter(redacting)


def set_log_level(level: str) -> None:
    """Change the level of the system log set up by ``setup_logging`` (no-op without it)."""
    if _handler is not None:
        logging.getLogger().setLevel(LEVELS[level])


async def run_log_level_follower(
    section: AsyncValue[LoggingConfig],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Apply ``[logging] level`` whenever the published logging section changes."""
    task_status.started()
    async for cfg in section.eventual_values():
        set_log_level(cfg.level)
