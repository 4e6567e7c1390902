-- LUD-12 comments on offers, Lightning Addresses (LUD-16), sync bookkeeping and the
-- invoice ledger (LUD-21 verify, statistics).

ALTER TABLE offer ADD COLUMN comment_allowed INTEGER NOT NULL DEFAULT 0;

CREATE TABLE address (
    domain TEXT NOT NULL,
    username TEXT NOT NULL,
    partition TEXT NOT NULL,
    text TEXT NOT NULL,
    long_text TEXT,
    image_kind TEXT CHECK (image_kind IN ('png', 'jpeg')),
    image_data {{bytes}},
    is_email BOOLEAN NOT NULL,
    min_sendable BIGINT NOT NULL CHECK (min_sendable >= 1),
    max_sendable BIGINT NOT NULL CHECK (max_sendable >= min_sendable),
    comment_allowed INTEGER NOT NULL CHECK (comment_allowed >= 0),
    enabled BOOLEAN NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('local', 'ldap')),
    external_id TEXT UNIQUE,
    created_at {{timestamp}} NOT NULL,
    updated_at {{timestamp}} NOT NULL,
    PRIMARY KEY (domain, username)
);

CREATE INDEX address_by_created ON address (created_at, domain, username);

CREATE TABLE sync_state (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at {{timestamp}} NOT NULL
);

CREATE TABLE invoice (
    payment_hash TEXT PRIMARY KEY,
    backend_key TEXT NOT NULL,
    reference TEXT NOT NULL,
    amount_msat BIGINT NOT NULL CHECK (amount_msat >= 1),
    bolt11 TEXT NOT NULL,
    created_at {{timestamp}} NOT NULL,
    expires_at {{timestamp}} NOT NULL,
    settled_at {{timestamp}},
    preimage TEXT
);

CREATE INDEX invoice_by_backend ON invoice (backend_key);
