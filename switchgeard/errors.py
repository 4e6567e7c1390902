"""The whole switchgeard exception tree.

Each class is named after what the caller should do about it::

    SwitchgearError                 root; never raised directly
    ├── ConfigError                 bad configuration; carries the dotted key path and the file
    ├── StoreError
    │   ├── NotFound                the record does not exist
    │   ├── Conflict                the record exists already / a unique value clashes
    │   ├── InvalidInput            a record failed validation; carries the field name
    │   ├── StoreUnavailable        the database cannot be reached or failed
    │   └── SchemaTooNew            the database was migrated by a newer switchgeard
    ├── BackendError                a Lightning node failed; carries its key and name
    │   ├── BackendUnavailable      connect/timeout/UNAVAILABLE -> mark unhealthy, try the next node
    │   ├── BackendRejected         the node said "no" -> do not retry elsewhere blindly
    │   ├── BackendAuthError        credentials refused or unreadable -> fix the named file
    │   └── BackendProtocolError    an answer we cannot trust (bad invoice) -> node is faulty
    ├── DirectoryError              the LDAP server failed (python-ldap errors, translated)
    │   ├── DirectoryUnavailable    unreachable, timed out, went away -> retry with backoff
    │   └── DirectoryRefused        credentials, access rights or base DN -> fix the [ldap] config
    ├── NoHealthyBackend            the balancer ran out of candidates
    ├── RequestError                bad client input (amount out of range, unknown offer);
    │                               carries an HTTP status and a reason safe to show to the wallet
    ├── DecodeError                 bytes or strings that do not parse (BOLT11, Bolt12, bech32, TLV)
    ├── ListenError                 cannot bind a listener (in use, served by a live process)
    └── AccessDenied                admin API permission failure

Adapters translate foreign exceptions into these classes, once, chaining the original
with ``raise ... from exc``; no grpclib, sqlite3, psycopg or ldap exception crosses a
package line.
"""

from __future__ import annotations

from pathlib import Path


class SwitchgearError(Exception):
    """Root of every error switchgeard raises on purpose."""


class ConfigError(SwitchgearError):
    """The configuration is invalid. ``key`` is the dotted path, ``file`` the config file."""

    def __init__(self, message: str, *, key: str = "", file: Path | str | None = None) -> None:
        self.key = key
        self.file = None if file is None else str(file)
        self.reason = message
        where = f"{self.file}: " if self.file else ""
        at = f"{key}: " if key else ""
        super().__init__(f"{where}{at}{message}")


class StoreError(SwitchgearError):
    """A store operation failed."""


class NotFound(StoreError):
    """The record does not exist."""


class Conflict(StoreError):
    """The record already exists, or a unique value clashes with another record."""


class InvalidInput(StoreError):
    """A value failed validation. ``field`` names it (camelCase, as in the API)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.reason = message
        super().__init__(f"{field}: {message}")


class StoreUnavailable(StoreError):
    """The database cannot be reached or failed unexpectedly."""


class SchemaTooNew(StoreError):
    """The database schema is newer than this switchgeard knows; refuse to start."""


class BackendError(SwitchgearError):
    """A Lightning node failed. ``key`` is its public key (hex), ``name`` its label."""

    def __init__(self, message: str, *, key: str = "", name: str = "") -> None:
        self.key = key
        self.name = name
        self.reason = message
        label = name or key[:16]
        super().__init__(f"backend {label}: {message}" if label else message)


class BackendUnavailable(BackendError):
    """Cannot reach the node, or it timed out: mark it unhealthy and try the next one."""


class BackendRejected(BackendError):
    """The node refused the request; retrying elsewhere will not help."""


class BackendAuthError(BackendError):
    """The node refused our credentials, or a credential file could not be read."""


class BackendProtocolError(BackendError):
    """The node's answer cannot be trusted (bad invoice, undecodable reply)."""


class DirectoryError(SwitchgearError):
    """The LDAP directory failed; the message is meant for an operator."""


class DirectoryUnavailable(DirectoryError):
    """The directory cannot be reached or timed out: keep the last data and retry."""


class DirectoryRefused(DirectoryError):
    """The directory refused the bind or a read (credentials, ACLs, base DN)."""


class NoHealthyBackend(SwitchgearError):
    """No backend could serve the request."""


class RequestError(SwitchgearError):
    """Bad client input. ``status`` is the HTTP status; the message is safe to show."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        self.status = status
        self.reason = message
        super().__init__(message)


class DecodeError(SwitchgearError):
    """Input bytes or text do not decode (BOLT11, Bolt12, bech32, TLV, BigSize...)."""


class ListenError(SwitchgearError):
    """A listen address cannot be bound: in use, not a socket, or served by a live process."""


class AccessDenied(SwitchgearError):
    """The caller may not perform this admin operation."""
