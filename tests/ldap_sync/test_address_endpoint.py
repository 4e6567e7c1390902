"""LUD-16 wallet flow (local and LDAP addresses), checked with PyPI ``lnurl`` and ``bolt11``."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import bolt11
import pytest
import trio
from directory_admin import DirectoryAdmin
from ldap_world import World, eventually, ldap_config, open_world
from lnurl import LnurlPayActionResponse, LnurlPayResponse, LnurlResponse
from slapd import Slapd

from switchgeard.ldap_sync import run_ldap_sync
from switchgeard.lnurl.address import address_metadata, parse_username
from switchgeard.store.records import Address, Image
from switchgeard.units import Msat

LOCAL = Address(
    domain="localhost",
    username="shop",
    partition="default",
    text="Shop ☕",
    long_text="Coffee\nand cake",
    image=Image(kind="png", data=b"\x89PNG\r\n\x1a\nxx"),
    is_email=True,
    min_sendable=Msat(1000),
    max_sendable=Msat(50_000),
    comment_allowed=20,
)


async def wallet_pays(world: World, name: str, amount: int) -> dict[str, Any]:
    """What a wallet does: validate the first response strictly, call back, check the invoice."""
    status, first = await world.get(f"/.well-known/lnurlp/{name}")
    assert status == 200, first
    parsed = LnurlResponse.from_dict(first)
    assert isinstance(parsed, LnurlPayResponse)
    callback = urlsplit(str(parsed.callback))
    assert callback.hostname == "localhost"
    status, second = await world.get(f"{callback.path}?amount={amount}")
    assert status == 200, second
    assert isinstance(LnurlResponse.from_dict(second), LnurlPayActionResponse)
    invoice = bolt11.decode(second["pr"])
    assert invoice.amount_msat == amount
    assert invoice.description_hash == hashlib.sha256(first["metadata"].encode()).hexdigest()
    assert invoice.description_hash == parsed.metadata.h
    return dict(first)


def metadata(first: dict[str, Any]) -> dict[str, str]:
    return {kind: value for kind, value in json.loads(first["metadata"])}


async def test_local_address_wallet_flow(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        await world.store.create_address(LOCAL)
        first = await wallet_pays(world, "shop", 21_000)
        entries = metadata(first)
        assert entries["text/email"] == "shop@localhost"
        assert (
            entries["text/plain"] == "Shop ☕" and entries["text/long-desc"] == "Coffee\nand cake"
        )
        assert "image/png;base64" in entries and first["commentAllowed"] == 20
        assert world.balancer.references == ["address:shop@localhost"]
        tagged = await wallet_pays(world, "SHOP+Tips", 1000)
        assert metadata(tagged)["text/tag"] == "tips"
        assert tagged["callback"].endswith("/.well-known/lnurlp/shop+tips/callback")
        status, body = await world.get("/.well-known/lnurlp/shop/callback?amount=999")
        assert status == 400 and body["status"] == "ERROR" and "range" in body["reason"]


async def test_unknown_disabled_and_foreign_host_answers(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        await world.store.create_address(LOCAL)
        for path in ("nobody", "bad%20name", "shop+", "x" * 65):
            status, body = await world.get(f"/.well-known/lnurlp/{path}")
            assert (status, body["status"]) == (404, "ERROR"), path
        status, _ = await world.get("/.well-known/lnurlp/shop", host="other.example")
        assert status == 404  # the host selects the domain
        status, body = await world.get("/.well-known/lnurlp/shop", host="evil.example")
        assert status == 400 and body["status"] == "ERROR"
        await world.store.set_address_enabled("localhost", "shop", False)
        status, body = await world.get("/.well-known/lnurlp/shop")
        assert (status, body["status"]) == (404, "ERROR")
        response = await world.app.test_client().options(
            "/.well-known/lnurlp/shop", headers={"Host": "localhost"}
        )
        assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_addresses_of_partitions_not_served_here_are_unknown(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:  # serves only the "default" partition
        await world.store.create_address(dataclasses.replace(LOCAL, partition="internal"))
        for path in ("shop", "shop/callback?amount=1000"):
            status, body = await world.get(f"/.well-known/lnurlp/{path}")
            assert (status, body["status"]) == (404, "ERROR"), path
        assert world.balancer.references == []


async def test_ldap_address_wallet_flow(
    slapd: Slapd, directory: DirectoryAdmin, tmp_path: Path
) -> None:
    await directory.add_person("alice", displayName="Alice A", mail="alice@localhost")
    async with open_world(tmp_path) as world, trio.open_nursery() as nursery:
        await nursery.start(partial(run_ldap_sync, world.store, ldap_config(slapd, tmp_path)))
        await eventually(lambda: _served(world, "alice"))
        first = await wallet_pays(world, "Alice", 5000)
        assert metadata(first) == {"text/plain": "Alice A", "text/email": "alice@localhost"}
        tagged = await wallet_pays(world, "ALICE+zap", 5000)
        assert metadata(tagged)["text/tag"] == "zap"
        status, body = await world.get("/.well-known/lnurlp/mallory")
        assert (status, body["status"]) == (404, "ERROR")
        nursery.cancel_scope.cancel()


async def _served(world: World, name: str) -> bool:
    return await world.served(name) is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("alice", ("alice", None)), ("Alice+Tips", ("alice", "tips")), ("a.b-c_d", ("a.b-c_d", None))],
)
def test_parse_username(text: str, expected: tuple[str, str | None]) -> None:
    assert parse_username(text) == expected


def test_identifier_is_exactly_user_at_domain() -> None:
    plain = Address(
        domain="pay.example",
        username="bob",
        partition="default",
        text="Bob",
        min_sendable=Msat(1),
        max_sendable=Msat(2),
    )
    assert (
        address_metadata(plain, None)
        == '[["text/plain","Bob"],["text/identifier","bob@pay.example"]]'
    )
