"""``KeepAlive``: hypercorn's keep-alive rule, one watcher task per connection."""

from __future__ import annotations

import trio
import trio.testing

from switchgeard.daemon.keepalive import KeepAlive

TIMEOUT = 5.0


class Group:
    """What hypercorn's ``TaskGroup`` offers ``idle_task``: its nursery."""

    def __init__(self, nursery: trio.Nursery) -> None:
        self._nursery = nursery


class Connection:
    def __init__(self) -> None:
        self.terminated = trio.Event()
        self.closed_at: float | None = None
        self.timer = KeepAlive(TIMEOUT, self.terminated, self.close)

    async def close(self) -> None:
        await trio.lowlevel.checkpoint()  # hypercorn's close awaits; it runs shielded
        self.closed_at = trio.current_time()


async def idle(conn: Connection, nursery: trio.Nursery) -> None:
    await conn.timer.restart(Group(nursery), None)


async def test_idle_connection_closes_after_the_timeout(autojump_clock: trio.abc.Clock) -> None:
    conn = Connection()
    async with trio.open_nursery() as nursery:
        start = trio.current_time()
        await idle(conn, nursery)
    assert conn.closed_at == start + TIMEOUT


async def test_busy_connection_stays_open_and_the_timer_restarts(
    autojump_clock: trio.abc.Clock,
) -> None:
    conn = Connection()
    async with trio.open_nursery() as nursery:
        await idle(conn, nursery)
        await trio.sleep(4)
        await conn.timer.stop()  # a request, longer than the timeout
        await trio.sleep(3 * TIMEOUT)
        assert conn.closed_at is None
        again = trio.current_time()
        await idle(conn, nursery)
    assert conn.closed_at == again + TIMEOUT


async def test_terminating_closes_an_idle_connection_at_once(
    autojump_clock: trio.abc.Clock,
) -> None:
    conn = Connection()
    async with trio.open_nursery() as nursery:
        await idle(conn, nursery)
        await trio.sleep(1)
        conn.terminated.set()
        at = trio.current_time()
    assert conn.closed_at == at


async def test_terminating_while_busy_closes_when_the_request_ends(
    autojump_clock: trio.abc.Clock,
) -> None:
    conn = Connection()
    async with trio.open_nursery() as nursery:
        await idle(conn, nursery)
        await conn.timer.stop()
        conn.terminated.set()
        await trio.sleep(2 * TIMEOUT)
        assert conn.closed_at is None
        done = trio.current_time()
        await idle(conn, nursery)
    assert conn.closed_at == done


async def test_requests_start_no_tasks() -> None:
    conn = Connection()
    async with trio.open_nursery() as nursery:
        await idle(conn, nursery)
        await trio.testing.wait_all_tasks_blocked()
        assert len(nursery.child_tasks) == 1
        for _ in range(100):
            await conn.timer.stop()
            await idle(conn, nursery)
        await trio.testing.wait_all_tasks_blocked()
        assert len(nursery.child_tasks) == 1
        nursery.cancel_scope.cancel()
    assert conn.closed_at is None


async def test_finish_ends_the_watcher_of_a_busy_connection() -> None:
    conn = Connection()
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            await idle(conn, nursery)
            await conn.timer.stop()
            await trio.testing.wait_all_tasks_blocked()
            conn.timer.finish()  # the peer went away mid-request
    assert conn.closed_at is None


async def test_finish_ends_the_watcher_of_an_idle_connection() -> None:
    conn = Connection()
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            await idle(conn, nursery)
            await trio.testing.wait_all_tasks_blocked()
            conn.timer.finish()
            await idle(conn, nursery)  # nothing starts after the end
            assert len(nursery.child_tasks) <= 1
    assert conn.closed_at is None
