"""Credentials a node starts refusing while connected (rotated macaroon or TLS certificate)
are read again: the balancer reopens the connection instead of keeping the stale one."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import trio
from balancer_fakes import FakeFleet, FakeLedger, FakeNode, FakeSource, backend, make_config
from trio.testing import MockClock

from switchgeard.balancer import BackendPool, Balancer, run_balancer
from switchgeard.errors import BackendAuthError
from switchgeard.lightning.interface import Invoice, InvoiceState, NodeStatus, Settlement
from switchgeard.store.records import Backend
from switchgeard.units import Msat, NodeKey, PaymentHash


class Rotation:
    """The node accepts only the newest credentials; a connection keeps what it read."""

    def __init__(self) -> None:
        self.generation = 0


class CredentialedClient:
    """A FakeNode behind credentials read when the connection was opened."""

    def __init__(self, node: FakeNode, stale: Callable[[], bool]) -> None:
        self._node = node
        self._stale = stale

    @property
    def key(self) -> NodeKey:
        return self._node.key

    @property
    def name(self) -> str:
        return self._node.name

    def _check(self) -> None:
        if self._stale():
            raise BackendAuthError("node refused our credentials (macaroon /m)", key=self.key)

    async def create_invoice(
        self, amount_msat: Msat, description: str, *, description_hash_only: bool, expiry: int
    ) -> Invoice:
        self._check()
        return await self._node.create_invoice(
            amount_msat, description, description_hash_only=description_hash_only, expiry=expiry
        )

    async def status(self) -> NodeStatus:
        self._check()
        return await self._node.status()

    async def lookup_invoice(self, payment_hash: PaymentHash) -> InvoiceState:
        self._check()
        return await self._node.lookup_invoice(payment_hash)

    def watch_settlements(self, *, after: int) -> AsyncIterator[Settlement | None]:
        return self._node.watch_settlements(after=after)

    async def aclose(self) -> None:
        await self._node.aclose()


async def test_refused_credentials_are_read_again(autojump_clock: MockClock) -> None:
    source, fleet, ledger, rotation = FakeSource(), FakeFleet(), FakeLedger(), Rotation()
    record = backend(1)
    source.put(record)
    fleet.add(record.public_key)

    @asynccontextmanager
    async def connect(record: Backend) -> AsyncIterator[CredentialedClient]:
        read = rotation.generation  # the credential files as they are now
        async with fleet.connect(record) as node:
            yield CredentialedClient(node, lambda: read != rotation.generation)

    cfg = make_config()
    balancer = Balancer(BackendPool(source, connect), ledger, cfg)
    async with trio.open_nursery() as nursery:
        await nursery.start(functools.partial(run_balancer, balancer))
        member = balancer.pool.get(record.public_key)
        assert member is not None and member.health.healthy
        rotation.generation += 1  # new macaroon written, the old one revoked
        await trio.sleep(cfg.health.interval * (cfg.health.unhealthy_after + 2))
        assert len(fleet.opened) == 2 and len(fleet.closed) == 1  # reopened: files read again
        assert member.health.healthy
        issued = await balancer.issue_invoice(
            partition="default",
            amount=Msat(1000),
            description="x",
            reference="offer:default/x",
            expiry=600,
        )
        assert issued.backend_key == record.public_key
        nursery.cancel_scope.cancel()
