"""The metadata string is byte-exact (spec §1.4) and its hash is the invoice's ``h``."""

from __future__ import annotations

import hashlib
import uuid

from switchgeard.lnurl.metadata import description_hash, metadata_string
from switchgeard.store.records import Identifier, Image, Metadata

ID = uuid.UUID(int=1)


def test_spec_vector_in_fixed_order() -> None:
    metadata = Metadata(
        partition="default",
        id=ID,
        text="text",
        long_text="long text",
        image=Image(kind="png", data=b"\x00\x01"),
        identifier=Identifier(kind="email", value="email@example.com"),
    )
    assert metadata_string(metadata) == (
        '[["text/plain","text"],["text/long-desc","long text"],'
        '["image/png;base64","AAE="],["text/email","email@example.com"]]'
    )


def test_optional_entries_jpeg_and_text_identifier() -> None:
    metadata = Metadata(
        partition="p",
        id=ID,
        text="only",
        image=Image(kind="jpeg", data=b"\xff"),
        identifier=Identifier(kind="text", value="a@b.c"),
    )
    assert metadata_string(metadata) == (
        '[["text/plain","only"],["image/jpeg;base64","/w=="],["text/identifier","a@b.c"]]'
    )
    assert metadata_string(Metadata(partition="p", id=ID, text="x")) == '[["text/plain","x"]]'


def test_non_ascii_unescaped_and_json_specials_escaped() -> None:
    text = 'Grüße/ "quoted" \\ tab\t☕'
    served = metadata_string(Metadata(partition="p", id=ID, text=text))
    assert served == '[["text/plain","Grüße/ \\"quoted\\" \\\\ tab\\t☕"]]'
    assert description_hash(served) == hashlib.sha256(served.encode("utf-8")).hexdigest()
