"""The backend set: members built from the store's records, refreshed on its version number.

Each member runs in its own task inside the pool's nursery (connection, probes, settlement
watcher, supplied by the balancer as ``serve_member``). Cancelling a member's scope closes
its connection. Only records that changed are touched: settings that do not affect the
connection (partitions, weight, enabled, name) are updated in place and keep the health
state; a changed ``implementation`` (URL, credentials), or a rewrite of an unchanged record
(to pick up rotated credential files), replaces the member and reconnects.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import trio

from switchgeard.balancer.health import HealthTracker
from switchgeard.balancer.protocols import BackendSource, ConnectBackend
from switchgeard.balancer.stats import MemberCounters
from switchgeard.lightning.interface import LightningBackend
from switchgeard.store.records import Backend
from switchgeard.units import NodeKey

log = logging.getLogger("switchgeard.balancer")


@dataclass(eq=False, slots=True)
class Member:
    """One backend in the pool: its record, health, counters and (when connected) client."""

    record: Backend
    health: HealthTracker
    counters: MemberCounters = field(default_factory=MemberCounters)
    client: LightningBackend | None = None
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    first_probe: trio.Event = field(default_factory=trio.Event)

    @property
    def key(self) -> NodeKey:
        return self.record.public_key

    @property
    def label(self) -> str:
        return self.record.name or self.record.public_key[:16]

    def count_settled(self) -> None:
        """One more invoice of this node recorded as settled (by its watcher or by a
        LUD-21 verify that asked the node first)."""
        self.counters.settled += 1

    def serves(self, partition: str) -> bool:
        """Enabled, in ``partition``, weight > 0, healthy and connected."""
        record = self.record
        return (
            record.enabled
            and record.weight > 0
            and partition in record.partitions
            and self.health.healthy
            and self.client is not None
        )


ServeMember = Callable[[Member], Awaitable[None]]


class BackendPool:
    """Backends from ``source`` (optionally only those sharing one of ``partitions``).

    ``refresh()`` works only while ``serve()`` runs (``run_balancer`` starts it).
    """

    def __init__(
        self,
        source: BackendSource,
        connect: ConnectBackend,
        *,
        partitions: Iterable[str] | None = None,
    ) -> None:
        self.connect = connect
        self._source = source
        self._partitions = None if partitions is None else frozenset(partitions)
        self._members: dict[NodeKey, Member] = {}
        self._version: int | None = None
        self._lock = trio.Lock()
        self._nursery: trio.Nursery | None = None
        self._serve_member: ServeMember | None = None

    def members(self) -> list[Member]:
        """Current members in the store's order (created, then key)."""
        return list(self._members.values())

    def get(self, key: NodeKey) -> Member | None:
        return self._members.get(key)

    async def serve(
        self,
        serve_member: ServeMember,
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Own the member tasks until cancelled; members are closed on the way out."""
        try:
            async with trio.open_nursery() as nursery:
                self._nursery, self._serve_member = nursery, serve_member
                task_status.started()
                await trio.sleep_forever()
        finally:
            self._nursery = self._serve_member = None
            self._members.clear()
            self._version = None

    async def refresh(self) -> bool:
        """Re-read the backend set if its version changed; True if it did.

        Raises ``StoreError`` from the source and leaves the set unchanged then.
        """
        async with self._lock:
            version = await self._source.backend_version()
            if version == self._version:
                return False
            records = await self._source.list_backends()
            self._apply(records)
            self._version = version
            return True

    def _apply(self, records: list[Backend]) -> None:
        wanted = {r.public_key: r for r in records if self._wanted(r)}
        for key in self._members.keys() - wanted.keys():
            log.info("backend %s removed", self._members[key].label)
            self._members.pop(key).scope.cancel()
        members: dict[NodeKey, Member] = {}
        for key, record in wanted.items():
            members[key] = self._update(self._members.get(key), record)
        self._members = members

    def _update(self, member: Member | None, record: Backend) -> Member:
        if member is None:
            log.info("backend %s added", record.name or record.public_key[:16])
            return self._start(Member(record, HealthTracker(datetime.now(UTC))))
        if member.record == record:
            return member
        if _needs_reconnect(member.record, record):
            log.info("backend %s: connection settings changed, reconnecting", member.label)
            member.scope.cancel()
            fresh = Member(record, HealthTracker(datetime.now(UTC)), member.counters)
            return self._start(fresh)
        member.record = record
        return member

    def _start(self, member: Member) -> Member:
        if self._nursery is None or self._serve_member is None:
            raise RuntimeError("BackendPool.refresh() needs the pool running (run_balancer)")
        self._nursery.start_soon(_run_member, member, self._serve_member)
        return member

    def _wanted(self, record: Backend) -> bool:
        return self._partitions is None or not record.partitions.isdisjoint(self._partitions)


async def _run_member(member: Member, serve_member: ServeMember) -> None:
    with member.scope:
        await serve_member(member)


def _needs_reconnect(old: Backend, new: Backend) -> bool:
    if old.implementation != new.implementation:
        return True
    rewritten = dataclasses.replace(new, updated_at=old.updated_at, created_at=old.created_at)
    return rewritten == old and new.updated_at != old.updated_at
