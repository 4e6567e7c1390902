"""BOLT 12 signatures: tagged hashes, the TLV Merkle root, BIP340 sign and verify."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import coincurve

from switchgeard.bolt12.tlv import Record, encode_record
from switchgeard.bolt12.wire import encode_bigsize

SIGNATURE_TYPE = 240
SIGNATURE_SIZE = 64


def is_signature_type(tlv_type: int) -> bool:
    """Types 240..1000 inclusive are signature elements and stay out of the Merkle tree."""
    return 240 <= tlv_type <= 1000


def tagged_hash(tag: bytes, message: bytes) -> bytes:
    """BIP340-style ``H(tag, msg) = SHA256(SHA256(tag) || SHA256(tag) || msg)``."""
    tag_hash = hashlib.sha256(tag).digest()
    return hashlib.sha256(tag_hash + tag_hash + message).digest()


def _branch(left: bytes, right: bytes) -> bytes:
    low, high = (left, right) if left <= right else (right, left)
    return tagged_hash(b"LnBranch", low + high)


def merkle_leaves(records: Sequence[Record]) -> list[bytes]:
    """The per-TLV leaves ``H(LnBranch, H(LnLeaf, tlv) ⊕ H(LnNonce||first_tlv, type))``."""
    included = [record for record in records if not is_signature_type(record[0])]
    if not included:
        raise ValueError("no non-signature TLV records to sign")
    nonce_tag = b"LnNonce" + encode_record(*included[0])
    leaves = []
    for tlv_type, value in included:
        leaf = tagged_hash(b"LnLeaf", encode_record(tlv_type, value))
        nonce = tagged_hash(nonce_tag, encode_bigsize(tlv_type))
        leaves.append(_branch(leaf, nonce))
    return leaves


def merkle_root(records: Sequence[Record]) -> bytes:
    """The Merkle root over all non-signature records, deepest on the lowest types."""
    level = merkle_leaves(records)
    while len(level) > 1:
        paired = [_branch(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def signature_digest(message_name: str, records: Sequence[Record]) -> bytes:
    """What BIP340 signs: ``H("lightning" || messagename || "signature", merkle_root)``."""
    tag = b"lightning" + message_name.encode() + b"signature"
    return tagged_hash(tag, merkle_root(records))


def sign(message_name: str, records: Sequence[Record], key: coincurve.PrivateKey) -> bytes:
    """A BIP340 signature over ``records`` (fresh auxiliary randomness per signature)."""
    return key.sign_schnorr(signature_digest(message_name, records))


def verify(message_name: str, records: Sequence[Record], signature: bytes, key: bytes) -> bool:
    """Check ``signature`` against the compressed public ``key``; False on any mismatch."""
    if len(signature) != SIGNATURE_SIZE or len(key) != 33:
        return False
    try:
        xonly = coincurve.PublicKeyXOnly(key[1:])
    except ValueError:
        return False
    return bool(xonly.verify(signature, signature_digest(message_name, records)))


def without_signatures(records: Iterable[Record]) -> tuple[Record, ...]:
    return tuple(record for record in records if not is_signature_type(record[0]))
