"""The check every invoice passes before it leaves an adapter.

A node that returns an invoice for the wrong amount, description, chain or payee, or one
without a payment secret, is faulty: ``check_invoice`` raises ``BackendProtocolError`` so
the balancer stops using it rather than handing a wallet something it must not pay.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from switchgeard.errors import BackendProtocolError, DecodeError
from switchgeard.lightning.bolt11 import DecodedInvoice, decode_invoice
from switchgeard.units import Msat, NodeKey

NETWORK_CURRENCY = {"bitcoin": "bc", "testnet": "tb", "signet": "tbs", "regtest": "bcrt"}
"""``LightningConfig.network`` → BOLT 11 currency prefix."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Expected:
    """What the invoice must commit to."""

    amount_msat: Msat
    description: str
    description_hash_only: bool
    network: str
    payee: NodeKey
    payment_hash: str | None = None
    """The hash the node reported next to the invoice, if it reported one."""
    expiry: int | None = None
    """The lifetime requested, in seconds; the invoice must carry it and not be expired."""


def check_invoice(
    bolt11: str, expected: Expected, *, key: str, name: str, now: float | None = None
) -> DecodedInvoice:
    """Decode ``bolt11`` and compare it with ``expected``; return the decoded invoice.

    ``now`` (Unix seconds, default the system clock) is when the invoice must still be valid.

    Raises ``BackendProtocolError`` (carrying ``key`` and ``name``) on the first mismatch.
    """
    try:
        invoice = decode_invoice(bolt11)
    except DecodeError as exc:
        raise BackendProtocolError(
            f"node returned an invalid invoice: {exc}", key=key, name=name
        ) from exc
    problem = _first_problem(invoice, expected) or _expiry_problem(
        invoice, expected, time.time() if now is None else now
    )
    if problem is not None:
        raise BackendProtocolError(f"node returned a wrong invoice: {problem}", key=key, name=name)
    return invoice


def _first_problem(invoice: DecodedInvoice, expected: Expected) -> str | None:
    currency = NETWORK_CURRENCY[expected.network]
    if invoice.currency != currency:
        return f"network prefix ln{invoice.currency}, expected ln{currency} ({expected.network})"
    if invoice.amount_msat != expected.amount_msat:
        return f"amount {invoice.amount_msat} msat, expected {int(expected.amount_msat)} msat"
    if expected.payment_hash is not None and invoice.payment_hash != expected.payment_hash:
        return f"payment hash {invoice.payment_hash} differs from the reported one"
    if invoice.payee != expected.payee:
        return f"payee {invoice.payee}, expected {expected.payee}"
    return _description_problem(invoice, expected)


def _expiry_problem(invoice: DecodedInvoice, expected: Expected, now: float) -> str | None:
    if expected.expiry is not None and invoice.expiry != expected.expiry:
        return f"expiry {invoice.expiry} s, expected {expected.expiry} s"
    if invoice.timestamp + invoice.expiry <= now:
        return f"already expired at {invoice.expires_at.isoformat()} (is the node's clock right?)"
    return None


def _description_problem(invoice: DecodedInvoice, expected: Expected) -> str | None:
    if expected.description_hash_only:
        want = hashlib.sha256(expected.description.encode()).hexdigest()
        if invoice.description_hash != want:
            return f"description hash {invoice.description_hash}, expected {want}"
    elif invoice.description != expected.description:
        return "description (d) differs from the requested one"
    return None
