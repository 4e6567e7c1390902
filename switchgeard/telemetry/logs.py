"""Per-service log files under ``[logging] dir``, written off the trio thread.

============  ================================  ==========================================
file          loggers (and their children)      content
============  ================================  ==========================================
lnurl.log     ``switchgeard.lnurl``             public requests: the wallet activity log
admin.log     ``switchgeard.admin``             audit of admin operations
balancer.log  ``switchgeard.balancer``          health transitions, failovers
ldap.log      ``switchgeard.ldap``              LDAP synchronisation
bolt12.log    ``switchgeard.bolt12``            Bolt12 invoice requests
system.log    every other ``switchgeard.*``     lifecycle, config reloads, errors
============  ================================  ==========================================

Service loggers do not propagate, so each file receives exactly its service's lines and
wallet activity never reaches stderr (the journal); the system log may also go to stderr.
Errors are the exception: a service's ERROR lines are written to its file and also handed
to the system logger, so system.log and the journal see every error.
Records are formatted and redacted in the calling thread and appended to a queue that one
writer thread empties every ``FLUSH_INTERVAL`` (at once for warnings and worse): each file
gets one write per batch, and after logrotate moved a file the next batch goes to a new
one. Busy request threads thus never wake the writer per line, and nothing queued is lost
when the logs are closed.
"""

from __future__ import annotations

import copy
import logging
import logging.handlers
import threading
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from switchgeard.config.model import LoggingConfig
from switchgeard.errors import ConfigError
from switchgeard.telemetry.redact import Redactor

SERVICE_LOGGERS: Mapping[str, str] = {
    "lnurl": "switchgeard.lnurl",
    "admin": "switchgeard.admin",
    "balancer": "switchgeard.balancer",
    "ldap": "switchgeard.ldap",
    "bolt12": "switchgeard.bolt12",
}
SYSTEM_LOGGER = "switchgeard"
ACTIVITY_SERVICES = frozenset({"lnurl"})
"""Services whose lines are wallet behaviour: never written to stderr."""

_LINE = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FLUSH_INTERVAL = 0.05
"""Seconds a queued INFO/DEBUG line may wait before the writer thread writes it."""


class _LineFormatter(logging.Formatter):
    """Access lines (loggers named ``*.access``) are written as they are, others prefixed."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name.endswith(".access") and not record.exc_info:
            return record.getMessage()
        return super().format(record)


class _BatchQueue:
    """Records from any thread for the writer thread; ``put`` is one append, and wakes the
    writer only for warnings and worse."""

    def __init__(self) -> None:
        self.records: deque[logging.LogRecord] = deque()
        self.wake = threading.Event()

    def put_nowait(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        if record.levelno >= logging.WARNING:
            self.wake.set()

    def take(self) -> list[logging.LogRecord]:
        taken: list[logging.LogRecord] = []
        while self.records:
            taken.append(self.records.popleft())
        return taken


class _BatchedFileHandler(logging.handlers.WatchedFileHandler):
    """Collects formatted lines; ``write_batch`` writes them with one stat, write and flush."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, encoding="utf-8")
        self.pending: list[str] = []
        self.last: logging.LogRecord | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.pending.append(self.format(record) + self.terminator)
        self.last = record

    def write_batch(self) -> None:
        if not self.pending:
            return
        text, self.pending = "".join(self.pending), []
        with self.lock:  # type: ignore[union-attr]  # created by Handler.__init__
            try:
                self.reopenIfNeeded()
                if self.stream is None:  # reopenIfNeeded failed to open the new file
                    self.stream = self._open()
                self.stream.write(text)
                self.stream.flush()
            except OSError:
                if self.last is not None:
                    self.handleError(self.last)


class _Writer:
    """The writer thread: hands batches of records to the router until stopped."""

    def __init__(self, q: _BatchQueue, router: _Router) -> None:
        self.q = q
        self.router = router
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name="switchgeard-logs", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Write everything queued so far, then end the thread."""
        self.stopping = True
        self.q.wake.set()
        self.thread.join()

    def _run(self) -> None:
        while True:
            self.q.wake.wait(FLUSH_INTERVAL)
            self.q.wake.clear()
            stopping = self.stopping
            self.router.write(self.q.take())
            if stopping:
                return


class _ServiceQueueHandler(logging.Handler):
    """Formats and redacts in the calling thread and queues the finished line."""

    def __init__(self, q: _BatchQueue, service: str, r: Redactor) -> None:
        super().__init__()
        self.q = q
        self.service = service
        self.redactor = r
        self.setFormatter(_LineFormatter(_LINE))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.q.put_nowait(self.prepare(record))
        except Exception:  # logging's contract: report through handleError, never raise
            self.handleError(record)

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        """A copy holding only the redacted line: no arguments or traceback objects cross
        to the writer thread."""
        prepared = copy.copy(record)
        prepared.msg = prepared.message = self.redactor.redact(self.format(record))
        prepared.args = None
        prepared.exc_info = prepared.exc_text = prepared.stack_info = None
        prepared.switchgeard_service = self.service
        return prepared


class _Router(logging.Handler):
    """Runs in the listener thread: hands each record to its service's handlers."""

    def __init__(self, routes: Mapping[str, Sequence[logging.Handler]]) -> None:
        super().__init__()
        self.routes = routes

    def emit(self, record: logging.LogRecord) -> None:
        for handler in self.routes.get(getattr(record, "switchgeard_service", ""), ()):
            handler.handle(record)

    def write(self, records: list[logging.LogRecord]) -> None:
        """Route a batch, then write each file's share of it at once."""
        for record in records:
            self.emit(record)
        for handlers in self.routes.values():
            for handler in handlers:
                if isinstance(handler, _BatchedFileHandler):
                    handler.write_batch()


class _Escalate(logging.Handler):
    """On a service logger: hands ERROR and worse on to the system logger (file, stderr)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger(SYSTEM_LOGGER).handle(record)


@dataclass(frozen=True, slots=True)
class ServiceLogs:
    """The open log setup: files by service name, and the redactor to register secrets with."""

    files: Mapping[str, Path]
    redactor: Redactor
    services: tuple[str, ...] = ()

    def set_level(self, level: str) -> None:
        """Apply ``[logging] level`` ("debug" ... "error") to the system and service loggers."""
        value = getattr(logging, level.upper())
        for name in (*self.services, "system"):
            logging.getLogger(SERVICE_LOGGERS.get(name, SYSTEM_LOGGER)).setLevel(value)


def _file_handler(path: Path) -> logging.Handler:
    try:
        handler = _BatchedFileHandler(path)
    except OSError as exc:
        raise ConfigError(f"cannot open log file {path}: {exc}", key="logging.dir") from exc
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler


def _routes(
    cfg: LoggingConfig, services: Sequence[str], stderr: TextIO | None
) -> dict[str, list[logging.Handler]]:
    routes: dict[str, list[logging.Handler]] = {}
    if cfg.dir is not None:
        for name in (*services, "system"):
            routes[name] = [_file_handler(cfg.dir / f"{name}.log")]
    if stderr is not None:
        stream = logging.StreamHandler(stderr)
        stream.setFormatter(logging.Formatter("%(message)s"))
        routes.setdefault("system", []).append(stream)
    return routes


@contextmanager
def open_service_logs(
    cfg: LoggingConfig,
    *,
    services: Sequence[str] = ("lnurl", "admin", "balancer", "ldap", "bolt12"),
    stderr: TextIO | None = None,
    redactor: Redactor | None = None,
) -> Iterator[ServiceLogs]:
    """Route switchgeard's loggers to per-service files (with ``cfg.dir``) and the system
    log to ``stderr`` (when given). On exit every queued line is written and files closed.

    Raises ConfigError (``logging.dir``) when a file cannot be opened.
    """
    unknown = [name for name in services if name not in SERVICE_LOGGERS]
    if unknown:
        raise ValueError(f"unknown log services: {unknown}")
    redactor = redactor or Redactor()
    routes = _routes(cfg, services, stderr)
    q = _BatchQueue()
    listener = _Writer(q, _Router(routes))
    attached = _attach(cfg, services, q, redactor, routes)
    listener.start()
    try:
        files = {name: cfg.dir / f"{name}.log" for name in routes} if cfg.dir else {}
        yield ServiceLogs(files=files, redactor=redactor, services=tuple(services))
    finally:
        _detach(attached)
        listener.stop()
        for handlers in routes.values():
            for handler in handlers:
                handler.close()


_Attached = list[tuple[logging.Logger, logging.Handler, bool, int]]


def _attach(
    cfg: LoggingConfig,
    services: Sequence[str],
    q: _BatchQueue,
    redactor: Redactor,
    routes: Mapping[str, object],
) -> _Attached:
    level = getattr(logging, cfg.level.upper())
    attached: _Attached = []
    for name in (*services, "system"):
        logger = logging.getLogger(SERVICE_LOGGERS.get(name, SYSTEM_LOGGER))
        handler: logging.Handler = _ServiceQueueHandler(q, name, redactor)
        if name not in routes:
            handler = logging.NullHandler()
        attached.append((logger, handler, logger.propagate, logger.level))
        logger.addHandler(handler)
        logger.setLevel(level)
        if name != "system" and (name in routes or name in ACTIVITY_SERVICES):
            logger.propagate = False
            escalate = _Escalate()
            attached.append((logger, escalate, False, level))
            logger.addHandler(escalate)
    return attached


def _detach(attached: _Attached) -> None:
    for logger, handler, propagate, level in reversed(attached):
        logger.removeHandler(handler)
        logger.propagate = propagate
        logger.setLevel(level)
