"""Lightning Address rows and sync bookkeeping (synchronous operations on a ``Tx``).

Local addresses are written by admins; LDAP addresses are keyed by their external id
(entryUUID) and written only through the ``*_ldap_*`` operations, which never overwrite an
address owned by someone else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from switchgeard.errors import Conflict, NotFound, StoreUnavailable
from switchgeard.store.engine import Row, Tx
from switchgeard.store.records import Address, Image, LdapSyncResult
from switchgeard.units import Msat

_COLUMNS = (
    "domain, username, partition, text, long_text, image_kind, image_data, is_email,"
    " min_sendable, max_sendable, comment_allowed, enabled, source, external_id,"
    " created_at, updated_at"
)
_INSERT = f"INSERT INTO address ({_COLUMNS}) VALUES ({', '.join('?' * 16)})"
_SELECT = f"SELECT {_COLUMNS} FROM address"
_UPDATE = (
    "UPDATE address SET domain = ?, username = ?, partition = ?, text = ?, long_text = ?,"
    " image_kind = ?, image_data = ?, is_email = ?, min_sendable = ?, max_sendable = ?,"
    " comment_allowed = ?, enabled = ?, source = ?, external_id = ?, updated_at = ?"
)


def get_address(tx: Tx, domain: str, username: str) -> Address:
    row = tx.row(f"{_SELECT} WHERE domain = ? AND username = ?", (domain, username))
    if row is None:
        raise NotFound(f"no address {username}@{domain}")
    return _from_row(tx, row)


def list_addresses(
    tx: Tx, start: int, count: int, domain: str | None, source: str | None
) -> list[Address]:
    conditions, params = [], []
    if domain is not None:
        conditions.append("domain = ?")
        params.append(domain)
    if source is not None:
        conditions.append("source = ?")
        params.append(source)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    sql = f"{_SELECT}{where} ORDER BY created_at, domain, username LIMIT ? OFFSET ?"
    return [_from_row(tx, row) for row in tx.rows(sql, (*params, count, start))]


def create_address(tx: Tx, address: Address, now: datetime) -> Address:
    sql = f"{_INSERT} ON CONFLICT (domain, username) DO NOTHING"
    if tx.execute(sql, _to_row(tx, address, now, now)) == 0:
        raise Conflict(f"address {address.username}@{address.domain} exists already")
    return dataclasses.replace(address, created_at=now, updated_at=now)


def put_address(tx: Tx, address: Address, now: datetime) -> tuple[Address, bool]:
    """Create or replace a local address; an LDAP-managed one is a ``Conflict``."""
    found = _owner(tx, address.domain, address.username)
    if found is None:
        return create_address(tx, address, now), True
    source, _, created = found
    if source != "local":
        raise Conflict(f"address {address.username}@{address.domain} is managed by LDAP")
    _update(tx, address, "domain = ? AND username = ?", (address.domain, address.username), now)
    return dataclasses.replace(address, created_at=created, updated_at=now), False


def delete_address(tx: Tx, domain: str, username: str) -> None:
    """Delete a local address; an LDAP-managed one is a ``Conflict`` (the syncer owns it)."""
    sql = "DELETE FROM address WHERE domain = ? AND username = ? AND source = 'local'"
    if tx.execute(sql, (domain, username)) == 1:
        return
    if _owner(tx, domain, username) is None:
        raise NotFound(f"no address {username}@{domain}")
    raise Conflict(f"address {username}@{domain} is managed by LDAP")


def set_address_enabled(
    tx: Tx, domain: str, username: str, enabled: bool, now: datetime
) -> Address:
    sql = "UPDATE address SET enabled = ?, updated_at = ? WHERE domain = ? AND username = ?"
    if tx.execute(sql, (enabled, tx.dialect.to_db_time(now), domain, username)) == 0:
        raise NotFound(f"no address {username}@{domain}")
    return get_address(tx, domain, username)


def upsert_ldap_address(
    tx: Tx, address: Address, now: datetime, replace_local: bool = False
) -> tuple[Address, bool]:
    """Write the LDAP address with this external id (renaming it if its name changed).

    An update keeps the stored ``enabled`` flag (an admin's override). A local address
    with the same name is a ``Conflict``, or is deleted first when ``replace_local``.
    """
    owner = _owner(tx, address.domain, address.username)
    if owner is not None and owner[0] == "local" and replace_local:
        delete_address(tx, address.domain, address.username)
    elif owner is not None and owner[1] != address.external_id:
        raise Conflict(f"address {address.username}@{address.domain} belongs to another entry")
    sql = "SELECT created_at, enabled FROM address WHERE external_id = ?"
    found = tx.row(sql, (address.external_id,))
    if found is None:
        return create_address(tx, address, now), True
    address = dataclasses.replace(address, enabled=bool(found[1]))
    _update(tx, address, "external_id = ?", (address.external_id,), now)
    created = tx.dialect.from_db_time(found[0])
    return dataclasses.replace(address, created_at=created, updated_at=now), False


def delete_ldap_address(tx: Tx, external_id: str) -> bool:
    sql = "DELETE FROM address WHERE source = 'ldap' AND external_id = ?"
    return tx.execute(sql, (external_id,)) > 0


def replace_ldap_addresses(
    tx: Tx, addresses: Sequence[Address], now: datetime, replace_local: bool = False
) -> LdapSyncResult:
    """Make the LDAP addresses exactly ``addresses``; entries whose name is taken are skipped
    (a local address's name is taken over instead when ``replace_local``)."""
    wanted = {a.external_id for a in addresses}
    stale = [
        external_id
        for (external_id,) in tx.rows("SELECT external_id FROM address WHERE source = 'ldap'")
        if external_id not in wanted
    ]
    for external_id in stale:
        delete_ldap_address(tx, external_id)
    inserted = updated = 0
    skipped: list[str] = []
    for address in addresses:
        owner = _owner(tx, address.domain, address.username)
        taken = owner is not None and owner[1] != address.external_id
        if taken and not (replace_local and owner is not None and owner[0] == "local"):
            skipped.append(str(address.external_id))
            continue
        _, created = upsert_ldap_address(tx, address, now, replace_local)
        inserted, updated = inserted + created, updated + (not created)
    return LdapSyncResult(
        inserted=inserted, updated=updated, deleted=len(stale), skipped=tuple(skipped)
    )


def get_sync_state(tx: Tx, name: str) -> str | None:
    row = tx.row("SELECT value FROM sync_state WHERE name = ?", (name,))
    return None if row is None else str(row[0])


def set_sync_state(tx: Tx, name: str, value: str, now: datetime) -> None:
    tx.execute(
        "INSERT INTO sync_state (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name)"
        " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (name, value, tx.dialect.to_db_time(now)),
    )


def _owner(tx: Tx, domain: str, username: str) -> tuple[str, str | None, datetime] | None:
    sql = "SELECT source, external_id, created_at FROM address WHERE domain = ? AND username = ?"
    row = tx.row(sql, (domain, username))
    return None if row is None else (row[0], row[1], tx.dialect.from_db_time(row[2]))


def _update(tx: Tx, address: Address, where: str, key: tuple[object, ...], now: datetime) -> None:
    row = _to_row(tx, address, now, now)
    if tx.execute(f"{_UPDATE} WHERE {where}", (*row[:14], row[15], *key)) != 1:
        raise StoreUnavailable(f"address {address.username}@{address.domain} vanished; retry")


def _to_row(tx: Tx, address: Address, created: datetime, updated: datetime) -> tuple[object, ...]:
    image = address.image
    return (
        address.domain,
        address.username,
        address.partition,
        address.text,
        address.long_text,
        None if image is None else image.kind,
        None if image is None else image.data,
        address.is_email,
        int(address.min_sendable),
        int(address.max_sendable),
        address.comment_allowed,
        address.enabled,
        address.source,
        address.external_id,
        tx.dialect.to_db_time(created),
        tx.dialect.to_db_time(updated),
    )


def _from_row(tx: Tx, row: Row) -> Address:
    (domain, username, partition, text, long_text, image_kind, image_data, is_email) = row[:8]
    (low, high, comment, enabled, source, external_id, created, updated) = row[8:]
    return Address(
        domain=domain,
        username=username,
        partition=partition,
        text=text,
        long_text=long_text,
        image=None if image_kind is None else Image(kind=image_kind, data=bytes(image_data)),
        is_email=bool(is_email),
        min_sendable=Msat(low),
        max_sendable=Msat(high),
        comment_allowed=int(comment),
        enabled=bool(enabled),
        source=source,
        external_id=external_id,
        created_at=tx.dialect.from_db_time(created),
        updated_at=tx.dialect.from_db_time(updated),
    )
