"""The admin API JSON converters: shapes, field order, canonical forms."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

import pytest

from store import samples
from switchgeard.errors import InvalidInput
from switchgeard.store import codec, values
from switchgeard.store.records import BackendPatch, Identifier, Image, LndGrpc

META_ID = "88deff7e-6a0c-4a0e-9d3b-8d7c3f6e5a21"
OFFER_ID = "6a38ebdd-3f3a-4ad4-8b44-d6aa2f4dc6b1"
LND = {
    "type": "lndGrpc",
    "url": "https://host:10009",
    "domain": None,
    "auth": {"type": "path", "tlsCertPath": "/p/tls.cert", "macaroonPath": "/p/admin.macaroon"},
    "ampInvoice": False,
}
CLN = {
    "type": "clnGrpc",
    "url": "https://host:9736",
    "domain": "node.example",
    "auth": {
        "type": "path",
        "caCertPath": "/opt/ca.pem",
        "clientCertPath": "/p/client.pem",
        "clientKeyPath": "/p/client-key.pem",
    },
}


def backend_body(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "publicKey": samples.node_key(1),
        "name": "CLN Node 1",
        "partitions": ["us", "default", "us"],
        "weight": 100,
        "enabled": True,
        "implementation": CLN,
    }
    body.update(changes)
    return body


def test_backend_round_trip_in_spec_order() -> None:
    parsed = codec.backend_from_json(
        backend_body(publicKey=samples.uncompressed(samples.node_key(1)).upper())
    )
    out = codec.backend_to_json(parsed)
    assert list(out) == ["publicKey", "name", "partitions", "weight", "enabled", "implementation"]
    assert out["publicKey"] == samples.node_key(1)
    assert out["partitions"] == ["default", "us"]
    assert json.dumps(out["implementation"], sort_keys=True) == json.dumps(out["implementation"])
    assert codec.backend_from_json(out) == parsed
    lnd = codec.backend_from_json(backend_body(name=None, implementation=LND))
    out = codec.backend_to_json(lnd)
    assert "name" not in out
    assert out["implementation"] == {
        "ampInvoice": False,
        "auth": {"macaroonPath": "/p/admin.macaroon", "tlsCertPath": "/p/tls.cert", "type": "path"},
        "domain": None,
        "type": "lndGrpc",
        "url": "https://host:10009",
    }


def test_put_body_takes_the_key_from_the_path() -> None:
    body = backend_body()
    del body["publicKey"]
    assert codec.backend_from_json(body, public_key=samples.node_key(2)).public_key == (
        samples.node_key(2)
    )
    body["publicKey"] = "ignored"
    assert codec.backend_from_json(body, public_key=samples.node_key(2)).public_key == (
        samples.node_key(2)
    )


def test_lnd_optional_fields_default() -> None:
    impl = codec.implementation_from_json(
        {"type": "lndGrpc", "url": "https://h", "auth": {"macaroonPath": "/m"}}
    )
    assert impl == LndGrpc(url="https://h", macaroon_path="/m")


def test_patch_body() -> None:
    assert codec.backend_patch_from_json({}) == BackendPatch()
    assert codec.backend_patch_from_json({"name": None}) == BackendPatch(clear_name=True)
    assert codec.backend_patch_from_json(
        {"name": "n", "partitions": ["b", "a"], "weight": 0, "enabled": False}
    ) == BackendPatch(name="n", partitions=frozenset({"a", "b"}), weight=0, enabled=False)


def test_metadata_round_trip() -> None:
    body = {
        "id": META_ID,
        "partition": "default",
        "text": "mandatory",
        "longText": "optional",
        "image": {"png": samples.PNG_B64},
        "identifier": {"email": "a@b.c"},
    }
    parsed = codec.metadata_from_json(body)
    assert parsed.image == Image(kind="png", data=samples.PNG)
    assert parsed.identifier == Identifier(kind="email", value="a@b.c")
    assert codec.metadata_to_json(parsed) == body
    assert list(codec.metadata_to_json(parsed)) == list(body)
    sparse = codec.metadata_from_json({"text": "t"}, partition="p", id=uuid.UUID(META_ID))
    assert codec.metadata_to_json(sparse) == {"id": META_ID, "partition": "p", "text": "t"}


def test_offer_round_trip_and_timestamps() -> None:
    body = {
        "partition": "default",
        "id": OFFER_ID,
        "maxSendable": 1_000_000,
        "minSendable": 1000,
        "metadataId": META_ID,
        "metadata": {"text": "ignored on input"},
        "timestamp": "2024-01-01T02:00:00.5+02:00",
        "expires": "2024-12-31T23:59:59.123456789Z",
    }
    parsed = codec.offer_from_json(body)
    assert parsed.timestamp == datetime(2024, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC)
    out = codec.offer_to_json(parsed)
    assert out == {
        "partition": "default",
        "id": OFFER_ID,
        "maxSendable": 1_000_000,
        "minSendable": 1000,
        "metadataId": META_ID,
        "timestamp": "2024-01-01T00:00:00.500Z",
        "expires": "2024-12-31T23:59:59.123456Z",
        "commentAllowed": 0,
    }
    assert list(out) == [*list(body)[:5], "timestamp", "expires", "commentAllowed"]
    meta = codec.metadata_from_json({"id": META_ID, "partition": "default", "text": "t"})
    with_meta = codec.offer_to_json(parsed, meta)
    assert with_meta["metadata"] == {"text": "t"}
    assert list(with_meta)[5] == "metadata"
    plain = codec.offer_from_json(
        {k: v for k, v in body.items() if k not in ("expires", "partition", "id")},
        partition="p",
        id=OFFER_ID,
    )
    assert "expires" not in codec.offer_to_json(plain)
    assert codec.offer_to_json(plain)["timestamp"] == "2024-01-01T00:00:00.500Z"


def test_address_round_trip() -> None:
    body = {
        "domain": "Pay.Example",
        "username": "Alice",
        "partition": "default",
        "text": "pay alice",
        "minSendable": 1000,
        "maxSendable": 2000,
        "commentAllowed": 100,
    }
    parsed = codec.address_from_json(body)
    out = codec.address_to_json(parsed)
    assert out == {
        "domain": "pay.example",
        "username": "alice",
        "partition": "default",
        "text": "pay alice",
        "isEmail": False,
        "minSendable": 1000,
        "maxSendable": 2000,
        "commentAllowed": 100,
        "enabled": True,
        "source": "local",
    }
    assert codec.address_from_json(out) == parsed  # read-only fields are accepted back
    ldap = codec.address_to_json(samples.ldap_address("bob", "uuid-bob"))
    assert ldap["source"] == "ldap" and ldap["externalId"] == "uuid-bob"


def test_parse_node_key() -> None:
    key = samples.node_key(3)
    assert codec.parse_node_key(key.upper()) == key
    assert codec.parse_node_key(samples.uncompressed(key)) == key


def test_node_keys_are_checked_alike_every_time() -> None:
    """The same answers when a key comes again (valid points are cached, refusals not)."""
    key = samples.node_key(4)
    for _ in range(2):
        for text in (key, key.upper(), samples.uncompressed(key)):
            assert values.node_key("backendKey", text) == key
        with pytest.raises(InvalidInput, match="not a point on the secp256k1 curve") as caught:
            values.node_key("backendKey", "02" + "00" * 32)
        assert caught.value.field == "backendKey"


def _png_of(size: int) -> str:
    return base64.b64encode(samples.PNG[:8] + b"\x00" * (size - 8)).decode()


def _without(body: dict[str, object], *keys: str) -> dict[str, object]:
    return {k: v for k, v in body.items() if k not in keys}


def _lnd(**auth: object) -> dict[str, object]:
    return {**LND, "auth": {"type": "path", **auth}}


OFFER = {
    "partition": "default",
    "id": OFFER_ID,
    "maxSendable": 2000,
    "minSendable": 1000,
    "metadataId": META_ID,
    "timestamp": "2024-01-01T00:00:00Z",
}
META = {"id": META_ID, "partition": "default", "text": "t"}
ADDRESS = {"domain": "pay.example", "username": "bob", "partition": "default", "text": "t"}
ADDRESS |= {"minSendable": 1, "maxSendable": 2}

BAD_INPUT = [
    # backends
    (codec.backend_from_json, backend_body(publicKey="02" * 16), "publicKey"),
    (codec.backend_from_json, backend_body(publicKey="02" + "00" * 32), "publicKey"),
    (codec.backend_from_json, backend_body(publicKey="05" + "11" * 64), "publicKey"),
    (codec.backend_from_json, _without(backend_body(), "publicKey"), "publicKey"),
    (codec.backend_from_json, backend_body(weight=-1), "weight"),
    (codec.backend_from_json, backend_body(weight=1.5), "weight"),
    (codec.backend_from_json, backend_body(weight=True), "weight"),
    (codec.backend_from_json, backend_body(enabled="yes"), "enabled"),
    (codec.backend_from_json, backend_body(partitions="default"), "partitions"),
    (codec.backend_from_json, backend_body(partitions=["a b"]), "partitions"),
    (codec.backend_from_json, backend_body(name=""), "name"),
    (
        codec.backend_from_json,
        backend_body(implementation={**LND, "type": "lnd"}),
        "implementation.type",
    ),
    (codec.backend_from_json, backend_body(implementation={}), "implementation.type"),
    (codec.backend_from_json, backend_body(implementation=[]), "implementation"),
    (
        codec.backend_from_json,
        backend_body(implementation=_lnd()),
        "implementation.auth.macaroonPath",
    ),
    (
        codec.backend_from_json,
        backend_body(implementation=_lnd(macaroonPath="rel")),
        "implementation.auth.macaroonPath",
    ),
    (
        codec.backend_from_json,
        backend_body(implementation=_lnd(macaroonPath="/m", x=1)),
        "implementation.auth.x",
    ),
    (
        codec.backend_from_json,
        backend_body(implementation={**LND, "extra": 1}),
        "implementation.extra",
    ),
    (
        codec.backend_from_json,
        backend_body(implementation={**LND, "url": "http://h:1"}),
        "implementation.url",
    ),
    (
        codec.backend_from_json,
        backend_body(implementation={**LND, "url": "https://h/x"}),
        "implementation.url",
    ),
    (
        codec.backend_from_json,
        backend_body(implementation={**LND, "ampInvoice": 1}),
        "implementation.ampInvoice",
    ),
    (
        codec.backend_from_json,
        backend_body(implementation={**LND, "domain": "bad domain"}),
        "implementation.domain",
    ),
    (
        codec.backend_from_json,
        backend_body(implementation=_without(CLN, "auth")),
        "implementation.auth",
    ),
    (
        codec.backend_from_json,
        backend_body(implementation={**CLN, "auth": {"clientCertPath": "/c"}}),
        "implementation.auth.clientKeyPath",
    ),
    (
        codec.backend_from_json,
        backend_body(implementation={**CLN, "auth": {**CLN["auth"], "type": "inline"}}),
        "implementation.auth.type",
    ),
    (
        codec.backend_from_json,
        backend_body(implementation={**CLN, "ampInvoice": True}),
        "implementation.ampInvoice",
    ),
    (codec.backend_from_json, "not an object", "body"),
    (codec.backend_patch_from_json, {"implementation": LND}, "implementation"),
    (codec.backend_patch_from_json, {"weight": -5}, "weight"),
    # metadata
    (codec.metadata_from_json, {**META, "id": "nope"}, "id"),
    (codec.metadata_from_json, {**META, "text": ""}, "text"),
    (codec.metadata_from_json, _without(META, "text"), "text"),
    (codec.metadata_from_json, {**META, "partition": "a/b"}, "partition"),
    (
        codec.metadata_from_json,
        {**META, "image": {"png": samples.PNG_B64.rstrip("=")}},
        "image.png",
    ),
    (codec.metadata_from_json, {**META, "image": {"png": "aGk=\n"}}, "image.png"),
    (codec.metadata_from_json, {**META, "image": {"png": "aGl="}}, "image.png"),
    (codec.metadata_from_json, {**META, "image": {"png": _png_of(100_001)}}, "image.png"),
    (codec.metadata_from_json, {**META, "image": {"jpeg": samples.PNG_B64}}, "image.jpeg"),
    (codec.metadata_from_json, {**META, "image": {"gif": samples.PNG_B64}}, "image"),
    (
        codec.metadata_from_json,
        {**META, "identifier": {"email": "not-an-email"}},
        "identifier.email",
    ),
    (codec.metadata_from_json, {**META, "identifier": {"text": "a@b@c"}}, "identifier.text"),
    (
        codec.metadata_from_json,
        {**META, "identifier": {"email": "a@b.c", "text": "a@b.c"}},
        "identifier",
    ),
    # offers
    (codec.offer_from_json, {**OFFER, "id": OFFER_ID[:-1]}, "id"),
    (codec.offer_from_json, {**OFFER, "metadataId": "x"}, "metadataId"),
    (codec.offer_from_json, {**OFFER, "minSendable": 3000}, "minSendable"),
    (codec.offer_from_json, {**OFFER, "minSendable": 0}, "minSendable"),
    (codec.offer_from_json, {**OFFER, "maxSendable": 0}, "maxSendable"),
    (codec.offer_from_json, {**OFFER, "maxSendable": "2000"}, "maxSendable"),
    (codec.offer_from_json, {**OFFER, "maxSendable": 2_100_000_000_000_000_001}, "maxSendable"),
    (codec.offer_from_json, {**OFFER, "timestamp": "2024-01-01T00:00:00"}, "timestamp"),
    (codec.offer_from_json, {**OFFER, "timestamp": "2024-02-30T00:00:00Z"}, "timestamp"),
    (codec.offer_from_json, _without(OFFER, "timestamp"), "timestamp"),
    (codec.offer_from_json, {**OFFER, "expires": "2023-01-01T00:00:00Z"}, "expires"),
    (codec.offer_from_json, {**OFFER, "commentAllowed": 2001}, "commentAllowed"),
    # addresses
    (codec.address_from_json, {**ADDRESS, "username": "bob smith"}, "username"),
    (codec.address_from_json, {**ADDRESS, "username": "bob+1"}, "username"),
    (codec.address_from_json, {**ADDRESS, "domain": "-bad-.example"}, "domain"),
    (codec.address_from_json, {**ADDRESS, "domain": "pay.example:99999"}, "domain"),
    (codec.address_from_json, {**ADDRESS, "commentAllowed": -1}, "commentAllowed"),
    (codec.address_from_json, {**ADDRESS, "minSendable": 3}, "minSendable"),
    (codec.address_from_json, {**ADDRESS, "color": "red"}, "color"),
]


@pytest.mark.parametrize(("read", "body", "field"), BAD_INPUT)
def test_bad_input_names_the_field(read: object, body: object, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read(body)  # type: ignore[operator]
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
