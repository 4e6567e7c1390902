"""Backend rows and the backend-set version (synchronous operations on a ``Tx``).

Every mutation increments the version row first: on PostgreSQL that row lock serialises
backend writers across daemons, and a failed operation rolls the increment back with it.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

from switchgeard.errors import Conflict, InvalidInput, NotFound, StoreUnavailable
from switchgeard.store import codec
from switchgeard.store.engine import Row, Tx
from switchgeard.store.records import Backend, BackendPatch
from switchgeard.units import NodeKey

_COLUMNS = "public_key, name, partitions, weight, enabled, implementation, created_at, updated_at"
_SELECT = f"SELECT {_COLUMNS} FROM backend"
_INSERT = f"INSERT INTO backend ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


def get_backend(tx: Tx, key: NodeKey) -> Backend:
    row = tx.row(f"{_SELECT} WHERE public_key = ?", (key,))
    if row is None:
        raise NotFound(f"no backend {key}")
    return _from_row(tx, row)


def list_backends(tx: Tx) -> list[Backend]:
    return [_from_row(tx, row) for row in tx.rows(f"{_SELECT} ORDER BY created_at, public_key")]


def backend_version(tx: Tx) -> int:
    row = tx.row("SELECT value FROM backend_set_version WHERE id = 1")
    if row is None:
        raise StoreUnavailable("the backend_set_version row is missing")
    return int(row[0])


def snapshot(tx: Tx) -> tuple[int, list[Backend]]:
    return backend_version(tx), list_backends(tx)


def create_backend(tx: Tx, backend: Backend, now: datetime) -> Backend:
    _bump(tx)
    sql = f"{_INSERT} ON CONFLICT (public_key) DO NOTHING"
    if tx.execute(sql, _to_row(tx, backend, now, now)) == 0:
        raise Conflict(f"backend {backend.public_key} exists already")
    return dataclasses.replace(backend, created_at=now, updated_at=now)


def put_backend(tx: Tx, backend: Backend, now: datetime) -> tuple[Backend, bool]:
    _bump(tx)
    found = tx.row("SELECT created_at FROM backend WHERE public_key = ?", (backend.public_key,))
    if found is None:
        tx.execute(_INSERT, _to_row(tx, backend, now, now))
        return dataclasses.replace(backend, created_at=now, updated_at=now), True
    created = tx.dialect.from_db_time(found[0])
    row = _to_row(tx, backend, created, now)
    tx.execute(
        "UPDATE backend SET name = ?, partitions = ?, weight = ?, enabled = ?,"
        " implementation = ?, updated_at = ? WHERE public_key = ?",
        (*row[1:6], row[7], row[0]),
    )
    return dataclasses.replace(backend, created_at=created, updated_at=now), False


def patch_backend(tx: Tx, key: NodeKey, patch: BackendPatch, now: datetime) -> Backend:
    _bump(tx)
    sets: list[str] = ["updated_at = ?"]
    params: list[object] = [tx.dialect.to_db_time(now)]
    if patch.name is not None or patch.clear_name:
        sets.append("name = ?")
        params.append(patch.name)
    if patch.partitions is not None:
        sets.append("partitions = ?")
        params.append(_partitions_json(patch.partitions))
    if patch.weight is not None:
        sets.append("weight = ?")
        params.append(patch.weight)
    if patch.enabled is not None:
        sets.append("enabled = ?")
        params.append(patch.enabled)
    if (
        tx.execute(f"UPDATE backend SET {', '.join(sets)} WHERE public_key = ?", (*params, key))
        == 0
    ):
        raise NotFound(f"no backend {key}")
    return get_backend(tx, key)


def delete_backend(tx: Tx, key: NodeKey) -> None:
    _bump(tx)
    if tx.execute("DELETE FROM backend WHERE public_key = ?", (key,)) == 0:
        raise NotFound(f"no backend {key}")


def _bump(tx: Tx) -> int:
    row = tx.row("UPDATE backend_set_version SET value = value + 1 WHERE id = 1 RETURNING value")
    if row is None:
        raise StoreUnavailable("the backend_set_version row is missing")
    return int(row[0])


def _partitions_json(partitions: frozenset[str]) -> str:
    return json.dumps(sorted(partitions), separators=(",", ":"))


def _to_row(tx: Tx, backend: Backend, created: datetime, updated: datetime) -> tuple[object, ...]:
    implementation = codec.implementation_to_json(backend.implementation)
    return (
        backend.public_key,
        backend.name,
        _partitions_json(backend.partitions),
        backend.weight,
        backend.enabled,
        json.dumps(implementation, separators=(",", ":")),
        tx.dialect.to_db_time(created),
        tx.dialect.to_db_time(updated),
    )


def _from_row(tx: Tx, row: Row) -> Backend:
    key, name, partitions, weight, enabled, implementation, created, updated = row
    try:
        parsed_partitions = frozenset(json.loads(partitions))
        impl = codec.implementation_from_json(json.loads(implementation))
    except (ValueError, TypeError, InvalidInput) as exc:
        raise StoreUnavailable(f"backend {key} has an unreadable stored record: {exc}") from exc
    return Backend(
        public_key=NodeKey(key),
        name=name,
        partitions=parsed_partitions,
        weight=int(weight),
        enabled=bool(enabled),
        implementation=impl,
        created_at=tx.dialect.from_db_time(created),
        updated_at=tx.dialect.from_db_time(updated),
    )
