"""Bolt12 throughput on one core: invoice_request verify + invoice build + sign, and
onion-message peel + reply build. Prints a Markdown section for bench/RESULTS.md.

    .venv/bin/python bench/bolt12.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import coincurve

from switchgeard.bolt12 import blinding, keys, onion
from switchgeard.bolt12.fields import InvoiceFields, InvreqFields
from switchgeard.bolt12.generate import generate_offer, is_our_path_id
from switchgeard.bolt12.messages import Invoice, InvoiceRequest
from switchgeard.bolt12.paths import BlindedPayInfo
from switchgeard.units import Msat

SEED = os.urandom(32)
NODE = coincurve.PrivateKey()
PAYER = coincurve.PrivateKey()


@dataclass(frozen=True)
class _Row:
    partition: str
    id: uuid.UUID
    min_sendable: Msat
    max_sendable: Msat
    expires: datetime | None


ROW = _Row("default", uuid.uuid4(), Msat(1000), Msat(10_000_000), None)
OFFER = generate_offer(ROW, seed=SEED, description="bench", node_id=NODE.public_key.format())
REQUEST = InvoiceRequest.build(
    OFFER,
    InvreqFields(metadata=os.urandom(16), amount=50_000, payer_id=PAYER.public_key.format()),
    PAYER,
)
ISSUER = keys.issuer_key(SEED, ROW.partition, ROW.id)
BACKEND = coincurve.PrivateKey()
PAYMENT_PATH = blinding.blind_path(
    os.urandom(32),
    BACKEND.public_key.format(),
    [(BACKEND.public_key.format(), onion.encode_encrypted_data(path_id=os.urandom(32)))],
)


def answer(request_bytes: bytes) -> Invoice:
    request = InvoiceRequest.from_bytes(request_bytes)
    fields = InvoiceFields(
        paths=(PAYMENT_PATH,),
        blindedpay=(BlindedPayInfo(1000, 100, 144, 1, 10**10),),
        created_at=int(time.time()),
        payment_hash=hashlib.sha256(os.urandom(32)).digest(),
        amount=request.invreq.amount,
        node_id=ISSUER.public_key.format(),
    )
    return Invoice.build(request, fields, ISSUER)


PAYER_NODE = coincurve.PrivateKey()
REPLY_PATH = blinding.blind_path(
    os.urandom(32),
    PAYER_NODE.public_key.format(),
    [(PAYER_NODE.public_key.format(), onion.encode_encrypted_data(path_id=os.urandom(32)))],
)
_, MESSAGE = onion.build_onion_message(
    os.urandom(32),
    (OFFER.offer.paths or ())[0],
    [(onion.REPLY_PATH, REPLY_PATH.encode()), (onion.INVOICE_REQUEST, REQUEST.to_bytes())],
)
INVOICE_BYTES = answer(REQUEST.to_bytes()).to_bytes()


def peel_and_reply() -> None:
    received = onion.peel_onion_message(
        NODE,
        MESSAGE,
        accept_path_id=lambda found: is_our_path_id(SEED, ROW.partition, ROW.id, found),
    )
    assert isinstance(received, onion.Received) and received.payload.reply_path is not None
    onion.build_reply(received.payload.reply_path, [(onion.INVOICE, INVOICE_BYTES)], os.urandom(32))


def rate(action: Callable[[], object], seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        action()
        count += 1
    return count / (time.perf_counter() - start)


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    request_bytes = REQUEST.to_bytes()
    invoices = rate(lambda: answer(request_bytes), args.seconds)
    onions = rate(peel_and_reply, args.seconds)
    print("## bolt12\n")
    print(f"{datetime.now(UTC):%Y-%m-%d}, {_cpu()}, Python {platform.python_version()}, one core")
    print(f"(`.venv/bin/python bench/bolt12.py --seconds {args.seconds:g}`).\n")
    print("| operation | per second |")
    print("| --- | ---: |")
    print(f"| invoice_request decode + verify, invoice build + sign | {invoices:,.0f} |")
    print(f"| onion message peel (final hop, path_id) + reply onion build | {onions:,.0f} |")


if __name__ == "__main__":
    main()
