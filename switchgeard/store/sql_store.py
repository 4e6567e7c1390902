"""``SqlStore``: the async store interface over either SQL engine.

Each method validates its input (raising ``InvalidInput`` before anything is written), then
runs one synchronous operation in one transaction on the engine's worker thread. Timestamps
come from the injected clock; values passed in ``created_at``/``updated_at`` are ignored.
``get_offer_with_metadata`` (read on every LNURL request) is answered from a ``ReadCache``
that every offer or metadata write through this store invalidates.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Literal, TypeVar

from switchgeard.config.model import StoreConfig
from switchgeard.errors import InvalidInput
from switchgeard.store import addresses, backends, ledger, offers, validate, values
from switchgeard.store.cache import ReadCache
from switchgeard.store.engine import Database, Dialect, Tx
from switchgeard.store.ledger_writer import LedgerWriter
from switchgeard.store.records import (
    Address,
    Backend,
    BackendPatch,
    InvoiceEntry,
    InvoiceStats,
    LdapSyncResult,
    Metadata,
    Offer,
    Page,
)
from switchgeard.store.rfc3339 import require_aware
from switchgeard.units import NodeKey

Clock = Callable[[], datetime]
T = TypeVar("T")

OFFER_CACHE_TTL = 1.0
"""Seconds an offer read may be served from memory: how long a change made by another
process on the same database can go unseen (changes through this store are seen at once)."""
OFFER_CACHE_SIZE = 4096
OFFER_CACHE_BYTES = 16 * 1024 * 1024
"""Approximate bytes of cached metadata (images and texts dominate) held at most."""

UNSETTLED_LIMIT = 10_000
"""Most entries one ``unsettled_invoices`` call returns."""


def offer_weight(entry: tuple[Offer, Metadata]) -> int:
    """Approximate memory held by a cached offer: its metadata's image and texts."""
    metadata = entry[1]
    image = 0 if metadata.image is None else len(metadata.image.data)
    return 512 + image + 4 * (len(metadata.text) + len(metadata.long_text or ""))


def utc_now() -> datetime:
    return datetime.now(UTC)


class SqlStore:
    """Backends, offers, metadata, addresses, sync state and the invoice ledger."""

    def __init__(self, database: Database, cfg: StoreConfig, *, clock: Clock = utc_now) -> None:
        self._db = database
        self._cfg = cfg
        self._clock = clock
        self._offers: ReadCache[tuple[Offer, Metadata]] = ReadCache(
            ttl=OFFER_CACHE_TTL,
            size=OFFER_CACHE_SIZE,
            weigh=offer_weight,
            max_weight=OFFER_CACHE_BYTES,
        )
        self.ledger_writer = LedgerWriter(database)

    @property
    def dialect(self) -> Dialect:
        return self._db.dialect

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC)

    # Backends -------------------------------------------------------------------------

    async def get_backend(self, key: str) -> Backend:
        return await self._db.run(partial(backends.get_backend, key=_key(key)), write=False)

    async def list_backends(self) -> list[Backend]:
        """All backends, ordered by creation time, then public key."""
        return await self._db.run(backends.list_backends, write=False)

    async def backend_version(self) -> int:
        """The backend-set version; every successful backend mutation increments it."""
        return await self._db.run(backends.backend_version, write=False, atomic=False)

    async def backend_snapshot(self) -> tuple[int, list[Backend]]:
        """The version and the backends it describes, read in one transaction."""
        return await self._db.run(backends.snapshot, write=False)

    async def create_backend(self, backend: Backend) -> Backend:
        """Add a backend; ``Conflict`` if its key exists."""
        checked = validate.check_backend(backend)
        return await self._db.run(
            partial(backends.create_backend, backend=checked, now=self._now())
        )

    async def put_backend(self, backend: Backend) -> tuple[Backend, bool]:
        """Create or replace (keeping ``created_at``); True when created."""
        checked = validate.check_backend(backend)
        return await self._db.run(partial(backends.put_backend, backend=checked, now=self._now()))

    async def patch_backend(self, key: str, patch: BackendPatch) -> Backend:
        checked = validate.check_patch(patch)
        work = partial(backends.patch_backend, key=_key(key), patch=checked, now=self._now())
        return await self._db.run(work)

    async def delete_backend(self, key: str) -> None:
        await self._db.run(partial(backends.delete_backend, key=_key(key)))

    # Metadata and offers --------------------------------------------------------------

    async def get_metadata(self, partition: str, id: uuid.UUID | str) -> Metadata:
        work = partial(offers.get_metadata, partition=partition, id=_uuid("id", id))
        return await self._db.run(work, write=False)

    async def list_metadata(self, partition: str | None, page: Page) -> list[Metadata]:
        """A page of metadata (of one partition, or all), by creation time, then id."""
        start, count = self._page(page)
        if count == 0:
            return []
        work = partial(offers.list_metadata, partition=partition, start=start, count=count)
        return await self._db.run(work, write=False)

    async def create_metadata(self, metadata: Metadata) -> Metadata:
        checked = validate.check_metadata(metadata)
        return await self._write_offers(
            partial(offers.create_metadata, metadata=checked, now=self._now())
        )

    async def put_metadata(self, metadata: Metadata) -> tuple[Metadata, bool]:
        checked = validate.check_metadata(metadata)
        work = partial(offers.put_metadata, metadata=checked, now=self._now())
        return await self._write_offers(work)

    async def delete_metadata(self, partition: str, id: uuid.UUID | str) -> None:
        """Delete; ``InvalidInput("id")`` while an offer still references it."""
        work = partial(offers.delete_metadata, partition=partition, id=_uuid("id", id))
        await self._write_offers(work)

    async def get_offer(self, partition: str, id: uuid.UUID | str) -> Offer:
        work = partial(offers.get_offer, partition=partition, id=_uuid("id", id))
        return await self._db.run(work, write=False)

    async def get_offer_with_metadata(
        self, partition: str, id: uuid.UUID | str
    ) -> tuple[Offer, Metadata]:
        """The offer and its metadata; may come from memory (see ``OFFER_CACHE_TTL``)."""
        key = (partition, _uuid("id", id))
        work = partial(offers.get_offer_with_metadata, partition=partition, id=key[1])
        return await self._offers.read_through(key, partial(self._db.run, work, write=False))

    async def list_offers(self, partition: str | None, page: Page) -> list[Offer]:
        """A page of offers (of one partition, or all), by creation time, then id."""
        start, count = self._page(page)
        if count == 0:
            return []
        work = partial(offers.list_offers, partition=partition, start=start, count=count)
        return await self._db.run(work, write=False)

    async def create_offer(self, offer: Offer) -> Offer:
        """Add an offer; ``InvalidInput("metadataId")`` if its metadata is missing."""
        checked = validate.check_offer(offer)
        return await self._write_offers(
            partial(offers.create_offer, offer=checked, now=self._now())
        )

    async def put_offer(self, offer: Offer) -> tuple[Offer, bool]:
        checked = validate.check_offer(offer)
        return await self._write_offers(partial(offers.put_offer, offer=checked, now=self._now()))

    async def delete_offer(self, partition: str, id: uuid.UUID | str) -> None:
        work = partial(offers.delete_offer, partition=partition, id=_uuid("id", id))
        await self._write_offers(work)

    async def _write_offers(self, work: Callable[[Tx], T]) -> T:
        """Run an offer or metadata write; cached offer reads are dropped however it ends."""
        try:
            return await self._db.run(work)
        finally:
            self._offers.invalidate()

    # Addresses ------------------------------------------------------------------------

    async def get_address(self, domain: str, username: str) -> Address:
        """Look up ``username@domain`` (case-insensitively)."""
        work = partial(addresses.get_address, domain=domain.lower(), username=username.lower())
        return await self._db.run(work, write=False)

    async def list_addresses(
        self,
        page: Page,
        *,
        domain: str | None = None,
        source: Literal["local", "ldap"] | None = None,
    ) -> list[Address]:
        start, count = self._page(page)
        if count == 0:
            return []
        work = partial(
            addresses.list_addresses,
            start=start,
            count=count,
            domain=None if domain is None else domain.lower(),
            source=source,
        )
        return await self._db.run(work, write=False)

    async def create_address(self, address: Address) -> Address:
        checked = _local(address)
        work = partial(addresses.create_address, address=checked, now=self._now())
        return await self._db.run(work)

    async def put_address(self, address: Address) -> tuple[Address, bool]:
        """Create or replace a local address; ``Conflict`` if LDAP manages that name."""
        checked = _local(address)
        return await self._db.run(partial(addresses.put_address, address=checked, now=self._now()))

    async def delete_address(self, domain: str, username: str) -> None:
        work = partial(addresses.delete_address, domain=domain.lower(), username=username.lower())
        await self._db.run(work)

    async def set_address_enabled(self, domain: str, username: str, enabled: bool) -> Address:
        work = partial(
            addresses.set_address_enabled,
            domain=domain.lower(),
            username=username.lower(),
            enabled=values.boolean("enabled", enabled),
            now=self._now(),
        )
        return await self._db.run(work)

    async def upsert_ldap_address(
        self, address: Address, *, replace_local: bool = False
    ) -> tuple[Address, bool]:
        """Write one LDAP entry's address, keyed by ``external_id``; True when created.

        An update keeps the stored ``enabled`` (an admin's override). ``Conflict`` when the
        name belongs to another address, unless it is a local one and ``replace_local``.
        """
        checked = _ldap(address)
        work = partial(
            addresses.upsert_ldap_address,
            address=checked,
            now=self._now(),
            replace_local=replace_local,
        )
        return await self._db.run(work)

    async def delete_ldap_address(self, external_id: str) -> bool:
        return await self._db.run(partial(addresses.delete_ldap_address, external_id=external_id))

    async def replace_ldap_addresses(
        self, entries: Sequence[Address], *, replace_local: bool = False
    ) -> LdapSyncResult:
        """Make the set of LDAP addresses exactly ``entries`` (a full sync), atomically.

        Updates keep each stored ``enabled``; with ``replace_local`` an entry takes over
        the name of a local address instead of being skipped.
        """
        checked = [_ldap(address) for address in entries]
        ids = [address.external_id for address in checked]
        if len(set(ids)) != len(ids):
            raise InvalidInput("externalId", "the same external id appears more than once")
        work = partial(
            addresses.replace_ldap_addresses,
            addresses=checked,
            now=self._now(),
            replace_local=replace_local,
        )
        return await self._db.run(work)

    async def get_sync_state(self, name: str) -> str | None:
        return await self._db.run(partial(addresses.get_sync_state, name=name), write=False)

    async def set_sync_state(self, name: str, value: str) -> None:
        if not isinstance(value, str):
            raise InvalidInput("value", "must be a string")
        work = partial(
            addresses.set_sync_state, name=values.text("name", name), value=value, now=self._now()
        )
        await self._db.run(work, atomic=False)

    # Invoice ledger -------------------------------------------------------------------

    async def record_invoice(self, entry: InvoiceEntry) -> None:
        """Add a ledger entry; ``Conflict`` if its payment hash exists.

        Concurrent calls share one statement (``LedgerWriter``). Not flushed to disk before
        returning (``durable=False``): this write is on every LNURL callback, and losing the
        last entries to a power cut loses bookkeeping, not money (the invoice lives on its
        node, which the settlement watcher follows).
        """
        await self.ledger_writer.record(validate.check_invoice(entry))

    async def get_invoice(self, payment_hash: str) -> InvoiceEntry:
        work = partial(ledger.get_invoice, payment_hash=validate.payment_hash_value(payment_hash))
        return await self._db.run(work, write=False, atomic=False)

    async def unsettled_invoices(
        self, backend_key: str, *, expires_after: datetime, limit: int
    ) -> list[InvoiceEntry]:
        """Up to ``limit`` entries of ``backend_key`` not settled yet that expire after
        ``expires_after``, newest first (what a settlement watcher asks its node about)."""
        work = partial(
            ledger.unsettled_invoices,
            backend_key=values.node_key("backendKey", backend_key),
            expires_after=require_aware("expiresAfter", expires_after),
            limit=values.integer("limit", limit, low=1, high=UNSETTLED_LIMIT),
        )
        return await self._db.run(work, write=False, atomic=False)

    async def mark_settled(self, payment_hash: str, preimage: str, settled_at: datetime) -> bool:
        """Record a settlement (the preimage must match); False if it was already settled."""
        key = validate.payment_hash_value(payment_hash)
        work = partial(
            ledger.mark_settled,
            payment_hash=key,
            preimage=validate.check_preimage(key, preimage),
            settled_at=require_aware("settledAt", settled_at),
        )
        return await self._db.run(work)

    async def invoice_stats(self) -> dict[NodeKey, InvoiceStats]:
        """Issued and settled counts (and settled msat) per backend."""
        return await self._db.run(ledger.invoice_stats, write=False, atomic=False)

    def _page(self, page: Page) -> tuple[int, int]:
        limit = self._cfg.page_max
        start = values.integer("start", page.start, low=0, high=2**62)
        if page.count is None:
            return start, min(self._cfg.page_default, limit)
        count = values.integer("count", page.count, low=0, high=2**62)
        if count > limit:
            raise InvalidInput("count", f"must be at most {limit}, got {count}")
        return start, count


def _key(key: str) -> NodeKey:
    return values.node_key("publicKey", key)


def _uuid(field: str, value: uuid.UUID | str) -> uuid.UUID:
    return values.uuid_value(field, value)


def _local(address: Address) -> Address:
    if address.source != "local":
        raise InvalidInput("source", "LDAP addresses are written by the LDAP syncer")
    if address.external_id is not None:
        raise InvalidInput("externalId", "only addresses from LDAP carry an external id")
    return validate.check_address(address)


def _ldap(address: Address) -> Address:
    if address.source != "ldap":
        raise InvalidInput("source", "must be ldap for addresses written by the LDAP syncer")
    return validate.check_address(address)
