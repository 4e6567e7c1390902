"""``/offers`` and ``/metadata`` on a real Unix socket: CRUD, paging, conflicts, FK errors."""

from __future__ import annotations

import uuid

import httpx
import pytest

from admin.answers import error_of
from admin.bodies import metadata, offer

pytestmark = pytest.mark.usefixtures("admin_socket")

M1 = str(uuid.UUID(int=1))


async def test_metadata_crud(client: httpx.AsyncClient) -> None:
    created = await client.post("/metadata", json=metadata(1, longText="long"))
    assert created.status_code == 201
    assert created.headers["location"] == f"/metadata/default/{M1}"
    assert created.json() == metadata(1, longText="long")
    url = f"/metadata/default/{M1}"
    assert (await client.get(url)).json() == metadata(1, longText="long")
    conflict = await client.post("/metadata", json=metadata(1))
    error_of(conflict, 409, "conflict", "id")
    assert conflict.headers["location"] == url
    assert (await client.put(url, json={"text": "new"})).status_code == 204
    assert (await client.get(url)).json()["text"] == "new"
    other = f"/metadata/default/{uuid.UUID(int=9)}"
    put = await client.put(other, json={"text": "fresh"})
    assert put.status_code == 201
    assert put.headers["location"] == other
    assert (await client.delete(url)).status_code == 204
    error_of(await client.delete(url), 404, "not_found")
    error_of(await client.get(url), 404, "not_found")


async def test_offer_crud_and_sparse(client: httpx.AsyncClient) -> None:
    await client.post("/metadata", json=metadata(1))
    created = await client.post("/offers", json=offer(1))
    assert created.status_code == 201
    url = f"/offers/default/{offer(1)['id']}"
    assert created.headers["location"] == url
    assert created.json() == {**offer(1), "commentAllowed": 0}
    assert (await client.get(url)).json() == {**offer(1), "commentAllowed": 0}
    full = (await client.get(url, params={"sparse": "false"})).json()
    assert full["metadata"] == {"text": "m1"}
    error_of(await client.get(url, params={"sparse": "maybe"}), 400, "invalid_parameter", "sparse")
    conflict = await client.post("/offers", json=offer(1))
    error_of(conflict, 409, "conflict", "id")
    assert conflict.headers["location"] == url
    sparse = {k: v for k, v in offer(1).items() if k not in ("id", "partition")}
    assert (await client.put(url, json={**sparse, "maxSendable": 5000})).status_code == 204
    assert (await client.get(url)).json()["maxSendable"] == 5000
    assert (await client.delete(url)).status_code == 204
    error_of(await client.delete(url), 404, "not_found")


async def test_offer_needs_its_metadata(client: httpx.AsyncClient) -> None:
    error_of(await client.post("/offers", json=offer(1)), 422, "invalid_value", "metadataId")
    await client.post("/metadata", json=metadata(1, partition="other"))
    error_of(await client.post("/offers", json=offer(1)), 422, "invalid_value", "metadataId")


async def test_metadata_in_use_cannot_be_deleted(client: httpx.AsyncClient) -> None:
    await client.post("/metadata", json=metadata(1))
    await client.post("/offers", json=offer(1))
    error_of(await client.delete(f"/metadata/default/{M1}"), 422, "invalid_value", "id")


async def test_put_body_must_agree_with_path(client: httpx.AsyncClient) -> None:
    await client.post("/metadata", json=metadata(1))
    url = f"/offers/default/{offer(1)['id']}"
    error_of(await client.put(url, json=offer(1, partition="x")), 422, "invalid_value", "partition")
    error_of(await client.put(url, json=offer(2)), 422, "invalid_value", "id")
    assert (await client.put(url, json=offer(1))).status_code == 201


@pytest.mark.parametrize("path", ["/offers/default/not-a-uuid", "/metadata/default/1234"])
async def test_invalid_uuid_in_path_is_400(client: httpx.AsyncClient, path: str) -> None:
    for method in ("GET", "DELETE"):
        error_of(await client.request(method, path), 400, "invalid_parameter", "id")
    error_of(await client.put(path, json={"text": "x"}), 400, "invalid_parameter", "id")


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (offer(1, minSendable=0), "minSendable", "invalid_value"),
        (offer(1, minSendable=10, maxSendable=5), "minSendable", "invalid_value"),
        (offer(1, timestamp="yesterday"), "timestamp", "invalid_value"),
        (offer(1, id="nope"), "id", "invalid_value"),
        (offer(1, metadataId=7), "metadataId", "invalid_value"),
        (offer(1, colour="red"), "colour", "unknown_field"),
        ({"partition": "default"}, "id", "invalid_value"),
    ],
)
async def test_invalid_offers(
    client: httpx.AsyncClient, body: dict[str, object], field: str, code: str
) -> None:
    await client.post("/metadata", json=metadata(1))
    error = error_of(await client.post("/offers", json=body), 422, code, ...)
    assert error["field"] in (field, "maxSendable")


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (metadata(1, image={"gif": "AAAA"}), "image", "invalid_value"),
        (metadata(1, identifier={"email": "not an address"}), "identifier", "invalid_value"),
        (metadata(1, text=None), "text", "invalid_value"),
        (metadata(1, partition="a/b"), "partition", "invalid_value"),
        (metadata(1, extra=True), "extra", "unknown_field"),
    ],
)
async def test_invalid_metadata(
    client: httpx.AsyncClient, body: dict[str, object], field: str, code: str
) -> None:
    error = error_of(await client.post("/metadata", json=body), 422, code, ...)
    assert error["field"].startswith(field)


async def test_paging(client: httpx.AsyncClient) -> None:
    await client.post("/metadata", json=metadata(1))
    await client.post("/metadata", json=metadata(1, partition="other"))
    for n in range(7):
        assert (await client.post("/offers", json=offer(n))).status_code == 201
    await client.post("/offers", json=offer(99, partition="other"))

    async def ids(path: str, **params: object) -> list[str]:
        response = await client.get(path, params=params)
        assert response.status_code == 200, response.text
        return [o["id"] for o in response.json()]

    everything = [offer(n)["id"] for n in range(7)]
    assert await ids("/offers/default") == everything[:5]  # page_default is 5
    assert await ids("/offers/default", count=10) == everything
    assert await ids("/offers/default", start=1, count=3) == everything[1:4]
    assert await ids("/offers/default", start=5) == everything[5:]
    assert await ids("/offers/default", start=7) == []
    assert await ids("/offers/default", start=100) == []
    assert await ids("/offers/default", count=0) == []
    assert await ids("/offers", count=10) == [*everything, offer(99)["id"]]
    assert await ids("/offers/other") == [offer(99)["id"]]
    assert await ids("/offers/nobody") == []
    assert len(await ids("/metadata", count=10)) == 2
    assert len(await ids("/metadata/other")) == 1
    for name, value in [
        ("count", 11),
        ("count", -1),
        ("start", "x"),
        ("start", "1.5"),
        ("start", ""),
    ]:
        response = await client.get("/offers/default", params={name: value})
        error_of(response, 400, "invalid_parameter", name)
    error_of(await client.get("/metadata", params={"count": 11}), 400, "invalid_parameter", "count")
