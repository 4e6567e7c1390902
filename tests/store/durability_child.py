"""Child process for the durability test: acknowledged writes until it is killed.

Usage: ``python durability_child.py sqlite:///path.db``. After each write returns it prints
``<kind> <key>`` and flushes, so every printed line is a write the store acknowledged.
"""

from __future__ import annotations

import hashlib
import sys
import uuid
from datetime import UTC, datetime, timedelta

import coincurve
import trio

from switchgeard.config.model import StoreConfig
from switchgeard.store import open_store
from switchgeard.store.records import InvoiceEntry, Metadata
from switchgeard.units import Msat, NodeKey, PaymentHash

NODE = NodeKey(coincurve.PrivateKey(b"\x01" * 32).public_key.format(compressed=True).hex())
START = datetime(2026, 1, 1, tzinfo=UTC)


def invoice(n: int) -> InvoiceEntry:
    return InvoiceEntry(
        payment_hash=PaymentHash(hashlib.sha256(f"durable {n}".encode()).hexdigest()),
        backend_key=NODE,
        reference="offer:default/00000000-0000-0000-0000-000000000000",
        amount_msat=Msat(1000 + n),
        bolt11=f"lnbc{n}n1durable",
        created_at=START,
        expires_at=START + timedelta(minutes=10),
    )


async def main(url: str) -> None:
    async with open_store(StoreConfig(url=url)) as store:
        for n in range(1_000_000):
            meta = await store.create_metadata(
                Metadata(partition="default", id=uuid.uuid4(), text=f"write {n}")
            )
            print(f"metadata {meta.id}", flush=True)
            await store.set_sync_state("counter", str(n))
            print(f"counter {n}", flush=True)
            entry = invoice(n)  # a ledger entry: written inline, without an fsync
            await store.record_invoice(entry)
            print(f"invoice {entry.payment_hash}", flush=True)


if __name__ == "__main__":
    trio.run(main, sys.argv[1])
