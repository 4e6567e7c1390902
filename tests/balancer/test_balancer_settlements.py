"""Settlement watching loses nothing: the cursor is saved after the ledger, resumed after
reconnects and restarts, gaps the node cannot replay are reconciled, and every settlement
is counted once."""

from __future__ import annotations

import logging

import pytest
import trio
from balancer_fakes import FakeFleet, FakeLedger, Harness, backend, node_key, running
from trio.testing import MockClock

from switchgeard.balancer import settlements
from switchgeard.balancer.settlements import (
    CURSOR_SAVE_INTERVAL,
    WATCH_RESTART_INITIAL,
    cursor_name,
)
from switchgeard.errors import BackendUnavailable
from switchgeard.units import PaymentHash

K1 = node_key(1)
CURSOR = cursor_name(K1)


async def issue(harness: Harness, count: int) -> list[PaymentHash]:
    return [(await harness.issue()).invoice.payment_hash for _ in range(count)]


def settled(ledger: FakeLedger, hashes: list[PaymentHash]) -> list[bool]:
    return [ledger.get(payment_hash).settled_at is not None for payment_hash in hashes]


async def restart_watcher(harness: Harness) -> None:
    node = harness.node(1)
    node.watch_error = BackendUnavailable("stream reset", key=K1)
    node.wake()
    await trio.sleep(WATCH_RESTART_INITIAL + 0.5)


async def test_cursor_written_once_per_interval_after_the_ledger(autojump_clock: MockClock) -> None:
    async with running(backend(1)) as harness:
        hashes = await issue(harness, 10)
        for payment_hash in hashes:
            harness.node(1).settle(payment_hash)
        await trio.sleep(0.1)
        assert settled(harness.ledger, hashes) == [True] * 10
        assert CURSOR not in harness.ledger.sync_state  # not one write per settlement
        await trio.sleep(CURSOR_SAVE_INTERVAL)
        assert harness.ledger.sync_state[CURSOR] == "10"
        assert harness.ledger.cursor_writes == 1
        await trio.sleep(CURSOR_SAVE_INTERVAL * 3)
        assert harness.ledger.cursor_writes == 1  # nothing moved, nothing written


async def test_reconnected_watcher_resumes_behind_its_cursor(autojump_clock: MockClock) -> None:
    async with running(backend(1)) as harness:
        node = harness.node(1)
        node.replays_all = True  # CLN: from index 0 the whole history would come again
        (first,) = await issue(harness, 1)
        node.settle(first)
        await trio.sleep(0.1)
        await restart_watcher(harness)
        assert node.watched_after == [0, 1]
        assert harness.member(1).counters.settled == 1


async def test_restarted_daemon_resumes_behind_the_saved_cursor(autojump_clock: MockClock) -> None:
    ledger, fleet = FakeLedger(), FakeFleet()
    async with running(backend(1), ledger=ledger, fleet=fleet) as harness:
        first, missed = await issue(harness, 2)
        harness.node(1).settle(first)
        await trio.sleep(0.1)
    assert ledger.sync_state[CURSOR] == "1"  # saved on the way out, before the interval
    node = fleet.nodes[K1]
    node.settle(missed)  # while the daemon is stopped
    async with running(backend(1), ledger=ledger, fleet=fleet) as harness:
        await trio.sleep(0.1)
        assert node.watched_after == [0, 1]
        assert settled(ledger, [first, missed]) == [True, True]
        assert harness.member(1).counters.settled == 1
        await trio.sleep(CURSOR_SAVE_INTERVAL)
        assert ledger.sync_state[CURSOR] == "2"


async def test_settled_while_stopped_without_a_cursor_is_reconciled(
    autojump_clock: MockClock,
) -> None:
    ledger, fleet = FakeLedger(), FakeFleet()
    async with running(backend(1), ledger=ledger, fleet=fleet) as harness:
        (missed,) = await issue(harness, 1)
    assert CURSOR not in ledger.sync_state
    node = fleet.nodes[K1]
    node.settle(missed)  # LND from index 0 will not replay this
    async with running(backend(1), ledger=ledger, fleet=fleet) as harness:
        await trio.sleep(0.1)
        assert node.watched_after == [0, 0]
        assert settled(ledger, [missed]) == [True]
        assert harness.member(1).counters.settled == 1


async def test_gap_reported_by_the_stream_is_reconciled(autojump_clock: MockClock) -> None:
    async with running(backend(1)) as harness:
        node = harness.node(1)
        missed, later = await issue(harness, 2)
        node.settle_unseen(missed)
        await trio.sleep(0.1)
        assert settled(harness.ledger, [missed, later]) == [True, False]
        node.settle(later)
        await trio.sleep(0.1)
        assert settled(harness.ledger, [missed, later]) == [True, True]
        assert node.watched_after == [0]  # the stream was not restarted
        assert harness.member(1).counters.settled == 2


async def test_replay_and_reconciliation_count_each_settlement_once(
    autojump_clock: MockClock,
) -> None:
    async with running(backend(1)) as harness:
        node = harness.node(1)
        node.replays_all = True
        hashes = await issue(harness, 2)
        node.watch_error = BackendUnavailable("stream reset", key=K1)
        node.wake()
        await trio.sleep(0.1)  # the watcher waits to restart; meanwhile both settle
        for payment_hash in hashes:
            node.settle(payment_hash)
        await trio.sleep(WATCH_RESTART_INITIAL)
        assert node.watched_after == [0, 0]  # replayed by the stream, found by reconciling
        assert settled(harness.ledger, hashes) == [True, True]
        assert harness.member(1).counters.settled == 2
        assert harness.balancer.statistics()[0].invoices_settled == 2


async def test_cursor_write_failures_are_retried(
    autojump_clock: MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="switchgeard.balancer")
    async with running(backend(1)) as harness:
        harness.ledger.sync_unavailable = True
        (first,) = await issue(harness, 1)
        harness.node(1).settle(first)
        await trio.sleep(CURSOR_SAVE_INTERVAL * 3)
        assert settled(harness.ledger, [first]) == [True]
        harness.ledger.sync_unavailable = False
        await trio.sleep(CURSOR_SAVE_INTERVAL)
        assert harness.ledger.sync_state[CURSOR] == "1"
    failures = [r for r in caplog.records if "cannot save the settlement cursor" in r.message]
    levels = [r.levelno for r in failures]  # warned once, not at every attempt
    assert len(levels) >= 2 and levels[0] == logging.WARNING and set(levels[1:]) == {logging.INFO}


async def test_unreadable_cursor_starts_from_zero(
    autojump_clock: MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = FakeLedger()
    ledger.sync_state[CURSOR] = "seven"
    async with running(backend(1), ledger=ledger) as harness:
        await trio.sleep(0.1)
        assert harness.node(1).watched_after == [0]
    assert any("not a settle index" in r.message for r in caplog.records)


async def test_reconciliation_is_bounded(
    autojump_clock: MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settlements, "RECONCILE_LIMIT", 2)
    ledger, fleet = FakeLedger(), FakeFleet()
    async with running(backend(1), ledger=ledger, fleet=fleet) as harness:
        hashes = await issue(harness, 3)
    for payment_hash in hashes:
        fleet.nodes[K1].settle(payment_hash)
    async with running(backend(1), ledger=ledger, fleet=fleet):
        await trio.sleep(0.1)
        assert settled(ledger, hashes) == [False, True, True]  # the newest two
