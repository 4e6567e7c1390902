"""``/discovery`` on a real Unix socket: every status code, ETags and input errors."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from admin.answers import error_of
from admin.bodies import lnd_backend, node_key
from switchgeard.admin import protocol

pytestmark = pytest.mark.usefixtures("admin_socket")


async def test_create_get_list(client: httpx.AsyncClient) -> None:
    with trio.fail_after(5):
        r = await client.post("/discovery", json=lnd_backend(1))
        assert r.status_code == 201
        assert r.headers["location"] == f"/discovery/{node_key(1)}"
        assert r.json() == lnd_backend(1)
        assert (await client.get(f"/discovery/{node_key(1)}")).json() == lnd_backend(1)
        listed = await client.get("/discovery")
        assert listed.json() == [lnd_backend(1)]
        assert listed.headers["etag"] == '"0000000000000001"'
        assert listed.headers["cache-control"].startswith("no-cache")


async def test_uncompressed_key_is_stored_compressed(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/discovery", json=lnd_backend(2, publicKey=node_key(2, compressed=False))
    )
    assert r.status_code == 201
    assert r.json()["publicKey"] == node_key(2)
    uncompressed = await client.get(f"/discovery/{node_key(2, compressed=False)}")
    assert uncompressed.json()["publicKey"] == node_key(2)


async def test_duplicate_post_is_409_with_location(client: httpx.AsyncClient) -> None:
    await client.post("/discovery", json=lnd_backend(1))
    r = await client.post("/discovery", json=lnd_backend(1, name="again"))
    error_of(r, 409, "conflict", "publicKey")
    assert r.headers["location"] == f"/discovery/{node_key(1)}"


async def test_etag_and_if_none_match(client: httpx.AsyncClient) -> None:
    first = (await client.get("/discovery")).headers["etag"]
    assert first == '"0000000000000000"'
    unchanged = await client.get("/discovery", headers={"If-None-Match": first})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == first
    for spelling in ("0000000000000000", 'W/"0000000000000000"', '"00000000000000ff", ' + first):
        r = await client.get("/discovery", headers={"If-None-Match": spelling})
        assert r.status_code == 304, spelling
    assert (await client.get("/discovery", headers={"If-None-Match": "*"})).status_code == 304
    await client.post("/discovery", json=lnd_backend(1))
    changed = await client.get("/discovery", headers={"If-None-Match": first})
    assert changed.status_code == 200
    assert changed.headers["etag"] == '"0000000000000001"'
    await client.patch(f"/discovery/{node_key(1)}", json={})
    assert (await client.get("/discovery")).headers["etag"] == '"0000000000000002"'


@pytest.mark.parametrize("header", ["nonsense", '"123"', "0000000000000000z", ""])
async def test_bad_if_none_match_is_400(client: httpx.AsyncClient, header: str) -> None:
    r = await client.get("/discovery", headers={"If-None-Match": header})
    error_of(r, 400, "invalid_parameter", "If-None-Match")


async def test_put_creates_then_replaces(client: httpx.AsyncClient) -> None:
    body = lnd_backend(3)
    del body["publicKey"]
    created = await client.put(f"/discovery/{node_key(3)}", json=body)
    assert created.status_code == 201
    assert created.headers["location"] == f"/discovery/{node_key(3)}"
    replaced = await client.put(f"/discovery/{node_key(3)}", json={**body, "weight": 7})
    assert replaced.status_code == 204
    assert replaced.content == b""
    assert (await client.get(f"/discovery/{node_key(3)}")).json()["weight"] == 7


async def test_put_body_key_must_match_path(client: httpx.AsyncClient) -> None:
    same = await client.put(f"/discovery/{node_key(3)}", json=lnd_backend(3))
    assert same.status_code == 201
    r = await client.put(f"/discovery/{node_key(3)}", json=lnd_backend(4))
    error_of(r, 422, "invalid_value", "publicKey")


async def test_patch(client: httpx.AsyncClient) -> None:
    await client.post("/discovery", json=lnd_backend(1))
    url = f"/discovery/{node_key(1)}"
    patch = {"weight": 5, "enabled": False, "partitions": ["b", "a", "a"], "name": "x"}
    r = await client.patch(url, json=patch)
    assert r.status_code == 204
    got = (await client.get(url)).json()
    assert (got["weight"], got["enabled"], got["partitions"], got["name"]) == (
        5,
        False,
        ["a", "b"],
        "x",
    )
    assert (await client.patch(url, json={"name": None})).status_code == 204
    assert "name" not in (await client.get(url)).json()


async def test_patch_errors(client: httpx.AsyncClient) -> None:
    url = f"/discovery/{node_key(1)}"
    error_of(await client.patch(url, json={"weight": 1}), 404, "not_found")
    await client.post("/discovery", json=lnd_backend(1))
    error_of(
        await client.patch(url, json={"implementation": {}}), 422, "invalid_value", "implementation"
    )
    error_of(await client.patch(url, json={"colour": "red"}), 422, "unknown_field", "colour")
    error_of(await client.patch(url, json={"weight": -1}), 422, "invalid_value", "weight")
    error_of(await client.patch(url, json={"enabled": "yes"}), 422, "invalid_value", "enabled")


async def test_delete(client: httpx.AsyncClient) -> None:
    await client.post("/discovery", json=lnd_backend(1))
    url = f"/discovery/{node_key(1)}"
    assert (await client.delete(url)).status_code == 204
    error_of(await client.delete(url), 404, "not_found")
    error_of(await client.get(url), 404, "not_found")


@pytest.mark.parametrize(
    "key",
    ["zz", "02" + "00" * 32, node_key(1)[:-2], node_key(1) + "00", "04" + "11" * 64, "%20"],
)
async def test_invalid_key_in_path_is_400(client: httpx.AsyncClient, key: str) -> None:
    for method in ("GET", "DELETE"):
        r = await client.request(method, f"/discovery/{key}")
        error_of(r, 400, "invalid_parameter", "publicKey")
    r = await client.patch(f"/discovery/{key}", json={})
    error_of(r, 400, "invalid_parameter", "publicKey")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (lnd_backend(1, publicKey="02" + "00" * 32), "publicKey"),
        (lnd_backend(1, publicKey=12), "publicKey"),
        (lnd_backend(1, weight=-1), "weight"),
        (lnd_backend(1, weight=1.5), "weight"),
        (lnd_backend(1, enabled="true"), "enabled"),
        (lnd_backend(1, partitions="default"), "partitions"),
        (lnd_backend(1, partitions=["no spaces"]), "partitions"),
        (lnd_backend(1, implementation={"type": "eclair"}), "implementation.type"),
        (
            lnd_backend(1, implementation={"type": "lndGrpc", "url": "https://h:1", "auth": {}}),
            "implementation.auth.macaroonPath",
        ),
        ({k: v for k, v in lnd_backend(1).items() if k != "weight"}, "weight"),
    ],
)
async def test_invalid_values_are_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    error_of(await client.post("/discovery", json=body), 422, "invalid_value", field)


async def test_unknown_field_is_422(client: httpx.AsyncClient) -> None:
    r = await client.post("/discovery", json=lnd_backend(1, colour="red"))
    error_of(r, 422, "unknown_field", "colour")
    nested = lnd_backend(1)
    nested["implementation"]["extra"] = 1
    error_of(
        await client.post("/discovery", json=nested), 422, "invalid_value", "implementation.extra"
    )


@pytest.mark.parametrize("content", [b"{", b"[1,", b"\xff\xfe", b"NaN", b'{"a": Infinity}', b""])
async def test_bad_json_is_400(client: httpx.AsyncClient, content: bytes) -> None:
    headers = {"Content-Type": "application/json"}
    error_of(await client.post("/discovery", content=content, headers=headers), 400, "invalid_json")


@pytest.mark.parametrize("body", [b"[]", b"1", b'"x"', b"null"])
async def test_json_that_is_not_an_object_is_422(client: httpx.AsyncClient, body: bytes) -> None:
    headers = {"Content-Type": "application/json"}
    r = await client.post("/discovery", content=body, headers=headers)
    error_of(r, 422, "invalid_value", "(body)")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_wrong_content_type_is_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    r = await client.post("/discovery", content=b"{}", headers=headers)
    error_of(r, 415, "unsupported_media_type", "Content-Type")


async def test_json_with_charset_is_accepted(client: httpx.AsyncClient) -> None:
    headers = {"Content-Type": "application/json; charset=utf-8"}
    r = await client.post(
        "/discovery",
        content=httpx.Request("POST", "/", json=lnd_backend(1)).content,
        headers=headers,
    )
    assert r.status_code == 201


async def test_body_too_large_is_413(admin_socket: Path) -> None:
    # Raw socket: httpx would still be sending the body when the 413 arrives.
    size = protocol.MAX_BODY_BYTES + 1
    head = (
        "POST /discovery HTTP/1.1\r\nHost: admin\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\nConnection: close\r\n\r\n"
    )
    with trio.fail_after(5):
        stream = await trio.open_unix_socket(str(admin_socket))
        async with stream:
            await stream.send_all(head.encode() + b"{" * 1000)
            answer = b""
            while b"}}" not in answer:
                answer += await stream.receive_some()
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 413 "
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["error"]["code"] == "body_too_large"


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_a_413_says_the_connection_closes(admin_socket: Path, framing: str) -> None:
    # The rest of the body is never read, so the connection cannot carry another request;
    # a keep-alive client must not send one there (serve_asgi then closes it).
    size = protocol.MAX_BODY_BYTES + 1
    length = (
        f"Content-Length: {size}" if framing == "content-length" else "Transfer-Encoding: chunked"
    )
    head = (
        f"POST /discovery HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n{length}\r\n\r\n"
    )
    body = f"{size:x}\r\n".encode() if framing == "chunked" else b""
    request = head.encode() + body + b"{" * size

    async def send(stream: trio.SocketStream) -> None:
        with contextlib.suppress(trio.BrokenResourceError):
            await stream.send_all(request)

    with trio.fail_after(5):
        stream = await trio.open_unix_socket(str(admin_socket))
        async with stream, trio.open_nursery() as nursery:
            nursery.start_soon(send, stream)
            answer = b""
            while b"}}" not in answer:
                answer += await stream.receive_some()
            nursery.cancel_scope.cancel()
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"\r\nconnection: close\r\n" in answer.lower()


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    error_of(await client.get("/nothing/here"), 404, "route_not_found")
    error_of(await client.delete("/discovery"), 405, "method_not_allowed")
    error_of(await client.post("/status"), 405, "method_not_allowed")


async def test_a_405_names_the_allowed_methods(client: httpx.AsyncClient) -> None:
    # RFC 9110 15.5.6: a 405 response must carry Allow.
    refused = await client.delete("/discovery")
    assert set(refused.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    refused = await client.post(f"/discovery/{node_key(1)}")
    assert set(refused.headers["allow"].split(", ")) == {"GET", "HEAD", "PUT", "PATCH", "DELETE"}
