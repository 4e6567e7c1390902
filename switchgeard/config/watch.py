"""Live reload: watch the config file and publish each section through ``trio_util.AsyncValue``.

``ConfigWatcher`` holds the running (effective) config: ``watcher.config`` for the whole
``Config`` and ``watcher.section(name)`` for one section. A component follows its section::

    async for cfg in watcher.section("balancer").eventual_values():
        async with trio_util.move_on_when(watcher.section("balancer").wait_transition):
            await run_with(cfg)

A reload happens when ``run_config_watcher`` sees the file change (stat poll every second,
then a sha256 of the content), on SIGHUP (the daemon calls ``reload()``) and on the admin
API's POST /reload. An invalid file is rejected: the running config stays, the error is
logged with its key path and counted. Keys marked ``restart`` in the model (``store``,
``admin.socket*``, ``lnurl.listen``, ``lnurl.tls_*``, ``lnurl.socket_*``, ``lightning``,
``telemetry``, ``logging.dir``, ``ratelimit.backend``/``redis_*``, ``ldap``) keep their
running value; a change to them is logged and reported as "needs restart" until the
process restarts. Every other key must reach its component live.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import trio
from trio_util import AsyncValue

from switchgeard.config.diff import changed_keys, keep_restart_values
from switchgeard.config.load import parse_config_bytes
from switchgeard.config.model import Config
from switchgeard.config.secrets import check_secret_files
from switchgeard.errors import ConfigError

logger = logging.getLogger("switchgeard.config")

POLL_INTERVAL = 1.0
"""Seconds between two stat() calls on the config file."""

_StatKey = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReloadResult:
    """The outcome of one reload.

    ``changed`` names the sections whose new values were published, ``needs_restart`` the
    keys whose new values wait for a restart, ``error`` why the file was rejected (then
    nothing was published).
    """

    changed: tuple[str, ...] = ()
    needs_restart: tuple[str, ...] = ()
    error: ConfigError | None = None

    @property
    def ok(self) -> bool:
        """True unless the new file was rejected."""
        return self.error is None


@dataclass(frozen=True, slots=True, kw_only=True)
class WatcherStatistics:
    """Counters of a ``ConfigWatcher``: accepted and rejected reloads, the last result."""

    reloads: int
    reload_failures: int
    last_result: ReloadResult | None
    needs_restart: tuple[str, ...]


class ConfigWatcher:
    """The running config, published as one AsyncValue for the whole and one per section.

    Watches ``path`` (default ``config.path``, the file ``config`` was loaded from).
    """

    def __init__(self, config: Config, *, path: Path | None = None) -> None:
        self._path = config.path if path is None else path
        self.config: AsyncValue[Config] = AsyncValue(config)
        self._sections: dict[str, AsyncValue[Any]] = {
            fld.name: AsyncValue(getattr(config, fld.name))
            for fld in fields(config)
            if fld.name != "path"
        }
        self._lock = trio.Lock()
        self._seen_stat: _StatKey | None = None
        self._seen_digest: bytes | None = None
        self._reloads = 0
        self._failures = 0
        self._last: ReloadResult | None = None
        self._needs_restart: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        """The watched config file."""
        return self._path

    @property
    def current(self) -> Config:
        """The config in force now."""
        value: Config = self.config.value
        return value

    def section(self, name: str) -> AsyncValue[Any]:
        """The AsyncValue of section ``name`` (e.g. "balancer"); KeyError if there is none."""
        return self._sections[name]

    def statistics(self) -> WatcherStatistics:
        """Reload counters and the last result (for /status and metrics)."""
        return WatcherStatistics(
            reloads=self._reloads,
            reload_failures=self._failures,
            last_result=self._last,
            needs_restart=self._needs_restart,
        )

    async def reload(self) -> ReloadResult:
        """Read, validate and apply the file now, whether or not it changed."""
        async with self._lock:
            result = await self._reload_locked(force=True)
        assert result is not None  # a forced reload always has an outcome
        return result

    async def reload_if_changed(self) -> ReloadResult | None:
        """Reload if the file's stat or content changed since last seen; else return None."""
        try:
            key = _stat_key(self._path)
        except OSError:
            key = None
        if key is not None and key == self._seen_stat:
            return None
        async with self._lock:
            return await self._reload_locked(force=False)

    async def _reload_locked(self, *, force: bool) -> ReloadResult | None:
        try:
            key, data = await trio.to_thread.run_sync(_read, self._path)
        except OSError as exc:
            if not force and self._seen_stat == _MISSING:
                return None
            self._seen_stat = _MISSING
            error = ConfigError(f"cannot read the config file: {exc.strerror}", file=self._path)
            return self._reject(error)
        digest = hashlib.sha256(data).digest()
        first = self._seen_digest is None
        unchanged = digest == self._seen_digest
        self._seen_stat, self._seen_digest = key, digest
        if unchanged and not force:
            return None
        try:
            new = parse_config_bytes(data, path=self._path)
            await trio.to_thread.run_sync(check_secret_files, new)
        except ConfigError as error:
            return self._reject(error)
        if first and not force and new == self.current:
            return None  # the baseline: the file still says what we started with
        return self._apply(new)

    def _reject(self, error: ConfigError) -> ReloadResult:
        self._failures += 1
        logger.error("config reload rejected, the running config stays in force: %s", error)
        result = ReloadResult(error=error, needs_restart=self._needs_restart)
        self._last = result
        return result

    def _apply(self, new: Config) -> ReloadResult:
        running = self.current
        effective = keep_restart_values(new, running)
        pending = tuple(changed_keys(effective, new))
        changed = tuple(
            name
            for name, value in self._sections.items()
            if getattr(effective, name) != value.value
        )
        self.config.value = effective
        for name in changed:
            self._sections[name].value = getattr(effective, name)
        self._reloads += 1
        self._needs_restart = pending
        result = ReloadResult(changed=changed, needs_restart=pending)
        self._last = result
        _log_result(result)
        return result


def _log_result(result: ReloadResult) -> None:
    if result.changed:
        logger.info("config reloaded; applied live: %s", ", ".join(result.changed))
    else:
        logger.info("config reloaded; no change takes effect live")
    if result.needs_restart:
        logger.warning(
            "config keys changed that take effect only after a restart: %s",
            ", ".join(result.needs_restart),
        )


_MISSING: _StatKey = (-1, -1, -1, -1)


def _stat_key(path: Path) -> _StatKey:
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def _read(path: Path) -> tuple[_StatKey, bytes]:
    # stat first: a write racing with us changes the key again and is seen at the next poll.
    key = _stat_key(path)
    return key, path.read_bytes()


async def run_config_watcher(
    watcher: ConfigWatcher,
    *,
    interval: float = POLL_INTERVAL,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Poll the watcher's file every ``interval`` seconds and reload it when it changed.

    Runs until cancelled. The first poll establishes the baseline: it publishes only what
    differs from the config the watcher was created with.
    """
    await watcher.reload_if_changed()
    task_status.started()
    while True:
        await trio.sleep(interval)
        await watcher.reload_if_changed()
