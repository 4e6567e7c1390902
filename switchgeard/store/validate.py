"""Whole-record checks the store runs before every write.

Records built by the codec pass them already; records built in code (the LDAP syncer, the
LNURL service's ledger writes) are checked here too, so nothing invalid reaches a table.
Each function returns the record in canonical form or raises ``InvalidInput``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re

from switchgeard.errors import InvalidInput
from switchgeard.store import values
from switchgeard.store.records import (
    Address,
    Backend,
    BackendPatch,
    ClnGrpc,
    Identifier,
    Image,
    Implementation,
    InvoiceEntry,
    LndGrpc,
    Metadata,
    Offer,
)
from switchgeard.store.rfc3339 import require_aware
from switchgeard.units import NodeKey, PaymentHash

_HASH = re.compile(r"[0-9a-f]{64}")
_NAME_LIMIT = 256


def check_backend(backend: Backend) -> Backend:
    return dataclasses.replace(
        backend,
        public_key=values.node_key("publicKey", backend.public_key),
        name=_optional_name(backend.name),
        partitions=check_partitions(backend.partitions),
        weight=values.integer("weight", backend.weight, low=0, high=values.WEIGHT_LIMIT),
        enabled=values.boolean("enabled", backend.enabled),
        implementation=check_implementation(backend.implementation),
    )


def check_patch(patch: BackendPatch) -> BackendPatch:
    if patch.clear_name and patch.name is not None:
        raise InvalidInput("name", "cannot both set and clear the name")
    return dataclasses.replace(
        patch,
        name=_optional_name(patch.name),
        partitions=None if patch.partitions is None else check_partitions(patch.partitions),
        weight=None
        if patch.weight is None
        else values.integer("weight", patch.weight, low=0, high=values.WEIGHT_LIMIT),
        enabled=None if patch.enabled is None else values.boolean("enabled", patch.enabled),
    )


def check_partitions(partitions: frozenset[str]) -> frozenset[str]:
    if len(partitions) > 1000:
        raise InvalidInput("partitions", "at most 1000 partitions")
    return frozenset(values.partition("partitions", p) for p in partitions)


def check_implementation(impl: Implementation) -> Implementation:
    prefix = "implementation"
    if not isinstance(impl, LndGrpc | ClnGrpc):
        raise InvalidInput(f"{prefix}.type", "must be lndGrpc or clnGrpc")
    url = values.grpc_url(f"{prefix}.url", impl.url)
    domain = None if impl.domain is None else values.hostname(f"{prefix}.domain", impl.domain)
    auth = f"{prefix}.auth"
    if isinstance(impl, LndGrpc):
        return LndGrpc(
            url=url,
            domain=domain,
            tls_cert_path=_optional_path(f"{auth}.tlsCertPath", impl.tls_cert_path),
            macaroon_path=values.file_path(f"{auth}.macaroonPath", impl.macaroon_path),
            amp_invoice=values.boolean(f"{prefix}.ampInvoice", impl.amp_invoice),
        )
    return ClnGrpc(
        url=url,
        domain=domain,
        ca_cert_path=_optional_path(f"{auth}.caCertPath", impl.ca_cert_path),
        client_cert_path=values.file_path(f"{auth}.clientCertPath", impl.client_cert_path),
        client_key_path=values.file_path(f"{auth}.clientKeyPath", impl.client_key_path),
    )


def check_metadata(metadata: Metadata) -> Metadata:
    return dataclasses.replace(
        metadata,
        partition=values.partition("partition", metadata.partition),
        id=values.uuid_value("id", metadata.id),
        text=values.text("text", metadata.text),
        long_text=_optional_text("longText", metadata.long_text),
        image=_check_image(metadata.image),
        identifier=_check_identifier(metadata.identifier),
    )


def check_offer(offer: Offer) -> Offer:
    _check_amounts(offer.min_sendable, offer.max_sendable)
    timestamp = require_aware("timestamp", offer.timestamp)
    expires = None if offer.expires is None else require_aware("expires", offer.expires)
    if expires is not None and expires <= timestamp:
        raise InvalidInput("expires", "must be later than timestamp")
    return dataclasses.replace(
        offer,
        partition=values.partition("partition", offer.partition),
        id=values.uuid_value("id", offer.id),
        metadata_id=values.uuid_value("metadataId", offer.metadata_id),
        timestamp=timestamp,
        expires=expires,
        comment_allowed=_comment_allowed(offer.comment_allowed),
    )


def check_address(address: Address) -> Address:
    _check_amounts(address.min_sendable, address.max_sendable)
    if address.source not in ("local", "ldap"):
        raise InvalidInput("source", "must be local or ldap")
    if address.source == "ldap" and not address.external_id:
        raise InvalidInput("externalId", "is required for addresses from LDAP")
    return dataclasses.replace(
        address,
        domain=values.hostname("domain", address.domain, allow_port=True),
        username=values.username("username", address.username),
        partition=values.partition("partition", address.partition),
        text=values.text("text", address.text),
        long_text=_optional_text("longText", address.long_text),
        image=_check_image(address.image),
        is_email=values.boolean("isEmail", address.is_email),
        comment_allowed=_comment_allowed(address.comment_allowed),
        enabled=values.boolean("enabled", address.enabled),
        external_id=None
        if address.external_id is None
        else values.text("externalId", address.external_id, limit=256),
    )


def check_invoice(entry: InvoiceEntry) -> InvoiceEntry:
    created = require_aware("createdAt", entry.created_at)
    expires = require_aware("expiresAt", entry.expires_at)
    if expires < created:
        raise InvalidInput("expiresAt", "must not be earlier than createdAt")
    settled = None if entry.settled_at is None else require_aware("settledAt", entry.settled_at)
    payment_hash = payment_hash_value(entry.payment_hash)
    if entry.preimage is not None:
        check_preimage(payment_hash, entry.preimage)
    return dataclasses.replace(
        entry,
        payment_hash=payment_hash,
        backend_key=values.node_key("backendKey", entry.backend_key),
        reference=values.text("reference", entry.reference, limit=512),
        amount_msat=values.msat("amountMsat", entry.amount_msat),
        bolt11=values.text("bolt11", entry.bolt11, limit=8000),
        created_at=created,
        expires_at=expires,
        settled_at=settled,
    )


def payment_hash_value(value: object) -> PaymentHash:
    if not isinstance(value, str) or not _HASH.fullmatch(value.lower()):
        raise InvalidInput("paymentHash", "must be 64 hex characters")
    return PaymentHash(value.lower())


def check_preimage(payment_hash: PaymentHash, preimage: str) -> str:
    """The preimage must be 64 hex characters whose SHA-256 is the payment hash."""
    if not _HASH.fullmatch(preimage.lower()):
        raise InvalidInput("preimage", "must be 64 hex characters")
    if hashlib.sha256(bytes.fromhex(preimage)).hexdigest() != payment_hash:
        raise InvalidInput("preimage", "does not hash to the payment hash")
    return preimage.lower()


def node_key_value(value: object) -> NodeKey:
    return values.node_key("publicKey", value)


def _check_amounts(low: int, high: int) -> None:
    values.msat("minSendable", low)
    values.msat("maxSendable", high)
    if low > high:
        raise InvalidInput("minSendable", f"must not exceed maxSendable ({low} > {high})")


def _comment_allowed(value: int) -> int:
    return values.integer("commentAllowed", value, low=0, high=values.COMMENT_LIMIT)


def _optional_name(name: str | None) -> str | None:
    return None if name is None else values.text("name", name, limit=_NAME_LIMIT)


def _optional_text(field: str, value: str | None) -> str | None:
    return None if value is None else values.text(field, value)


def _optional_path(field: str, value: str | None) -> str | None:
    return None if value is None else values.file_path(field, value)


def _check_image(image: Image | None) -> Image | None:
    if image is not None:
        values.check_image("image", values.image_kind("image", image.kind), image.data)
    return image


def _check_identifier(identifier: Identifier | None) -> Identifier | None:
    if identifier is None:
        return None
    if identifier.kind not in ("email", "text"):
        raise InvalidInput("identifier", "must be email or text")
    return Identifier(kind=identifier.kind, value=values.email("identifier", identifier.value))
