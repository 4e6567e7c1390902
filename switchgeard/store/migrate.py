"""Schema migrations: ``migrations/NNNN_name.sql`` applied in order, in one transaction.

Applied versions are recorded in ``schema_migrations`` (our own table, so nothing else
sharing the database interferes). A database at a version newer than the newest file
refuses to open with ``SchemaTooNew``. On PostgreSQL an advisory lock keeps two daemons
starting at once from migrating concurrently; SQLite's ``BEGIN IMMEDIATE`` does the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources

from switchgeard.errors import SchemaTooNew, StoreUnavailable
from switchgeard.store.engine import Dialect, Tx

_FILE_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")
_MARKER = re.compile(r"\{\{(\w+)\}\}")
_LOCK_KEY = 0x73776974636867  # "switchg": the advisory lock id for migrations


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self, dialect: Dialect) -> list[str]:
        """The file's statements with the dialect's column types filled in."""
        types = dialect.ddl_types
        body = "\n".join(
            line for line in self.sql.splitlines() if not line.lstrip().startswith("--")
        )
        body = _MARKER.sub(lambda m: types[m.group(1)], body)
        return [part.strip() for part in re.split(r";\s*$", body, flags=re.M) if part.strip()]


@cache
def known_migrations() -> tuple[Migration, ...]:
    """Every migration shipped with this switchgeard, in version order (1, 2, ...)."""
    found = []
    for entry in resources.files("switchgeard.store.migrations").iterdir():
        match = _FILE_NAME.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise StoreUnavailable("the packaged migrations are not numbered 1, 2, 3, ... in order")
    return tuple(found)


def latest_version() -> int:
    return known_migrations()[-1].version


def migrate(tx: Tx, *, now: datetime, target: int | None = None) -> list[int]:
    """Bring the schema up to ``target`` (default: the latest); return the versions applied."""
    if tx.dialect.name == "postgresql":
        tx.row("SELECT pg_advisory_xact_lock(?)", (_LOCK_KEY,))
    applied = _applied_versions(tx)
    latest = latest_version()
    if applied and max(applied) > latest:
        raise SchemaTooNew(
            f"the database schema is at version {max(applied)} but this switchgeard knows "
            f"versions up to {latest}; upgrade switchgeard (or restore a matching backup)"
        )
    done = []
    for migration in known_migrations():
        if migration.version in applied or (target is not None and migration.version > target):
            continue
        for statement in migration.statements(tx.dialect):
            tx.execute(statement)
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (migration.version, migration.name, tx.dialect.to_db_time(now)),
        )
        done.append(migration.version)
    return done


def _applied_versions(tx: Tx) -> set[int]:
    timestamp = tx.dialect.ddl_types["timestamp"]
    tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        f"version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at {timestamp} NOT NULL)"
    )
    return {int(version) for (version,) in tx.rows("SELECT version FROM schema_migrations")}
