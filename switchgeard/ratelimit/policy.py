"""The compiled rate-limit policy: config parsed once into rules, networks and table ids."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from switchgeard.config.model import RateLimitClassConfig, RateLimitConfig
from switchgeard.ratelimit.identity import Client, Network, contains, parse_networks
from switchgeard.ratelimit.rules import Rule, rule_from_config

CLASSES = ("offer", "invoice", "bech32", "verify", "lnurlp", "default")
"""The endpoint classes; every request falls in one of them (``default`` when unsure)."""


@dataclass(frozen=True, slots=True)
class TableId:
    """Names one GCRA table. A reload keeps a table's state only if its id is unchanged."""

    endpoint: str
    scope: str
    rule: Rule
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        # looked up on every request: hash once
        object.__setattr__(self, "_hash", hash((self.endpoint, self.scope, self.rule)))

    def __hash__(self) -> int:
        return self._hash


@dataclass(frozen=True, slots=True)
class ClassPolicy:
    total: Rule | None
    per_client: Rule | None


@dataclass(frozen=True, slots=True)
class Override:
    """Clients inside ``networks`` get ``per_client`` instead of the class's own limit."""

    scope: str
    networks: tuple[Network, ...]
    per_client: Rule | None


@dataclass(frozen=True, slots=True)
class Policy:
    """Everything the limiter needs to decide, validated; swapped whole on reload."""

    enabled: bool
    shadow: bool
    classes: Mapping[str, ClassPolicy]
    exempt: tuple[Network, ...]
    overrides: tuple[Override, ...]
    cap: int
    sweep_interval: float

    def exempted(self, client: Client) -> bool:
        """Whether ``client`` lies in an exempt range (its address is read only if any)."""
        if not self.exempt:
            return False
        address = client.address
        return address is not None and contains(self.exempt, address)

    def per_client(self, endpoint: str, client: Client) -> tuple[str, Rule | None]:
        """The scope name and rule of the per-client limit that applies to ``client``."""
        address = client.address if self.overrides else None
        if address is not None:
            for override in self.overrides:
                if contains(override.networks, address):
                    return override.scope, override.per_client
        return "per_client", self.classes[endpoint].per_client

    def table_ids(self) -> frozenset[TableId]:
        """Every table this policy can touch."""
        ids: set[TableId] = set()
        for endpoint, limits in self.classes.items():
            if limits.total is not None:
                ids.add(TableId(endpoint, "total", limits.total))
            if limits.per_client is not None:
                ids.add(TableId(endpoint, "per_client", limits.per_client))
            for override in self.overrides:
                if override.per_client is not None:
                    ids.add(TableId(endpoint, override.scope, override.per_client))
        return frozenset(ids)


def _class_policy(cfg: RateLimitClassConfig, *, key: str) -> ClassPolicy:
    return ClassPolicy(
        total=rule_from_config(cfg.total, key=f"{key}.total"),
        per_client=rule_from_config(cfg.per_client, key=f"{key}.per_client"),
    )


def compile_policy(cfg: RateLimitConfig) -> Policy:
    """Validate ``cfg`` into a Policy; raises ConfigError naming the ``ratelimit.*`` key."""
    classes = {name: _class_policy(getattr(cfg, name), key=f"ratelimit.{name}") for name in CLASSES}
    overrides = []
    for index, entry in enumerate(cfg.overrides):
        key = f"ratelimit.overrides[{index}]"
        networks = parse_networks(entry.cidrs, key=f"{key}.cidrs")
        rule = rule_from_config(entry.per_client, key=f"{key}.per_client")
        scope = "override:" + ",".join(str(net) for net in networks)
        overrides.append(Override(scope=scope, networks=networks, per_client=rule))
    return Policy(
        enabled=cfg.enabled,
        shadow=cfg.mode == "shadow",
        classes=classes,
        exempt=parse_networks(cfg.exempt, key="ratelimit.exempt"),
        overrides=tuple(overrides),
        cap=cfg.max_tracked_clients,
        sweep_interval=float(cfg.sweep_interval),
    )
