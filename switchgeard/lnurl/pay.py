"""LUD-06 payRequest logic as plain functions, and the narrow interfaces it needs.

The callback checks run in a fixed order so the same bad request always gets the same
answer: unknown, expired or not-yet-valid offer (404); missing or malformed ``amount`` (400);
comment longer than the offer allows, counted in Unicode characters (LUD-12, 400); amount
outside ``[minSendable, maxSendable]`` (400); then the balancer (503 when no node could make
a valid invoice, 400 when a node refused the request).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from switchgeard.errors import NotFound, RequestError
from switchgeard.lightning.interface import Invoice
from switchgeard.lnurl.metadata import metadata_string
from switchgeard.lnurl.origin import Origin
from switchgeard.store.records import Metadata, Offer
from switchgeard.units import Msat, NodeKey


class OfferLookup(Protocol):
    """The store method the public service reads offers with."""

    async def get_offer_with_metadata(
        self, partition: str, id: uuid.UUID
    ) -> tuple[Offer, Metadata]: ...


class IssuedInvoice(Protocol):
    @property
    def invoice(self) -> Invoice: ...

    @property
    def backend_key(self) -> NodeKey: ...


class InvoiceIssuer(Protocol):
    """The balancer: creates an invoice on a healthy node of a partition and records it in
    the ledger under ``reference``. Raises ``BackendRejected``, ``NoHealthyBackend`` or
    ``StoreError``."""

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
    ) -> IssuedInvoice: ...

    def selectable(self, partition: str) -> bool: ...

    @property
    def consistent_key(self) -> str:
        """What ``key`` holds for the consistent strategy: "comment" or "client_ip"."""
        ...


class Payable(Protocol):
    """What an offer and a Lightning Address share as a payRequest: partition and limits."""

    @property
    def partition(self) -> str: ...

    @property
    def min_sendable(self) -> Msat: ...

    @property
    def max_sendable(self) -> Msat: ...

    @property
    def comment_allowed(self) -> int: ...


class CallbackService(Protocol):
    """What a callback route needs to issue an invoice."""

    @property
    def invoices(self) -> InvoiceIssuer: ...

    @property
    def invoice_expiry(self) -> int: ...

    def hash_key(self, comment: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class LoadedOffer:
    offer: Offer
    metadata: str
    """The exact metadata string served and hashed."""


def offer_not_found(id: object) -> RequestError:
    return RequestError(f"offer not found: {id}", status=404)


def parse_offer_id(text: str) -> uuid.UUID:
    """The offer id from the path; an id that is not a UUID names no offer (404)."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise offer_not_found(text) from None


async def load_offer(
    offers: OfferLookup, partition: str, id: uuid.UUID, now: datetime
) -> LoadedOffer:
    """The offer and its metadata string; 404 when missing, expired or not yet valid."""
    try:
        offer, metadata = await offers.get_offer_with_metadata(partition, id)
    except NotFound:
        raise offer_not_found(id) from None
    if now < offer.timestamp or (offer.expires is not None and now > offer.expires):
        raise offer_not_found(id)
    return LoadedOffer(offer, metadata_string(metadata))


def pay_request(payable: Payable, metadata: str, callback: str) -> dict[str, Any]:
    """The LUD-06 first response; ``commentAllowed`` only when comments are allowed (LUD-12)."""
    body: dict[str, Any] = {
        "callback": callback,
        "maxSendable": int(payable.max_sendable),
        "minSendable": int(payable.min_sendable),
        "tag": "payRequest",
        "metadata": metadata,
    }
    if payable.comment_allowed > 0:
        body["commentAllowed"] = payable.comment_allowed
    return body


def parse_amount(values: list[str]) -> Msat:
    """The ``amount`` query parameter in msat; exactly one non-negative integer."""
    if not values:
        raise RequestError("amount is required (millisatoshis)")
    if len(values) > 1:
        raise RequestError("amount must be given once")
    try:
        return Msat.parse(values[0])
    except ValueError:
        raise RequestError("amount must be a non-negative integer (millisatoshis)") from None


def check_comment(values: list[str], allowed: int) -> str:
    """The comment (``""`` when absent); at most ``allowed`` Unicode characters."""
    if len(values) > 1:
        raise RequestError("comment must be given once")
    comment = values[0] if values else ""
    if len(comment) > allowed:
        raise RequestError(f"comment is longer than {allowed} characters")
    return comment


def check_range(amount: Msat, payable: Payable) -> None:
    if not payable.min_sendable <= amount <= payable.max_sendable:
        raise RequestError(
            f"amount {int(amount)} msat is outside the valid range "
            f"[{int(payable.min_sendable)}, {int(payable.max_sendable)}] msat"
        )


def parse_callback(args: Mapping[str, list[str]], payable: Payable) -> tuple[Msat, str]:
    """Amount and comment of a callback, checked in the documented order."""
    amount = parse_amount(args.get("amount", []))
    comment = check_comment(args.get("comment", []), payable.comment_allowed)
    check_range(amount, payable)
    return amount, comment


async def answer_callback(
    service: CallbackService,
    origin: Origin,
    payable: Payable,
    *,
    metadata: str,
    reference: str,
    amount: Msat,
    comment: str,
) -> dict[str, Any]:
    """Issue the invoice of a checked callback; the LUD-06 answer with LUD-21 ``verify``."""
    issued = await service.invoices.issue_invoice(
        partition=payable.partition,
        amount=amount,
        description=metadata,
        reference=reference,
        expiry=service.invoice_expiry,
        description_hash_only=True,
        key=service.hash_key(comment),
    )
    invoice = issued.invoice
    return {
        "pr": invoice.bolt11,
        "routes": [],
        "disposable": False,
        "verify": origin.url(f"/verify/{invoice.payment_hash}"),
    }


async def answer_offer_callback(
    service: CallbackService, origin: Origin, loaded: LoadedOffer, amount: Msat, comment: str
) -> dict[str, Any]:
    """``answer_callback`` for an offer's callback (the Quart route and the fast path)."""
    return await answer_callback(
        service,
        origin,
        loaded.offer,
        metadata=loaded.metadata,
        reference=ledger_reference(loaded.offer),
        amount=amount,
        comment=comment,
    )


def ledger_reference(offer: Offer) -> str:
    """How ledger entries name the offer an invoice was issued for."""
    return f"offer:{offer.partition}/{offer.id}"
