"""BOLT 8 Noise_XK_secp256k1_ChaChaPoly_SHA256, without I/O.

:class:`Initiator` and :class:`Responder` run the three acts on byte strings (the
ephemeral key is injectable for the spec vectors); both end in a :class:`CipherPair`
that frames, encrypts and rotates keys (every 1000 uses of a key).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

import coincurve
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from switchgeard.errors import DecodeError

PROTOCOL_NAME = b"Noise_XK_secp256k1_ChaChaPoly_SHA256"
PROLOGUE = b"lightning"
ACT_ONE_SIZE = ACT_TWO_SIZE = 50
ACT_THREE_SIZE = 66
HEADER_SIZE = 18
TAG_SIZE = 16
MAX_MESSAGE_SIZE = 65535
ROTATE_AFTER = 1000


class HandshakeError(DecodeError):
    """A handshake act failed. ``code`` is the spec's name, e.g. ``ACT2_BAD_TAG``."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        super().__init__(f"BOLT 8 handshake failed: {code}{' ' + detail if detail else ''}")


def _hkdf(salt: bytes, ikm: bytes) -> tuple[bytes, bytes]:
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    first = hmac.new(prk, b"\x01", hashlib.sha256).digest()
    second = hmac.new(prk, first + b"\x02", hashlib.sha256).digest()
    return first, second


def _nonce(counter: int) -> bytes:
    return bytes(4) + counter.to_bytes(8, "little")


def _ecdh(secret: coincurve.PrivateKey, point: bytes) -> bytes:
    return secret.ecdh(point)


class _Symmetric:
    """The handshake hash ``h`` and chaining key ``ck``."""

    def __init__(self, responder_static: bytes) -> None:
        self.h = hashlib.sha256(PROTOCOL_NAME).digest()
        self.ck = self.h
        self.mix_hash(PROLOGUE)
        self.mix_hash(responder_static)

    def mix_hash(self, data: bytes) -> None:
        self.h = hashlib.sha256(self.h + data).digest()

    def mix_key(self, shared: bytes) -> bytes:
        self.ck, temp = _hkdf(self.ck, shared)
        return temp

    def encrypt(self, key: bytes, plaintext: bytes, counter: int = 0) -> bytes:
        out = ChaCha20Poly1305(key).encrypt(_nonce(counter), plaintext, self.h)
        self.mix_hash(out)
        return out

    def decrypt(self, key: bytes, ciphertext: bytes, counter: int, code: str) -> bytes:
        try:
            out = ChaCha20Poly1305(key).decrypt(_nonce(counter), ciphertext, self.h)
        except InvalidTag:
            raise HandshakeError(code) from None
        self.mix_hash(ciphertext)
        return out


def _read_act(data: bytes, size: int, act: str) -> tuple[bytes, bytes]:
    if len(data) != size:
        raise HandshakeError(f"{act}_READ_FAILED", f"got {len(data)} of {size} bytes")
    if data[0] != 0:
        raise HandshakeError(f"{act}_BAD_VERSION", str(data[0]))
    return data[1:-TAG_SIZE], data[-TAG_SIZE:]


def _point(data: bytes, code: str) -> bytes:
    try:
        return coincurve.PublicKey(data).format()
    except ValueError:
        raise HandshakeError(code) from None


class Initiator:
    """We dial: we know the responder's static key ``remote_static``."""

    def __init__(
        self,
        local_static: coincurve.PrivateKey,
        remote_static: bytes,
        ephemeral: coincurve.PrivateKey | None = None,
    ) -> None:
        self._local = local_static
        self._remote = coincurve.PublicKey(remote_static).format()
        self._ephemeral = ephemeral or coincurve.PrivateKey(os.urandom(32))
        self._state = _Symmetric(remote_static)

    def act_one(self) -> bytes:
        e_pub = self._ephemeral.public_key.format()
        self._state.mix_hash(e_pub)
        temp = self._state.mix_key(_ecdh(self._ephemeral, self._remote))
        return b"\x00" + e_pub + self._state.encrypt(temp, b"")

    def act_three(self, act_two: bytes) -> tuple[bytes, CipherPair]:
        """Process act two; return act three and the transport ciphers."""
        body, tag = _read_act(act_two, ACT_TWO_SIZE, "ACT2")
        re_pub = _point(body, "ACT2_BAD_PUBKEY")
        self._state.mix_hash(re_pub)
        temp = self._state.mix_key(_ecdh(self._ephemeral, re_pub))
        self._state.decrypt(temp, tag, 0, "ACT2_BAD_TAG")
        encrypted_static = self._state.encrypt(temp, self._local.public_key.format(), 1)
        temp = self._state.mix_key(_ecdh(self._local, re_pub))
        tag3 = self._state.encrypt(temp, b"")
        send, receive = _hkdf(self._state.ck, b"")
        pair = CipherPair(_Cipher(send, self._state.ck), _Cipher(receive, self._state.ck))
        return b"\x00" + encrypted_static + tag3, pair


class Responder:
    """We accept: we learn the initiator's static key in act three."""

    def __init__(
        self, local_static: coincurve.PrivateKey, ephemeral: coincurve.PrivateKey | None = None
    ) -> None:
        self._local = local_static
        self._ephemeral = ephemeral or coincurve.PrivateKey(os.urandom(32))
        self._state = _Symmetric(local_static.public_key.format())
        self._remote_ephemeral = b""
        self._temp = b""

    def act_two(self, act_one: bytes) -> bytes:
        body, tag = _read_act(act_one, ACT_ONE_SIZE, "ACT1")
        self._remote_ephemeral = _point(body, "ACT1_BAD_PUBKEY")
        self._state.mix_hash(self._remote_ephemeral)
        temp = self._state.mix_key(_ecdh(self._local, self._remote_ephemeral))
        self._state.decrypt(temp, tag, 0, "ACT1_BAD_TAG")
        e_pub = self._ephemeral.public_key.format()
        self._state.mix_hash(e_pub)
        self._temp = self._state.mix_key(_ecdh(self._ephemeral, self._remote_ephemeral))
        return b"\x00" + e_pub + self._state.encrypt(self._temp, b"")

    def finish(self, act_three: bytes) -> tuple[bytes, CipherPair]:
        """Process act three; return the initiator's static key and the ciphers."""
        body, tag = _read_act(act_three, ACT_THREE_SIZE, "ACT3")
        static = self._state.decrypt(self._temp, body, 1, "ACT3_BAD_CIPHERTEXT")
        remote_static = _point(static, "ACT3_BAD_PUBKEY")
        temp = self._state.mix_key(_ecdh(self._ephemeral, remote_static))
        self._state.decrypt(temp, tag, 0, "ACT3_BAD_TAG")
        receive, send = _hkdf(self._state.ck, b"")
        pair = CipherPair(_Cipher(send, self._state.ck), _Cipher(receive, self._state.ck))
        return remote_static, pair


class _Cipher:
    """One direction: key, nonce counter and chaining key for rotation."""

    __slots__ = ("_aead", "_ck", "key", "nonce")

    def __init__(self, key: bytes, ck: bytes) -> None:
        self.key = key
        self._ck = ck
        self.nonce = 0
        self._aead = ChaCha20Poly1305(key)

    def _advance(self) -> None:
        self.nonce += 1
        if self.nonce == ROTATE_AFTER:
            self._ck, self.key = _hkdf(self._ck, self.key)
            self._aead = ChaCha20Poly1305(self.key)
            self.nonce = 0

    def encrypt(self, plaintext: bytes) -> bytes:
        out = self._aead.encrypt(_nonce(self.nonce), plaintext, b"")
        self._advance()
        return out

    def decrypt(self, ciphertext: bytes, what: str) -> bytes:
        try:
            out = self._aead.decrypt(_nonce(self.nonce), ciphertext, b"")
        except InvalidTag:
            raise DecodeError(f"BOLT 8 {what}: authentication failed") from None
        self._advance()
        return out


@dataclass(slots=True)
class CipherPair:
    """Transport encryption after the handshake: ``send`` and ``receive`` directions."""

    send: _Cipher
    receive: _Cipher

    def encrypt_message(self, message: bytes) -> bytes:
        """Length header (18 bytes) followed by the encrypted body (len + 16 bytes)."""
        if len(message) > MAX_MESSAGE_SIZE:
            raise ValueError(f"message of {len(message)} bytes exceeds {MAX_MESSAGE_SIZE}")
        header = self.send.encrypt(len(message).to_bytes(2, "big"))
        return header + self.send.encrypt(message)

    def decrypt_length(self, header: bytes) -> int:
        """The body size that follows (the message length plus the 16-byte tag)."""
        return int.from_bytes(self.receive.decrypt(header, "length header"), "big") + TAG_SIZE

    def decrypt_body(self, body: bytes) -> bytes:
        return self.receive.decrypt(body, "message body")
