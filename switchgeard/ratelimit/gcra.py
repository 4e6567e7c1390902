"""The in-process GCRA table: one theoretical arrival time (TAT) per key, LRU-bounded.

A request at ``now`` is allowed when ``max(TAT, now) - now <= tau``; admitting it moves the
TAT to ``max(TAT, now) + interval``. Keys whose TAT lies in the past are equivalent to absent
keys, so :meth:`GcraTable.sweep` drops them. Everything runs on the trio thread without an
``await`` between :meth:`wait` and :meth:`commit`, so no lock is needed.
"""

from __future__ import annotations

from collections import OrderedDict

from switchgeard.ratelimit.rules import Rule


class GcraTable:
    """GCRA state for one (endpoint class, scope, rule), holding at most ``cap`` keys."""

    __slots__ = ("_interval", "_tat", "_tau", "cap", "rule")

    def __init__(self, rule: Rule, *, cap: int) -> None:
        self.rule = rule
        self.cap = cap
        self._interval = rule.interval
        self._tau = rule.tau
        self._tat: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._tat)

    def wait(self, key: str, now: float) -> float:
        """Seconds ``key`` must wait before one more request is allowed (0.0: allowed now)."""
        tat = self._tat.get(key)
        if tat is None:
            return 0.0
        excess = tat - now - self._tau
        return excess if excess > 0.0 else 0.0

    def commit(self, key: str, now: float) -> None:
        """Admit one request for ``key``; evicts the least recently used key above the cap."""
        tats = self._tat
        tat = tats.get(key)
        if tat is None:  # a new key goes in last, as the most recently used
            tats[key] = now + self._interval
            if len(tats) > self.cap:
                self._evict()
        else:
            tats[key] = (tat if tat > now else now) + self._interval
            tats.move_to_end(key)

    def sweep(self, now: float) -> int:
        """Drop every key whose TAT has passed; returns how many were dropped."""
        expired = [key for key, tat in self._tat.items() if tat <= now]
        for key in expired:
            del self._tat[key]
        return len(expired)

    def resize(self, cap: int) -> None:
        """Change the cap, evicting least recently used keys if needed."""
        self.cap = cap
        self._evict()

    def _evict(self) -> None:
        while len(self._tat) > self.cap:
            self._tat.popitem(last=False)
