-- No query reads the invoice ledger by backend alone any more: the settlement watcher's
-- reconciliation uses invoice_unsettled_by_expiry (0003), lookups and settlements go by
-- payment hash, and invoice_stats reads every entry anyway (a scan, which on SQLite
-- also beats walking this index and fetching each row). Every LNURL callback's insert
-- paid for updating it: one more page written to the WAL per commit.

DROP INDEX IF EXISTS invoice_by_backend;
