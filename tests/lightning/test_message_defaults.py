"""Cached field defaults (``switchgeard.lightning._defaults``) encode every message exactly
as betterproto2's own ``_get_field_default`` does, and are never handed out to be changed."""

from __future__ import annotations

from collections.abc import Callable

import betterproto2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchgeard.lightning import _defaults
from switchgeard.lightning._proto import cln, lnrpc

MessageFactory = Callable[[], betterproto2.Message]

MESSAGES: list[MessageFactory] = [
    lambda: lnrpc.Invoice(),
    lambda: lnrpc.Invoice(memo="coffee ☕", value_msat=21_000, expiry=600, is_amp=True),
    lambda: lnrpc.Invoice(description_hash=b"\x01" * 32, private=False, value_msat=0),
    lambda: lnrpc.Invoice(state=lnrpc.InvoiceInvoiceState.SETTLED, settle_index=7, r_hash=b"x"),
    lambda: lnrpc.AddInvoiceResponse(r_hash=b"h" * 32, payment_request="lnbc1", add_index=3),
    lambda: lnrpc.InvoiceSubscription(settle_index=5),
    lambda: lnrpc.GetInfoResponse(alias="a", chains=[lnrpc.Chain(chain="bitcoin", network="x")]),
    lambda: cln.InvoiceRequest(description="d", label="l", expiry=None, deschashonly=True),
    lambda: cln.InvoiceRequest(
        label="l", amount_msat=cln.AmountOrAny(amount=cln.Amount(msat=1_000))
    ),
    lambda: cln.InvoiceRequest(label="l", amount_msat=cln.AmountOrAny(any=True), expiry=0),
]


def test_installed_on_every_message() -> None:
    assert betterproto2.Message._get_field_default is _defaults.cached_field_default


@pytest.mark.parametrize("make", MESSAGES)
def test_encodings_are_betterprotos_own(
    make: MessageFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = (bytes(make()), bool(make()), repr(make()))
    monkeypatch.setattr(betterproto2.Message, "_get_field_default", _defaults._BUILD)
    assert cached == (bytes(make()), bool(make()), repr(make()))


@given(
    memo=st.text(max_size=40),
    value_msat=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    expiry=st.integers(min_value=0, max_value=2**40),
    is_amp=st.booleans(),
    hash_=st.binary(max_size=32),
)
def test_invoice_requests_round_trip(
    memo: str, value_msat: int, expiry: int, is_amp: bool, hash_: bytes
) -> None:
    request = lnrpc.Invoice(
        memo=memo, value_msat=value_msat, expiry=expiry, is_amp=is_amp, description_hash=hash_
    )
    assert lnrpc.Invoice.parse(bytes(request)) == request


def test_defaults_are_not_handed_out_for_change() -> None:
    assert bytes(lnrpc.GetInfoResponse()) == b""  # remembers the empty list for chains
    info = lnrpc.GetInfoResponse()
    info.chains.append(lnrpc.Chain(chain="bitcoin", network="regtest"))
    assert _defaults.cached_field_default(info, "chains") == []
    assert bytes(lnrpc.GetInfoResponse()) == b""
    assert lnrpc.GetInfoResponse.parse(bytes(info)).chains[0].network == "regtest"
