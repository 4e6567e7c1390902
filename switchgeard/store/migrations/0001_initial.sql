-- Backends (discovery), the backend-set version, offer metadata and offers.

CREATE TABLE backend (
    public_key TEXT PRIMARY KEY,
    name TEXT,
    partitions TEXT NOT NULL,
    weight INTEGER NOT NULL CHECK (weight >= 0),
    enabled BOOLEAN NOT NULL,
    implementation TEXT NOT NULL,
    created_at {{timestamp}} NOT NULL,
    updated_at {{timestamp}} NOT NULL
);

CREATE INDEX backend_by_created ON backend (created_at, public_key);

-- One row; every successful backend mutation increments it in the same transaction.
CREATE TABLE backend_set_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);

INSERT INTO backend_set_version (id, value) VALUES (1, 0);

CREATE TABLE offer_metadata (
    partition TEXT NOT NULL,
    id TEXT NOT NULL,
    text TEXT NOT NULL,
    long_text TEXT,
    image_kind TEXT CHECK (image_kind IN ('png', 'jpeg')),
    image_data {{bytes}},
    identifier_kind TEXT CHECK (identifier_kind IN ('email', 'text')),
    identifier_value TEXT,
    created_at {{timestamp}} NOT NULL,
    updated_at {{timestamp}} NOT NULL,
    PRIMARY KEY (partition, id)
);

CREATE INDEX offer_metadata_by_created ON offer_metadata (partition, created_at, id);

CREATE TABLE offer (
    partition TEXT NOT NULL,
    id TEXT NOT NULL,
    min_sendable BIGINT NOT NULL CHECK (min_sendable >= 1),
    max_sendable BIGINT NOT NULL CHECK (max_sendable >= min_sendable),
    metadata_id TEXT NOT NULL,
    not_before {{timestamp}} NOT NULL,
    expires {{timestamp}},
    created_at {{timestamp}} NOT NULL,
    updated_at {{timestamp}} NOT NULL,
    PRIMARY KEY (partition, id),
    FOREIGN KEY (partition, metadata_id)
        REFERENCES offer_metadata (partition, id) ON DELETE RESTRICT
);

CREATE INDEX offer_by_created ON offer (partition, created_at, id);

CREATE INDEX offer_by_metadata ON offer (partition, metadata_id);
