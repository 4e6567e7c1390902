"""Independent check: npm boltz-bolt12 (LDK in WASM) parses our offers and verifies our
signed invoices; a flipped byte makes its signature check fail.

The package is installed by ``scripts/setup-npm`` (run by ``scripts/setup``) into
``.cache/npm``; this test fails rather than skips when it is missing, because CI must run it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from switchgeard.bolt12.messages import Invoice
from switchgeard.bolt12.strings import encode_string
from switchgeard.bolt12.tlv import encode_stream
from switchgeard.errors import DecodeError

from . import flow
from .conftest import REPO

PACKAGE = REPO / ".cache" / "npm" / "node_modules" / "boltz-bolt12"
SCRIPT = REPO / "tests" / "bolt12" / "boltz_check.mjs"


def _boltz(items: list[dict[str, str]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    assert node, "node is required for the boltz-bolt12 cross-check"
    assert PACKAGE.is_dir(), "boltz-bolt12 is missing: run scripts/setup"
    done = subprocess.run(
        [node, "--experimental-wasm-modules", "--no-warnings", str(SCRIPT), str(PACKAGE)],
        input="".join(json.dumps(item) + "\n" for item in items),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def _flip_payment_hash(invoice: Invoice) -> str:
    records = [(t, bytes([v[0] ^ 1]) + v[1:] if t == 168 else v) for t, v in invoice.records]
    return encode_string("lni", encode_stream(records))


def test_boltz_parses_our_offers_and_verifies_our_invoices() -> None:
    offer = flow.make_offer()
    invoice = flow.make_invoice(flow.make_request(offer, amount=123_000))
    tampered = _flip_payment_hash(invoice)
    try:
        Invoice.decode(tampered)
        raise AssertionError("our own decoder accepted a tampered invoice")
    except DecodeError as exc:
        assert "signature" in str(exc)
    offer_out, invoice_out, tampered_out = _boltz(
        [
            {"kind": "offer", "text": offer.encode()},
            {"kind": "invoice", "text": invoice.encode()},
            {"kind": "invoice", "text": tampered},
        ]
    )
    assert offer_out == {
        "ok": True,
        "description": "coffee",
        "issuer": "example.com",
        "signing_pubkey": (offer.offer.issuer_id or b"").hex(),
        "amount": None,
        "paths": 1,
    }
    assert invoice_out == {
        "ok": True,
        "signing_pubkey": (invoice.invoice.node_id or b"").hex(),
        "payment_hash": (invoice.invoice.payment_hash or b"").hex(),
        "amount": "123000",
        "payment_paths": 1,
    }
    assert tampered_out["ok"] is False
    assert "Signature" in tampered_out["error"], tampered_out
