"""Generic Sphinx onion packets (BOLT 4) with variable payloads and any packet size.

Payment onions carry 1300 bytes of hop data; onion messages 1300 or 32768 (packets of
1366 or 32834 bytes). Onion messages use empty associated data.
"""

from __future__ import annotations

import hmac as _hmac
from collections.abc import Sequence
from dataclasses import dataclass

import coincurve
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

from switchgeard.bolt12.blinding import ecdh, hmac256, next_point, next_secret
from switchgeard.bolt12.paths import POINT_SIZE, check_point
from switchgeard.bolt12.wire import Reader
from switchgeard.errors import DecodeError

HMAC_SIZE = 32
PAYMENT_ONION_SIZE = 1300
LARGE_ONION_SIZE = 32768


def stream(key: bytes, size: int) -> bytes:
    """ChaCha20 keystream, zero nonce and counter."""
    cipher = Cipher(algorithms.ChaCha20(key, bytes(16)), mode=None).encryptor()
    return cipher.update(bytes(size))


def _xor(data: bytes, other: bytes) -> bytes:
    return (int.from_bytes(data, "big") ^ int.from_bytes(other[: len(data)], "big")).to_bytes(
        len(data), "big"
    )


def _filler(shared: Sequence[bytes], payloads: Sequence[bytes], size: int) -> bytes:
    filler = b""
    for secret, payload in zip(shared[:-1], payloads[:-1], strict=True):
        hop_size = len(payload) + HMAC_SIZE
        keystream = stream(hmac256(b"rho", secret), size + hop_size)
        filler = _xor(filler + bytes(hop_size), keystream[size - len(filler) :])
    return filler


def build_packet(
    session_key: bytes,
    hops: Sequence[tuple[bytes, bytes]],
    associated_data: bytes = b"",
    size: int = PAYMENT_ONION_SIZE,
) -> bytes:
    """Build an onion for ``hops``: ``(public_key, payload)`` pairs, where each payload
    already starts with its BigSize length. Returns version || key || data || hmac."""
    secret = coincurve.PrivateKey(session_key)
    first_key = secret.public_key.format()
    shared = []
    for node_id, _ in hops:
        shared.append(ecdh(secret, node_id))
        secret = next_secret(secret, shared[-1])
    payloads = [payload for _, payload in hops]
    if sum(len(p) + HMAC_SIZE for p in payloads) > size:
        raise ValueError(f"payloads do not fit into {size} bytes")
    filler = _filler(shared, payloads, size)
    data = stream(hmac256(b"pad", session_key), size)
    next_hmac = bytes(HMAC_SIZE)
    for index in reversed(range(len(hops))):
        payload = payloads[index]
        data = (payload + next_hmac + data)[:size]
        data = _xor(data, stream(hmac256(b"rho", shared[index]), size))
        if index == len(hops) - 1 and filler:
            data = data[: size - len(filler)] + filler
        next_hmac = hmac256(hmac256(b"mu", shared[index]), data + associated_data)
    return b"\x00" + first_key + data + next_hmac


@dataclass(frozen=True, slots=True)
class Peeled:
    """One hop's view: its payload (TLV bytes, without the length) and what to forward."""

    payload: bytes
    next_packet: bytes | None
    shared_secret: bytes


def peel_packet(
    secret: coincurve.PrivateKey, packet: bytes, associated_data: bytes = b""
) -> Peeled:
    """Decrypt our layer. ``next_packet`` is None at the final hop. Raises DecodeError."""
    size = len(packet) - 1 - POINT_SIZE - HMAC_SIZE
    if size <= 0 or packet[0] != 0:
        raise DecodeError("onion packet: bad version or size")
    key = check_point(packet[1 : 1 + POINT_SIZE], "onion packet public_key")
    data, mac = packet[1 + POINT_SIZE : -HMAC_SIZE], packet[-HMAC_SIZE:]
    shared = ecdh(secret, key)
    expected = hmac256(hmac256(b"mu", shared), data + associated_data)
    if not _hmac.compare_digest(expected, mac):
        raise DecodeError("onion packet: hmac mismatch")
    clear = _xor(data + bytes(size), stream(hmac256(b"rho", shared), 2 * size))
    reader = Reader(clear)
    payload = reader.read(reader.bigsize("onion payload length"), "onion payload")
    next_hmac = reader.read(HMAC_SIZE, "onion next hmac")
    if next_hmac == bytes(HMAC_SIZE):
        return Peeled(payload, None, shared)
    consumed = len(clear) - reader.remaining
    next_key = next_point(key, shared)
    rest = clear[consumed : consumed + size]
    return Peeled(payload, b"\x00" + next_key + rest + next_hmac, shared)
