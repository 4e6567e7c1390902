"""BOLT 12 reader requirements.

The context-free rules run on every decode (:mod:`switchgeard.bolt12.messages`); the
contextual ones (clock, supported chains) are separate functions the caller applies.
Every failure is :class:`InvalidField` naming the offending TLV type where there is one.
"""

from __future__ import annotations

from collections.abc import Collection

from switchgeard.bolt12.fields import InvalidField, InvoiceFields, InvreqFields, OfferFields
from switchgeard.bolt12.paths import unknown_even_bits

BITCOIN_CHAIN = bytes.fromhex("6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000")
DEFAULT_RELATIVE_EXPIRY = 7200
OFFER_FEATURES: frozenset[int] = frozenset()
INVREQ_FEATURES: frozenset[int] = frozenset()
INVOICE_FEATURES = frozenset({16, 17})
PAYINFO_FEATURES: frozenset[int] = frozenset()


def in_offer_range(tlv_type: int) -> bool:
    return 1 <= tlv_type <= 79 or 1_000_000_000 <= tlv_type <= 1_999_999_999


def in_invreq_range(tlv_type: int) -> bool:
    return 0 <= tlv_type <= 159 or 1_000_000_000 <= tlv_type <= 2_999_999_999


def in_invoice_range(tlv_type: int) -> bool:
    return 0 <= tlv_type <= 239 or 1_000_000_000 <= tlv_type <= 3_999_999_999


def check_features(features: bytes | None, known: frozenset[int], tlv_type: int) -> None:
    unknown = unknown_even_bits(features or b"", known)
    if unknown:
        raise InvalidField(f"unknown even feature bits {unknown}", tlv_type=tlv_type)


def check_offer(offer: OfferFields) -> None:
    """The offer reader's MUST NOT respond rules that need no context."""
    check_features(offer.features, OFFER_FEATURES, 12)
    if offer.amount is not None and offer.description is None:
        raise InvalidField("offer_amount without offer_description", tlv_type=10)
    if offer.currency is not None and offer.amount is None:
        raise InvalidField("offer_currency without offer_amount", tlv_type=8)
    if offer.amount == 0:
        raise InvalidField("offer_amount is zero", tlv_type=8)
    if offer.issuer_id is None and offer.paths is None:
        raise InvalidField("neither offer_issuer_id nor offer_paths", tlv_type=22)


def responds_to_offer(offer: OfferFields) -> bool:
    return offer.issuer_id is not None or offer.paths is not None


def check_invreq(offer: OfferFields, invreq: InvreqFields) -> None:
    """The invoice_request reader rules that need neither the offer table nor a clock."""
    if invreq.metadata is None:
        raise InvalidField("invreq_metadata is missing", tlv_type=0)
    if invreq.payer_id is None:
        raise InvalidField("invreq_payer_id is missing", tlv_type=88)
    check_features(invreq.features, INVREQ_FEATURES, 84)
    if not responds_to_offer(offer):
        for tlv_type, value in ((2, offer.chains), (12, offer.features), (20, offer.quantity_max)):
            if value is not None:
                raise InvalidField("offer field in a request without offer", tlv_type=tlv_type)
        if invreq.amount is None:
            raise InvalidField("invreq_amount is missing", tlv_type=82)
        return
    _check_quantity(offer, invreq)
    if offer.amount is None and invreq.amount is None:
        raise InvalidField("invreq_amount is required when the offer has no amount", tlv_type=82)
    expected = None if offer.currency else _expected_msat(offer, invreq)
    if expected is not None and invreq.amount is not None and invreq.amount < expected:
        raise InvalidField("invreq_amount is below the offer amount", tlv_type=82)


def _check_quantity(offer: OfferFields, invreq: InvreqFields) -> None:
    if offer.quantity_max is None:
        if invreq.quantity is not None:
            raise InvalidField("invreq_quantity for an offer without quantity", tlv_type=86)
        return
    if invreq.quantity is None:
        raise InvalidField("invreq_quantity is missing", tlv_type=86)
    if offer.quantity_max and not 0 < invreq.quantity <= offer.quantity_max:
        raise InvalidField("invreq_quantity outside 1..offer_quantity_max", tlv_type=86)


def check_invoice(offer: OfferFields, invreq: InvreqFields, invoice: InvoiceFields) -> None:
    """The invoice reader rules that need neither the original request nor a clock."""
    for tlv_type, value in (
        (170, invoice.amount),
        (164, invoice.created_at),
        (168, invoice.payment_hash),
        (176, invoice.node_id),
        (160, invoice.paths),
        (162, invoice.blindedpay),
    ):
        if value is None:
            raise InvalidField("required invoice field is missing", tlv_type=tlv_type)
    assert invoice.paths is not None and invoice.blindedpay is not None
    check_features(invoice.features, INVOICE_FEATURES, 174)
    if len(invoice.blindedpay) != len(invoice.paths):
        raise InvalidField("invoice_blindedpay count differs from invoice_paths", tlv_type=162)
    if all(unknown_even_bits(info.features, PAYINFO_FEATURES) for info in invoice.blindedpay):
        raise InvalidField("no usable invoice path (unknown payinfo features)", tlv_type=162)
    if invreq.amount is not None and invoice.amount != invreq.amount:
        raise InvalidField("invoice_amount differs from invreq_amount", tlv_type=170)
    if offer.issuer_id is not None:
        if invoice.node_id != offer.issuer_id:
            raise InvalidField("invoice_node_id is not offer_issuer_id", tlv_type=176)
    elif offer.paths is not None and invoice.node_id not in _final_ids(offer):
        raise InvalidField("invoice_node_id is no final hop of offer_paths", tlv_type=176)


def check_offer_current(offer: OfferFields, *, now: int, chains: Collection[bytes]) -> None:
    """Contextual offer rules: not expired at ``now`` and valid on one of ``chains``."""
    if offer.absolute_expiry is not None and now > offer.absolute_expiry:
        raise InvalidField("offer has expired", tlv_type=14)
    if not set(offer.chains or (BITCOIN_CHAIN,)) & set(chains):
        raise InvalidField("offer is for no supported chain", tlv_type=2)


def check_chain(invreq: InvreqFields, chains: Collection[bytes]) -> None:
    """``invreq_chain`` (bitcoin when absent) must be one of ``chains``."""
    if (invreq.chain or BITCOIN_CHAIN) not in chains:
        raise InvalidField("unsupported chain", tlv_type=80)


def check_invoice_current(invoice: InvoiceFields, *, now: int) -> None:
    """The invoice must not have expired at ``now`` (seconds since the epoch)."""
    assert invoice.created_at is not None
    expiry = invoice.relative_expiry
    if now > invoice.created_at + (DEFAULT_RELATIVE_EXPIRY if expiry is None else expiry):
        raise InvalidField("invoice has expired", tlv_type=166)


def _expected_msat(offer: OfferFields, invreq: InvreqFields) -> int | None:
    """offer_amount times the quantity, for offers priced in the chain's own unit."""
    if offer.amount is None:
        return None
    return offer.amount * (invreq.quantity or 1)


def _final_ids(offer: OfferFields) -> set[bytes]:
    return {path.final_node_id for path in offer.paths or ()}
