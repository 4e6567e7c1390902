"""The validator refuses invoices a wallet could not pay: already expired (a node whose
clock is behind) or with another lifetime than the one requested."""

from __future__ import annotations

import hashlib
import time

import coincurve
import pytest

from switchgeard.errors import BackendProtocolError
from switchgeard.lightning.validate import Expected, check_invoice
from switchgeard.testing.invoices import InvoiceRequest, encode_invoice
from switchgeard.units import Msat, NodeKey

KEY = coincurve.PrivateKey.from_int(7)
PAYEE = NodeKey(KEY.public_key.format().hex())
DESCRIPTION = '[["text/plain","coffee"]]'


def _invoice(*, timestamp: int, expiry: int) -> str:
    request = InvoiceRequest(
        currency="bcrt",
        amount_msat=5_000,
        payment_hash=bytes(range(32)),
        payment_secret=bytes(32),
        description_hash=hashlib.sha256(DESCRIPTION.encode()).digest(),
        expiry=expiry,
        timestamp=timestamp,
    )
    return encode_invoice(request, KEY)


def _expected(expiry: int) -> Expected:
    return Expected(
        amount_msat=Msat(5_000),
        description=DESCRIPTION,
        description_hash_only=True,
        network="regtest",
        payee=PAYEE,
        expiry=expiry,
    )


def test_fresh_invoice_with_the_requested_expiry_passes() -> None:
    decoded = check_invoice(
        _invoice(timestamp=int(time.time()), expiry=600), _expected(600), key=PAYEE, name="n"
    )
    assert decoded.expiry == 600


def test_already_expired_invoice_is_refused() -> None:
    bolt11 = _invoice(timestamp=int(time.time()) - 7200, expiry=600)
    with pytest.raises(BackendProtocolError, match="expired"):
        check_invoice(bolt11, _expected(600), key=PAYEE, name="n")


def test_other_expiry_than_requested_is_refused() -> None:
    bolt11 = _invoice(timestamp=int(time.time()), expiry=60)
    with pytest.raises(BackendProtocolError, match="expiry 60 s, expected 600 s"):
        check_invoice(bolt11, _expected(600), key=PAYEE, name="n")
