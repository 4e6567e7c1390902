"""``/offers`` and ``/metadata``: LNURL-pay offers and what wallets show for them."""

from __future__ import annotations

from quart import Response
from quart_trio import QuartTrio

from switchgeard.admin import protocol
from switchgeard.admin.ports import AdminDeps
from switchgeard.admin.wire import (
    METADATA_FIELDS,
    OFFER_FIELDS,
    ApiError,
    bool_query,
    check_fields,
    check_same,
    empty_response,
    json_response,
    page_query,
    read_json_object,
    uuid_param,
)
from switchgeard.errors import Conflict
from switchgeard.store.codec import (
    metadata_from_json,
    metadata_to_json,
    offer_from_json,
    offer_to_json,
)


def add_offer_routes(app: QuartTrio, deps: AdminDeps) -> None:
    """Register the offer routes on ``app``."""
    store, info = deps.store, deps.info

    async def list_offers(partition: str | None = None) -> Response:
        offers = await store.list_offers(partition, page_query(info.page_default, info.page_max))
        return json_response([offer_to_json(o) for o in offers])

    async def create_offer() -> Response:
        body = await read_json_object()
        check_fields(body, OFFER_FIELDS)
        offer = offer_from_json(body)
        location = protocol.offer_path(offer.partition, str(offer.id))
        try:
            created = await store.create_offer(offer)
        except Conflict as exc:
            raise ApiError(
                protocol.CONFLICT, str(exc), field="id", headers={"Location": location}
            ) from exc
        return json_response(offer_to_json(created), 201, {"Location": location})

    async def get_offer(partition: str, offer_id: str) -> Response:
        key = uuid_param(offer_id)
        if bool_query("sparse", True):
            return json_response(offer_to_json(await store.get_offer(partition, key)))
        offer, metadata = await store.get_offer_with_metadata(partition, key)
        return json_response(offer_to_json(offer, metadata))

    async def put_offer(partition: str, offer_id: str) -> Response:
        key = uuid_param(offer_id)
        body = await read_json_object()
        check_fields(body, OFFER_FIELDS)
        check_same(body, "partition", partition)
        check_same(body, "id", str(key))
        offer = offer_from_json(body, partition=partition, id=key)
        stored, created = await store.put_offer(offer)
        if created:
            location = {"Location": protocol.offer_path(partition, str(key))}
            return json_response(offer_to_json(stored), 201, location)
        return empty_response(204)

    async def delete_offer(partition: str, offer_id: str) -> Response:
        await store.delete_offer(partition, uuid_param(offer_id))
        return empty_response(204)

    base = protocol.OFFERS
    app.add_url_rule(base, "list_all_offers", list_offers, methods=["GET"])
    app.add_url_rule(base, "create_offer", create_offer, methods=["POST"])
    app.add_url_rule(f"{base}/<partition>", "list_offers", list_offers, methods=["GET"])
    item = f"{base}/<partition>/<offer_id>"
    app.add_url_rule(item, "get_offer", get_offer, methods=["GET"])
    app.add_url_rule(item, "put_offer", put_offer, methods=["PUT"])
    app.add_url_rule(item, "delete_offer", delete_offer, methods=["DELETE"])


def add_metadata_routes(app: QuartTrio, deps: AdminDeps) -> None:
    """Register the metadata routes on ``app``."""
    store, info = deps.store, deps.info

    async def list_metadata(partition: str | None = None) -> Response:
        page = page_query(info.page_default, info.page_max)
        return json_response(
            [metadata_to_json(m) for m in await store.list_metadata(partition, page)]
        )

    async def create_metadata() -> Response:
        body = await read_json_object()
        check_fields(body, METADATA_FIELDS)
        metadata = metadata_from_json(body)
        location = protocol.metadata_path(metadata.partition, str(metadata.id))
        try:
            created = await store.create_metadata(metadata)
        except Conflict as exc:
            raise ApiError(
                protocol.CONFLICT, str(exc), field="id", headers={"Location": location}
            ) from exc
        return json_response(metadata_to_json(created), 201, {"Location": location})

    async def get_metadata(partition: str, metadata_id: str) -> Response:
        metadata = await store.get_metadata(partition, uuid_param(metadata_id))
        return json_response(metadata_to_json(metadata))

    async def put_metadata(partition: str, metadata_id: str) -> Response:
        key = uuid_param(metadata_id)
        body = await read_json_object()
        check_fields(body, METADATA_FIELDS)
        check_same(body, "partition", partition)
        check_same(body, "id", str(key))
        metadata = metadata_from_json(body, partition=partition, id=key)
        stored, created = await store.put_metadata(metadata)
        if created:
            location = {"Location": protocol.metadata_path(partition, str(key))}
            return json_response(metadata_to_json(stored), 201, location)
        return empty_response(204)

    async def delete_metadata(partition: str, metadata_id: str) -> Response:
        await store.delete_metadata(partition, uuid_param(metadata_id))
        return empty_response(204)

    base = protocol.METADATA
    app.add_url_rule(base, "list_all_metadata", list_metadata, methods=["GET"])
    app.add_url_rule(base, "create_metadata", create_metadata, methods=["POST"])
    app.add_url_rule(f"{base}/<partition>", "list_metadata", list_metadata, methods=["GET"])
    item = f"{base}/<partition>/<metadata_id>"
    app.add_url_rule(item, "get_metadata", get_metadata, methods=["GET"])
    app.add_url_rule(item, "put_metadata", put_metadata, methods=["PUT"])
    app.add_url_rule(item, "delete_metadata", delete_metadata, methods=["DELETE"])
