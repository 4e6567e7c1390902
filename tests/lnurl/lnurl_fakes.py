"""In-memory fakes for the protocols the public app declares (offers, balancer, ledger)."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trio
from signed_invoices import Issued, issue_signed

from switchgeard.errors import BackendError, NotFound
from switchgeard.lightning.interface import InvoiceState
from switchgeard.store.records import Identifier, Image, InvoiceEntry, Metadata, Offer
from switchgeard.units import Msat, NodeKey, PaymentHash

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
OFFER_ID = uuid.UUID("a4b1d7f6-5a62-4c1b-9e4b-2f1f3a7c9d10")
METADATA_ID = uuid.UUID("0b7e5d2c-3f41-4c8a-8d7e-6a5b4c3d2e1f")


def make_metadata(**changes: object) -> Metadata:
    base = Metadata(
        partition="default",
        id=METADATA_ID,
        text='Café ☕ for "everyone"',
        long_text="line one\nline two",
        image=Image(kind="png", data=b"\x00\x01"),
        identifier=Identifier(kind="email", value="shop@example.com"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def make_offer(**changes: object) -> Offer:
    base = Offer(
        partition="default",
        id=OFFER_ID,
        min_sendable=Msat(1000),
        max_sendable=Msat(1_000_000),
        metadata_id=METADATA_ID,
        timestamp=NOW - timedelta(days=1),
        expires=None,
        comment_allowed=10,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


class FakeOffers:
    def __init__(self, *pairs: tuple[Offer, Metadata]) -> None:
        self.pairs = {(o.partition, o.id): (o, m) for o, m in pairs}
        self.failure: Exception | None = None

    async def get_offer_with_metadata(
        self, partition: str, id: uuid.UUID
    ) -> tuple[Offer, Metadata]:
        if self.failure is not None:
            raise self.failure
        try:
            return self.pairs[(partition, id)]
        except KeyError:
            raise NotFound(f"offer {partition}/{id}") from None


@dataclass
class IssueCall:
    partition: str
    amount: Msat
    description: str
    reference: str
    description_hash_only: bool
    expiry: int
    key: str | None


@dataclass
class FakeBalancer:
    """Issues real signed invoices and records them in ``ledger``; raises ``failure`` if set."""

    ledger: FakeLedger
    healthy: set[str] = field(default_factory=lambda: {"default"})
    failure: Exception | None = None
    calls: list[IssueCall] = field(default_factory=list)
    consistent_key: str = "comment"

    async def issue_invoice(
        self,
        *,
        partition: str,
        amount: Msat,
        description: str,
        reference: str,
        expiry: int,
        description_hash_only: bool = True,
        key: str | None = None,
    ) -> Issued:
        self.calls.append(
            IssueCall(partition, amount, description, reference, description_hash_only, expiry, key)
        )
        if self.failure is not None:
            raise self.failure
        preimage = len(self.calls).to_bytes(32, "big")
        issued, entry = issue_signed(
            preimage, amount, description, reference=reference, expiry=expiry, at=NOW
        )
        await self.ledger.record_invoice(entry)
        return issued

    def selectable(self, partition: str) -> bool:
        return partition in self.healthy


class FakeLedger:
    """The ledger and a node's view of settlement, in one fake."""

    def __init__(self) -> None:
        self.entries: dict[str, InvoiceEntry] = {}
        self.node_preimages: dict[str, str] = {}
        self.record_failure: Exception | None = None
        self.node_failure: BackendError | None = None
        self.lookups = 0
        self.recorded_settlements: list[NodeKey] = []

    async def record_invoice(self, entry: InvoiceEntry) -> None:
        if self.record_failure is not None:
            raise self.record_failure
        self.entries[entry.payment_hash] = entry

    async def get_invoice(self, payment_hash: PaymentHash) -> InvoiceEntry:
        try:
            return self.entries[payment_hash]
        except KeyError:
            raise NotFound(f"invoice {payment_hash}") from None

    async def mark_settled(
        self, payment_hash: PaymentHash, preimage: str, settled_at: datetime
    ) -> bool:
        entry = self.entries[payment_hash]
        self.entries[payment_hash] = replace(entry, preimage=preimage, settled_at=settled_at)
        return entry.settled_at is None

    async def lookup_invoice(self, key: NodeKey, payment_hash: PaymentHash) -> InvoiceState:
        self.lookups += 1
        if self.node_failure is not None:
            raise self.node_failure
        preimage = self.node_preimages.get(payment_hash)
        return InvoiceState(
            payment_hash=payment_hash,
            settled=preimage is not None,
            preimage=preimage,
            bolt11=None,
        )

    def recorded(self, key: NodeKey) -> None:
        self.recorded_settlements.append(key)


async def decode_qr(png: bytes, tmp_path: Path) -> str:
    """The text in a QR code PNG, read by zbarimg (Debian zbar-tools; scripts/setup installs it)."""
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        pytest.skip("zbarimg is not installed (Debian package zbar-tools)")
    image = tmp_path / "qr.png"
    image.write_bytes(png)
    done = await trio.run_process([zbarimg, "--raw", "-q", str(image)], capture_stdout=True)
    return bytes(done.stdout).decode().strip()
