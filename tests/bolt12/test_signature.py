"""Merkle tree, tagged hashes and BIP340 against bolt12/signature-test.json."""

from __future__ import annotations

import re
from typing import Any

import coincurve

from switchgeard.bolt12 import signature
from switchgeard.bolt12.messages import InvoiceRequest
from switchgeard.bolt12.tlv import decode_stream

from .conftest import load_vectors, record_vectors

_LEAF = re.compile(r"H\(`LnLeaf`,([0-9a-f]+)\)")


def _check_tree(case: dict[str, Any], records: tuple[tuple[int, bytes], ...]) -> None:
    leaves = signature.merkle_leaves(records)
    assert [leaf.hex() for leaf in leaves] == [
        next(v for k, v in entry.items() if k.startswith("H(`LnBranch`"))
        for entry in case["leaves"]
    ]
    for branch in case["branches"]:
        ((key, value),) = ((k, v) for k, v in branch.items() if k != "desc")
        pair = bytes.fromhex(key[len("H(`LnBranch`,") : -1])
        assert signature.tagged_hash(b"LnBranch", pair).hex() == value
    assert signature.merkle_root(records).hex() == case["merkle"]


def test_signature_vectors() -> None:
    cases = load_vectors("bolt12/signature-test.json")
    for case in cases[:3]:
        stream = b"".join(
            bytes.fromhex(m.group(1)) for e in case["leaves"] for k in e if (m := _LEAF.match(k))
        )
        _check_tree(case, decode_stream(stream, known=lambda t: True))
    case = cases[3]
    request = InvoiceRequest.decode(case["bolt12"])  # verifies the signature on decode
    _check_tree(case, request.records)
    digest = signature.signature_digest("invoice_request", request.records)
    assert digest.hex() == case["H(signature_tag,merkle)"]
    assert request.signature.hex() == case["signature"]
    assert request.invreq.payer_id == coincurve.PrivateKey(b"\x42" * 32).public_key.format()
    assert len(cases) == 4
    record_vectors("BOLT 12 signatures (leaves, branches, roots, signed invoice_request)", 4)


def test_tampered_invoice_request_is_rejected() -> None:
    case = load_vectors("bolt12/signature-test.json")[3]
    request = InvoiceRequest.decode(case["bolt12"])
    sig = bytearray(request.signature)
    sig[5] ^= 1
    records = [(t, bytes(sig) if t == 240 else v) for t, v in request.records]
    assert not signature.verify(
        "invoice_request", records, bytes(sig), request.invreq.payer_id or b""
    )
