-- The settlement watcher's reconciliation (ledger.unsettled_invoices) reads the unsettled,
-- unexpired entries of one backend. This partial index holds only unsettled entries, keyed
-- so that the query reads just the entries that expire after its bound: the work follows
-- how many match (invoices of the last expiry window), not how many the node ever issued.
-- The few matching rows are then sorted newest first. (An index in that order instead would
-- walk through every expired unsettled entry whenever fewer than the limit match.)

CREATE INDEX invoice_unsettled_by_expiry ON invoice (backend_key, expires_at)
    WHERE settled_at IS NULL;
