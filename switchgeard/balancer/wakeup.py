"""A sleep that can be cut short: periodic loops wait on it, ``poke()`` wakes them all."""

from __future__ import annotations

import trio


class Wakeup:
    """Wakes every current waiter when poked (config change, on-demand probe or refresh)."""

    def __init__(self) -> None:
        self._event = trio.Event()

    def poke(self) -> None:
        self._event.set()
        self._event = trio.Event()

    async def wait(self, timeout: float) -> None:
        """Return after ``timeout`` seconds or at the next ``poke()``, whichever comes first."""
        with trio.move_on_after(timeout):
            await self._event.wait()
