"""hypercorn's HTTP keep-alive timer with one task per connection, not one per request.

hypercorn's trio ``TCPServer`` keeps a ``TrioSingleTask`` as ``idle_task``: when a
connection goes idle it starts a task that waits ``keep_alive_timeout`` (or until the
server terminates) and then closes the connection; when a request arrives it cancels
that task. That is a task started, handed its cancel scope and cancelled for every
request, plus two lock round trips: about a sixth of the daemon's CPU for a first call.

``KeepAlive`` keeps the same rule, closing a connection once it is idle and either
``keep_alive_timeout`` has passed since it went idle or the server is terminating, with
one watcher task per connection whose cancel-scope deadline ``restart`` and ``stop``
move: no task, lock or context switch per request. The connection's reader calls
``finish`` when it stops reading (the peer left, or the connection was closed), which
ends the watcher: hypercorn waits for every task of a connection before it lets go.
It reimplements the ``action`` hypercorn 0.18 passes (``TCPServer._idle_timeout``)
rather than calling it; hypercorn is pinned in pyproject.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Protocol

import trio


class _Terminated(Protocol):
    def is_set(self) -> bool: ...

    async def wait(self) -> None: ...


class KeepAlive:
    """``TCPServer.idle_task`` for one connection: ``restart`` when it goes idle, ``stop``
    when a request starts; ``close`` runs (shielded) once it is idle too long, or idle
    while ``terminated`` is set."""

    def __init__(
        self, timeout: float, terminated: _Terminated, close: Callable[[], Awaitable[None]]
    ) -> None:
        self._timeout = timeout
        self._terminated = terminated
        self._close = close
        self._idle = False
        self._deadline = math.inf
        self._scope: trio.CancelScope | None = None
        self._watching = False
        self._finished = False

    async def restart(self, task_group: object, action: object) -> None:
        """The connection went idle: close it after the timeout (at once if terminating).

        ``action`` is hypercorn's own timeout task, which this replaces."""
        if self._finished:
            return
        self._idle = True
        now = trio.current_time()
        self._move(-math.inf if self._terminated.is_set() else now + self._timeout)
        if not self._watching:
            self._watching = True
            nursery: trio.Nursery = task_group._nursery  # type: ignore[attr-defined]
            nursery.start_soon(self._watch)

    async def stop(self) -> None:
        """A request started: no timeout while it runs."""
        if self._finished:
            return
        self._idle = False
        self._move(math.inf)

    def finish(self) -> None:
        """The connection is done: end the watcher without closing anything."""
        self._finished = True
        self._move(-math.inf)

    def _move(self, deadline: float) -> None:
        self._deadline = deadline
        if self._scope is not None:
            self._scope.deadline = deadline

    def _due(self) -> bool:
        return self._idle and (trio.current_time() >= self._deadline or self._terminated.is_set())

    async def _watch(self) -> None:
        while not (self._finished or self._due()):
            with trio.CancelScope(deadline=self._deadline) as self._scope:
                if self._terminated.is_set():
                    await trio.sleep_forever()  # until idle: restart moves the deadline
                else:
                    await self._terminated.wait()
            self._scope = None
        if self._finished:
            return
        with trio.CancelScope(shield=True):
            await self._close()
