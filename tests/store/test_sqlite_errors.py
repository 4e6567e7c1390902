"""SQLite errors come out of every ``SqliteTx`` statement as store errors, the driver's
exception as their cause (``run_inline`` reads the busy code from it)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator

import pytest

from switchgeard.errors import StoreUnavailable
from switchgeard.store.engine import ConstraintViolation
from switchgeard.store.sqlite import SqliteTx

Statement = Callable[[SqliteTx, str], object]
STATEMENTS: dict[str, Statement] = {
    "execute": lambda tx, sql: tx.execute(sql),
    "rows": lambda tx, sql: tx.rows(sql),
    "row": lambda tx, sql: tx.row(sql),
}


@pytest.fixture
def tx() -> Iterator[SqliteTx]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    conn.execute(
        "CREATE TABLE child (id INTEGER PRIMARY KEY CHECK (id > 0),"
        " parent INTEGER REFERENCES parent (id))"
    )
    conn.execute("INSERT INTO parent (id) VALUES (1)")
    yield SqliteTx(conn)
    conn.close()


@pytest.mark.parametrize("statement", STATEMENTS.values(), ids=STATEMENTS.keys())
@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("INSERT INTO parent (id) VALUES (1) RETURNING id", "unique"),
        ("INSERT INTO child (id, parent) VALUES (1, 2) RETURNING id", "foreign_key"),
        ("INSERT INTO child (id, parent) VALUES (0, 1) RETURNING id", "check"),
    ],
)
def test_constraint_violations_name_their_kind(
    tx: SqliteTx, statement: Statement, sql: str, kind: str
) -> None:
    with pytest.raises(ConstraintViolation) as caught:
        statement(tx, sql)
    assert caught.value.kind == kind
    assert str(caught.value).startswith("constraint failed: ")
    assert isinstance(caught.value.__cause__, sqlite3.IntegrityError)


@pytest.mark.parametrize("statement", STATEMENTS.values(), ids=STATEMENTS.keys())
def test_other_errors_are_store_unavailable(tx: SqliteTx, statement: Statement) -> None:
    with pytest.raises(StoreUnavailable, match=r"^SQLite: no such table: nowhere$") as caught:
        statement(tx, "SELECT * FROM nowhere")
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)


def test_results_pass_through(tx: SqliteTx) -> None:
    assert tx.execute("INSERT INTO child (id, parent) VALUES (?, ?)", (5, 1)) == 1
    assert tx.rows("SELECT id, parent FROM child") == [(5, 1)]
    assert tx.row("SELECT id FROM child WHERE id = ?", (6,)) is None
    assert tx.row("SELECT ?", (7,)) == (7,)
