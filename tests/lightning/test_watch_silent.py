"""A settlement watch whose stream goes silent (a black-holed connection, a node that
accepted the call and never answers) is opened again after ``LONG_POLL``, so later
settlements are still seen."""

from __future__ import annotations

from contextlib import aclosing

import pytest
import trio
from either_node import Node

from switchgeard.lightning import cln, lnd
from switchgeard.units import Msat, PaymentHash


def _watch_calls(node: Node) -> int:
    calls = node.fake.core.calls
    return calls["SubscribeInvoices"] + calls["WaitAnyInvoice"]


async def test_silent_watch_stream_is_opened_again(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lnd if node.kind == "lnd" else cln, "LONG_POLL", 0.5)
    fake, backend = node.fake, node.backend
    seen: list[PaymentHash | None] = []
    gaps = 0

    async def collect() -> None:
        nonlocal gaps
        async with aclosing(backend.watch_settlements(after=0)) as settlements:
            async for settlement in settlements:
                if settlement is None:
                    gaps += 1
                    continue
                seen.append(settlement.payment_hash)
                return

    with trio.fail_after(10):
        invoice = await backend.create_invoice(
            Msat(2_000), "x", description_hash_only=True, expiry=600
        )
        fake.core.faults.hang = True  # the watch call is accepted, then nothing ever comes
        async with trio.open_nursery() as nursery:
            nursery.start_soon(collect)
            while _watch_calls(node) == 0:
                await trio.sleep(0.01)
            fake.core.faults.hang = False
            while _watch_calls(node) < 2:
                await trio.sleep(0.01)
            fake.settle(invoice.payment_hash)
    assert seen == [invoice.payment_hash]
    assert gaps == (1 if node.kind == "lnd" else 0)  # lnd cannot replay behind index 0
