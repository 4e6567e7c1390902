"""Lightning Addresses (LUD-16): ``GET /.well-known/lnurlp/<username>`` and its callback.

The request's host (after the allowed-hosts check) picks the domain, so one daemon serves
several. User names are matched after lower-casing and must be ``a-z0-9-_.``; ``user+tag``
resolves to ``user`` and adds ``["text/tag", "tag"]`` to the metadata. Unknown and
disabled names are 404 with the LUD error JSON. The callback, errors, CORS, the ledger and
LUD-21 verify work as for offers. Addresses in partitions this service does not serve
(``[lnurl] partitions``) are unknown here, as offers are.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Protocol

from quart import Response, request
from quart_trio import QuartTrio

from switchgeard.errors import NotFound, RequestError
from switchgeard.lnurl import pay, render
from switchgeard.lnurl.metadata import metadata_entries
from switchgeard.lnurl.origin import Origin
from switchgeard.store.records import Address, Identifier, Metadata

_NAME = re.compile(r"[a-z0-9._-]{1,64}")


class AddressLookup(Protocol):
    """The store method the public service reads addresses with; raises ``NotFound``."""

    async def get_address(self, domain: str, username: str) -> Address: ...


class AddressService(pay.CallbackService, Protocol):
    """What the routes need from the LNURL app's service object."""

    @property
    def addresses(self) -> AddressLookup | None: ...

    @property
    def partitions(self) -> frozenset[str]:
        """The partitions this service answers for (``[lnurl] partitions``)."""
        ...

    def origin(self) -> Origin: ...


@dataclass(frozen=True, slots=True)
class LoadedAddress:
    address: Address
    tag: str | None
    metadata: str
    """The exact metadata string served and hashed."""

    @property
    def path(self) -> str:
        name = self.address.username + ("" if self.tag is None else f"+{self.tag}")
        return f"/.well-known/lnurlp/{name}"


def address_not_found(name: str) -> RequestError:
    return RequestError(f"unknown Lightning Address: {name}", status=404)


def parse_username(text: str) -> tuple[str, str | None]:
    """``(username, tag)`` from ``user`` or ``user+tag`` (case folded); 404 when invalid."""
    name, plus, tag = text.lower().partition("+")
    if not _NAME.fullmatch(name) or (plus and not _NAME.fullmatch(tag)):
        raise address_not_found(text[:80])
    return name, (tag if plus else None)


def address_metadata(address: Address, tag: str | None) -> str:
    """The metadata string: text, long text, image, the identifier (and the tag)."""
    identifier = Identifier(
        kind="email" if address.is_email else "text",
        value=f"{address.username}@{address.domain}",
    )
    record = Metadata(
        partition=address.partition,
        id=uuid.UUID(int=0),
        text=address.text,
        long_text=address.long_text,
        image=address.image,
        identifier=identifier,
    )
    entries = metadata_entries(record)
    if tag is not None:
        entries.append(["text/tag", tag])
    return json.dumps(entries, separators=(",", ":"), ensure_ascii=False)


async def load_address(
    lookup: AddressLookup | None, domain: str, text: str, partitions: frozenset[str]
) -> LoadedAddress:
    """The address and its metadata; 404 when unknown, disabled or in a partition not served."""
    username, tag = parse_username(text)
    if lookup is None:
        raise address_not_found(text[:80])
    try:
        address = await lookup.get_address(domain, username)
    except NotFound:
        raise address_not_found(f"{username}@{domain}") from None
    if not address.enabled or address.partition not in partitions:
        raise address_not_found(f"{username}@{domain}")
    return LoadedAddress(address, tag, address_metadata(address, tag))


def add_address_routes(app: QuartTrio, service: AddressService) -> None:
    """Register the LUD-16 first call and its callback on ``app``."""

    async def loaded(username: str) -> tuple[Origin, LoadedAddress]:
        origin = service.origin()
        found = await load_address(service.addresses, origin.host, username, service.partitions)
        return origin, found

    @app.get("/.well-known/lnurlp/<username>")
    async def address_first_call(username: str) -> Response:
        origin, found = await loaded(username)
        callback = origin.url(found.path + "/callback")
        return render.json_response(pay.pay_request(found.address, found.metadata, callback))

    @app.get("/.well-known/lnurlp/<username>/callback")
    async def address_callback(username: str) -> Response:
        origin, found = await loaded(username)
        address = found.address
        amount, comment = pay.parse_callback(request.args.to_dict(flat=False), address)
        body = await pay.answer_callback(
            service,
            origin,
            address,
            metadata=found.metadata,
            reference=f"address:{address.username}@{address.domain}",
            amount=amount,
            comment=comment,
        )
        return render.json_response(body)
