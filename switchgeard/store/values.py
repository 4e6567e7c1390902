"""Validators for single values. Each names the camelCase field in its ``InvalidInput``.

They accept already-decoded JSON values (``object``) so the codec and the record checks
share one implementation; each returns the value in its canonical form.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit

import coincurve

from switchgeard.errors import InvalidInput
from switchgeard.units import Msat, NodeKey

MSAT_LIMIT = 21_000_000 * 100_000_000_000
"""No amount may exceed 21 million bitcoin (and so fits a signed 64-bit column)."""

IMAGE_LIMIT = 100_000
"""Largest decoded metadata image, in bytes."""

WEIGHT_LIMIT = 2**31 - 1
COMMENT_LIMIT = 2000

_HEX = re.compile(r"[0-9a-fA-F]*")
_PARTITION = re.compile(r"[A-Za-z0-9._~-]{1,64}")
_USERNAME = re.compile(r"[a-z0-9._-]{1,64}")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_PART = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_MAGIC: dict[str, bytes] = {"png": b"\x89PNG\r\n\x1a\n", "jpeg": b"\xff\xd8\xff"}


def node_key(field: str, value: object) -> NodeKey:
    """A secp256k1 public key: 66-hex compressed or 130-hex uncompressed, on the curve.

    Returns the compressed form in lowercase hex.
    """
    if not isinstance(value, str) or len(value) not in (66, 130) or not _HEX.fullmatch(value):
        raise InvalidInput(field, "must be 66 (compressed) or 130 (uncompressed) hex characters")
    try:
        return _compressed_point(value)
    except ValueError as exc:
        raise InvalidInput(field, "is not a point on the secp256k1 curve") from exc


@lru_cache(maxsize=1024)
def _compressed_point(hex_key: str) -> NodeKey:
    """The compressed form of a point given in hex, ``ValueError`` if it is not on the curve.

    Cached (errors are not): every ledger entry checks its backend's key, always one of a
    few, and parsing a point costs 7 µs.
    """
    return NodeKey(coincurve.PublicKey(bytes.fromhex(hex_key)).format(compressed=True).hex())


def uuid_value(field: str, value: object) -> uuid.UUID:
    """A UUID in its hyphenated text form (any case)."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str) or len(value) != 36:
        raise InvalidInput(field, "must be a UUID such as 6a38ebdd-3f3a-4ad4-8b44-d6aa2f4dc6b1")
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidInput(field, f"not a valid UUID: {value!r}") from exc


def integer(field: str, value: object, *, low: int, high: int) -> int:
    """An integer (JSON number without fraction; booleans refused) within ``low..high``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, "must be an integer")
    if not low <= value <= high:
        raise InvalidInput(field, f"must be between {low} and {high}, got {value}")
    return value


def msat(field: str, value: object) -> Msat:
    """An amount in millisatoshis, at least 1 and at most 21 million bitcoin."""
    return Msat(integer(field, value, low=1, high=MSAT_LIMIT))


def boolean(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(field, "must be true or false")
    return value


def text(field: str, value: object, *, limit: int = 10_000) -> str:
    """A non-empty, non-blank string of at most ``limit`` characters without NUL."""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    if not value.strip():
        raise InvalidInput(field, "must not be empty")
    if len(value) > limit:
        raise InvalidInput(field, f"must be at most {limit} characters")
    if "\x00" in value:
        raise InvalidInput(field, "must not contain NUL characters")
    return unicode_text(field, value)


def unicode_text(field: str, value: str) -> str:
    """``value`` unchanged if it is valid Unicode (no lone surrogates, which no database
    column or UTF-8 JSON can hold)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(field, "must be valid Unicode text (no lone surrogates)") from None
    return value


def partition(field: str, value: object) -> str:
    """A partition name: 1-64 URL-safe characters (letters, digits, ``.``, ``_``, ``~``, ``-``)."""
    if not isinstance(value, str) or not _PARTITION.fullmatch(value):
        raise InvalidInput(field, "must be 1-64 characters of A-Z a-z 0-9 . _ ~ -")
    return value


def email(field: str, value: object) -> str:
    """An internet address ``local@domain`` (dot-atom local part, hostname domain)."""
    if not isinstance(value, str) or len(value) > 254 or value.count("@") != 1:
        raise InvalidInput(field, "must be an address such as name@example.com")
    local, domain = value.split("@")
    if len(local) > 64 or not _LOCAL_PART.fullmatch(local) or not is_hostname(domain):
        raise InvalidInput(field, f"not a valid address: {value!r}")
    return value


def is_hostname(value: str) -> bool:
    return len(value) <= 253 and _HOSTNAME.fullmatch(value) is not None


def hostname(field: str, value: object, *, allow_port: bool = False) -> str:
    """A DNS name (lowercased), optionally followed by ``:port``."""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a host name string")
    host, sep, port = value.rpartition(":") if allow_port and ":" in value else (value, "", "")
    if not is_hostname(host) or (sep and not (port.isdigit() and 0 < int(port) < 65536)):
        raise InvalidInput(field, f"not a valid host name: {value!r}")
    return value.lower()


def username(field: str, value: object) -> str:
    """A LUD-16 user name: 1-64 of ``a-z 0-9 - _ .`` (upper case is folded to lower case)."""
    if not isinstance(value, str) or not _USERNAME.fullmatch(value.lower()):
        raise InvalidInput(field, "must be 1-64 characters of a-z 0-9 - _ .")
    return value.lower()


def image_data(field: str, kind: str, encoded: object) -> bytes:
    """Canonical padded standard base64 of a PNG or JPEG of at most 100 kB."""
    if not isinstance(encoded, str):
        raise InvalidInput(field, "must be a base64 string")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(field, "is not valid padded standard base64") from exc
    if base64.b64encode(data).decode("ascii") != encoded:
        raise InvalidInput(field, "is not canonical base64")
    check_image(field, kind, data)
    return data


def check_image(field: str, kind: str, data: bytes) -> None:
    if kind not in _MAGIC:
        raise InvalidInput(field, "image must be png or jpeg")
    if not data:
        raise InvalidInput(field, "image is empty")
    if len(data) > IMAGE_LIMIT:
        raise InvalidInput(field, f"image is {len(data)} bytes; at most {IMAGE_LIMIT} allowed")
    if not data.startswith(_MAGIC[kind]):
        raise InvalidInput(field, f"data is not a {kind} image")


def image_kind(field: str, value: object) -> Literal["png", "jpeg"]:
    if value == "png":
        return "png"
    if value == "jpeg":
        return "jpeg"
    raise InvalidInput(field, "image must be png or jpeg")


def grpc_url(field: str, value: object) -> str:
    """An ``https://host[:port]`` URL with no credentials, path, query or fragment."""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a URL string")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(field, f"not a valid URL: {value!r}") from exc
    if parts.scheme != "https":
        raise InvalidInput(field, "must be an https:// URL")
    if not parts.hostname or parts.username or parts.password:
        raise InvalidInput(field, "must name a host and carry no credentials")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidInput(field, "must not have a path, query or fragment")
    if port == 0:
        raise InvalidInput(field, "port must be between 1 and 65535")
    return unicode_text(field, value)


def file_path(field: str, value: object) -> str:
    """An absolute path on the daemon's host."""
    if not isinstance(value, str) or not value.startswith("/") or "\x00" in value:
        raise InvalidInput(field, "must be an absolute file path")
    return unicode_text(field, value)
