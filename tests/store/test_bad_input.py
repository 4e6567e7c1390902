"""Invalid records handed to the store: a typed error naming the field, nothing written."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

import pytest

from store import samples
from switchgeard.errors import InvalidInput
from switchgeard.store import Store
from switchgeard.store.records import ClnGrpc, Identifier, Image, LndGrpc, Page
from switchgeard.units import Msat, NodeKey

META = samples.metadata()
LND = LndGrpc(url="https://127.0.0.1:10009", macaroon_path="/m")
Write = Callable[[Store], Awaitable[object]]


def _backend(**changes: object) -> Write:
    return lambda store: store.create_backend(samples.backend(1, **changes))


def _put_backend(**changes: object) -> Write:
    return lambda store: store.put_backend(samples.backend(1, **changes))


def _meta(**changes: object) -> Write:
    return lambda store: store.put_metadata(dataclasses.replace(META, **changes))  # type: ignore[arg-type]


def _offer(**changes: object) -> Write:
    return lambda store: store.create_offer(samples.offer(META, **changes))


def _address(**changes: object) -> Write:
    return lambda store: store.put_address(samples.address(**changes))


CASES: list[tuple[str, Write, str]] = [
    ("pubkey not hex", _backend(public_key=NodeKey("zz" * 33)), "publicKey"),
    ("pubkey off curve", _put_backend(public_key=NodeKey("02" + "00" * 32)), "publicKey"),
    ("negative weight", _backend(weight=-1), "weight"),
    ("bad partition", _backend(partitions=frozenset({""})), "partitions"),
    ("unknown implementation", _backend(implementation=object()), "implementation.type"),
    (
        "missing macaroon path",
        _backend(implementation=dataclasses.replace(LND, macaroon_path="")),
        "implementation.auth.macaroonPath",
    ),
    (
        "cln relative key path",
        _put_backend(
            implementation=ClnGrpc(url="https://h:1", client_cert_path="/c", client_key_path="k")
        ),
        "implementation.auth.clientKeyPath",
    ),
    (
        "plain http url",
        _backend(implementation=dataclasses.replace(LND, url="http://h")),
        "implementation.url",
    ),
    ("bad uuid", _meta(id="not-a-uuid"), "id"),
    ("empty text", _meta(text="  "), "text"),
    ("lone surrogate in text", _meta(text="tip \ud800"), "text"),
    ("lone surrogate in a name", _backend(name="node \udc80"), "name"),
    (
        "lone surrogate in a path",
        _backend(implementation=LndGrpc(url="https://127.0.0.1:10009", macaroon_path="/m\udc80")),
        "implementation.auth.macaroonPath",
    ),
    (
        "oversized image",
        _meta(image=Image(kind="png", data=samples.PNG + b"\0" * 100_000)),
        "image",
    ),
    ("jpeg labelled png", _meta(image=Image(kind="png", data=samples.JPEG)), "image"),
    ("invalid email", _meta(identifier=Identifier(kind="email", value="no at sign")), "identifier"),
    ("min above max", _offer(min_sendable=Msat(5), max_sendable=Msat(4)), "minSendable"),
    ("zero min", _offer(min_sendable=Msat(0)), "minSendable"),
    ("zero max", _offer(min_sendable=Msat(0), max_sendable=Msat(0)), "minSendable"),
    ("naive timestamp", _offer(timestamp=datetime(2024, 1, 1)), "timestamp"),
    ("expires before start", _offer(expires=samples.START), "expires"),
    ("offer bad metadata uuid", _offer(metadata_id="x"), "metadataId"),
    ("comment too long", _offer(comment_allowed=2001), "commentAllowed"),
    ("username", _address(username="not ok"), "username"),
    ("address amounts", _address(min_sendable=Msat(9), max_sendable=Msat(8)), "minSendable"),
    ("address domain", _address(domain="a..b"), "domain"),
    ("local with external id", _address(external_id="e"), "externalId"),
]


@pytest.mark.parametrize(("write", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_invalid_record_names_the_field_and_writes_nothing(
    store: Store, write: Write, field: str
) -> None:
    await store.create_metadata(META)
    version = await store.backend_version()
    with pytest.raises(InvalidInput) as caught:
        await write(store)
    assert caught.value.field == field
    assert await store.backend_version() == version
    assert await store.list_backends() == []
    assert await store.list_offers(None, Page()) == []
    assert await store.list_addresses(Page()) == []
    assert [m.text for m in await store.list_metadata(None, Page())] == [META.text]


async def test_store_rejects_unpersistable_partition_before_writing(store: Store) -> None:
    with pytest.raises(InvalidInput) as caught:
        await store.create_metadata(samples.metadata("x" * 65))
    assert caught.value.field == "partition"
    assert await store.list_metadata(None, Page()) == []
    assert uuid.UUID(int=0) != META.id
