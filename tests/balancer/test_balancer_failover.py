"""Failover over in-process fake nodes, in virtual time: every fault mode, exhaustion,
rejection, and recovery after the fault clears."""

from __future__ import annotations

import pytest
import trio
from balancer_fakes import Harness, backend, running
from trio.testing import MockClock

from switchgeard.balancer import HealthState
from switchgeard.errors import BackendRejected, NoHealthyBackend

FAILING_MODES = ("down", "hang", "protocol", "auth")


async def issue_many(harness: Harness, count: int) -> dict[str, int]:
    used: dict[str, int] = {}
    for _ in range(count):
        issued = await harness.issue()
        used[issued.backend_key] = used.get(issued.backend_key, 0) + 1
        assert issued.invoice.payment_hash in harness.ledger.entries
    return used


@pytest.mark.parametrize("mode", FAILING_MODES)
async def test_failover_for_every_fault_mode(mode: str, autojump_clock: MockClock) -> None:
    async with running(backend(1), backend(2)) as harness:
        harness.node(1).fault = mode
        with trio.fail_after(60):
            used = await issue_many(harness, 200)
        assert used == {harness.node(2).key: 200}
        faulty = harness.member(1)
        assert faulty.health.state is HealthState.UNHEALTHY
        # Marked unhealthy within its threshold of failed invoice attempts.
        assert faulty.counters.failed <= harness.balancer.config.health.unhealthy_after
        assert harness.balancer.counters.failovers[faulty.key] == faulty.counters.failed

        harness.node(1).fault = None
        health = harness.balancer.config.health
        await trio.sleep(health.max_ejection + health.interval + health.timeout)
        assert faulty.health.healthy
        used = await issue_many(harness, 10)
        assert used == {harness.node(1).key: 5, harness.node(2).key: 5}


async def test_hung_node_costs_at_most_invoice_timeout(autojump_clock: MockClock) -> None:
    async with running(backend(1, weight=2), backend(2)) as harness:
        harness.node(1).fault = "hang"
        started = trio.current_time()
        issued = await harness.issue()
        elapsed = trio.current_time() - started
        assert issued.backend_key == harness.node(2).key
        assert elapsed <= harness.balancer.config.invoice_timeout + 0.01
        assert harness.balancer.counters.invoice_errors[(harness.node(1).key, "timeout")] == 1


@pytest.mark.parametrize("mode", ["down", "hang"])
async def test_all_down_gives_no_healthy_backend_in_bounded_time(
    mode: str, autojump_clock: MockClock
) -> None:
    async with running(backend(1), backend(2)) as harness:
        cfg = harness.balancer.config
        for index in (1, 2):
            harness.node(index).fault = mode
        started = trio.current_time()
        with pytest.raises(NoHealthyBackend, match="partition 'default'"):
            await harness.issue()
        assert trio.current_time() - started <= cfg.retry.max_elapsed + cfg.invoice_timeout
        assert harness.balancer.counters.no_backend == 1
        assert not harness.balancer.selectable("default")


async def test_no_backends_at_all(autojump_clock: MockClock) -> None:
    async with running() as harness:
        with pytest.raises(NoHealthyBackend):
            await harness.issue()


async def test_rejected_is_not_retried(autojump_clock: MockClock) -> None:
    async with running(backend(1), backend(2)) as harness:
        for index in (1, 2):
            harness.node(index).fault = "reject"
        with pytest.raises(BackendRejected, match="amount too large"):
            await harness.issue()
        assert harness.node(1).create_calls + harness.node(2).create_calls == 1
        assert harness.member(1).health.healthy and harness.member(2).health.healthy
        assert not harness.ledger.entries


async def test_a_node_registered_during_backoff_serves_the_request(
    autojump_clock: MockClock,
) -> None:
    async with running(backend(1)) as harness:
        harness.node(1).fault = "down"
        async with trio.open_nursery() as nursery:

            async def add_node() -> None:
                await trio.sleep(0.2)
                harness.fleet.add(backend(2).public_key)
                harness.source.put(backend(2))

            nursery.start_soon(add_node)
            issued = await harness.issue()
        assert issued.backend_key == harness.node(2).key
