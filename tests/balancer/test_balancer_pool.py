"""Live changes of the backend set, connections, probes, the ledger and statistics."""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter

import pytest
import trio
from balancer_fakes import Harness, backend, make_config, node_key, running
from trio.testing import MockClock

from switchgeard.balancer import HealthState
from switchgeard.config.model import BalancerConfig, Seconds
from switchgeard.errors import BackendAuthError, BackendUnavailable, NoHealthyBackend
from switchgeard.units import PaymentHash

K1, K2 = node_key(1), node_key(2)


async def split(harness: Harness, count: int, partition: str = "default") -> Counter[str]:
    used: Counter[str] = Counter()
    for _ in range(count):
        used[(await harness.issue(partition=partition)).backend_key] += 1
    return used


async def test_partition_change_takes_effect(autojump_clock: MockClock) -> None:
    async with running(backend(1), backend(2)) as harness:
        harness.source.put(backend(2, partitions=frozenset({"other"})))
        await harness.settle_refresh()
        assert set(await split(harness, 10)) == {K1}
        assert set(await split(harness, 4, partition="other")) == {K2}
        assert len(harness.fleet.opened) == 2 and not harness.fleet.closed  # no reconnect
        assert harness.member(2).health.healthy


async def test_weight_and_enabled_changes_take_effect(autojump_clock: MockClock) -> None:
    async with running(backend(1), backend(2)) as harness:
        assert await split(harness, 20) == {K1: 10, K2: 10}
        harness.source.put(backend(2, weight=3))
        await harness.settle_refresh()
        assert await split(harness, 20) == {K1: 5, K2: 15}
        harness.source.put(backend(2, weight=3, enabled=False))
        await harness.settle_refresh()
        assert await split(harness, 10) == {K1: 10}


async def test_connection_change_reconnects_and_removal_closes(autojump_clock: MockClock) -> None:
    async with running(backend(1), backend(2)) as harness:
        harness.source.put(backend(2, url="https://10.0.0.2:10009"))
        await harness.settle_refresh()
        assert (K2, "https://10.0.0.2:10009") in harness.fleet.opened
        assert harness.fleet.closed == [(K2, "https://127.0.0.1:10009")]
        assert harness.member(2).health.healthy
        assert K2 in set(await split(harness, 4))
        harness.source.remove(K2)
        await harness.settle_refresh()
        assert harness.fleet.closed[-1] == (K2, "https://10.0.0.2:10009")
        assert harness.balancer.pool.get(K2) is None
        assert set(await split(harness, 4)) == {K1}


async def test_rewriting_an_unchanged_record_reloads_credentials(
    autojump_clock: MockClock,
) -> None:
    async with running(backend(1)) as harness:
        harness.source.put(backend(1))
        await harness.settle_refresh()
        assert len(harness.fleet.opened) == 2 and len(harness.fleet.closed) == 1


async def test_new_backend_is_probed_at_once(autojump_clock: MockClock) -> None:
    async with running(backend(1)) as harness:
        harness.fleet.add(K2)
        harness.source.put(backend(2))
        await trio.sleep(harness.balancer.config.backend_refresh + 0.01)
        assert harness.member(2).health.healthy
        assert harness.node(2).status_calls == 1


async def test_unreachable_credentials_keep_a_backend_out(
    autojump_clock: MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(backend(1)) as harness:
        harness.fleet.add(K2)
        harness.fleet.connect_errors[K2] = BackendAuthError("cannot read /m: denied", key=K2)
        harness.source.put(backend(2))
        await trio.sleep(harness.balancer.config.health.interval * 3)
        member = harness.member(2)
        assert member.health.state is HealthState.UNHEALTHY
        assert member.health.last_error == "cannot connect: cannot read /m: denied"
        assert set(await split(harness, 4)) == {K1}
        del harness.fleet.connect_errors[K2]
        await trio.sleep(harness.balancer.config.health.interval * 2)
        assert member.health.healthy
    unhealthy = [r for r in caplog.records if "node2 is unhealthy" in r.getMessage()]
    assert len(unhealthy) == 1  # transitions are logged once


async def test_wrong_node_behind_the_url_is_unhealthy(autojump_clock: MockClock) -> None:
    async with running(backend(1), backend(2)) as harness:
        harness.node(2).reported_pubkey = node_key(9)
        await trio.sleep(harness.balancer.config.health.interval * 3)
        assert harness.member(2).health.state is HealthState.UNHEALTHY
        assert "expected " + K2 in (harness.member(2).health.last_error or "")


async def test_store_outage_keeps_the_current_set(
    autojump_clock: MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(backend(1)) as harness:
        harness.source.unavailable = True
        await trio.sleep(harness.balancer.config.backend_refresh * 5)
        assert set(await split(harness, 3)) == {K1}
        harness.source.unavailable = False
        harness.fleet.add(K2)
        harness.source.put(backend(2))
        await harness.settle_refresh()
        assert harness.balancer.pool.get(K2) is not None
    outage = [r for r in caplog.records if "cannot read the backend set" in r.getMessage()]
    assert len(outage) == 1 and outage[0].levelno == logging.WARNING


async def test_ledger_records_and_watchers_settle(autojump_clock: MockClock) -> None:
    async with running(backend(1)) as harness:
        issued = await harness.issue()
        entry = harness.ledger.get(issued.invoice.payment_hash)
        assert entry.reference == "offer:default/test" and entry.amount_msat == 1000
        assert entry.backend_key == K1 and entry.bolt11 == issued.invoice.bolt11
        assert entry.settled_at is None
        harness.node(1).settle(issued.invoice.payment_hash)
        await trio.sleep(0.1)
        entry = harness.ledger.get(issued.invoice.payment_hash)
        assert entry.preimage == harness.node(1).preimages[issued.invoice.payment_hash]
        assert entry.settled_at is not None
        assert harness.member(1).counters.settled == 1


async def test_settlement_watcher_restarts_after_errors(autojump_clock: MockClock) -> None:
    async with running(backend(1)) as harness:
        node = harness.node(1)
        node.watch_error = BackendUnavailable("stream reset", key=K1)
        node.settle(
            PaymentHash("00" * 32)
        )  # wake the watcher so it hits the error (hash unknown here)
        await trio.sleep(0.1)
        issued = await harness.issue()
        node.settle(issued.invoice.payment_hash)
        await trio.sleep(5)
        assert harness.ledger.get(issued.invoice.payment_hash).preimage is not None


async def test_statistics(autojump_clock: MockClock) -> None:
    async with running(backend(1), backend(2, partitions=frozenset({"default", "x"}))) as h:
        h.node(2).fault = "protocol"
        await split(h, 6)
        one, two = h.balancer.statistics()
        assert one.key == K1 and one.name == "node1" and one.kind == "lnd"
        assert one.url == "https://127.0.0.1:10009" and one.health == "healthy"
        assert one.invoices_issued == 6 and one.inbound_capacity == 10_000_000
        assert one.selectable_in == frozenset({"default"}) and one.latency is not None
        assert two.health == "unhealthy" and two.ejected and two.selectable_in == frozenset()
        assert two.invoices_failed == 2 and two.last_error == "invoice amount mismatch"
        assert h.balancer.selectable("default") and not h.balancer.selectable("x")
        counters = h.balancer.counters
        assert counters.selections == {K1: 6, K2: 2}
        assert counters.invoice_errors == {(K2, "BackendProtocolError"): 2}
        assert counters.invoice_seconds[(K1, "ok")].count == 6
        assert counters.health_check_seconds[(K1, "ok")].count >= 1


async def test_config_changes_apply_live(autojump_clock: MockClock) -> None:
    send, receive = trio.open_memory_channel[BalancerConfig](1)
    cfg = make_config()
    async with running(backend(1, weight=3), backend(2), cfg=cfg, updates=receive) as h:
        assert (await h.issue(key="a")).backend_key == K1
        consistent = make_config(strategy="consistent", consistent_key="client_ip")
        await send.send(consistent)
        await trio.sleep(0.01)
        assert h.balancer.config == consistent and h.balancer.consistent_key == "client_ip"
        owner = (await h.issue(key="203.0.113.7")).backend_key
        assert all([(await h.issue(key="203.0.113.7")).backend_key == owner for _ in range(5)])
        stricter = dataclasses.replace(
            consistent, retry=dataclasses.replace(consistent.retry, max_elapsed=Seconds(0.0))
        )
        h.balancer.apply_config(stricter)
        for index in (1, 2):
            h.node(index).fault = "down"
        started = trio.current_time()
        with pytest.raises(NoHealthyBackend):
            await h.issue()
        assert trio.current_time() == started
