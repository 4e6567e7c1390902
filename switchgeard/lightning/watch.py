"""Retry pacing for the settlement watchers, which must outlive node restarts."""

from __future__ import annotations

import trio

RETRY_FIRST = 0.25
RETRY_MAX = 30.0


class Backoff:
    """Exponential wait between reconnect attempts: 0.25 s doubling up to 30 s."""

    def __init__(self, first: float = RETRY_FIRST, most: float = RETRY_MAX) -> None:
        self._first = first
        self._most = most
        self._next = first

    @property
    def delay(self) -> float:
        """What the next ``wait`` sleeps."""
        return self._next

    @property
    def fresh(self) -> bool:
        """Whether no wait happened since the start or the last ``reset``."""
        return self._next == self._first

    def reset(self) -> None:
        self._next = self._first

    async def wait(self) -> None:
        await trio.sleep(self._next)
        self._next = min(self._next * 2, self._most)
