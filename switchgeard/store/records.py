"""Record types kept by the store (frozen dataclasses) and their validation.

JSON shapes on the admin API follow the original Switchgear (camelCase); the converters
live in ``switchgeard.store.codec``. Records here hold already-validated values.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from switchgeard.units import Msat, NodeKey, PaymentHash


@dataclass(frozen=True, slots=True, kw_only=True)
class LndGrpc:
    """How to reach an LND node (``{"type": "lndGrpc", ...}``). Paths are on the daemon's host."""

    url: str
    domain: str | None = None
    tls_cert_path: str | None = None
    macaroon_path: str
    amp_invoice: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ClnGrpc:
    """How to reach a Core Lightning node over mTLS (``{"type": "clnGrpc", ...}``)."""

    url: str
    domain: str | None = None
    ca_cert_path: str | None = None
    client_cert_path: str
    client_key_path: str


Implementation = LndGrpc | ClnGrpc


@dataclass(frozen=True, slots=True, kw_only=True)
class Backend:
    """A Lightning node the balancer may use, keyed by its compressed public key.

    Timestamps are set by the store; values passed in on create/put are ignored.
    """

    public_key: NodeKey
    name: str | None
    partitions: frozenset[str]
    weight: int
    enabled: bool
    implementation: Implementation
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BackendPatch:
    """Fields a PATCH may change; ``None`` means "leave as is".

    ``clear_name`` removes the name (JSON ``"name": null``); it cannot be combined with ``name``.
    """

    name: str | None = None
    clear_name: bool = False
    partitions: frozenset[str] | None = None
    weight: int | None = None
    enabled: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Image:
    kind: Literal["png", "jpeg"]
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Identifier:
    kind: Literal["email", "text"]
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Metadata:
    """What a wallet shows for an offer (LUD-06 metadata), keyed by (partition, id)."""

    partition: str
    id: uuid.UUID
    text: str
    long_text: str | None = None
    image: Image | None = None
    identifier: Identifier | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Offer:
    """An LNURL-pay offer, keyed by (partition, id); not valid before ``timestamp``."""

    partition: str
    id: uuid.UUID
    min_sendable: Msat
    max_sendable: Msat
    metadata_id: uuid.UUID
    timestamp: datetime
    expires: datetime | None = None
    comment_allowed: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    """A Lightning Address (LUD-16) ``username@domain``."""

    domain: str
    username: str
    partition: str
    text: str
    long_text: str | None = None
    image: Image | None = None
    is_email: bool = False
    min_sendable: Msat
    max_sendable: Msat
    comment_allowed: int = 0
    enabled: bool = True
    source: Literal["local", "ldap"] = "local"
    external_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceEntry:
    """One invoice the LNURL service issued (the ledger used by LUD-21 verify and statistics).

    ``reference`` is ``"offer:<partition>/<id>"`` or ``"address:<username>@<domain>"``.
    """

    payment_hash: PaymentHash
    backend_key: NodeKey
    reference: str
    amount_msat: Msat
    bolt11: str
    created_at: datetime
    expires_at: datetime
    settled_at: datetime | None = None
    preimage: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceStats:
    """Ledger totals for one backend: invoices issued, invoices settled and the msat settled."""

    issued: int
    settled: int
    settled_msat: Msat


@dataclass(frozen=True, slots=True, kw_only=True)
class LdapSyncResult:
    """What ``replace_ldap_addresses`` did.

    ``skipped`` lists the external ids whose ``username@domain`` is taken by another address
    (a local one, or another LDAP entry); those entries were not written.
    """

    inserted: int
    updated: int
    deleted: int
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Page:
    """A page request for offers, metadata and addresses lists."""

    start: int = 0
    count: int | None = None
