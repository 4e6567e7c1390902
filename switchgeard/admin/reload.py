"""The config watcher as the admin API's ``Reloader``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from switchgeard.admin.ports import ReloadView
from switchgeard.config.watch import ReloadResult, WatcherStatistics


class Watcher(Protocol):
    """What the adapter calls on ``switchgeard.config.watch.ConfigWatcher``."""

    async def reload(self) -> ReloadResult: ...
    def statistics(self) -> WatcherStatistics: ...


Spawn = Callable[[Callable[[], Awaitable[Any]]], None]


class WatcherReloader:
    """Reloads through ``watcher``; ``spawn`` (a nursery's ``start_soon``) runs unawaited ones.

    The watcher's results carry no time, so a reload started elsewhere (file change, SIGHUP)
    is stamped when this adapter first sees it.
    """

    def __init__(self, watcher: Watcher, spawn: Spawn) -> None:
        self._watcher = watcher
        self._spawn = spawn
        self._seen: ReloadResult | None = None
        self._view: ReloadView | None = None

    async def reload(self, *, wait: bool) -> ReloadView | None:
        if not wait:
            self._spawn(self._watcher.reload)
            return None
        return self._remember(await self._watcher.reload())

    def last_reload(self) -> ReloadView | None:
        last = self._watcher.statistics().last_result
        return None if last is None else self._remember(last)

    def _remember(self, result: ReloadResult) -> ReloadView:
        if result is not self._seen or self._view is None:
            self._seen = result
            error = None if result.error is None else str(result.error)
            changed = result.changed + tuple(f"{k} (restart)" for k in result.needs_restart)
            self._view = ReloadView(
                at=datetime.now(UTC), ok=result.ok, error=error, changed=changed
            )
        return self._view
