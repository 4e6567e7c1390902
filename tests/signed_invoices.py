"""Invoices as a fake balancer issues them: real regtest BOLT 11, signed by one node key.

Shared by the fake balancers of the LNURL and LDAP tests; encoded with the independent
``bolt11`` library, not with ``switchgeard.testing``, so the code under test decodes an
encoder it did not write.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import bolt11

from switchgeard.lightning.interface import Invoice
from switchgeard.store.records import InvoiceEntry
from switchgeard.units import Msat, NodeKey, PaymentHash

NODE_SECRET = "e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734"
NODE = NodeKey("03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad")


@dataclass(frozen=True, slots=True)
class Issued:
    invoice: Invoice
    backend_key: NodeKey


def sign_invoice(amount: Msat, payment_hash: str, description: str, at: datetime) -> str:
    """A real regtest BOLT11 invoice with ``h = sha256(description)``, signed by NODE."""
    tags = bolt11.Tags()
    tags.add(bolt11.TagChar.payment_hash, payment_hash)
    tags.add(bolt11.TagChar.payment_secret, hashlib.sha256(payment_hash.encode()).hexdigest())
    tags.add(bolt11.TagChar.description_hash, hashlib.sha256(description.encode()).hexdigest())
    tags.add(bolt11.TagChar.expire_time, 600)
    invoice = bolt11.Bolt11(
        currency="bcrt",
        amount_msat=bolt11.MilliSatoshi(int(amount)),
        date=int(at.timestamp()),
        tags=tags,
    )
    return str(bolt11.encode(invoice, NODE_SECRET))


def issue_signed(
    preimage: bytes, amount: Msat, description: str, *, reference: str, expiry: int, at: datetime
) -> tuple[Issued, InvoiceEntry]:
    """The balancer's answer for ``preimage`` and the ledger entry it records."""
    payment_hash = PaymentHash(hashlib.sha256(preimage).hexdigest())
    invoice = Invoice(
        bolt11=sign_invoice(amount, payment_hash, description, at),
        payment_hash=payment_hash,
        expires_at=at + timedelta(seconds=expiry),
    )
    entry = InvoiceEntry(
        payment_hash=payment_hash,
        backend_key=NODE,
        reference=reference,
        amount_msat=amount,
        bolt11=invoice.bolt11,
        created_at=at,
        expires_at=invoice.expires_at,
    )
    return Issued(invoice, NODE), entry
