"""An in-memory store implementing the admin API's ``AdminStore`` protocol (tests only)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from switchgeard.admin.ports import HealthView, ReloadView
from switchgeard.errors import Conflict, InvalidInput, NotFound
from switchgeard.store.records import Backend, BackendPatch, Metadata, Offer, Page
from switchgeard.units import NodeKey

AT = datetime(2026, 1, 2, 4, 0, tzinfo=UTC)


class FakeAdminStore:
    """Keeps records in dicts in insertion order; raises what the store contract says."""

    def __init__(self) -> None:
        self.backends: dict[NodeKey, Backend] = {}
        self.metadata: dict[tuple[str, uuid.UUID], Metadata] = {}
        self.offers: dict[tuple[str, uuid.UUID], Offer] = {}
        self.version = 0

    async def get_backend(self, key: NodeKey) -> Backend:
        return _get(self.backends, key, f"backend {key}")

    async def list_backends(self) -> list[Backend]:
        return list(self.backends.values())

    async def backend_version(self) -> int:
        return self.version

    async def create_backend(self, b: Backend) -> Backend:
        if b.public_key in self.backends:
            raise Conflict(f"backend {b.public_key} exists already")
        return (await self.put_backend(b))[0]

    async def put_backend(self, b: Backend) -> tuple[Backend, bool]:
        created = b.public_key not in self.backends
        self.backends[b.public_key] = dataclasses.replace(b, created_at=datetime.now(UTC))
        self.version += 1
        return self.backends[b.public_key], created

    async def patch_backend(self, key: NodeKey, patch: BackendPatch) -> Backend:
        old = await self.get_backend(key)
        changes: dict[str, Any] = {
            f: getattr(patch, f)
            for f in ("name", "partitions", "weight", "enabled")
            if getattr(patch, f) is not None
        }
        if patch.clear_name:
            changes["name"] = None
        self.backends[key] = dataclasses.replace(old, **changes)
        self.version += 1
        return self.backends[key]

    async def delete_backend(self, key: NodeKey) -> None:
        _get(self.backends, key, f"backend {key}")
        del self.backends[key]
        self.version += 1

    async def get_metadata(self, partition: str, id: uuid.UUID) -> Metadata:
        return _get(self.metadata, (partition, id), f"metadata {partition}/{id}")

    async def list_metadata(self, partition: str | None, page: Page) -> list[Metadata]:
        return _page([m for m in self.metadata.values() if partition in (None, m.partition)], page)

    async def create_metadata(self, m: Metadata) -> Metadata:
        if (m.partition, m.id) in self.metadata:
            raise Conflict(f"metadata {m.partition}/{m.id} exists already")
        return (await self.put_metadata(m))[0]

    async def put_metadata(self, m: Metadata) -> tuple[Metadata, bool]:
        created = (m.partition, m.id) not in self.metadata
        self.metadata[(m.partition, m.id)] = m
        return m, created

    async def delete_metadata(self, partition: str, id: uuid.UUID) -> None:
        await self.get_metadata(partition, id)
        if any(o.metadata_id == id and o.partition == partition for o in self.offers.values()):
            raise Conflict(f"metadata {partition}/{id} is used by an offer")
        del self.metadata[(partition, id)]

    async def get_offer(self, partition: str, id: uuid.UUID) -> Offer:
        return _get(self.offers, (partition, id), f"offer {partition}/{id}")

    async def get_offer_with_metadata(
        self, partition: str, id: uuid.UUID
    ) -> tuple[Offer, Metadata]:
        offer = await self.get_offer(partition, id)
        return offer, await self.get_metadata(partition, offer.metadata_id)

    async def list_offers(self, partition: str | None, page: Page) -> list[Offer]:
        return _page([o for o in self.offers.values() if partition in (None, o.partition)], page)

    async def create_offer(self, o: Offer) -> Offer:
        if (o.partition, o.id) in self.offers:
            raise Conflict(f"offer {o.partition}/{o.id} exists already")
        return (await self.put_offer(o))[0]

    async def put_offer(self, o: Offer) -> tuple[Offer, bool]:
        if (o.partition, o.metadata_id) not in self.metadata:
            raise InvalidInput("metadataId", f"no metadata {o.metadata_id} in {o.partition}")
        created = (o.partition, o.id) not in self.offers
        self.offers[(o.partition, o.id)] = o
        return o, created

    async def delete_offer(self, partition: str, id: uuid.UUID) -> None:
        await self.get_offer(partition, id)
        del self.offers[(partition, id)]


def _get(table: dict[Any, Any], key: object, what: str) -> Any:
    try:
        return table[key]
    except KeyError:
        raise NotFound(f"{what} does not exist") from None


def _page(items: list[Any], page: Page) -> list[Any]:
    end = None if page.count is None else page.start + page.count
    return items[page.start : end]


class FakeHealth:
    def __init__(self) -> None:
        self.views: list[HealthView] = []
        self.ok_partitions = {"default"}

    def health(self) -> Sequence[HealthView]:
        return self.views

    def selectable(self, partition: str) -> bool:
        return partition in self.ok_partitions


class FakeReloader:
    def __init__(self) -> None:
        self.last: ReloadView | None = None
        self.next_error: str | None = None
        self.calls: list[bool] = []

    async def reload(self, *, wait: bool) -> ReloadView | None:
        self.calls.append(wait)
        self.last = ReloadView(at=AT, ok=self.next_error is None, error=self.next_error)
        return self.last if wait else None

    def last_reload(self) -> ReloadView | None:
        return self.last
