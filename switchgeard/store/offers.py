"""Offer metadata and offer rows (synchronous operations on a ``Tx``).

Offers reference metadata in the same partition through a foreign key (``ON DELETE
RESTRICT``); the database enforces it, and its violations become ``InvalidInput``.
Puts keep ``created_at``; lists are ordered by creation time, then id.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from switchgeard.errors import Conflict, InvalidInput, NotFound, StoreUnavailable
from switchgeard.store.engine import ConstraintViolation, Row, Tx
from switchgeard.store.records import Identifier, Image, Metadata, Offer
from switchgeard.units import Msat

_META_COLUMNS = (
    "partition, id, text, long_text, image_kind, image_data, identifier_kind,"
    " identifier_value, created_at, updated_at"
)
_META_INSERT = f"INSERT INTO offer_metadata ({_META_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_OFFER_COLUMNS = (
    "partition, id, min_sendable, max_sendable, metadata_id, not_before, expires,"
    " comment_allowed, created_at, updated_at"
)
_OFFER_INSERT = f"INSERT INTO offer ({_OFFER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_UPSERT_ATTEMPTS = 3


def get_metadata(tx: Tx, partition: str, id: uuid.UUID) -> Metadata:
    sql = f"SELECT {_META_COLUMNS} FROM offer_metadata WHERE partition = ? AND id = ?"
    row = tx.row(sql, (partition, str(id)))
    if row is None:
        raise NotFound(f"no metadata {partition}/{id}")
    return _metadata_from_row(tx, row)


def list_metadata(tx: Tx, partition: str | None, start: int, count: int) -> list[Metadata]:
    where, params = _partition_filter(partition)
    sql = f"SELECT {_META_COLUMNS} FROM offer_metadata{where} {_ORDER} LIMIT ? OFFSET ?"
    return [_metadata_from_row(tx, row) for row in tx.rows(sql, (*params, count, start))]


def create_metadata(tx: Tx, metadata: Metadata, now: datetime) -> Metadata:
    sql = f"{_META_INSERT} ON CONFLICT (partition, id) DO NOTHING"
    if tx.execute(sql, _metadata_row(tx, metadata, now, now)) == 0:
        raise Conflict(f"metadata {metadata.partition}/{metadata.id} exists already")
    return dataclasses.replace(metadata, created_at=now, updated_at=now)


def put_metadata(tx: Tx, metadata: Metadata, now: datetime) -> tuple[Metadata, bool]:
    row = _metadata_row(tx, metadata, now, now)
    for _ in range(_UPSERT_ATTEMPTS):
        if tx.execute(f"{_META_INSERT} ON CONFLICT (partition, id) DO NOTHING", row) == 1:
            return dataclasses.replace(metadata, created_at=now, updated_at=now), True
        found = tx.row(
            "UPDATE offer_metadata SET text = ?, long_text = ?, image_kind = ?, image_data = ?,"
            " identifier_kind = ?, identifier_value = ?, updated_at = ?"
            " WHERE partition = ? AND id = ? RETURNING created_at",
            (*row[2:8], row[9], row[0], row[1]),
        )
        if found is not None:
            created = tx.dialect.from_db_time(found[0])
            return dataclasses.replace(metadata, created_at=created, updated_at=now), False
    raise StoreUnavailable(f"metadata {metadata.partition}/{metadata.id} kept changing; retry")


def delete_metadata(tx: Tx, partition: str, id: uuid.UUID) -> None:
    try:
        deleted = tx.execute(
            "DELETE FROM offer_metadata WHERE partition = ? AND id = ?", (partition, str(id))
        )
    except ConstraintViolation as exc:
        raise InvalidInput("id", f"metadata {partition}/{id} is used by offers") from exc
    if deleted == 0:
        raise NotFound(f"no metadata {partition}/{id}")


def get_offer(tx: Tx, partition: str, id: uuid.UUID) -> Offer:
    sql = f"SELECT {_OFFER_COLUMNS} FROM offer WHERE partition = ? AND id = ?"
    row = tx.row(sql, (partition, str(id)))
    if row is None:
        raise NotFound(f"no offer {partition}/{id}")
    return _offer_from_row(tx, row)


def get_offer_with_metadata(tx: Tx, partition: str, id: uuid.UUID) -> tuple[Offer, Metadata]:
    offer = get_offer(tx, partition, id)
    return offer, get_metadata(tx, partition, offer.metadata_id)


def list_offers(tx: Tx, partition: str | None, start: int, count: int) -> list[Offer]:
    where, params = _partition_filter(partition)
    sql = f"SELECT {_OFFER_COLUMNS} FROM offer{where} {_ORDER} LIMIT ? OFFSET ?"
    return [_offer_from_row(tx, row) for row in tx.rows(sql, (*params, count, start))]


def create_offer(tx: Tx, offer: Offer, now: datetime) -> Offer:
    sql = f"{_OFFER_INSERT} ON CONFLICT (partition, id) DO NOTHING"
    with _metadata_must_exist(offer):
        inserted = tx.execute(sql, _offer_row(tx, offer, now, now))
    if inserted == 0:
        raise Conflict(f"offer {offer.partition}/{offer.id} exists already")
    return dataclasses.replace(offer, created_at=now, updated_at=now)


def put_offer(tx: Tx, offer: Offer, now: datetime) -> tuple[Offer, bool]:
    row = _offer_row(tx, offer, now, now)
    for _ in range(_UPSERT_ATTEMPTS):
        with _metadata_must_exist(offer):
            if tx.execute(f"{_OFFER_INSERT} ON CONFLICT (partition, id) DO NOTHING", row) == 1:
                return dataclasses.replace(offer, created_at=now, updated_at=now), True
            found = tx.row(
                "UPDATE offer SET min_sendable = ?, max_sendable = ?, metadata_id = ?,"
                " not_before = ?, expires = ?, comment_allowed = ?, updated_at = ?"
                " WHERE partition = ? AND id = ? RETURNING created_at",
                (*row[2:8], row[9], row[0], row[1]),
            )
        if found is not None:
            created = tx.dialect.from_db_time(found[0])
            return dataclasses.replace(offer, created_at=created, updated_at=now), False
    raise StoreUnavailable(f"offer {offer.partition}/{offer.id} kept changing; retry")


def delete_offer(tx: Tx, partition: str, id: uuid.UUID) -> None:
    if tx.execute("DELETE FROM offer WHERE partition = ? AND id = ?", (partition, str(id))) == 0:
        raise NotFound(f"no offer {partition}/{id}")


_ORDER = "ORDER BY created_at, id, partition"


def _partition_filter(partition: str | None) -> tuple[str, tuple[object, ...]]:
    return ("", ()) if partition is None else (" WHERE partition = ?", (partition,))


@contextmanager
def _metadata_must_exist(offer: Offer) -> Iterator[None]:
    """Turn a foreign-key violation on an offer write into ``InvalidInput("metadataId")``."""
    try:
        yield
    except ConstraintViolation as exc:
        if exc.kind != "foreign_key":
            raise
        raise InvalidInput(
            "metadataId", f"no metadata {offer.metadata_id} in partition {offer.partition}"
        ) from exc


def _metadata_row(
    tx: Tx, metadata: Metadata, created: datetime, updated: datetime
) -> tuple[object, ...]:
    image, identifier = metadata.image, metadata.identifier
    return (
        metadata.partition,
        str(metadata.id),
        metadata.text,
        metadata.long_text,
        None if image is None else image.kind,
        None if image is None else image.data,
        None if identifier is None else identifier.kind,
        None if identifier is None else identifier.value,
        tx.dialect.to_db_time(created),
        tx.dialect.to_db_time(updated),
    )


def _metadata_from_row(tx: Tx, row: Row) -> Metadata:
    partition, id, text, long_text, image_kind, image_data, id_kind, id_value, created, updated = (
        row
    )
    return Metadata(
        partition=partition,
        id=uuid.UUID(id),
        text=text,
        long_text=long_text,
        image=None if image_kind is None else Image(kind=image_kind, data=bytes(image_data)),
        identifier=None if id_kind is None else Identifier(kind=id_kind, value=id_value),
        created_at=tx.dialect.from_db_time(created),
        updated_at=tx.dialect.from_db_time(updated),
    )


def _offer_row(tx: Tx, offer: Offer, created: datetime, updated: datetime) -> tuple[object, ...]:
    return (
        offer.partition,
        str(offer.id),
        int(offer.min_sendable),
        int(offer.max_sendable),
        str(offer.metadata_id),
        tx.dialect.to_db_time(offer.timestamp),
        None if offer.expires is None else tx.dialect.to_db_time(offer.expires),
        offer.comment_allowed,
        tx.dialect.to_db_time(created),
        tx.dialect.to_db_time(updated),
    )


def _offer_from_row(tx: Tx, row: Row) -> Offer:
    partition, id, low, high, metadata_id, not_before, expires, comment, created, updated = row
    return Offer(
        partition=partition,
        id=uuid.UUID(id),
        min_sendable=Msat(low),
        max_sendable=Msat(high),
        metadata_id=uuid.UUID(metadata_id),
        timestamp=tx.dialect.from_db_time(not_before),
        expires=tx.dialect.optional_time(expires),
        comment_allowed=int(comment),
        created_at=tx.dialect.from_db_time(created),
        updated_at=tx.dialect.from_db_time(updated),
    )
