"""The configuration model: one frozen, keyword-only dataclass per TOML section.

Field names equal the TOML keys. ``Seconds`` fields accept "500ms", "30s", "5m", "1h" (or a
number of seconds); keys ending in ``_file`` name files read when the component opens.
Range limits are in each field's ``metadata`` (``min``/``max``/``choices``) and are enforced
by the loader, which names the full key path in every error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NewType

Seconds = NewType("Seconds", float)
"""A duration in seconds, written in TOML as "500ms", "30s", "5m" or "1h"."""

FileMode = NewType("FileMode", int)
"""A Unix permission mode, written in TOML as an octal string such as "0660"."""


def _min(value: float) -> dict[str, float]:
    return {"min": value}


@dataclass(frozen=True, slots=True, kw_only=True)
class DaemonConfig:
    """``[daemon]``: process lifecycle."""

    shutdown_grace: Seconds = field(default=Seconds(10.0), metadata=_min(0))
    """In-flight requests may finish for this long after SIGTERM."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LnurlConfig:
    """``[lnurl]``: the public LNURL-pay HTTP service."""

    listen: tuple[str, ...] = ("127.0.0.1:8080",)
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    partitions: tuple[str, ...] = ("default",)
    allowed_hosts: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    invoice_expiry: Seconds = field(default=Seconds(600.0), metadata=_min(60))
    qr_scale: int = field(default=8, metadata={"min": 1, "max": 64})
    qr_dark: str = "#000000"
    qr_light: str = "#ffffff"


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminConfig:
    """``[admin]``: the admin API on a Unix socket."""

    socket: Path = Path("/run/switchgeard/admin.sock")
    socket_mode: FileMode = FileMode(0o660)
    socket_group: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreConfig:
    """``[store]``: where records live. Changing it needs a restart."""

    url: str
    page_default: int = field(default=100, metadata={"min": 1, "max": 10_000})
    page_max: int = field(default=100, metadata={"min": 1, "max": 10_000})
    pool_size: int = field(default=4, metadata={"min": 1, "max": 64})


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
    dir: Path | None = None
    client_ip: str = field(default="full", metadata={"choices": ("full", "truncate", "hash")})
    """How client addresses appear in access logs: as is, cut to /24 (IPv4) or /48 (IPv6),
    or as a keyed hash that is stable for the life of the process."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TelemetryConfig:
    """``[telemetry]``: metrics export."""

    prometheus_listen: str = "127.0.0.1:9464"
    otlp_endpoint: str = ""
    otlp_interval: Seconds = field(default=Seconds(60.0), metadata=_min(1))


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitRuleConfig:
    """One GCRA limit: ``rate`` as "5/s", "300/m" or "1000/h"; ``burst`` requests at once."""

    rate: str
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

    cidrs: tuple[str, ...]
    per_client: RateLimitRuleConfig | None = None


def _rule(rate: str, burst: int) -> RateLimitRuleConfig:
    return RateLimitRuleConfig(rate=rate, burst=burst)


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitConfig:
    """``[ratelimit]``: per endpoint class limits on the public LNURL listener.

    Client identity uses ``[lnurl] trusted_proxies``; ``/health*`` is never limited.
    """

    enabled: bool = True
    mode: str = field(default="enforce", metadata={"choices": ("enforce", "shadow")})
    backend: str = field(default="memory", metadata={"choices": ("memory", "redis")})
    redis_url: str = ""
    redis_timeout: Seconds = field(default=Seconds(0.25), metadata=_min(0.01))
    client_header: str = field(
        default="x-forwarded-for", metadata={"choices": ("x-forwarded-for", "forwarded")}
    )
    trust_unix_socket: bool = False
    ipv6_prefix: int = field(default=64, metadata={"min": 16, "max": 128})
    exempt: tuple[str, ...] = ()
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """The whole configuration, parsed once. ``path`` is the file it came from."""

    path: Path
    store: StoreConfig
    daemon: DaemonConfig = DaemonConfig()
    lnurl: LnurlConfig = LnurlConfig()
    admin: AdminConfig = AdminConfig()
    balancer: BalancerConfig = BalancerConfig()
    lightning: LightningConfig = LightningConfig()
    logging: LoggingConfig = LoggingConfig()
    telemetry: TelemetryConfig = TelemetryConfig()
    ratelimit: RateLimitConfig = RateLimitConfig()
