"""Record builders and a deterministic clock for the store tests."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import coincurve

from switchgeard.store.records import (
    Address,
    Backend,
    ClnGrpc,
    Image,
    InvoiceEntry,
    LndGrpc,
    Metadata,
    Offer,
)
from switchgeard.units import Msat, NodeKey, PaymentHash

START = datetime(2024, 1, 1, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
PNG_B64 = base64.b64encode(PNG).decode()


class FakeClock:
    """Every reading is one second after the previous one, so creation order is total."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def node_key(seed: int) -> NodeKey:
    secret = hashlib.sha256(f"node {seed}".encode()).digest()
    return NodeKey(coincurve.PrivateKey(secret).public_key.format(compressed=True).hex())


def uncompressed(key: str) -> str:
    return coincurve.PublicKey(bytes.fromhex(key)).format(compressed=False).hex()


def backend(seed: int = 1, **changes: object) -> Backend:
    fields: dict[str, object] = {
        "public_key": node_key(seed),
        "name": f"node {seed}",
        "partitions": frozenset({"default"}),
        "weight": 1,
        "enabled": True,
        "implementation": LndGrpc(
            url="https://127.0.0.1:10009",
            tls_cert_path="/etc/lnd/tls.cert",
            macaroon_path="/etc/lnd/invoice.macaroon",
        ),
    }
    fields.update(changes)
    return Backend(**fields)  # type: ignore[arg-type]


def cln() -> ClnGrpc:
    return ClnGrpc(
        url="https://cln.example:9736",
        domain="cln.example",
        ca_cert_path="/etc/cln/ca.pem",
        client_cert_path="/etc/cln/client.pem",
        client_key_path="/etc/cln/client-key.pem",
    )


def metadata(partition: str = "default", **changes: object) -> Metadata:
    fields: dict[str, object] = {"partition": partition, "id": uuid.uuid4(), "text": "coffee"}
    fields.update(changes)
    return Metadata(**fields)  # type: ignore[arg-type]


def offer(meta: Metadata, **changes: object) -> Offer:
    fields: dict[str, object] = {
        "partition": meta.partition,
        "id": uuid.uuid4(),
        "min_sendable": Msat(1000),
        "max_sendable": Msat(100_000),
        "metadata_id": meta.id,
        "timestamp": START,
    }
    fields.update(changes)
    return Offer(**fields)  # type: ignore[arg-type]


def address(username: str = "alice", **changes: object) -> Address:
    fields: dict[str, object] = {
        "domain": "pay.example",
        "username": username,
        "partition": "default",
        "text": f"pay {username}",
        "min_sendable": Msat(1000),
        "max_sendable": Msat(1_000_000),
    }
    fields.update(changes)
    return Address(**fields)  # type: ignore[arg-type]


def ldap_address(username: str, external_id: str, **changes: object) -> Address:
    return address(username, source="ldap", external_id=external_id, **changes)


def preimage(seed: int) -> str:
    return hashlib.sha256(f"preimage {seed}".encode()).hexdigest()


def invoice(seed: int, backend_seed: int = 1, **changes: object) -> InvoiceEntry:
    fields: dict[str, object] = {
        "payment_hash": PaymentHash(hashlib.sha256(bytes.fromhex(preimage(seed))).hexdigest()),
        "backend_key": node_key(backend_seed),
        "reference": "offer:default/00000000-0000-0000-0000-000000000000",
        "amount_msat": Msat(1000 * seed),
        "bolt11": f"lnbc{seed}n1fake",
        "created_at": START,
        "expires_at": START + timedelta(minutes=10),
    }
    fields.update(changes)
    return InvoiceEntry(**fields)  # type: ignore[arg-type]


def image(kind: str = "png") -> Image:
    return Image(kind="png", data=PNG) if kind == "png" else Image(kind="jpeg", data=JPEG)
