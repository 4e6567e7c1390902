"""Persistence of backends, offers, metadata, addresses and the invoice ledger.

Owns SQLite (default) and PostgreSQL stores and their migrations. Imports only config,
errors and units; database drivers never leave this package.
"""
