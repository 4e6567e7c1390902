"""Process lifecycle: signals, graceful shutdown, systemd notifications and watchdog.

* SIGTERM / SIGINT: stop accepting at once, let requests in flight finish for up to
  ``[daemon] shutdown_grace``, then exit 0. A second signal cancels everything at once.
* SIGHUP: reload the config (``reload_with_notify``).
* sd_notify without dependencies: an AF_UNIX datagram to ``$NOTIFY_SOCKET`` (a path, or an
  abstract name written with a leading "@"). READY=1 once every listener is bound,
  RELOADING=1 + MONOTONIC_USEC around a reload, STOPPING=1, and WATCHDOG=1 every
  WATCHDOG_USEC/2 from a trio task, so it stops when the event loop stops responding.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Mapping

import trio

from switchgeard.config.watch import ConfigWatcher, ReloadResult

logger = logging.getLogger("switchgeard.daemon")


class SystemdNotifier:
    """Sends sd_notify messages; does nothing when the process was not started by systemd."""

    def __init__(self, address: str | None) -> None:
        self._address = address
        self._stopping_sent = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> SystemdNotifier:
        """Read ``$NOTIFY_SOCKET``; a "vsock:" address (unsupported) disables notifications."""
        environ = os.environ if environ is None else environ
        value = environ.get("NOTIFY_SOCKET", "")
        if value.startswith("@"):
            return cls("\0" + value[1:])
        return cls(value if value.startswith("/") else None)

    @property
    def enabled(self) -> bool:
        """True when notifications go somewhere."""
        return self._address is not None

    def notify(self, *fields: str) -> bool:
        """Send ``fields`` ("READY=1", "STATUS=...") as one datagram; False if not sent."""
        if self._address is None:
            return False
        message = "\n".join(fields).encode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.setblocking(False)
            try:
                sock.sendto(message, self._address)
            except OSError as exc:
                logger.warning("sd_notify to %r failed: %s", self._address, exc)
                return False
        return True

    def ready(self, status: str) -> None:
        """READY=1 with a STATUS line."""
        self.notify("READY=1", f"STATUS={status}")

    def reloading(self) -> None:
        """RELOADING=1 with the CLOCK_MONOTONIC timestamp systemd matches the reload by."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.notify("RELOADING=1", f"MONOTONIC_USEC={usec}", "STATUS=reloading the config")

    def stopping(self) -> None:
        """STOPPING=1, once (a signal sends it first; every other way out sends it at exit)."""
        if self._stopping_sent:
            return
        self._stopping_sent = True
        self.notify("STOPPING=1", "STATUS=stopping: finishing requests in flight")


def watchdog_interval(environ: Mapping[str, str], pid: int) -> float | None:
    """Seconds between WATCHDOG=1 pings (half of WATCHDOG_USEC), or None when not asked."""
    usec = environ.get("WATCHDOG_USEC", "")
    owner = environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if owner and owner != str(pid):
        return None
    return int(usec) / 2_000_000


async def run_watchdog(
    notifier: SystemdNotifier,
    environ: Mapping[str, str] | None = None,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Send WATCHDOG=1 every WATCHDOG_USEC/2 until cancelled; return at once if not asked."""
    interval = watchdog_interval(os.environ if environ is None else environ, os.getpid())
    task_status.started()
    if interval is None or not notifier.enabled:
        return
    while True:
        notifier.notify("WATCHDOG=1")
        await trio.sleep(interval)


async def reload_with_notify(watcher: ConfigWatcher, notifier: SystemdNotifier) -> ReloadResult:
    """Reload the config, bracketed by RELOADING=1 and READY=1 (with the outcome as STATUS)."""
    notifier.reloading()
    result = await watcher.reload()
    if result.error is not None:
        status = f"reload failed: {result.error}"
    elif result.needs_restart:
        status = f"reloaded; needs a restart for {', '.join(result.needs_restart)}"
    else:
        status = "reloaded"
    notifier.ready(status)
    return result


class Shutdown:
    """The daemon's stop switch: graceful on the first request, immediate on the second.

    ``drain_scope`` wraps the HTTP servers: when a stop is requested its deadline becomes
    now + ``grace()``, bounding the drain; ``root_scope`` is cancelled on a forced stop.
    """

    def __init__(
        self, root_scope: trio.CancelScope, notifier: SystemdNotifier, grace: Callable[[], float]
    ) -> None:
        self._root_scope = root_scope
        self._notifier = notifier
        self._grace = grace
        self._requested = trio.Event()
        self.drain_scope = trio.CancelScope()
        self.forced = False

    @property
    def requested(self) -> bool:
        """True once a stop was asked for."""
        return self._requested.is_set()

    async def wait(self) -> None:
        """Return when a stop is requested (the HTTP servers' shutdown trigger)."""
        await self._requested.wait()

    def request(self, reason: str) -> None:
        """Stop accepting and drain for the configured grace period; force on a repeat."""
        if self._requested.is_set():
            self.force(reason)
            return
        grace = self._grace()
        logger.info("%s: stopping, requests in flight get up to %g s", reason, grace)
        self._notifier.stopping()
        self.drain_scope.deadline = trio.current_time() + grace
        self._requested.set()

    def force(self, reason: str) -> None:
        """Cancel everything now; requests in flight are cut off."""
        logger.warning("%s again: stopping immediately", reason)
        self.forced = True
        self._root_scope.cancel()


async def run_signal_handler(
    shutdown: Shutdown,
    watcher: ConfigWatcher,
    notifier: SystemdNotifier,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Turn SIGTERM/SIGINT into ``shutdown.request`` and SIGHUP into a reload, until cancelled."""
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
        task_status.started()
        async for signum in signals:
            name = signal.Signals(signum).name
            if signum == signal.SIGHUP:
                logger.info("SIGHUP: reloading %s", watcher.path)
                await reload_with_notify(watcher, notifier)
            else:
                shutdown.request(name)
