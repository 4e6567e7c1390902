"""In-process fakes for balancer tests: Lightning nodes with fault switches, a backend source
and a ledger. They implement the same protocols as the real adapters and store."""

from __future__ import annotations

import functools
import hashlib
import random
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import coincurve
import trio

from switchgeard.balancer import BackendPool, Balancer, IssuedInvoice, Member, run_balancer
from switchgeard.config.model import BalancerConfig, HealthConfig, RetryConfig, Seconds
from switchgeard.errors import (
    BackendAuthError,
    BackendError,
    BackendProtocolError,
    BackendRejected,
    BackendUnavailable,
    NotFound,
    StoreUnavailable,
)
from switchgeard.lightning.interface import Invoice, InvoiceState, NodeStatus, Settlement
from switchgeard.store.records import Backend, InvoiceEntry, LndGrpc
from switchgeard.units import Msat, NodeKey, PaymentHash

FAULTS = ("down", "hang", "protocol", "auth", "reject")


def node_key(index: int) -> NodeKey:
    """A valid compressed public key (secret key ``index``), so real stores accept it."""
    return NodeKey(coincurve.PrivateKey.from_int(index).public_key.format().hex())


def backend(
    index: int,
    *,
    weight: int = 1,
    partitions: frozenset[str] = frozenset({"default"}),
    enabled: bool = True,
    url: str = "https://127.0.0.1:10009",
    name: str | None = None,
) -> Backend:
    return Backend(
        public_key=node_key(index),
        name=name or f"node{index}",
        partitions=partitions,
        weight=weight,
        enabled=enabled,
        implementation=LndGrpc(url=url, macaroon_path="/secrets/admin.macaroon"),
    )


class FakeNode:
    """A LightningBackend with fault switches: ``fault`` is None or one of FAULTS."""

    def __init__(self, key: NodeKey, *, inbound: int = 10_000_000) -> None:
        self._key = key
        self.fault: str | None = None
        self.inbound = inbound
        self.reported_pubkey: NodeKey | None = None
        self.create_calls = 0
        self.status_calls = 0
        self.preimages: dict[PaymentHash, str] = {}
        self.settled: set[PaymentHash] = set()
        self.watch_error: BackendError | None = None
        self.replays_all = False
        """After index 0 a watch replays every settlement (CLN), not none of them (LND)."""
        self.settlements: list[PaymentHash] = []
        """In settle order: settle index n is ``settlements[n - 1]``."""
        self.watched_after: list[int] = []
        self._unseen: set[int] = set()
        self._gaps = 0
        self._changed = trio.Event()

    @property
    def key(self) -> NodeKey:
        return self._key

    @property
    def name(self) -> str:
        return f"fake-{self._key[-4:]}"

    async def _fault_gate(self, *, status: bool) -> None:
        await trio.lowlevel.checkpoint()
        if self.fault == "down":
            raise BackendUnavailable("connection refused", key=self._key, name=self.name)
        if self.fault == "hang":
            await trio.sleep_forever()
        if status:
            return
        if self.fault == "protocol":
            raise BackendProtocolError("invoice amount mismatch", key=self._key, name=self.name)
        if self.fault == "auth":
            raise BackendAuthError("permission denied", key=self._key, name=self.name)
        if self.fault == "reject":
            raise BackendRejected("amount too large", key=self._key, name=self.name)

    async def create_invoice(
        self, amount_msat: Msat, description: str, *, description_hash_only: bool, expiry: int
    ) -> Invoice:
        self.create_calls += 1
        await self._fault_gate(status=False)
        preimage = secrets.token_hex(32)
        payment_hash = PaymentHash(hashlib.sha256(bytes.fromhex(preimage)).hexdigest())
        self.preimages[payment_hash] = preimage
        return Invoice(
            bolt11=f"lnbcrt{int(amount_msat)}n1fake{payment_hash[:16]}",
            payment_hash=payment_hash,
            expires_at=datetime.now(UTC) + timedelta(seconds=expiry),
        )

    async def status(self) -> NodeStatus:
        self.status_calls += 1
        await self._fault_gate(status=True)
        return NodeStatus(
            pubkey=self.reported_pubkey or self._key,
            alias=self.name,
            network="regtest",
            block_height=100,
            inbound_capacity=Msat(self.inbound),
            active_channels=1,
        )

    async def lookup_invoice(self, payment_hash: PaymentHash) -> InvoiceState:
        await trio.lowlevel.checkpoint()
        settled = payment_hash in self.settled
        return InvoiceState(
            payment_hash=payment_hash,
            settled=settled,
            preimage=self.preimages.get(payment_hash) if settled else None,
            bolt11=None,
        )

    async def watch_settlements(self, *, after: int) -> AsyncIterator[Settlement | None]:
        """Settlements behind ``after`` as the adapters deliver them; ``watch_error`` is
        raised at the next wake-up, ``settle_unseen`` shows up as a gap (None)."""
        self.watched_after.append(after)
        position = after if after or self.replays_all else len(self.settlements)
        while True:
            if self.watch_error is not None:
                error, self.watch_error = self.watch_error, None
                raise error
            if self._gaps:
                self._gaps -= 1
                yield None
            elif position < len(self.settlements):
                position += 1
                if position not in self._unseen:
                    yield Settlement(index=position, payment_hash=self.settlements[position - 1])
            else:
                await self._changed.wait()

    def settle(self, payment_hash: PaymentHash) -> int:
        """Settle on the node; returns the settle index."""
        self.settled.add(payment_hash)
        self.settlements.append(payment_hash)
        self.wake()
        return len(self.settlements)

    def settle_unseen(self, payment_hash: PaymentHash) -> None:
        """Settle while the stream was away and could not replay (LND at index 0): the
        running watch skips it and reports a gap."""
        self._unseen.add(self.settle(payment_hash))
        self._gaps += 1

    def wake(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def aclose(self) -> None:
        await trio.lowlevel.checkpoint()


@dataclass
class FakeFleet:
    """Nodes by key, and a ``connect`` factory that logs every connection opened/closed."""

    nodes: dict[NodeKey, FakeNode] = field(default_factory=dict)
    opened: list[tuple[NodeKey, str]] = field(default_factory=list)
    closed: list[tuple[NodeKey, str]] = field(default_factory=list)
    connect_errors: dict[NodeKey, BackendError] = field(default_factory=dict)

    def add(self, key: NodeKey, **kwargs: int) -> FakeNode:
        node = self.nodes[key] = FakeNode(key, **kwargs)
        return node

    @asynccontextmanager
    async def connect(self, record: Backend) -> AsyncIterator[FakeNode]:
        await trio.lowlevel.checkpoint()
        if record.public_key in self.connect_errors:
            raise self.connect_errors[record.public_key]
        node = self.nodes[record.public_key]
        self.opened.append((record.public_key, record.implementation.url))
        try:
            yield node
        finally:
            self.closed.append((record.public_key, record.implementation.url))
            await node.aclose()


class FakeSource:
    """An in-memory BackendSource; ``put``/``remove`` bump the version like the store."""

    def __init__(self) -> None:
        self.backends: dict[NodeKey, Backend] = {}
        self.version = 1
        self.unavailable = False

    def put(self, record: Backend) -> None:
        now = datetime.now(UTC)
        old = self.backends.get(record.public_key)
        created = old.created_at if old else now
        self.backends[record.public_key] = replace(record, created_at=created, updated_at=now)
        self.version += 1

    def remove(self, key: NodeKey) -> None:
        del self.backends[key]
        self.version += 1

    async def list_backends(self) -> list[Backend]:
        await self._gate()
        return list(self.backends.values())

    async def backend_version(self) -> int:
        await self._gate()
        return self.version

    async def _gate(self) -> None:
        await trio.lowlevel.checkpoint()
        if self.unavailable:
            raise StoreUnavailable("database is locked")


class FakeLedger:
    """An in-memory InvoiceLedger (with the store's sync state)."""

    def __init__(self) -> None:
        self.entries: dict[PaymentHash, InvoiceEntry] = {}
        self.sync_state: dict[str, str] = {}
        self.sync_unavailable = False
        self.cursor_writes = 0

    async def get_sync_state(self, name: str) -> str | None:
        await trio.lowlevel.checkpoint()
        return self.sync_state.get(name)

    async def set_sync_state(self, name: str, value: str) -> None:
        await trio.lowlevel.checkpoint()
        if self.sync_unavailable:
            raise StoreUnavailable("disk I/O error")
        self.sync_state[name] = value
        self.cursor_writes += 1

    async def unsettled_invoices(
        self, backend_key: NodeKey, *, expires_after: datetime, limit: int
    ) -> list[InvoiceEntry]:
        await trio.lowlevel.checkpoint()
        found = [
            entry
            for entry in self.entries.values()
            if entry.backend_key == backend_key
            and entry.settled_at is None
            and entry.expires_at > expires_after
        ]
        return sorted(found, key=lambda entry: entry.created_at, reverse=True)[:limit]

    async def record_invoice(self, entry: InvoiceEntry) -> None:
        await trio.lowlevel.checkpoint()
        self.entries[entry.payment_hash] = entry

    async def mark_settled(
        self, payment_hash: PaymentHash, preimage: str, settled_at: datetime
    ) -> bool:
        await trio.lowlevel.checkpoint()
        entry = self.entries.get(payment_hash)
        if entry is None:
            raise NotFound(f"no invoice with payment hash {payment_hash}")
        if entry.settled_at is not None:
            return False
        self.entries[payment_hash] = replace(entry, preimage=preimage, settled_at=settled_at)
        return True

    def get(self, payment_hash: PaymentHash) -> InvoiceEntry:
        try:
            return self.entries[payment_hash]
        except KeyError:
            raise NotFound(payment_hash) from None


@dataclass
class Harness:
    """A running balancer over fakes."""

    balancer: Balancer
    source: FakeSource
    fleet: FakeFleet
    ledger: FakeLedger

    def node(self, index: int) -> FakeNode:
        return self.fleet.nodes[node_key(index)]

    def member(self, index: int) -> Member:
        member = self.balancer.pool.get(node_key(index))
        assert member is not None
        return member

    async def issue(
        self, partition: str = "default", amount: int = 1000, key: str | None = None
    ) -> IssuedInvoice:
        return await self.balancer.issue_invoice(
            partition=partition,
            amount=Msat(amount),
            description='[["text/plain","test"]]',
            reference=f"offer:{partition}/test",
            expiry=600,
            key=key,
        )

    async def settle_refresh(self) -> None:
        """Let discovery and probes catch up with source changes."""
        cfg = self.balancer.config
        await trio.sleep(cfg.backend_refresh + cfg.health.interval + cfg.health.timeout)


async def issue_coffee(balancer: Balancer, *, description_hash_only: bool = True) -> PaymentHash:
    """One 21,000 msat invoice for alice@example.com through ``balancer``; its hash."""
    issued = await balancer.issue_invoice(
        partition="default",
        amount=Msat(21_000),
        description="coffee",
        reference="address:alice@example.com",
        expiry=600,
        description_hash_only=description_hash_only,
    )
    return issued.invoice.payment_hash


def make_config(**overrides: object) -> BalancerConfig:
    """Small intervals so scenarios stay short even in virtual time."""
    health = HealthConfig(
        interval=Seconds(1.0),
        timeout=Seconds(0.5),
        healthy_after=1,
        unhealthy_after=2,
        ejection=Seconds(10.0),
        max_ejection=Seconds(60.0),
    )
    retry = RetryConfig(
        initial=Seconds(0.05),
        multiplier=2.0,
        max_interval=Seconds(0.5),
        max_elapsed=Seconds(2.0),
    )
    values: dict[str, object] = {
        "backend_refresh": Seconds(0.5),
        "invoice_timeout": Seconds(1.0),
        "health": health,
        "retry": retry,
    }
    values.update(overrides)
    return BalancerConfig(**values)  # type: ignore[arg-type]


@asynccontextmanager
async def running(
    *backends: Backend,
    cfg: BalancerConfig | None = None,
    partitions: frozenset[str] | None = None,
    rng: random.Random | None = None,
    updates: AsyncIterable[BalancerConfig] | None = None,
    ledger: FakeLedger | None = None,
    fleet: FakeFleet | None = None,
) -> AsyncIterator[Harness]:
    """A balancer over ``backends``; pass the ``ledger`` and ``fleet`` of an earlier run to
    run again as a restarted daemon would (same database, same nodes)."""
    source, fleet, ledger = FakeSource(), fleet or FakeFleet(), ledger or FakeLedger()
    for record in backends:
        source.put(record)
        if record.public_key not in fleet.nodes:
            fleet.add(record.public_key)
    pool = BackendPool(source, fleet.connect, partitions=partitions)
    balancer = Balancer(pool, ledger, cfg or make_config(), rng=rng)
    async with trio.open_nursery() as nursery:
        await nursery.start(functools.partial(run_balancer, balancer, updates=updates))
        yield Harness(balancer, source, fleet, ledger)
        nursery.cancel_scope.cancel()
