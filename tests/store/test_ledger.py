"""The invoice ledger, on both engines."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from store import samples
from switchgeard.errors import Conflict, InvalidInput, NotFound
from switchgeard.store import Store
from switchgeard.store.records import InvoiceStats
from switchgeard.units import Msat

SETTLED_AT = samples.START + timedelta(minutes=1)


async def test_record_get_and_duplicate(store: Store) -> None:
    entry = samples.invoice(1)
    await store.record_invoice(entry)
    assert await store.get_invoice(entry.payment_hash) == entry
    assert await store.get_invoice(entry.payment_hash.upper()) == entry
    with pytest.raises(Conflict):
        await store.record_invoice(dataclasses.replace(entry, bolt11="lnbc1other"))
    assert await store.get_invoice(entry.payment_hash) == entry
    with pytest.raises(NotFound):
        await store.get_invoice(samples.invoice(2).payment_hash)


async def test_mark_settled_once_with_the_right_preimage(store: Store) -> None:
    entry = samples.invoice(1)
    await store.record_invoice(entry)
    with pytest.raises(InvalidInput) as caught:
        await store.mark_settled(entry.payment_hash, samples.preimage(2), SETTLED_AT)
    assert caught.value.field == "preimage"
    assert await store.mark_settled(entry.payment_hash, samples.preimage(1), SETTLED_AT)
    assert not await store.mark_settled(entry.payment_hash, samples.preimage(1), SETTLED_AT)
    got = await store.get_invoice(entry.payment_hash)
    assert (got.settled_at, got.preimage) == (SETTLED_AT, samples.preimage(1))
    missing = samples.invoice(3)
    with pytest.raises(NotFound):
        await store.mark_settled(missing.payment_hash, samples.preimage(3), SETTLED_AT)


async def test_invoice_stats_per_backend(store: Store) -> None:
    assert await store.invoice_stats() == {}
    for seed, backend_seed in [(1, 1), (2, 1), (3, 1), (4, 2)]:
        await store.record_invoice(samples.invoice(seed, backend_seed))
    for seed in (1, 3):
        await store.mark_settled(
            samples.invoice(seed).payment_hash, samples.preimage(seed), SETTLED_AT
        )
    assert await store.invoice_stats() == {
        samples.node_key(1): InvoiceStats(issued=3, settled=2, settled_msat=Msat(4000)),
        samples.node_key(2): InvoiceStats(issued=1, settled=0, settled_msat=Msat(0)),
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"payment_hash": "zz" * 32}, "paymentHash"),
        ({"backend_key": "02" + "00" * 32}, "backendKey"),
        ({"amount_msat": 0}, "amountMsat"),
        ({"bolt11": ""}, "bolt11"),
        ({"expires_at": samples.START - timedelta(seconds=1)}, "expiresAt"),
        ({"created_at": samples.START.replace(tzinfo=None)}, "createdAt"),
        ({"preimage": samples.preimage(9)}, "preimage"),
    ],
)
async def test_bad_entries_are_refused(
    store: Store, changes: dict[str, object], field: str
) -> None:
    entry = samples.invoice(1)
    with pytest.raises(InvalidInput) as caught:
        await store.record_invoice(dataclasses.replace(entry, **changes))  # type: ignore[arg-type]
    assert caught.value.field == field
    with pytest.raises(NotFound):
        await store.get_invoice(entry.payment_hash)
