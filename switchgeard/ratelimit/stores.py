"""Where GCRA state lives: in this process (default) or in Redis, shared by several instances.

A store answers one question atomically: given the tables and keys a request touches, how
long must it wait (0: allowed, and then every table was charged), and which check was the
tightest. Nothing is charged when any check refuses.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

import redis
import trio

from switchgeard.errors import ConfigError
from switchgeard.ratelimit.gcra import GcraTable
from switchgeard.ratelimit.policy import TableId

log = logging.getLogger(__name__)


class Check(NamedTuple):
    """One limit a request must pass: the table, and the key in it (client key or "*")."""

    table: TableId
    key: str


class Store(Protocol):
    name: str

    async def check(self, checks: Sequence[Check], *, cap: int) -> tuple[float, int]:
        """(seconds to wait, index of the tightest check); (0.0, -1) when allowed."""
        ...

    def retain(self, ids: frozenset[TableId], *, cap: int) -> None: ...

    def sweep(self) -> int: ...

    def tracked_keys(self) -> dict[str, int]: ...


class MemoryStore:
    """GCRA tables in this process, on a monotonic clock (``trio.current_time`` by default)."""

    name = "memory"

    def __init__(self, *, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock or _run_clock()
        self._tables: dict[TableId, GcraTable] = {}

    async def check(self, checks: Sequence[Check], *, cap: int) -> tuple[float, int]:
        tables = [self._table(tid, cap) for tid, _ in checks]
        return charge(tables, [key for _, key in checks], self._clock())

    def bind(self, per_client: TableId | None, total: Check | None, *, cap: int) -> BoundTables:
        """The tables of one endpoint class, for ``BoundTables.charge`` (valid until the next
        ``retain``: the limiter binds again after every reload)."""
        tables: list[tuple[GcraTable, str | None]] = []
        if per_client is not None:
            tables.append((self._table(per_client, cap), None))
        if total is not None:
            tables.append((self._table(total.table, cap), total.key))
        return BoundTables(tuple(tables), self._clock)

    def retain(self, ids: frozenset[TableId], *, cap: int) -> None:
        """Keep the state of tables still named by the policy (resized to ``cap``); drop others."""
        self._tables = {tid: table for tid, table in self._tables.items() if tid in ids}
        for tid, table in self._tables.items():
            table.resize(1 if tid.scope == "total" else cap)

    def sweep(self) -> int:
        now = self._clock()
        return sum(table.sweep(now) for table in self._tables.values())

    def tracked_keys(self) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for tid, table in self._tables.items():
            sizes[tid.endpoint] = sizes.get(tid.endpoint, 0) + len(table)
        return sizes

    def _table(self, tid: TableId, cap: int) -> GcraTable:
        table = self._tables.get(tid)
        if table is None:
            table = self._tables[tid] = GcraTable(tid.rule, cap=1 if tid.scope == "total" else cap)
        return table


def _run_clock() -> Callable[[], float]:
    """The running trio clock's own ``current_time`` (what ``trio.current_time`` calls,
    without its two wrappers: every public request reads it); outside a run, the wrapper."""
    try:
        return trio.lowlevel.current_clock().current_time
    except RuntimeError:
        return trio.current_time


class BoundTables:
    """An endpoint class's in-process tables, found once per policy: a request charges them
    without looking anything up (the check every public request makes)."""

    __slots__ = ("_clock", "_keys", "_tables", "scopes")

    def __init__(
        self, tables: tuple[tuple[GcraTable, str | None], ...], clock: Callable[[], float]
    ) -> None:
        """``tables``: (table, fixed key) pairs; a None key means the client's own key."""
        self._tables = tuple(table for table, _ in tables)
        self._keys = tuple(key for _, key in tables)
        self._clock = clock
        self.scopes = tuple("per_client" if key is None else "total" for key in self._keys)
        """The scope of each table, by the index ``charge`` returns."""

    def charge(self, client_key: str) -> tuple[float, int]:
        """``charge`` on these tables, the per-client ones keyed by ``client_key``."""
        keys = [client_key if key is None else key for key in self._keys]
        return charge(self._tables, keys, self._clock())


def charge(tables: Sequence[GcraTable], keys: Sequence[str], now: float) -> tuple[float, int]:
    """Wait on every table first, commit only if all allow: (seconds to wait, index of the
    tightest table), or (0.0, -1) when allowed and then every table was charged."""
    worst, worst_index = 0.0, -1
    for index, table in enumerate(tables):
        wait = table.wait(keys[index], now)
        if wait > worst:
            worst, worst_index = wait, index
    if worst_index < 0:
        for index, table in enumerate(tables):
            table.commit(keys[index], now)
    return worst, worst_index


# KEYS: one per check. ARGV: interval and tau in microseconds for each key, in key order.
# Redis' own clock is used, so every instance sharing the state agrees on "now".
_GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local worst, worst_index, tats = 0, -1, {}
for i, key in ipairs(KEYS) do
  local stored = redis.call('GET', key)
  local tat = now
  if stored then tat = math.max(tonumber(stored), now) end
  tats[i] = tat
  local excess = tat - now - tonumber(ARGV[2 * i])
  if excess > worst then worst, worst_index = excess, i - 1 end
end
if worst_index >= 0 then return {string.format('%.0f', worst), worst_index} end
for i, key in ipairs(KEYS) do
  local new = tats[i] + tonumber(ARGV[2 * i - 1])
  redis.call('SET', key, string.format('%.0f', new), 'PX', math.ceil((new - now) / 1000) + 1)
end
return {'0', -1}
"""


class RedisStore:
    """GCRA state in Redis: one EVALSHA per check, run in a worker thread.

    When Redis cannot be reached the store fails open: the request is allowed, the failure
    is logged once per outage and counted in ``fail_open``, and Redis is not asked again for
    ``retry_interval`` seconds so a dead server does not add its timeout to every request.
    At most ``connections`` calls wait for Redis at once; when a hung server makes them time
    out, the requests queued behind them fail open at once instead of each timing out in turn.
    """

    name = "redis"

    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        prefix: str = "switchgeard:ratelimit",
        retry_interval: float = 1.0,
        connections: int = 16,
    ) -> None:
        if not url:
            raise ConfigError("required when backend is redis", key="ratelimit.redis_url")
        try:
            self._client = redis.Redis.from_url(
                url,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                max_connections=connections,
            )
        except ValueError as exc:
            raise ConfigError(f"not a Redis URL: {exc}", key="ratelimit.redis_url") from exc
        self._script = self._client.register_script(_GCRA_LUA)
        # One slot per pooled connection; the thread limiter never blocks a slot holder.
        self._slots = trio.CapacityLimiter(connections)
        self._threads = trio.CapacityLimiter(connections)
        self._prefix = prefix
        self._retry_interval = retry_interval
        self._down_until = -math.inf
        self.up = True
        self.fail_open = 0

    async def check(self, checks: Sequence[Check], *, cap: int) -> tuple[float, int]:
        if self._resting():
            return 0.0, -1
        keys = [self._key(check) for check in checks]
        args: list[int] = []
        for check in checks:
            args += [round(check.table.rule.interval * 1e6), round(check.table.rule.tau * 1e6)]
        async with self._slots:
            # Asked again after the wait for a slot: when Redis hangs, the requests queued
            # behind the ones timing out must not each wait for their own timeout in turn.
            if self._resting():
                return 0.0, -1
            try:
                reply = await trio.to_thread.run_sync(self._eval, keys, args, limiter=self._threads)
            except (redis.RedisError, OSError) as exc:
                self._failed(exc)
                return 0.0, -1
        if not self.up:
            log.warning("rate limiter: Redis is reachable again; limits are enforced")
            self.up = True
        return int(reply[0]) / 1e6, int(reply[1])

    def _resting(self) -> bool:
        """Whether Redis failed less than ``retry_interval`` ago (a fail-open, counted)."""
        if trio.current_time() < self._down_until:
            self.fail_open += 1
            return True
        return False

    def _eval(self, keys: list[str], args: list[int]) -> list[bytes | int]:
        reply = self._script(keys=keys, args=args)
        return list(reply)

    def _failed(self, exc: Exception) -> None:
        self.fail_open += 1
        self._down_until = trio.current_time() + self._retry_interval
        if self.up:
            log.warning("rate limiter: Redis unreachable, failing open (no limits): %s", exc)
            self.up = False

    def _key(self, check: Check) -> str:
        tid = check.table
        return f"{self._prefix}:{tid.endpoint}:{tid.scope}:{tid.rule.tag}:{check.key}"

    def retain(self, ids: frozenset[TableId], *, cap: int) -> None:
        """Nothing to do: keys carry their rule's tag and expire by themselves in Redis."""

    def sweep(self) -> int:
        return 0

    def tracked_keys(self) -> dict[str, int]:
        return {}

    def close(self) -> None:
        self._client.close()
