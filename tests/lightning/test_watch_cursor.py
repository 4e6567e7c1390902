"""Settlement watches resume behind a settle index (LND ``settle_index``, CLN ``pay_index``)
and say so when they cannot: LND replays nothing behind index 0."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing

import trio
from either_node import Node

from switchgeard.lightning import LightningBackend
from switchgeard.lightning.interface import Settlement
from switchgeard.testing.fake_cln import FakeCln
from switchgeard.testing.fake_lnd import FakeLnd
from switchgeard.testing.fakebase import FakeNode
from switchgeard.units import Msat, PaymentHash


async def _invoices(backend: LightningBackend, count: int) -> list[PaymentHash]:
    return [
        (
            await backend.create_invoice(
                Msat(1_000 + n), "x", description_hash_only=True, expiry=600
            )
        ).payment_hash
        for n in range(count)
    ]


async def _collect(
    backend: LightningBackend, after: int, count: int, seen: list[Settlement | None]
) -> None:
    """Everything the watch yields (gaps included) until ``count`` settlements came."""
    async with aclosing(backend.watch_settlements(after=after)) as settlements:
        async for settlement in settlements:
            seen.append(settlement)
            if sum(item is not None for item in seen) == count:
                return


async def _wait_for(condition: Callable[[], bool]) -> None:
    while not condition():
        await trio.sleep(0.01)


def _settle_all(fake: FakeNode, hashes: list[PaymentHash]) -> None:
    for payment_hash in hashes:
        assert fake.settle(payment_hash)


async def test_watch_resumes_behind_the_given_index(node: Node) -> None:
    fake, backend = node.fake, node.backend
    with trio.fail_after(10):
        hashes = await _invoices(backend, 3)
        _settle_all(fake, hashes)
        seen: list[Settlement | None] = []
        await _collect(backend, 1, 2, seen)
    assert seen == [
        Settlement(index=2, payment_hash=hashes[1]),
        Settlement(index=3, payment_hash=hashes[2]),
    ]
    assert fake.core.watched_after[:2] == ([1] if node.kind == "lnd" else [1, 2])


async def test_cln_watch_from_zero_replays_every_settlement(
    cln: FakeCln, cln_backend: LightningBackend
) -> None:
    with trio.fail_after(10):
        hashes = await _invoices(cln_backend, 2)
        _settle_all(cln, hashes)
        seen: list[Settlement | None] = []
        await _collect(cln_backend, 0, 2, seen)
    assert seen == [
        Settlement(index=1, payment_hash=hashes[0]),
        Settlement(index=2, payment_hash=hashes[1]),
    ]
    assert cln.core.watched_after[:2] == [0, 1]


async def test_lnd_watch_from_zero_replays_nothing(
    lnd: FakeLnd, lnd_backend: LightningBackend
) -> None:
    with trio.fail_after(10):
        *before, later = await _invoices(lnd_backend, 3)
        _settle_all(lnd, before)
        seen: list[Settlement | None] = []
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_collect, lnd_backend, 0, 1, seen)
            await _wait_for(lambda: lnd.core.watched_after == [0])
            lnd.settle(later)
    assert seen == [Settlement(index=3, payment_hash=later)]


async def test_lnd_reports_a_gap_it_cannot_replay(
    lnd: FakeLnd, lnd_backend: LightningBackend
) -> None:
    with trio.fail_after(15):
        missed, later = await _invoices(lnd_backend, 2)
        seen: list[Settlement | None] = []
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_collect, lnd_backend, 0, 1, seen)
            await _wait_for(lambda: lnd.core.watched_after == [0])
            await lnd.go_down()
            lnd.settle(missed)  # while the stream is down, before any index was seen
            await trio.sleep(0.3)
            await lnd.come_up()
            await _wait_for(lambda: len(lnd.core.watched_after) > 1)
            lnd.settle(later)
    assert seen[-1] == Settlement(index=2, payment_hash=later)
    assert seen[:-1] and all(item is None for item in seen[:-1])  # the gap, not index 1
    assert set(lnd.core.watched_after) == {0}


async def test_lnd_resuming_behind_an_index_reports_no_gap(
    lnd: FakeLnd, lnd_backend: LightningBackend
) -> None:
    with trio.fail_after(15):
        first, missed = await _invoices(lnd_backend, 2)
        seen: list[Settlement | None] = []
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_collect, lnd_backend, 0, 2, seen)
            await _wait_for(lambda: lnd.core.watched_after == [0])
            lnd.settle(first)
            await _wait_for(lambda: len(seen) == 1)
            await lnd.go_down()
            lnd.settle(missed)
            await trio.sleep(0.3)
            await lnd.come_up()
    assert seen == [
        Settlement(index=1, payment_hash=first),
        Settlement(index=2, payment_hash=missed),
    ]
    assert lnd.core.watched_after[0] == 0 and set(lnd.core.watched_after[1:]) == {1}


async def test_lnd_settlements_arrive_in_settle_order(
    lnd: FakeLnd, lnd_backend: LightningBackend
) -> None:
    """Invoices settled in another order than they were added, before the stream's next
    turn: lnd's add events show them open, so neither settlement is taken for a repeat."""
    with trio.fail_after(10):
        seen: list[Settlement | None] = []
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_collect, lnd_backend, 0, 2, seen)
            await _wait_for(lambda: lnd.core.watched_after == [0])
            core = lnd.core
            first, second = (
                core.add_invoice(
                    amount_msat=1_000, description="x", description_hash=None, expiry=600, label=""
                ).payment_hash.hex()
                for _ in range(2)
            )
            core.settle(second)
            core.settle(first)
    assert seen == [
        Settlement(index=1, payment_hash=PaymentHash(second)),
        Settlement(index=2, payment_hash=PaymentHash(first)),
    ]
