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
from typing import TypeVar

from switchgeard.errors import Conflict, InvalidInput, NotFound, StoreUnavailable
from switchgeard.store.engine import ConstraintViolation, Row, Tx
from switchgeard.store.records import Identifier, Image, Metadata, Offer
from switchgeard.units import Msat

_UPSERT_ATTEMPTS = 3
_KEY = " WHERE partition = ? AND id = ?"
_ORDER = " ORDER BY created_at, id, partition"
_IF_NEW = "ON CONFLICT (partition, id) DO NOTHING"
R = TypeVar("R", Metadata, Offer)


@dataclasses.dataclass(frozen=True, slots=True)
class _Table:
    """The statements of a table keyed by (partition, id)."""

    noun: str
    select: str
    """``SELECT`` every column, ready for a ``WHERE``."""
    insert: str
    """Insert a whole row unless the key exists."""
    update: str
    """Set the six value columns and updated_at; parameters from ``_update_params``."""
    delete: str


def _table(name: str, noun: str, columns: str) -> _Table:
    """``columns``: partition, id, six value columns, created_at, updated_at."""
    names = columns.split(", ")
    marks = ", ".join("?" * len(names))
    assignments = ", ".join(f"{c} = ?" for c in (*names[2:8], "updated_at"))
    return _Table(
        noun=noun,
        select=f"SELECT {columns} FROM {name}",
        insert=f"INSERT INTO {name} ({columns}) VALUES ({marks}) {_IF_NEW}",
        update=f"UPDATE {name} SET {assignments}{_KEY} RETURNING created_at",
        delete=f"DELETE FROM {name}{_KEY}",
    )


_METADATA = _table(
    "offer_metadata",
    "metadata",
    "partition, id, text, long_text, image_kind, image_data, identifier_kind,"
    " identifier_value, created_at, updated_at",
)
_OFFER = _table(
    "offer",
    "offer",
    "partition, id, min_sendable, max_sendable, metadata_id, not_before, expires,"
    " comment_allowed, created_at, updated_at",
)


def get_metadata(tx: Tx, partition: str, id: uuid.UUID) -> Metadata:
    return _metadata_from_row(tx, _get(tx, _METADATA, partition, id))


def list_metadata(tx: Tx, partition: str | None, start: int, count: int) -> list[Metadata]:
    return [_metadata_from_row(tx, row) for row in _list(tx, _METADATA, partition, start, count)]


def create_metadata(tx: Tx, metadata: Metadata, now: datetime) -> Metadata:
    return _create(tx, _METADATA, metadata, _metadata_row(tx, metadata, now, now), now)


def put_metadata(tx: Tx, metadata: Metadata, now: datetime) -> tuple[Metadata, bool]:
    return _put(tx, _METADATA, metadata, _metadata_row(tx, metadata, now, now), now)


def delete_metadata(tx: Tx, partition: str, id: uuid.UUID) -> None:
    try:
        _delete(tx, _METADATA, partition, id)
    except ConstraintViolation as exc:
        raise InvalidInput("id", f"metadata {partition}/{id} is used by offers") from exc


def get_offer(tx: Tx, partition: str, id: uuid.UUID) -> Offer:
    return _offer_from_row(tx, _get(tx, _OFFER, partition, id))


def get_offer_with_metadata(tx: Tx, partition: str, id: uuid.UUID) -> tuple[Offer, Metadata]:
    offer = get_offer(tx, partition, id)
    return offer, get_metadata(tx, partition, offer.metadata_id)


def list_offers(tx: Tx, partition: str | None, start: int, count: int) -> list[Offer]:
    return [_offer_from_row(tx, row) for row in _list(tx, _OFFER, partition, start, count)]


def create_offer(tx: Tx, offer: Offer, now: datetime) -> Offer:
    with _metadata_must_exist(offer):
        return _create(tx, _OFFER, offer, _offer_row(tx, offer, now, now), now)


def put_offer(tx: Tx, offer: Offer, now: datetime) -> tuple[Offer, bool]:
    with _metadata_must_exist(offer):
        return _put(tx, _OFFER, offer, _offer_row(tx, offer, now, now), now)


def delete_offer(tx: Tx, partition: str, id: uuid.UUID) -> None:
    _delete(tx, _OFFER, partition, id)


def _get(tx: Tx, table: _Table, partition: str, id: uuid.UUID) -> Row:
    row = tx.row(table.select + _KEY, (partition, str(id)))
    if row is None:
        raise NotFound(f"no {table.noun} {partition}/{id}")
    return row


def _list(tx: Tx, table: _Table, partition: str | None, start: int, count: int) -> list[Row]:
    where, params = ("", ()) if partition is None else (" WHERE partition = ?", (partition,))
    sql = f"{table.select}{where}{_ORDER} LIMIT ? OFFSET ?"
    return tx.rows(sql, (*params, count, start))


def _create(tx: Tx, table: _Table, record: R, row: tuple[object, ...], now: datetime) -> R:
    if tx.execute(table.insert, row) == 0:
        raise Conflict(f"{table.noun} {record.partition}/{record.id} exists already")
    return dataclasses.replace(record, created_at=now, updated_at=now)


def _put(
    tx: Tx, table: _Table, record: R, row: tuple[object, ...], now: datetime
) -> tuple[R, bool]:
    """Insert, or update keeping ``created_at``; retried while a concurrent delete races."""
    for _ in range(_UPSERT_ATTEMPTS):
        if tx.execute(table.insert, row) == 1:
            return dataclasses.replace(record, created_at=now, updated_at=now), True
        found = tx.row(table.update, _update_params(row))
        if found is not None:
            created = tx.dialect.from_db_time(found[0])
            return dataclasses.replace(record, created_at=created, updated_at=now), False
    raise StoreUnavailable(f"{table.noun} {record.partition}/{record.id} kept changing; retry")


def _update_params(row: tuple[object, ...]) -> tuple[object, ...]:
    """The six value columns and updated_at of a whole row, then its key."""
    return (*row[2:8], row[9], row[0], row[1])


def _delete(tx: Tx, table: _Table, partition: str, id: uuid.UUID) -> None:
    if tx.execute(table.delete, (partition, str(id))) == 0:
        raise NotFound(f"no {table.noun} {partition}/{id}")


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
