"""JSON converters for the admin API (camelCase, shapes of the original Switchgear).

Readers take decoded JSON (``json.loads`` output) and raise ``InvalidInput`` naming the
camelCase field (nested fields as ``implementation.auth.macaroonPath``). Unknown top-level
fields of backends, offers and metadata are ignored as the original does (PUT bodies may carry
the full record); unknown fields inside ``implementation``, ``image`` and ``identifier`` are
errors. Writers emit fields in the original order and omit absent optional fields.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Collection
from typing import Any

from switchgeard.errors import InvalidInput
from switchgeard.store import validate, values
from switchgeard.store.records import (
    Address,
    Backend,
    BackendPatch,
    ClnGrpc,
    Identifier,
    Image,
    Implementation,
    LndGrpc,
    Metadata,
    Offer,
)
from switchgeard.store.rfc3339 import format_rfc3339, parse_rfc3339
from switchgeard.units import Msat, NodeKey

Json = dict[str, Any]
_ABSENT = object()


def parse_node_key(text: str) -> NodeKey:
    """Parse a 66-hex compressed or 130-hex uncompressed key; return compressed lowercase."""
    return values.node_key("publicKey", text)


def backend_from_json(obj: object, *, public_key: str | None = None) -> Backend:
    """Read ``DiscoveryBackend`` (or the PUT body, with the key from the path)."""
    body = _object("", obj)
    key = _field(body, "publicKey") if public_key is None else public_key
    name = body.get("name")
    return validate.check_backend(
        Backend(
            public_key=values.node_key("publicKey", key),
            name=None if name is None else values.text("name", name, limit=256),
            partitions=_partitions(_field(body, "partitions")),
            weight=values.integer("weight", _field(body, "weight"), low=0, high=2**31 - 1),
            enabled=values.boolean("enabled", _field(body, "enabled")),
            implementation=implementation_from_json(_field(body, "implementation")),
        )
    )


def backend_to_json(backend: Backend) -> Json:
    out: Json = {"publicKey": backend.public_key}
    if backend.name is not None:
        out["name"] = backend.name
    out["partitions"] = sorted(backend.partitions)
    out["weight"] = backend.weight
    out["enabled"] = backend.enabled
    out["implementation"] = implementation_to_json(backend.implementation)
    return out


def backend_patch_from_json(obj: object) -> BackendPatch:
    """Read a PATCH body. ``"name": null`` clears the name (the original ignored it)."""
    body = _object("", obj)
    if "implementation" in body:
        raise InvalidInput("implementation", "cannot be patched; replace the backend with PUT")
    name = body.get("name", _ABSENT)
    partitions = body.get("partitions")
    weight = body.get("weight")
    enabled = body.get("enabled")
    return validate.check_patch(
        BackendPatch(
            name=None if name is None or name is _ABSENT else values.text("name", name),
            clear_name=name is None,
            partitions=None if partitions is None else _partitions(partitions),
            weight=None
            if weight is None
            else values.integer("weight", weight, low=0, high=2**31 - 1),
            enabled=None if enabled is None else values.boolean("enabled", enabled),
        )
    )


def implementation_from_json(obj: object) -> Implementation:
    """Read ``{"type": "lndGrpc"|"clnGrpc", "url", "domain"?, "auth": {...}}``."""
    field = "implementation"
    body = _object(field, obj)
    kind = body.get("type")
    if kind == "lndGrpc":
        _only(field, body, {"type", "url", "domain", "auth", "ampInvoice"})
        auth = _auth(body, {"tlsCertPath", "macaroonPath"})
        impl: Implementation = LndGrpc(
            url=_field(body, "url", field),
            domain=body.get("domain"),
            tls_cert_path=auth.get("tlsCertPath"),
            macaroon_path=_field(auth, "macaroonPath", f"{field}.auth"),
            amp_invoice=body.get("ampInvoice", False),
        )
    elif kind == "clnGrpc":
        _only(field, body, {"type", "url", "domain", "auth"})
        auth = _auth(body, {"caCertPath", "clientCertPath", "clientKeyPath"})
        impl = ClnGrpc(
            url=_field(body, "url", field),
            domain=body.get("domain"),
            ca_cert_path=auth.get("caCertPath"),
            client_cert_path=_field(auth, "clientCertPath", f"{field}.auth"),
            client_key_path=_field(auth, "clientKeyPath", f"{field}.auth"),
        )
    else:
        raise InvalidInput(f"{field}.type", f"must be lndGrpc or clnGrpc, got {kind!r}")
    return validate.check_implementation(impl)


def implementation_to_json(impl: Implementation) -> Json:
    """Keys sorted alphabetically, as the original re-emits stored JSON."""
    if isinstance(impl, LndGrpc):
        auth: Json = {"macaroonPath": impl.macaroon_path, "tlsCertPath": impl.tls_cert_path}
        extra: Json = {"ampInvoice": impl.amp_invoice}
        kind = "lndGrpc"
    else:
        auth = {
            "caCertPath": impl.ca_cert_path,
            "clientCertPath": impl.client_cert_path,
            "clientKeyPath": impl.client_key_path,
        }
        extra = {}
        kind = "clnGrpc"
    auth["type"] = "path"
    out = {**extra, "auth": auth, "domain": impl.domain, "type": kind, "url": impl.url}
    return dict(sorted(out.items()))


def metadata_from_json(
    obj: object, *, partition: str | None = None, id: uuid.UUID | str | None = None
) -> Metadata:
    """Read ``OfferMetadata`` (or the PUT body, with partition and id from the path)."""
    body = _object("", obj)
    long_text = body.get("longText")
    return validate.check_metadata(
        Metadata(
            partition=values.partition("partition", _keyed(body, "partition", partition)),
            id=values.uuid_value("id", _keyed(body, "id", id)),
            text=values.text("text", _field(body, "text")),
            long_text=None if long_text is None else values.text("longText", long_text),
            image=_image(body.get("image")),
            identifier=_identifier(body.get("identifier")),
        )
    )


def metadata_to_json(metadata: Metadata, *, sparse: bool = False) -> Json:
    """``OfferMetadata``; with ``sparse`` the id and partition are left out (embedded form)."""
    out: Json = {} if sparse else {"id": str(metadata.id), "partition": metadata.partition}
    out["text"] = metadata.text
    if metadata.long_text is not None:
        out["longText"] = metadata.long_text
    if metadata.image is not None:
        out["image"] = {metadata.image.kind: base64.b64encode(metadata.image.data).decode()}
    if metadata.identifier is not None:
        out["identifier"] = {metadata.identifier.kind: metadata.identifier.value}
    return out


def offer_from_json(
    obj: object, *, partition: str | None = None, id: uuid.UUID | str | None = None
) -> Offer:
    """Read ``OfferRecord`` (or the PUT body). An embedded ``metadata`` is ignored."""
    body = _object("", obj)
    expires = body.get("expires")
    comment = body.get("commentAllowed", 0)
    return validate.check_offer(
        Offer(
            partition=values.partition("partition", _keyed(body, "partition", partition)),
            id=values.uuid_value("id", _keyed(body, "id", id)),
            min_sendable=_msat(body, "minSendable"),
            max_sendable=_msat(body, "maxSendable"),
            metadata_id=values.uuid_value("metadataId", _field(body, "metadataId")),
            timestamp=parse_rfc3339("timestamp", _field(body, "timestamp")),
            expires=None if expires is None else parse_rfc3339("expires", expires),
            comment_allowed=values.integer("commentAllowed", comment, low=0, high=2000),
        )
    )


def offer_to_json(offer: Offer, metadata: Metadata | None = None) -> Json:
    """``OfferRecord``; ``metadata`` (when given) is embedded in its sparse form."""
    out: Json = {
        "partition": offer.partition,
        "id": str(offer.id),
        "maxSendable": int(offer.max_sendable),
        "minSendable": int(offer.min_sendable),
        "metadataId": str(offer.metadata_id),
    }
    if metadata is not None:
        out["metadata"] = metadata_to_json(metadata, sparse=True)
    out["timestamp"] = format_rfc3339(offer.timestamp)
    if offer.expires is not None:
        out["expires"] = format_rfc3339(offer.expires)
    out["commentAllowed"] = offer.comment_allowed
    return out


ADDRESS_KEY_FIELDS = frozenset({"domain", "username"})
ADDRESS_EDITABLE_FIELDS = frozenset(
    {
        "partition",
        "text",
        "longText",
        "image",
        "isEmail",
        "minSendable",
        "maxSendable",
        "commentAllowed",
        "enabled",
    }
)
ADDRESS_READ_ONLY_FIELDS = frozenset({"source", "externalId", "createdAt", "updatedAt"})
"""Fields of an address's JSON that a write ignores (a GET answer can be sent back)."""


def address_from_json(
    obj: object, *, domain: str | None = None, username: str | None = None
) -> Address:
    """Read an address written by an admin (always ``source: local``).

    ``source``, ``externalId``, ``createdAt`` and ``updatedAt`` are read-only and ignored so a
    fetched address can be sent back; other unknown fields are errors.
    """
    body = _object("", obj)
    _only("", body, ADDRESS_KEY_FIELDS | ADDRESS_EDITABLE_FIELDS | ADDRESS_READ_ONLY_FIELDS)
    long_text = body.get("longText")
    image = _image(body.get("image"))
    return validate.check_address(
        Address(
            domain=values.hostname("domain", _keyed(body, "domain", domain), allow_port=True),
            username=values.username("username", _keyed(body, "username", username)),
            partition=values.partition("partition", _field(body, "partition")),
            text=values.text("text", _field(body, "text")),
            long_text=None if long_text is None else values.text("longText", long_text),
            image=image,
            is_email=values.boolean("isEmail", body.get("isEmail", False)),
            min_sendable=_msat(body, "minSendable"),
            max_sendable=_msat(body, "maxSendable"),
            comment_allowed=values.integer(
                "commentAllowed", body.get("commentAllowed", 0), low=0, high=2000
            ),
            enabled=values.boolean("enabled", body.get("enabled", True)),
        )
    )


def address_to_json(address: Address) -> Json:
    out: Json = {
        "domain": address.domain,
        "username": address.username,
        "partition": address.partition,
        "text": address.text,
    }
    if address.long_text is not None:
        out["longText"] = address.long_text
    if address.image is not None:
        out["image"] = {address.image.kind: base64.b64encode(address.image.data).decode()}
    out["isEmail"] = address.is_email
    out["minSendable"] = int(address.min_sendable)
    out["maxSendable"] = int(address.max_sendable)
    out["commentAllowed"] = address.comment_allowed
    out["enabled"] = address.enabled
    out["source"] = address.source
    if address.external_id is not None:
        out["externalId"] = address.external_id
    return out


def _object(field: str, obj: object) -> Json:
    if not isinstance(obj, dict) or not all(isinstance(k, str) for k in obj):
        raise InvalidInput(field or "body", "must be a JSON object")
    return obj


def _field(body: Json, key: str, prefix: str = "") -> Any:
    name = f"{prefix}.{key}" if prefix else key
    if key not in body or body[key] is None:
        raise InvalidInput(name, "is required")
    return body[key]


def _keyed(body: Json, key: str, given: object) -> Any:
    return _field(body, key) if given is None else given


def _only(field: str, body: Json, allowed: Collection[str]) -> None:
    for key in sorted(body):
        if key not in allowed:
            name = f"{field}.{key}" if field else key
            raise InvalidInput(name, "unknown field")


def _auth(body: Json, paths: set[str]) -> Json:
    field = "implementation.auth"
    auth = _object(field, _field(body, "auth", "implementation"))
    _only(field, auth, paths | {"type"})
    if auth.get("type", "path") != "path":
        raise InvalidInput(f"{field}.type", "only path is supported")
    return auth


def _partitions(value: object) -> frozenset[str]:
    if not isinstance(value, list):
        raise InvalidInput("partitions", "must be an array of partition names")
    return validate.check_partitions(frozenset(values.partition("partitions", p) for p in value))


def _msat(body: Json, key: str) -> Msat:
    return values.msat(key, _field(body, key))


def _image(obj: object) -> Image | None:
    if obj is None:
        return None
    body = _object("image", obj)
    if len(body) != 1:
        raise InvalidInput("image", 'must be {"png": "<base64>"} or {"jpeg": "<base64>"}')
    [(key, encoded)] = body.items()
    kind = values.image_kind("image", key)
    return Image(kind=kind, data=values.image_data(f"image.{kind}", kind, encoded))


def _identifier(obj: object) -> Identifier | None:
    if obj is None:
        return None
    body = _object("identifier", obj)
    shape = 'must be {"email": "<address>"} or {"text": "<address>"}'
    if len(body) != 1:
        raise InvalidInput("identifier", shape)
    [(kind, value)] = body.items()
    if kind == "email":
        return Identifier(kind="email", value=values.email("identifier.email", value))
    if kind == "text":
        return Identifier(kind="text", value=values.email("identifier.text", value))
    raise InvalidInput("identifier", shape)
