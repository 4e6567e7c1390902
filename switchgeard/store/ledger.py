"""The invoice ledger (synchronous operations on a ``Tx``).

``record_invoice`` is one statement so the LNURL callback pays a single round trip for it;
``record_invoices`` writes many entries in one statement (the ``LedgerWriter``'s batches).
Every insert also updates each index on ``invoice`` (on SQLite one more page in the WAL per
commit), so the table has only those its queries use: the primary key and the unsettled
entries by backend and expiry (migration 0004 dropped the one by backend alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from switchgeard.errors import Conflict, NotFound
from switchgeard.store.engine import Row, Tx
from switchgeard.store.records import InvoiceEntry, InvoiceStats
from switchgeard.units import Msat, NodeKey, PaymentHash

_COLUMNS = (
    "payment_hash, backend_key, reference, amount_msat, bolt11, created_at, expires_at,"
    " settled_at, preimage"
)


_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_ONE = (
    f"INSERT INTO invoice ({_COLUMNS}) VALUES {_ROW} ON CONFLICT (payment_hash) DO NOTHING"
)


def record_invoice(tx: Tx, entry: InvoiceEntry) -> None:
    inserted = tx.execute(_INSERT_ONE, _values(tx, entry))
    if inserted == 0:
        raise Conflict(f"invoice {entry.payment_hash} is recorded already")


def record_invoices(tx: Tx, entries: Sequence[InvoiceEntry]) -> set[str]:
    """Insert ``entries`` (distinct payment hashes) in one statement; return the hashes that
    were new. The others were recorded before and are left as they are."""
    rows = tx.rows(
        f"INSERT INTO invoice ({_COLUMNS}) VALUES {', '.join([_ROW] * len(entries))}"
        " ON CONFLICT (payment_hash) DO NOTHING RETURNING payment_hash",
        [value for entry in entries for value in _values(tx, entry)],
    )
    return {str(row[0]) for row in rows}


def _values(tx: Tx, entry: InvoiceEntry) -> tuple[object, ...]:
    dialect = tx.dialect
    return (
        entry.payment_hash,
        entry.backend_key,
        entry.reference,
        int(entry.amount_msat),
        entry.bolt11,
        dialect.to_db_time(entry.created_at),
        dialect.to_db_time(entry.expires_at),
        None if entry.settled_at is None else dialect.to_db_time(entry.settled_at),
        entry.preimage,
    )


def get_invoice(tx: Tx, payment_hash: PaymentHash) -> InvoiceEntry:
    row = tx.row(f"SELECT {_COLUMNS} FROM invoice WHERE payment_hash = ?", (payment_hash,))
    if row is None:
        raise NotFound(f"no invoice with payment hash {payment_hash}")
    return _entry(tx, row)


def unsettled_invoices(
    tx: Tx, backend_key: NodeKey, expires_after: datetime, limit: int
) -> list[InvoiceEntry]:
    """Up to ``limit`` unsettled entries of one backend expiring after ``expires_after``,
    newest first.

    Served by the partial index ``invoice_unsettled_by_expiry`` (migration 0003), which
    both engines use only while the WHERE clause says ``settled_at IS NULL`` literally.
    """
    rows = tx.rows(
        f"SELECT {_COLUMNS} FROM invoice WHERE backend_key = ? AND settled_at IS NULL"
        " AND expires_at > ? ORDER BY created_at DESC, payment_hash LIMIT ?",
        (backend_key, tx.dialect.to_db_time(expires_after), limit),
    )
    return [_entry(tx, row) for row in rows]


def _entry(tx: Tx, row: Row) -> InvoiceEntry:
    key, backend, reference, amount, bolt11, created, expires, settled, preimage = row
    return InvoiceEntry(
        payment_hash=PaymentHash(key),
        backend_key=NodeKey(backend),
        reference=reference,
        amount_msat=Msat(amount),
        bolt11=bolt11,
        created_at=tx.dialect.from_db_time(created),
        expires_at=tx.dialect.from_db_time(expires),
        settled_at=tx.dialect.optional_time(settled),
        preimage=preimage,
    )


def mark_settled(tx: Tx, payment_hash: PaymentHash, preimage: str, settled_at: datetime) -> bool:
    """Record the settlement; False when it was recorded before, NotFound when unknown."""
    changed = tx.execute(
        "UPDATE invoice SET settled_at = ?, preimage = ?"
        " WHERE payment_hash = ? AND settled_at IS NULL",
        (tx.dialect.to_db_time(settled_at), preimage, payment_hash),
    )
    if changed:
        return True
    if tx.row("SELECT 1 FROM invoice WHERE payment_hash = ?", (payment_hash,)) is None:
        raise NotFound(f"no invoice with payment hash {payment_hash}")
    return False


def invoice_stats(tx: Tx) -> dict[NodeKey, InvoiceStats]:
    rows = tx.rows(
        "SELECT backend_key, COUNT(*), COUNT(settled_at),"
        " COALESCE(SUM(CASE WHEN settled_at IS NULL THEN 0 ELSE amount_msat END), 0)"
        " FROM invoice GROUP BY backend_key ORDER BY backend_key"
    )
    return {
        NodeKey(key): InvoiceStats(
            issued=int(issued), settled=int(settled), settled_msat=Msat(int(msat))
        )
        for key, issued, settled, msat in rows
    }
