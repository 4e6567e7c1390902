"""Route blinding (BOLT 4): build blinded paths and unblind one hop.

For each hop with path key ``E_i = e_i·G`` and node id ``N_i``: the shared secret is
``ss_i = SHA256(e_i·N_i)``, the blinded id ``HMAC256("blinded_node_id", ss_i)·N_i``, the
data key ``rho_i = HMAC256("rho", ss_i)`` (ChaCha20-Poly1305, zero nonce, no AD) and the
next secret ``e_{i+1} = SHA256(E_i || ss_i)·e_i``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

import coincurve
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from switchgeard.bolt12.paths import BlindedHop, BlindedPath
from switchgeard.errors import DecodeError

_ZERO_NONCE = bytes(12)


def hmac256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def ecdh(secret: coincurve.PrivateKey, point: bytes) -> bytes:
    """SHA256 of the compressed shared point (the BOLT 4/8 ECDH). Raises DecodeError."""
    try:
        return secret.ecdh(point)
    except ValueError:
        raise DecodeError("ECDH with an invalid public key") from None


def next_secret(secret: coincurve.PrivateKey, shared: bytes) -> coincurve.PrivateKey:
    """``SHA256(E || ss)·e``: the path (or Sphinx) secret for the following hop."""
    factor = hashlib.sha256(secret.public_key.format() + shared).digest()
    product: coincurve.PrivateKey = secret.multiply(factor)
    return product


def next_point(point: bytes, shared: bytes) -> bytes:
    """``SHA256(E || ss)·E``: the next hop's path key as seen by the current hop."""
    factor = hashlib.sha256(point + shared).digest()
    product: coincurve.PublicKey = coincurve.PublicKey(point).multiply(factor)
    return product.format()


def blind_node_id(node_id: bytes, shared: bytes) -> bytes:
    tweak = hmac256(b"blinded_node_id", shared)
    product: coincurve.PublicKey = coincurve.PublicKey(node_id).multiply(tweak)
    return product.format()


def encrypt_data(shared: bytes, plaintext: bytes) -> bytes:
    return ChaCha20Poly1305(hmac256(b"rho", shared)).encrypt(_ZERO_NONCE, plaintext, b"")


def decrypt_data(shared: bytes, ciphertext: bytes) -> bytes:
    """Decrypt ``encrypted_recipient_data``; a bad tag is a DecodeError."""
    try:
        return ChaCha20Poly1305(hmac256(b"rho", shared)).decrypt(_ZERO_NONCE, ciphertext, b"")
    except InvalidTag:
        raise DecodeError("encrypted_recipient_data: authentication failed") from None


def blind_path(
    session_key: bytes, first_node_id: bytes, hops: Sequence[tuple[bytes, bytes]]
) -> BlindedPath:
    """Blind ``hops`` (``(node_id, encrypted_data_tlv)`` pairs, first hop first).

    ``first_node_id`` is the introduction node as written in the path (normally
    ``hops[0][0]``; a 9-byte sciddir is also allowed). ``session_key`` is the 32-byte
    secret ``e_0``; callers pass fresh randomness or a secret derived for determinism.
    """
    if not hops:
        raise ValueError("a blinded path needs at least one hop")
    secret = coincurve.PrivateKey(session_key)
    first_path_key = secret.public_key.format()
    blinded = []
    for node_id, data in hops:
        shared = ecdh(secret, node_id)
        blinded.append(BlindedHop(blind_node_id(node_id, shared), encrypt_data(shared, data)))
        secret = next_secret(secret, shared)
    return BlindedPath(first_node_id, first_path_key, tuple(blinded))


@dataclass(frozen=True, slots=True)
class UnblindedHop:
    """What one hop learns: its decrypted data, blinded private key and the next path key."""

    data: bytes
    blinded_secret: coincurve.PrivateKey
    next_path_key: bytes
    shared_secret: bytes


def unblind(node_key: coincurve.PrivateKey, path_key: bytes, encrypted: bytes) -> UnblindedHop:
    """Decrypt this hop's data. ``next_path_key`` ignores any override in the data."""
    shared = ecdh(node_key, path_key)
    data = decrypt_data(shared, encrypted)
    blinded_secret = node_key.multiply(hmac256(b"blinded_node_id", shared))
    return UnblindedHop(data, blinded_secret, next_point(path_key, shared), shared)
