"""The configuration model: one frozen, keyword-only dataclass per TOML section.

Field names equal the TOML keys; nested dataclasses are TOML sub-tables. The loader
(``switchgeard.config.load``) is generic over these classes, so a new section is added by
writing a dataclass here and a field on ``Config``. Supported field types: ``bool``, ``int``,
``float``, ``str``, ``Path`` (relative paths are taken relative to the config file's
directory), ``Seconds`` ("500ms", "30s", "5m", "1h" or a number of seconds), ``FileMode`` (an
octal string such as "0660"), ``X | None``, ``tuple[X, ...]`` and nested dataclasses.

Field ``metadata`` keys, all enforced by the loader with the full key path in every error:

* ``min`` / ``max``: numeric bounds; ``choices``: the allowed values;
* ``check``: a callable raising ``ValueError`` with a message (applied to each item of a tuple);
* ``restart``: a change of this key (or of the whole sub-table) takes effect only after a
  restart; a live reload keeps the running value and reports the key as "needs restart".

A class may define ``validate(self)`` for rules that span fields; it raises
``FieldProblem(field, message)`` from ``switchgeard.config.checks``.

Keys ending in ``_file`` name files (secrets, certificates) that components read when they
open, through ``switchgeard.config.read_secret_file``; secrets are never written inline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NewType
from urllib.parse import urlsplit

from switchgeard.config.checks import (
    FieldProblem,
    check_allowed_host,
    check_listen,
    check_network,
    check_optional_host_port,
    check_optional_http_url,
    check_proxy,
    check_rate,
    check_redis_url,
    check_store_url,
)

Seconds = NewType("Seconds", float)
"""A duration in seconds, written in TOML as "500ms", "30s", "5m" or "1h"."""

FileMode = NewType("FileMode", int)
"""A Unix permission mode, written in TOML as an octal string such as "0660"."""


def _min(value: float) -> dict[str, float]:
    return {"min": value}


RESTART: dict[str, Any] = {"restart": True}
"""Field metadata for keys that take effect only after a restart."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonConfig:
    """``[daemon]``: process lifecycle."""

    shutdown_grace: Seconds = field(default=Seconds(10.0), metadata=_min(0))
    """In-flight requests may finish for this long after SIGTERM."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LnurlConfig:
    """``[lnurl]``: the public LNURL-pay HTTP service."""

    listen: tuple[str, ...] = field(
        default=("127.0.0.1:8080",), metadata={"check": check_listen, "restart": True}
    )
    """"host:port", "[v6addr]:port" or "unix:/abs/path"; port 0 picks a free port."""
    tls_cert_file: Path | None = field(default=None, metadata=RESTART)
    tls_key_file: Path | None = field(default=None, metadata=RESTART)
    socket_mode: FileMode = field(default=FileMode(0o660), metadata={"max": 0o777, **RESTART})
    """Mode of the "unix:" listen sockets (e.g. for a reverse proxy)."""
    socket_group: str | None = field(default=None, metadata=RESTART)
    partitions: tuple[str, ...] = ("default",)
    allowed_hosts: tuple[str, ...] = field(default=(), metadata={"check": check_allowed_host})
    """Host names (or ``*.example.com``: one label deep) links may name; empty = any host."""
    trusted_proxies: tuple[str, ...] = field(default=(), metadata={"check": check_proxy})
    invoice_expiry: Seconds = field(default=Seconds(600.0), metadata=_min(60))
    qr_scale: int = field(default=8, metadata={"min": 1, "max": 64})
    qr_dark: str = "#000000"
    qr_light: str = "#ffffff"

    def validate(self) -> None:
        """At least one listen address; TLS certificate and key come together."""
        if not self.listen:
            raise FieldProblem("listen", "needs at least one address")
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            missing = "tls_key_file" if self.tls_key_file is None else "tls_cert_file"
            raise FieldProblem(missing, "tls_cert_file and tls_key_file must be set together")


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminConfig:
    """``[admin]``: the admin API on a Unix socket."""

    socket: Path = field(default=Path("/run/switchgeard/admin.sock"), metadata=RESTART)
    socket_mode: FileMode = field(default=FileMode(0o660), metadata={"max": 0o777, **RESTART})
    socket_group: str | None = field(default=None, metadata=RESTART)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreConfig:
    """``[store]``: where records live. Changing it needs a restart."""

    url: str = field(metadata={"check": check_store_url})
    """"sqlite:///abs/path.db" or "postgresql://user@host/db" (no inline password)."""
    page_default: int = field(default=100, metadata={"min": 1, "max": 10_000})
    page_max: int = field(default=100, metadata={"min": 1, "max": 10_000})
    pool_size: int = field(default=4, metadata={"min": 1, "max": 64})

    def validate(self) -> None:
        """The default page size cannot exceed the maximum."""
        if self.page_default > self.page_max:
            raise FieldProblem("page_default", f"must not exceed page_max ({self.page_max})")


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthConfig:
    """``[balancer.health]``: the per-backend health prober."""

    interval: Seconds = field(default=Seconds(5.0), metadata=_min(0.1))
    timeout: Seconds = field(default=Seconds(3.0), metadata=_min(0.1))
    healthy_after: int = field(default=1, metadata={"min": 1, "max": 100})
    unhealthy_after: int = field(default=2, metadata={"min": 1, "max": 100})
    ejection: Seconds = field(default=Seconds(30.0), metadata=_min(0))
    """A backend whose invoices failed stays out this long (doubling while it keeps failing)."""
    max_ejection: Seconds = field(default=Seconds(600.0), metadata=_min(0))


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryConfig:
    """``[balancer.retry]``: backoff after every candidate failed."""

    initial: Seconds = field(default=Seconds(0.05), metadata=_min(0.001))
    multiplier: float = field(default=2.0, metadata={"min": 1.0, "max": 10.0})
    max_interval: Seconds = field(default=Seconds(1.0), metadata=_min(0.001))
    max_elapsed: Seconds = field(default=Seconds(5.0), metadata=_min(0))

    def validate(self) -> None:
        """The first backoff step cannot exceed the largest one."""
        if self.initial > self.max_interval:
            raise FieldProblem("initial", f"must not exceed max_interval ({self.max_interval} s)")


@dataclass(frozen=True, slots=True, kw_only=True)
class BalancerConfig:
    """``[balancer]``: backend selection and failover."""

    strategy: str = field(
        default="round-robin", metadata={"choices": ("round-robin", "random", "consistent")}
    )
    consistent_key: str = field(default="comment", metadata={"choices": ("comment", "client_ip")})
    capacity_bias: float | None = field(default=None, metadata={"min": 0.0, "max": 100.0})
    backend_refresh: Seconds = field(default=Seconds(1.0), metadata=_min(0.05))
    invoice_timeout: Seconds = field(default=Seconds(3.0), metadata=_min(0.05))
    health: HealthConfig = HealthConfig()
    retry: RetryConfig = RetryConfig()


@dataclass(frozen=True, slots=True, kw_only=True)
class LightningConfig:
    """``[lightning]``: settings shared by every node adapter."""

    network: str = field(
        default="bitcoin", metadata={"choices": ("bitcoin", "testnet", "signet", "regtest")}
    )
    call_timeout: Seconds = field(default=Seconds(5.0), metadata=_min(0.05))
    trusted_roots_file: Path | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggingConfig:
    """``[logging]``: the system log (stderr) and, with ``dir``, per-service files."""

    level: str = field(default="info", metadata={"choices": ("debug", "info", "warning", "error")})
    dir: Path | None = field(default=None, metadata=RESTART)
    client_ip: str = field(default="full", metadata={"choices": ("full", "truncate", "hash")})
    """How client addresses appear in access logs: as is, cut to /24 (IPv4) or /48 (IPv6),
    or as a keyed hash that is stable for the life of the process."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TelemetryConfig:
    """``[telemetry]``: metrics export."""

    prometheus_listen: str = field(
        default="127.0.0.1:9464", metadata={"check": check_optional_host_port, "restart": True}
    )
    """"host:port" of the Prometheus listener; "" disables it."""
    otlp_endpoint: str = field(default="", metadata={"check": check_optional_http_url})
    otlp_interval: Seconds = field(default=Seconds(60.0), metadata=_min(1))


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitRuleConfig:
    """One GCRA limit: ``rate`` as "5/s", "300/m" or "1000/h"; ``burst`` requests at once."""

    rate: str = field(metadata={"check": check_rate})
    burst: int = field(default=1, metadata={"min": 1, "max": 1_000_000})


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitClassConfig:
    """``[ratelimit.<class>]``: limits for one endpoint class; an absent limit is not applied."""

    total: RateLimitRuleConfig | None = None
    per_client: RateLimitRuleConfig | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitOverrideConfig:
    """``[[ratelimit.overrides]]``: another per-client limit for clients inside ``cidrs``
    (e.g. a custodial wallet's egress range); without ``per_client`` they have none."""

    cidrs: tuple[str, ...] = field(metadata={"check": check_network})
    per_client: RateLimitRuleConfig | None = None


def _rule(rate: str, burst: int) -> RateLimitRuleConfig:
    return RateLimitRuleConfig(rate=rate, burst=burst)


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitConfig:
    """``[ratelimit]``: per endpoint class limits on the public LNURL listener.

    Client identity uses ``[lnurl] trusted_proxies`` (with "unix" trusting Unix-socket
    peers) and ``client_header``; ``/health*`` is never limited.
    """

    enabled: bool = True
    mode: str = field(default="enforce", metadata={"choices": ("enforce", "shadow")})
    backend: str = field(default="memory", metadata={"choices": ("memory", "redis"), **RESTART})
    redis_url: str = field(default="", metadata={"check": check_redis_url, **RESTART})
    redis_timeout: Seconds = field(default=Seconds(0.25), metadata={"min": 0.01, **RESTART})
    client_header: str = field(
        default="x-forwarded-for", metadata={"choices": ("x-forwarded-for", "forwarded")}
    )
    ipv6_prefix: int = field(default=64, metadata={"min": 16, "max": 128})
    exempt: tuple[str, ...] = field(default=(), metadata={"check": check_network})
    max_tracked_clients: int = field(default=100_000, metadata={"min": 16, "max": 10_000_000})
    sweep_interval: Seconds = field(default=Seconds(30.0), metadata=_min(0.1))
    offer: RateLimitClassConfig = RateLimitClassConfig(
        total=_rule("500/s", 1000), per_client=_rule("10/s", 30)
    )
    invoice: RateLimitClassConfig = RateLimitClassConfig(
        total=_rule("50/s", 100), per_client=_rule("1/s", 5)
    )
    bech32: RateLimitClassConfig = RateLimitClassConfig(per_client=_rule("2/s", 10))
    verify: RateLimitClassConfig = RateLimitClassConfig(per_client=_rule("5/s", 20))
    lnurlp: RateLimitClassConfig = RateLimitClassConfig(per_client=_rule("10/s", 30))
    default: RateLimitClassConfig = RateLimitClassConfig(
        total=_rule("200/s", 400), per_client=_rule("5/s", 20)
    )
    overrides: tuple[RateLimitOverrideConfig, ...] = ()

    def validate(self) -> None:
        """The Redis backend needs its URL."""
        if self.backend == "redis" and not self.redis_url:
            raise FieldProblem("redis_url", 'required when backend = "redis"')


def _check_ldap_uri(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("ldap", "ldaps") or not parts.hostname:
        raise ValueError(f"{value!r}: expected ldap://host[:port] or ldaps://host[:port]")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{value!r}: only scheme, host and port are allowed")


def _check_ldap_filter(value: str) -> None:
    if not (value.startswith("(") and value.endswith(")")) or value.count("(") != value.count(")"):
        raise ValueError(f"{value!r}: expected an LDAP filter such as (objectClass=inetOrgPerson)")


def _check_attribute(value: str) -> None:
    if value and not _LDAP_ATTRIBUTE.fullmatch(value):
        raise ValueError(f"{value!r} is not an LDAP attribute name")


_LDAP_ATTRIBUTE = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,63}")
_DOMAIN = re.compile(r"[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?")


@dataclass(frozen=True, slots=True, kw_only=True)
class LdapAttributesConfig:
    """``[ldap.attributes]``: how an LDAP entry becomes a Lightning Address."""

    username: str = "uid"
    """An attribute whose value is the user name, or "mail-localpart" (the part of ``mail``
    before "@", only when its domain is ``[ldap] domain``)."""
    text: tuple[str, ...] = field(
        default=("displayName", "cn"), metadata={"check": _check_attribute}
    )
    """The first of these attributes with a value is the wallet's ``text/plain``."""
    long_text: str = field(default="", metadata={"check": _check_attribute})
    """An attribute for ``text/long-desc`` (LUD-20); "" for none."""
    mail: str = field(default="mail", metadata={"check": _check_attribute})
    is_email: str = field(
        default="mail-matches", metadata={"choices": ("never", "always", "mail-matches")}
    )
    """When the address is a real mailbox (``text/email``): "mail-matches" when the entry's
    ``mail`` equals the generated address."""

    def validate(self) -> None:
        """The user name comes from an attribute or from the mail local part."""
        if self.username != "mail-localpart" and not _LDAP_ATTRIBUTE.fullmatch(self.username):
            raise FieldProblem("username", "expected an attribute name or 'mail-localpart'")


@dataclass(frozen=True, slots=True, kw_only=True)
class LdapConfig:
    """``[ldap]``: Lightning Addresses mirrored from a directory (absent: no LDAP)."""

    uri: str = field(metadata={"check": _check_ldap_uri})
    start_tls: bool = False
    tls_ca_file: Path | None = None
    bind_dn: str = ""
    """Empty binds anonymously."""
    bind_password_file: Path | None = None
    base_dn: str
    scope: str = field(default="sub", metadata={"choices": ("sub", "one")})
    filter: str = field(
        default="(&(objectClass=inetOrgPerson)(uid=*))", metadata={"check": _check_ldap_filter}
    )
    attributes: LdapAttributesConfig = LdapAttributesConfig()
    domain: str
    partition: str = "default"
    min_sendable: int = field(default=1_000, metadata={"min": 1})
    max_sendable: int = field(default=100_000_000_000, metadata={"min": 1})
    comment_allowed: int = field(default=0, metadata={"min": 0, "max": 2000})
    precedence: str = field(default="local", metadata={"choices": ("local", "ldap")})
    """Who keeps a user name claimed by both a local address and an LDAP entry."""
    sync: str = field(default="auto", metadata={"choices": ("auto", "syncrepl", "poll")})
    groups: tuple[str, ...] = ()
    """DNs of groups the filter tests with memberOf. syncprov does not report memberOf
    changes, so in syncrepl mode a change to one of these groups starts a full sync."""
    group_check_interval: Seconds = field(default=Seconds(1.0), metadata=_min(0.1))
    poll_interval: Seconds = field(default=Seconds(300.0), metadata=_min(1))
    full_resync_interval: Seconds = field(default=Seconds(86_400.0), metadata=_min(60))
    page_size: int = field(default=500, metadata={"min": 1, "max": 100_000})
    network_timeout: Seconds = field(default=Seconds(5.0), metadata=_min(0.1))
    timeout: Seconds = field(default=Seconds(30.0), metadata=_min(0.1))
    retry_initial: Seconds = field(default=Seconds(1.0), metadata=_min(0.01))
    retry_max: Seconds = field(default=Seconds(60.0), metadata=_min(0.01))

    def validate(self) -> None:
        """Amounts in order; StartTLS only on ldap://; a password file goes with a bind DN."""
        if self.min_sendable > self.max_sendable:
            raise FieldProblem("min_sendable", "must not exceed max_sendable")
        if self.start_tls and self.uri.startswith("ldaps:"):
            raise FieldProblem("start_tls", "ldaps:// is TLS already; use ldap:// with StartTLS")
        if (self.bind_password_file is None) != (not self.bind_dn):
            raise FieldProblem("bind_password_file", "bind_dn and bind_password_file go together")
        if not self.base_dn.strip():
            raise FieldProblem("base_dn", "must not be empty")
        if self.retry_initial > self.retry_max:
            raise FieldProblem("retry_initial", "must not exceed retry_max")
        if not _DOMAIN.fullmatch(self.domain):
            raise FieldProblem("domain", f"{self.domain!r} is not a lower-case host name[:port]")


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """The whole configuration, parsed once. ``path`` is the file it came from."""

    path: Path
    """The file this came from (not a TOML key)."""
    store: StoreConfig = field(metadata=RESTART)
    daemon: DaemonConfig = DaemonConfig()
    lnurl: LnurlConfig = LnurlConfig()
    admin: AdminConfig = AdminConfig()
    balancer: BalancerConfig = BalancerConfig()
    lightning: LightningConfig = field(default=LightningConfig(), metadata=RESTART)
    """Open node connections keep the settings they were opened with: restart."""
    logging: LoggingConfig = LoggingConfig()
    telemetry: TelemetryConfig = field(default=TelemetryConfig(), metadata=RESTART)
    ratelimit: RateLimitConfig = RateLimitConfig()
    ldap: LdapConfig | None = field(default=None, metadata=RESTART)
    """Lightning Addresses from LDAP; absent: none."""
