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


async def test_unsettled_invoices_of_one_backend_newest_first(store: Store) -> None:
    start, minute = samples.START, timedelta(minutes=1)
    entries = [
        samples.invoice(1, created_at=start, expires_at=start + 10 * minute),
        samples.invoice(2, created_at=start + minute, expires_at=start + 10 * minute),
        samples.invoice(3, created_at=start + 2 * minute, expires_at=start + 11 * minute),
        samples.invoice(4, created_at=start - minute, expires_at=start + 5 * minute),
        samples.invoice(5, 2, created_at=start, expires_at=start + 10 * minute),
    ]
    for entry in entries:
        await store.record_invoice(entry)
    await store.mark_settled(entries[1].payment_hash, samples.preimage(2), SETTLED_AT)
    now = start + 5 * minute  # the fourth entry expires just then

    found = await store.unsettled_invoices(samples.node_key(1), expires_after=now, limit=10)
    assert found == [entries[2], entries[0]]
    assert await store.unsettled_invoices(
        samples.uncompressed(samples.node_key(1)), expires_after=now, limit=1
    ) == [entries[2]]
    earlier = await store.unsettled_invoices(
        samples.node_key(1), expires_after=now - minute, limit=10
    )
    assert earlier == [entries[2], entries[0], entries[3]]
    other = await store.unsettled_invoices(samples.node_key(2), expires_after=now, limit=10)
    assert other == [entries[4]]
    assert await store.unsettled_invoices(samples.node_key(3), expires_after=now, limit=10) == []


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"backend_key": "02" + "00" * 32}, "backendKey"),
        ({"expires_after": samples.START.replace(tzinfo=None)}, "expiresAfter"),
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
    ],
)
async def test_unsettled_invoices_refuses_bad_arguments(
    store: Store, arguments: dict[str, object], field: str
) -> None:
    values: dict[str, object] = {
        "backend_key": samples.node_key(1),
        "expires_after": samples.START,
        "limit": 10,
    }
    with pytest.raises(InvalidInput) as caught:
        await store.unsettled_invoices(**(values | arguments))  # type: ignore[arg-type]
    assert caught.value.field == field
