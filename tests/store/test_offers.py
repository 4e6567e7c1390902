"""Metadata, offers and paging, on both engines."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import pytest

from store import samples
from switchgeard.errors import Conflict, InvalidInput, NotFound
from switchgeard.store import Store
from switchgeard.store.records import Identifier, Page
from switchgeard.units import Msat


async def test_metadata_round_trip_with_every_field(store: Store) -> None:
    full = samples.metadata(
        long_text="a long description",
        image=samples.image("jpeg"),
        identifier=Identifier(kind="email", value="shop@pay.example"),
    )
    stored = await store.create_metadata(full)
    got = await store.get_metadata("default", full.id)
    assert got == stored
    assert dataclasses.replace(got, created_at=None, updated_at=None) == full
    assert await store.get_metadata("default", str(full.id).upper()) == stored


async def test_metadata_conflict_put_and_delete(store: Store) -> None:
    meta = await store.create_metadata(samples.metadata())
    with pytest.raises(Conflict):
        await store.create_metadata(dataclasses.replace(meta, text="other"))
    replaced, created = await store.put_metadata(dataclasses.replace(meta, text="tea"))
    assert not created and replaced.text == "tea" and replaced.created_at == meta.created_at
    assert await store.get_metadata("default", meta.id) == replaced
    await store.delete_metadata("default", meta.id)
    with pytest.raises(NotFound):
        await store.get_metadata("default", meta.id)
    with pytest.raises(NotFound):
        await store.delete_metadata("default", meta.id)
    _, created = await store.put_metadata(samples.metadata())
    assert created


async def test_metadata_is_per_partition(store: Store) -> None:
    meta = await store.create_metadata(samples.metadata("us"))
    with pytest.raises(NotFound):
        await store.get_metadata("eu", meta.id)
    await store.create_metadata(dataclasses.replace(meta, partition="eu"))  # same id, no clash


async def test_offer_round_trip_and_with_metadata(store: Store) -> None:
    meta = await store.create_metadata(samples.metadata())
    new = samples.offer(
        meta, expires=samples.START + timedelta(days=30, microseconds=5), comment_allowed=140
    )
    stored = await store.create_offer(new)
    got = await store.get_offer("default", new.id)
    assert got == stored
    assert dataclasses.replace(got, created_at=None, updated_at=None) == new
    assert await store.get_offer_with_metadata("default", new.id) == (stored, meta)
    with pytest.raises(Conflict):
        await store.create_offer(new)


async def test_offer_needs_metadata_in_the_same_partition(store: Store) -> None:
    meta = await store.create_metadata(samples.metadata("us"))
    for write in (store.create_offer, store.put_offer):
        with pytest.raises(InvalidInput) as caught:
            await write(samples.offer(meta, partition="eu"))
        assert caught.value.field == "metadataId"
    assert await store.list_offers(None, Page()) == []


async def test_put_offer_keeps_created_and_checks_new_metadata(store: Store) -> None:
    meta = await store.create_metadata(samples.metadata())
    first, created = await store.put_offer(samples.offer(meta))
    assert created
    other = await store.create_metadata(samples.metadata())
    second, created = await store.put_offer(
        dataclasses.replace(first, metadata_id=other.id, max_sendable=Msat(5000))
    )
    assert not created and second.created_at == first.created_at
    assert await store.get_offer("default", first.id) == second
    with pytest.raises(InvalidInput) as caught:
        await store.put_offer(dataclasses.replace(first, metadata_id=uuid.uuid4()))
    assert caught.value.field == "metadataId"
    assert await store.get_offer("default", first.id) == second


async def test_referenced_metadata_cannot_be_deleted(store: Store) -> None:
    meta = await store.create_metadata(samples.metadata())
    offer = await store.create_offer(samples.offer(meta))
    with pytest.raises(InvalidInput) as caught:
        await store.delete_metadata("default", meta.id)
    assert caught.value.field == "id"
    assert await store.get_metadata("default", meta.id) == meta
    await store.delete_offer("default", offer.id)
    with pytest.raises(NotFound):
        await store.delete_offer("default", offer.id)
    await store.delete_metadata("default", meta.id)


async def test_lookups_with_a_bad_uuid_name_the_id(store: Store) -> None:
    with pytest.raises(InvalidInput) as caught:
        await store.get_offer("default", "not-a-uuid")
    assert caught.value.field == "id"


@pytest.fixture
async def ten_offers(store: Store) -> list[uuid.UUID]:
    meta = await store.create_metadata(samples.metadata())
    await store.create_metadata(samples.metadata("other"))
    ids = []
    for index in range(10):
        # Ids descend while creation ascends: the list must follow creation time.
        made = samples.offer(meta, id=uuid.UUID(int=100 - index))
        ids.append((await store.create_offer(made)).id)
    return ids


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (0, None, range(0, 5)),  # page_default = 5
        (1, 10, range(1, 10)),
        (0, 1, range(0, 1)),
        (3, 4, range(3, 7)),
        (5, 5, range(5, 10)),
        (8, 10, range(8, 10)),
        (15, 5, range(0)),
        (10, 1, range(0)),
        (0, 0, range(0)),
        (5, 1, range(5, 6)),
    ],
)
async def test_offer_paging(
    store: Store, ten_offers: list[uuid.UUID], start: int, count: int | None, expected: range
) -> None:
    page = await store.list_offers("default", Page(start=start, count=count))
    assert [o.id for o in page] == [ten_offers[i] for i in expected]


async def test_paging_limits_name_the_field(store: Store, ten_offers: list[uuid.UUID]) -> None:
    for page, field in [
        (Page(count=11), "count"),  # page_max = 10
        (Page(count=-1), "count"),
        (Page(start=-1), "start"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            await store.list_offers("default", page)
        assert caught.value.field == field
    assert len(await store.list_offers("default", Page(count=10))) == 10


async def test_list_filters_by_partition_or_lists_all(store: Store) -> None:
    us = [await store.create_metadata(samples.metadata("us")) for _ in range(2)]
    eu = await store.create_metadata(samples.metadata("eu"))
    assert await store.list_metadata("us", Page()) == us
    assert await store.list_metadata(None, Page()) == [*us, eu]
    assert await store.list_metadata("nowhere", Page()) == []
    assert await store.list_metadata(None, Page(start=1, count=1)) == [us[1]]
    offer = await store.create_offer(samples.offer(eu))
    assert await store.list_offers("eu", Page()) == [offer]
    assert await store.list_offers("us", Page()) == []
