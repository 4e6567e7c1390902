"""Checks on what callers pass to an adapter, before anything is sent to a node."""

from __future__ import annotations

from switchgeard.errors import BackendRejected
from switchgeard.units import Msat

MAX_EXPIRY = 365 * 24 * 3600


def invoice_arguments(amount_msat: Msat, expiry: int, *, key: str, name: str) -> None:
    """Refuse a zero amount (an "any amount" invoice) and an absurd expiry."""
    if not isinstance(amount_msat, int) or isinstance(amount_msat, bool) or amount_msat < 1:
        raise BackendRejected(
            f"amount_msat must be at least 1, got {amount_msat!r}", key=key, name=name
        )
    if not isinstance(expiry, int) or isinstance(expiry, bool) or not 1 <= expiry <= MAX_EXPIRY:
        raise BackendRejected(
            f"expiry must be 1..{MAX_EXPIRY} seconds, got {expiry!r}", key=key, name=name
        )


def parse_payment_hash(payment_hash: str, *, key: str, name: str) -> bytes:
    """Return the 32 bytes of a 64-hex-character payment hash."""
    text = payment_hash.strip().lower()
    if len(text) != 64 or any(char not in "0123456789abcdef" for char in text):
        raise BackendRejected(
            f"payment_hash must be 64 hex characters, got {payment_hash!r}", key=key, name=name
        )
    return bytes.fromhex(text)
