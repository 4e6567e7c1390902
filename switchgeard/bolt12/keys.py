"""Per-offer secrets derived from one master seed (issuer keys, path ids, path sessions).

Every secret is ``HMAC-SHA256(seed, label || partition || 0x00 || offer_id)``, so the
same seed and offer give the same offer string, and one offer's key says nothing about
another's. The seed is 32 bytes; :func:`load_seed` reads it from a hex key file.
"""

from __future__ import annotations

import hashlib
import hmac
import stat
import uuid
from pathlib import Path

import coincurve

from switchgeard.errors import ConfigError

SEED_SIZE = 32
_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def derive_secret(seed: bytes, label: str, partition: str, offer_id: uuid.UUID) -> bytes:
    """32 bytes bound to ``label`` and the offer; ``label`` separates uses of the seed."""
    if len(seed) != SEED_SIZE:
        raise ValueError(f"seed must be {SEED_SIZE} bytes")
    message = label.encode() + b"\x00" + partition.encode() + b"\x00" + offer_id.bytes
    return hmac.new(seed, message, hashlib.sha256).digest()


def derive_key(
    seed: bytes, label: str, partition: str, offer_id: uuid.UUID
) -> coincurve.PrivateKey:
    """A valid secp256k1 key from :func:`derive_secret` (re-hashed in the ~2^-128 case)."""
    secret = derive_secret(seed, label, partition, offer_id)
    while not 0 < int.from_bytes(secret, "big") < _ORDER:
        secret = hashlib.sha256(secret).digest()
    return coincurve.PrivateKey(secret)


def issuer_key(seed: bytes, partition: str, offer_id: uuid.UUID) -> coincurve.PrivateKey:
    """The key whose public part is the offer's ``offer_issuer_id``; it signs invoices."""
    return derive_key(seed, "switchgeard/bolt12/issuer", partition, offer_id)


def load_seed(path: Path) -> bytes:
    """Read a 64-hex-character seed file that only its owner may read. Raises ConfigError."""
    try:
        mode = path.stat().st_mode
        text = path.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the bolt12 seed: {exc.strerror}", file=path) from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            "the bolt12 seed file must not be accessible to group or others", file=path
        )
    try:
        seed = bytes.fromhex(text)
    except ValueError:
        raise ConfigError("the bolt12 seed file must hold 64 hex characters", file=path) from None
    if len(seed) != SEED_SIZE:
        raise ConfigError("the bolt12 seed file must hold 64 hex characters", file=path)
    return seed
