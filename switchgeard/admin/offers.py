"""``/offers`` and ``/metadata``: LNURL-pay offers and what wallets show for them."""

from __future__ import annotations

from quart import Response
from quart_trio import QuartTrio

from switchgeard.admin import protocol
from switchgeard.admin.ports import AdminDeps
from switchgeard.admin.wire import (
    METADATA_FIELDS,
    OFFER_FIELDS,
    add_resource,
    bool_query,
    create_response,
    empty_response,
    json_response,
    page_query,
    put_response,
    read_body,
    uuid_param,
)
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
        offer = offer_from_json(await read_body(OFFER_FIELDS))
        location = protocol.offer_path(offer.partition, str(offer.id))
        return await create_response(
            store.create_offer, offer, offer_to_json, location=location, field="id"
        )

    async def get_offer(partition: str, offer_id: str) -> Response:
        key = uuid_param(offer_id)
        if bool_query("sparse", True):
            return json_response(offer_to_json(await store.get_offer(partition, key)))
        offer, metadata = await store.get_offer_with_metadata(partition, key)
        return json_response(offer_to_json(offer, metadata))

    async def put_offer(partition: str, offer_id: str) -> Response:
        key = uuid_param(offer_id)
        body = await read_body(OFFER_FIELDS, partition=partition, id=str(key))
        offer = offer_from_json(body, partition=partition, id=key)
        location = protocol.offer_path(partition, str(key))
        return put_response(await store.put_offer(offer), offer_to_json, location)

    async def delete_offer(partition: str, offer_id: str) -> Response:
        await store.delete_offer(partition, uuid_param(offer_id))
        return empty_response(204)

    base = protocol.OFFERS
    add_resource(
        app,
        (base, f"{base}/<partition>/<offer_id>"),
        {"GET": list_offers, "POST": create_offer},
        {"GET": get_offer, "PUT": put_offer, "DELETE": delete_offer},
    )
    app.add_url_rule(f"{base}/<partition>", view_func=list_offers, methods=["GET"])


def add_metadata_routes(app: QuartTrio, deps: AdminDeps) -> None:
    """Register the metadata routes on ``app``."""
    store, info = deps.store, deps.info

    async def list_metadata(partition: str | None = None) -> Response:
        page = page_query(info.page_default, info.page_max)
        return json_response(
            [metadata_to_json(m) for m in await store.list_metadata(partition, page)]
        )

    async def create_metadata() -> Response:
        metadata = metadata_from_json(await read_body(METADATA_FIELDS))
        location = protocol.metadata_path(metadata.partition, str(metadata.id))
        return await create_response(
            store.create_metadata, metadata, metadata_to_json, location=location, field="id"
        )

    async def get_metadata(partition: str, metadata_id: str) -> Response:
        metadata = await store.get_metadata(partition, uuid_param(metadata_id))
        return json_response(metadata_to_json(metadata))

    async def put_metadata(partition: str, metadata_id: str) -> Response:
        key = uuid_param(metadata_id)
        body = await read_body(METADATA_FIELDS, partition=partition, id=str(key))
        metadata = metadata_from_json(body, partition=partition, id=key)
        location = protocol.metadata_path(partition, str(key))
        return put_response(await store.put_metadata(metadata), metadata_to_json, location)

    async def delete_metadata(partition: str, metadata_id: str) -> Response:
        await store.delete_metadata(partition, uuid_param(metadata_id))
        return empty_response(204)

    base = protocol.METADATA
    add_resource(
        app,
        (base, f"{base}/<partition>/<metadata_id>"),
        {"GET": list_metadata, "POST": create_metadata},
        {"GET": get_metadata, "PUT": put_metadata, "DELETE": delete_metadata},
    )
    app.add_url_rule(f"{base}/<partition>", view_func=list_metadata, methods=["GET"])
