"""The LUD-06 metadata string, built byte-exactly as the original Switchgear builds it.

Entries come in a fixed order (``text/plain``, ``text/long-desc``, the image, the
identifier), serialised as compact JSON with non-ASCII characters left unescaped. The
BOLT11 description hash is sha256 of exactly these UTF-8 bytes, so the string is built in
this one place and the same text is both served and handed to the node.
"""

from __future__ import annotations

import base64
import hashlib
import json

from switchgeard.store.records import Metadata

_IMAGE_TYPES = {"png": "image/png;base64", "jpeg": "image/jpeg;base64"}
_IDENTIFIER_TYPES = {"email": "text/email", "text": "text/identifier"}


def metadata_entries(metadata: Metadata) -> list[list[str]]:
    """The metadata as ``[type, value]`` pairs in the fixed order."""
    entries = [["text/plain", metadata.text]]
    if metadata.long_text is not None:
        entries.append(["text/long-desc", metadata.long_text])
    if metadata.image is not None:
        encoded = base64.b64encode(metadata.image.data).decode("ascii")
        entries.append([_IMAGE_TYPES[metadata.image.kind], encoded])
    if metadata.identifier is not None:
        entries.append([_IDENTIFIER_TYPES[metadata.identifier.kind], metadata.identifier.value])
    return entries


def metadata_string(metadata: Metadata) -> str:
    """The exact string served as ``metadata`` and hashed into the invoice."""
    return json.dumps(metadata_entries(metadata), separators=(",", ":"), ensure_ascii=False)


def description_hash(description: str) -> str:
    """Hex sha256 of the UTF-8 bytes of ``description`` (the BOLT11 ``h`` tag)."""
    return hashlib.sha256(description.encode("utf-8")).hexdigest()
