"""``/addresses`` on a real Unix socket with the real SQLite store, and LDAP state in /status."""

from __future__ import annotations

import base64
import dataclasses
import logging

import httpx
import pytest

from admin.answers import error_of
from admin.bodies import address
from switchgeard.store import Store
from switchgeard.store.records import Address
from switchgeard.units import Msat

pytestmark = pytest.mark.usefixtures("admin_socket")

URL = "/addresses/pay.example.com/alice"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
AS_STORED = {"isEmail": False, "commentAllowed": 0, "enabled": True, "source": "local"}


def ldap_address(username: str = "carol", n: int = 1) -> Address:
    return Address(
        domain="pay.example.com",
        username=username,
        partition="default",
        text=f"{username.title()} from LDAP",
        min_sendable=Msat(1000),
        max_sendable=Msat(50_000),
        source="ldap",
        external_id=f"0000000{n}-aaaa-4bbb-8ccc-dddddddddddd",
    )


async def test_local_address_crud(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/addresses", json=address(username="Alice", text="Pay alice", longText="Hi")
    )
    assert created.status_code == 201, created.text
    assert created.headers["location"] == URL
    assert created.json() == address(longText="Hi") | AS_STORED
    assert (await client.get(URL)).json() == created.json()
    assert (await client.get("/addresses/PAY.example.com/ALICE")).json() == created.json()
    conflict = await client.post("/addresses", json=address())
    error_of(conflict, 409, "conflict", "username")
    assert conflict.headers["location"] == URL
    replaced = await client.put(URL, json={**created.json(), "text": "Alice's tips"})
    assert replaced.status_code == 204
    assert (await client.get(URL)).json()["text"] == "Alice's tips"
    fresh = await client.put("/addresses/pay.example.com/Bob", json=address("bob"))
    assert (fresh.status_code, fresh.headers["location"]) == (201, "/addresses/pay.example.com/bob")
    assert fresh.json() == address("bob") | AS_STORED
    assert (await client.delete(URL)).status_code == 204
    error_of(await client.delete(URL), 404, "not_found")
    error_of(await client.get(URL), 404, "not_found")
    error_of(
        await client.put(URL, json=address(domain="x.example")), 422, "invalid_value", "domain"
    )
    error_of(await client.put(URL, json=address("bob")), 422, "invalid_value", "username")


async def test_patch_a_local_address(client: httpx.AsyncClient) -> None:
    image = {"png": base64.b64encode(PNG).decode()}
    await client.post("/addresses", json=address(longText="Long", image=image))
    changes = {"text": "New", "maxSendable": 9000, "isEmail": True, "commentAllowed": 50}
    assert (await client.patch(URL, json=changes)).status_code == 204
    got = (await client.get(URL)).json()
    assert got == address(longText="Long", image=image) | AS_STORED | changes
    assert (await client.patch(URL, json={"longText": None, "image": None})).status_code == 204
    got = (await client.get(URL)).json()
    assert ("longText" in got, "image" in got) == (False, False)
    assert (await client.patch(URL, json={"enabled": False})).status_code == 204
    assert (await client.get(URL)).json()["enabled"] is False
    assert (await client.patch(URL, json={"enabled": True, "text": "T"})).status_code == 204
    got = (await client.get(URL)).json()
    assert (got["text"], got["enabled"]) == ("T", True)
    assert (await client.patch(URL, json={})).status_code == 204
    error_of(await client.patch(URL, json={"minSendable": 10**6}), 422, "invalid_value", ...)
    error_of(await client.patch(URL, json={"text": None}), 422, "invalid_value", "text")
    error_of(await client.patch(URL, json={"enabled": "yes"}), 422, "invalid_value", "enabled")
    error_of(await client.patch(URL, json={"username": "bob"}), 422, "invalid_value", "username")
    error_of(await client.patch(URL, json={"domain": "x.example"}), 422, "invalid_value", "domain")
    error_of(await client.patch(URL, json={"source": "local"}), 422, "invalid_value", "source")
    error_of(await client.patch(URL, json={"colour": "red"}), 422, "unknown_field", "colour")
    error_of(
        await client.patch("/addresses/pay.example.com/nobody", json={"enabled": True}),
        404,
        "not_found",
    )


async def test_ldap_addresses_are_read_only_except_enabled(
    client: httpx.AsyncClient, store: Store
) -> None:
    await store.upsert_ldap_address(ldap_address())
    url = "/addresses/pay.example.com/carol"
    got = (await client.get(url)).json()
    assert (got["source"], got["externalId"]) == ("ldap", ldap_address().external_id)
    assert (await client.patch(url, json={"enabled": False})).status_code == 204
    assert (await client.get(url)).json()["enabled"] is False
    refused = error_of(
        await client.patch(url, json={"enabled": True, "text": "x"}), 409, "ldap_managed", "text"
    )
    assert refused["message"] == (
        "carol@pay.example.com is managed by LDAP; only enabled can be changed here"
    )
    assert (await client.get(url)).json() == got | {"enabled": False}
    put = error_of(await client.put(url, json=address("carol")), 409, "ldap_managed", "source")
    assert "managed by LDAP" in put["message"]
    gone = error_of(await client.delete(url), 409, "ldap_managed", "source")
    assert "managed by LDAP" in gone["message"]
    error_of(await client.post("/addresses", json=address("carol")), 409, "conflict", "username")
    await store.upsert_ldap_address(dataclasses.replace(ldap_address(), text="Synced again"))
    again = (await client.get(url)).json()
    assert (again["text"], again["enabled"]) == ("Synced again", False)  # the override stays
    assert (await client.patch(url, json={"enabled": True})).status_code == 204
    assert (await client.get(url)).json()["enabled"] is True


async def test_paging_and_filters(client: httpx.AsyncClient, store: Store) -> None:
    names = [f"user{n}" for n in range(7)]
    for name in names:
        assert (await client.post("/addresses", json=address(name))).status_code == 201
    await client.post("/addresses", json=address("zed", domain="other.example"))
    await store.upsert_ldap_address(ldap_address("carol", 1))
    await store.upsert_ldap_address(ldap_address("dave", 2))

    async def listed(**params: object) -> list[str]:
        response = await client.get("/addresses", params=params)
        assert response.status_code == 200, response.text
        return [f"{a['username']}@{a['domain']}" for a in response.json()]

    everything = [f"{n}@pay.example.com" for n in names]
    ldap = ["carol@pay.example.com", "dave@pay.example.com"]
    assert await listed() == everything[:5]  # page_default is 5
    assert await listed(count=10) == [*everything, "zed@other.example", *ldap]
    assert await listed(start=1, count=3) == everything[1:4]
    assert await listed(start=9, count=10) == ldap[1:]
    assert await listed(start=10) == []
    assert await listed(start=1000) == []
    assert await listed(count=0) == []
    assert await listed(domain="OTHER.example") == ["zed@other.example"]
    assert await listed(domain="nobody.example") == []
    assert await listed(source="ldap") == ldap
    assert await listed(source="local", domain="pay.example.com", start=5) == everything[5:]
    for name, value in [
        ("count", 11),
        ("count", -1),
        ("start", "x"),
        ("source", "LDAP"),
        ("source", ""),
        ("domain", "not a host"),
        ("domain", ""),
    ]:
        response = await client.get("/addresses", params={name: value})
        error_of(response, 400, "invalid_parameter", name)


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (address("Bad Name"), "username", "invalid_value"),
        (address("x" * 65), "username", "invalid_value"),
        (address(domain="not a host!"), "domain", "invalid_value"),
        (address(domain=None), "domain", "invalid_value"),
        (address(minSendable=0), "minSendable", "invalid_value"),
        (address(minSendable=5000, maxSendable=10), "minSendable", "invalid_value"),
        (address(commentAllowed=5000), "commentAllowed", "invalid_value"),
        (address(isEmail="yes"), "isEmail", "invalid_value"),
        (address(image={"gif": "AAAA"}), "image", "invalid_value"),
        (address(text=None), "text", "invalid_value"),
        (address(colour="red"), "colour", "unknown_field"),
    ],
)
async def test_invalid_addresses(
    client: httpx.AsyncClient, body: dict[str, object], field: str, code: str
) -> None:
    error = error_of(await client.post("/addresses", json=body), 422, code, ...)
    assert error["field"] in (field, "maxSendable")
    assert (await client.get("/addresses")).json() == []


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/addresses/pay.example.com/bad%20name", "username"),
        ("/addresses/pay.example.com/" + "x" * 65, "username"),
        ("/addresses/pay.example.com/al+ice", "username"),
        ("/addresses/not_a_host!/alice", "domain"),
        ("/addresses/pay.example.com:99999/alice", "domain"),
    ],
)
async def test_invalid_path_parameters_are_400(
    client: httpx.AsyncClient, path: str, field: str
) -> None:
    for method in ("GET", "DELETE"):
        error_of(await client.request(method, path), 400, "invalid_parameter", field)
    error_of(await client.put(path, json=address()), 400, "invalid_parameter", field)
    error_of(await client.patch(path, json={"enabled": True}), 400, "invalid_parameter", field)


async def test_bad_bodies(client: httpx.AsyncClient) -> None:
    await client.post("/addresses", json=address())
    json_type = {"Content-Type": "application/json"}
    for method, path in (("POST", "/addresses"), ("PUT", URL), ("PATCH", URL)):
        error_of(
            await client.request(method, path, content=b"{", headers=json_type),
            400,
            "invalid_json",
        )
        error_of(
            await client.request(
                method, path, content=b"{}", headers={"Content-Type": "text/plain"}
            ),
            415,
            "unsupported_media_type",
            "Content-Type",
        )
        error_of(await client.request(method, path, json=[1]), 422, "invalid_value", "(body)")
    error_of(await client.delete("/addresses"), 405, "method_not_allowed")
    error_of(await client.get("/addresses/pay.example.com"), 404, "route_not_found")


async def test_address_mutations_are_audit_logged(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="switchgeard.admin")
    await client.post("/addresses", json=address())
    await client.get(URL)
    await client.patch(URL, json={"enabled": False})
    await client.delete(URL)
    await client.delete(URL)
    lines = [r.getMessage() for r in caplog.records if r.name == "switchgeard.admin"]
    assert lines == [
        "POST /addresses -> 201 uid=?",
        f"PATCH {URL} -> 204 uid=?",
        f"DELETE {URL} -> 204 uid=?",
        f"DELETE {URL} -> 404 uid=?",
    ]


async def test_status_without_ldap_says_null(client: httpx.AsyncClient) -> None:
    assert (await client.get("/status")).json()["ldap"] is None
