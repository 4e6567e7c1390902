"""A hung Redis (accepts, never answers) costs the requests at most one timeout each.

The store has one slot per pooled connection. When the calls holding the slots time out, the
requests queued behind them must fail open at once instead of each trying Redis and waiting
for its own timeout in turn (with 40 requests and 2 slots that would be 20 timeouts).
"""

from __future__ import annotations

import logging

import pytest
import trio

from switchgeard.ratelimit.policy import TableId
from switchgeard.ratelimit.rules import Rule
from switchgeard.ratelimit.stores import Check, RedisStore

TIMEOUT = 0.2
SLOTS = 2
REQUESTS = 40


async def serve_hung_redis(
    accepted: list[trio.SocketStream], *, task_status: trio.TaskStatus[int]
) -> None:
    """Accept connections on a loopback port and never answer; reports the port."""
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    task_status.started(listeners[0].socket.getsockname()[1])
    try:
        async with listeners[0]:
            while True:
                accepted.append(await listeners[0].accept())
    finally:
        for stream in accepted:
            stream.socket.close()


async def test_requests_queued_behind_a_hung_redis_fail_open_without_waiting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="switchgeard.ratelimit.stores")
    accepted: list[trio.SocketStream] = []
    table = TableId("offer", "per_client", Rule(interval=1.0, burst=3))
    replies: list[tuple[float, int]] = []
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await nursery.start(serve_hung_redis, accepted)
            store = RedisStore(f"redis://127.0.0.1:{port}/0", timeout=TIMEOUT, connections=SLOTS)
            started = trio.current_time()
            async with trio.open_nursery() as requests:
                for n in range(REQUESTS):
                    check = [Check(table, f"203.0.113.{n}")]
                    requests.start_soon(lambda c=check: _ask(store, c, replies))
            elapsed = trio.current_time() - started
            store.close()
            nursery.cancel_scope.cancel()
    assert replies == [(0.0, -1)] * REQUESTS  # all allowed
    assert store.fail_open == REQUESTS and not store.up
    assert len(accepted) <= SLOTS  # only the slot holders asked Redis
    assert elapsed < 5 * TIMEOUT, elapsed  # not REQUESTS / SLOTS timeouts
    assert [r.levelno for r in caplog.records] == [logging.WARNING]  # once per outage


async def _ask(store: RedisStore, checks: list[Check], replies: list[tuple[float, int]]) -> None:
    replies.append(await store.check(checks, cap=16))
