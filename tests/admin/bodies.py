"""Request bodies and keys shared by the admin and ctl tests."""

from __future__ import annotations

import uuid
from typing import Any

import coincurve


def node_key(n: int, *, compressed: bool = True) -> str:
    """A valid secp256k1 public key (hex) derived from the private key ``n``."""
    return coincurve.PrivateKey(n.to_bytes(32, "big")).public_key.format(compressed).hex()


def lnd_backend(n: int = 1, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "publicKey": node_key(n),
        "name": f"node{n}",
        "partitions": ["default"],
        "weight": 1,
        "enabled": True,
        "implementation": {
            "type": "lndGrpc",
            "url": "https://127.0.0.1:10009",
            "domain": None,
            "ampInvoice": False,
            "auth": {"type": "path", "macaroonPath": "/p/admin.macaroon", "tlsCertPath": None},
        },
    }
    body.update(changes)
    return body


def metadata(n: int = 1, partition: str = "default", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": str(uuid.UUID(int=n)), "partition": partition, "text": f"m{n}"}
    body.update(changes)
    return body


def offer(n: int = 1, meta: int = 1, partition: str = "default", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "partition": partition,
        "id": str(uuid.UUID(int=1000 + n)),
        "maxSendable": 100_000,
        "minSendable": 1_000,
        "metadataId": str(uuid.UUID(int=meta)),
        "timestamp": "2024-01-01T00:00:00Z",
    }
    body.update(changes)
    return body


def address(
    username: str = "alice", domain: str = "pay.example.com", **changes: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "domain": domain,
        "username": username,
        "partition": "default",
        "text": f"Pay {username}",
        "minSendable": 1_000,
        "maxSendable": 100_000,
    }
    body.update(changes)
    return body
