"""The LDAP addresses in the store, kept equal to the directory entries they come from.

Entries are keyed by entryUUID, so a rename keeps its address row. Writes go to the store
only when an address actually changed. Two entries wanting one name: the one holding it
keeps it (else the earliest created), the other is reported as a duplicate and retried
when the name frees up. Entries without a valid user name are reported, never mangled.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from typing import Literal, Protocol

from switchgeard.errors import Conflict
from switchgeard.ldap_sync.entries import (
    CookieChanged,
    EntriesDeleted,
    EntriesPresent,
    EntryChanged,
    RawEntry,
    RefreshDone,
    SyncEvent,
)
from switchgeard.ldap_sync.mapping import AddressMapper, Unmappable
from switchgeard.ldap_sync.status import MAX_LISTED, EntryProblem
from switchgeard.store.records import Address, LdapSyncResult, Page

log = logging.getLogger("switchgeard.ldap")


class LdapAddressStore(Protocol):
    """The store methods the syncer uses."""

    async def list_addresses(
        self,
        page: Page,
        *,
        domain: str | None = None,
        source: Literal["local", "ldap"] | None = None,
    ) -> list[Address]: ...

    async def upsert_ldap_address(
        self, address: Address, *, replace_local: bool = False
    ) -> tuple[Address, bool]: ...

    async def delete_ldap_address(self, external_id: str) -> bool: ...

    async def replace_ldap_addresses(
        self, entries: Sequence[Address], *, replace_local: bool = False
    ) -> LdapSyncResult: ...

    async def get_sync_state(self, name: str) -> str | None: ...

    async def set_sync_state(self, name: str, value: str) -> None: ...


def _essence(address: Address) -> Address:
    """What the directory decides (not timestamps, not the admin's enabled override)."""
    return dataclasses.replace(address, enabled=True, created_at=None, updated_at=None)


class Mirror:
    """Applies full snapshots and RFC 4533 events to the store's LDAP addresses."""

    def __init__(
        self, store: LdapAddressStore, mapper: AddressMapper, *, replace_local: bool
    ) -> None:
        self._store = store
        self._mapper = mapper
        self._replace_local = replace_local
        self.addresses: dict[str, Address] = {}
        self._dns: dict[str, str] = {}
        self._invalid: dict[str, EntryProblem] = {}
        self._waiting: dict[str, tuple[Address, EntryProblem]] = {}
        self._present: set[str] = set()
        self.cookie: str | None = None
        self.refreshed = False

    async def load(self) -> None:
        """Read the LDAP addresses the store holds (from an earlier run)."""
        self.addresses.clear()
        start = 0
        while page := await self._store.list_addresses(Page(start=start), source="ldap"):
            for address in page:
                if address.external_id is not None:
                    self.addresses[address.external_id] = _essence(address)
            start += len(page)

    def invalid(self) -> list[EntryProblem]:
        return list(self._invalid.values())

    def duplicates(self) -> list[EntryProblem]:
        return [problem for _, problem in self._waiting.values()]

    # Full snapshots -------------------------------------------------------------------

    async def reconcile(self, entries: Iterable[RawEntry]) -> bool:
        """Make the store hold exactly the addresses of ``entries``; True if anything changed."""
        self._invalid.clear()
        wanted = self._dedupe(self._map_all(entries))
        target = {a.external_id: a for a in wanted if a.external_id is not None}
        if target == self.addresses and not self._waiting:
            return False
        result = await self._store.replace_ldap_addresses(wanted, replace_local=self._replace_local)
        taken = set(result.skipped)
        for external_id in taken:
            self._wait(target[external_id], "its name belongs to a local address")
        self.addresses = {k: v for k, v in target.items() if k not in taken}
        log.info(
            "ldap: full sync: %d addresses (%d added, %d updated, %d removed)",
            len(self.addresses),
            result.inserted,
            result.updated,
            result.deleted,
        )
        return True

    def _map_all(self, entries: Iterable[RawEntry]) -> list[tuple[RawEntry, Address]]:
        mapped = []
        for entry in entries:
            self._dns[entry.uuid] = entry.dn
            address = self._map(entry)
            if address is not None:
                mapped.append((entry, address))
        return mapped

    def _dedupe(self, mapped: list[tuple[RawEntry, Address]]) -> list[Address]:
        self._waiting.clear()
        holders = {(a.domain, a.username): uuid for uuid, a in self.addresses.items()}

        def rank(item: tuple[RawEntry, Address]) -> tuple[int, str, str]:
            entry, address = item
            holds = holders.get((address.domain, address.username)) == entry.uuid
            return (0 if holds else 1, entry.first("createTimestamp") or "", entry.uuid)

        kept: dict[tuple[str, str], Address] = {}
        for _, address in sorted(mapped, key=rank):
            name = (address.domain, address.username)
            if name in kept:
                first = self._dns.get(str(kept[name].external_id), kept[name].external_id)
                self._wait(address, f"{address.username} is taken by {first}")
            else:
                kept[name] = address
        return list(kept.values())

    # RFC 4533 events ------------------------------------------------------------------

    async def apply(self, events: Sequence[SyncEvent]) -> bool:
        """Apply events in order; True when a cookie should now be saved."""
        save = False
        for event in events:
            match event:
                case EntryChanged(entry=entry):
                    await self._changed(entry)
                case EntriesDeleted(uuids=uuids):
                    await self._deleted(uuids)
                case EntriesPresent(uuids=None, refresh_deletes=deletes):
                    await self._end_present_phase(deletes)
                case EntriesPresent(uuids=uuids):
                    self._present.update(uuids or ())
                case CookieChanged(cookie=cookie):
                    self.cookie, save = cookie, save or self.refreshed
                case RefreshDone():
                    self.refreshed = save = True
        return save

    async def _changed(self, entry: RawEntry) -> None:
        self._dns[entry.uuid] = entry.dn
        self._present.add(entry.uuid)
        self._waiting.pop(entry.uuid, None)
        address = self._map(entry)
        if address is None:
            await self._forget(entry.uuid)
            return
        old = self.addresses.get(entry.uuid)
        if old == address:
            return
        if not await self._upsert(address) and old is not None:
            await self._forget(entry.uuid)

    async def _upsert(self, address: Address) -> bool:
        try:
            await self._store.upsert_ldap_address(address, replace_local=self._replace_local)
        except Conflict:
            self._wait(address, f"{address.username}@{address.domain} is taken")
            return False
        self.addresses[str(address.external_id)] = address
        return True

    async def _deleted(self, uuids: Iterable[str]) -> None:
        for uuid in uuids:
            await self._forget(uuid)
            self._invalid.pop(uuid, None)
            self._waiting.pop(uuid, None)
            self._dns.pop(uuid, None)
        await self._retry_waiting()

    async def _forget(self, uuid: str) -> None:
        if self.addresses.pop(uuid, None) is not None:
            await self._store.delete_ldap_address(uuid)
            await self._retry_waiting()

    async def _retry_waiting(self) -> None:
        for uuid, (address, _) in list(self._waiting.items()):
            del self._waiting[uuid]
            await self._upsert(address)

    async def _end_present_phase(self, refresh_deletes: bool) -> None:
        if not refresh_deletes:
            known = set(self.addresses) | set(self._invalid) | set(self._waiting)
            gone = known - self._present
            if gone:
                log.info("ldap: %d entries are gone from the directory", len(gone))
                await self._deleted(gone)
        self._present = set()

    # Mapping and reporting ------------------------------------------------------------

    def _map(self, entry: RawEntry) -> Address | None:
        try:
            address = self._mapper.address(entry)
        except Unmappable as exc:
            if entry.uuid not in self._invalid:
                log.warning("ldap: skipped entry %s", exc)
            self._invalid[entry.uuid] = EntryProblem(
                entry.dn, str(exc).removeprefix(entry.dn + ": ")
            )
            return None
        self._invalid.pop(entry.uuid, None)
        return address

    def _wait(self, address: Address, reason: str) -> None:
        uuid = str(address.external_id)
        dn = self._dns.get(uuid, uuid)
        if uuid not in self._waiting:
            log.warning("ldap: duplicate user name, skipped entry %s: %s", dn, reason)
        self._waiting[uuid] = (address, EntryProblem(dn, reason))


__all__ = ["MAX_LISTED", "LdapAddressStore", "Mirror"]
