"""Offers generated from a store row: the same row and seed always give the same string.

Each offer gets its own issuer key and one blinded message path per introduction node
(a backend that forwards to us). The last hop of every path is Switchgear's node and
carries a ``path_id`` derived from the seed, which proves an invoice_request came
through a path of this offer.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from switchgeard.bolt12 import blinding, keys
from switchgeard.bolt12.fields import OfferFields
from switchgeard.bolt12.messages import Offer
from switchgeard.bolt12.onion import encode_encrypted_data
from switchgeard.bolt12.paths import BlindedPath
from switchgeard.bolt12.rules import BITCOIN_CHAIN
from switchgeard.units import Msat


class OfferRow(Protocol):
    """The fields of a stored offer this module reads (``store.records.Offer`` fits)."""

    @property
    def partition(self) -> str: ...
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def min_sendable(self) -> Msat: ...
    @property
    def max_sendable(self) -> Msat: ...
    @property
    def expires(self) -> datetime | None: ...


def path_id(seed: bytes, partition: str, offer_id: uuid.UUID) -> bytes:
    """The ``path_id`` in our final hop of every path of this offer."""
    return keys.derive_secret(seed, "switchgeard/bolt12/path-id", partition, offer_id)


def is_our_path_id(seed: bytes, partition: str, offer_id: uuid.UUID, found: bytes | None) -> bool:
    return found is not None and hmac.compare_digest(found, path_id(seed, partition, offer_id))


def offer_paths(
    seed: bytes, row: OfferRow, node_id: bytes, introduction_nodes: Sequence[bytes]
) -> tuple[BlindedPath, ...]:
    """One two-hop path per introduction node, or a one-hop path to ``node_id`` if none."""
    final = encode_encrypted_data(path_id=path_id(seed, row.partition, row.id))
    if not introduction_nodes:
        session = keys.derive_secret(seed, "switchgeard/bolt12/path/0", row.partition, row.id)
        return (blinding.blind_path(session, node_id, [(node_id, final)]),)
    paths = []
    for index, intro in enumerate(introduction_nodes):
        label = f"switchgeard/bolt12/path/{index}"
        session = keys.derive_secret(seed, label, row.partition, row.id)
        relay = encode_encrypted_data(next_node_id=node_id)
        paths.append(blinding.blind_path(session, intro, [(intro, relay), (node_id, final)]))
    return tuple(paths)


def generate_offer(
    row: OfferRow,
    *,
    seed: bytes,
    description: str,
    node_id: bytes,
    introduction_nodes: Sequence[bytes] = (),
    issuer: str | None = None,
    chains: Sequence[bytes] = (BITCOIN_CHAIN,),
) -> Offer:
    """The Bolt12 offer for ``row``. A fixed amount (min == max) becomes ``offer_amount``;
    a range leaves the amount to the payer (the handler enforces the range)."""
    amount = int(row.min_sendable) if row.min_sendable == row.max_sendable else None
    expiry = None if row.expires is None else int(row.expires.timestamp())
    fields = OfferFields(
        chains=None if tuple(chains) == (BITCOIN_CHAIN,) else tuple(chains),
        amount=amount,
        description=description,
        absolute_expiry=expiry,
        paths=offer_paths(seed, row, node_id, introduction_nodes),
        issuer=issuer,
        issuer_id=keys.issuer_key(seed, row.partition, row.id).public_key.format(),
    )
    return Offer.build(fields)
