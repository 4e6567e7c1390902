"""Limit rules parsed from configuration: "5/s" rates with a burst, as GCRA parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass

from switchgeard.config.model import RateLimitRuleConfig
from switchgeard.errors import ConfigError

_RATE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*/\s*(s|m|h)\s*")
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True, slots=True)
class Rule:
    """A GCRA limit: one request per ``interval`` seconds, ``burst`` requests at once."""

    interval: float
    burst: int

    @property
    def tau(self) -> float:
        """How far the theoretical arrival time may run ahead of now (the burst tolerance)."""
        return (self.burst - 1) * self.interval

    @property
    def tag(self) -> str:
        """A short text naming the parameters, so stored state of another rule never mixes."""
        return f"{round(self.interval * 1_000_000)}us-{self.burst}"


def parse_rate(text: str, *, key: str) -> float:
    """Parse "5/s", "300/m" or "1000/h" into requests per second; ConfigError names ``key``."""
    match = _RATE.fullmatch(text)
    if match is None:
        raise ConfigError(f'expected "<number>/s", "/m" or "/h", got {text!r}', key=key)
    per_second = float(match.group(1)) / _UNIT_SECONDS[match.group(2)]
    if per_second <= 0:
        raise ConfigError(f"rate must be above zero, got {text!r}", key=key)
    return per_second


def rule_from_config(cfg: RateLimitRuleConfig | None, *, key: str) -> Rule | None:
    """Build a Rule from its config table; None stays None (no limit)."""
    if cfg is None:
        return None
    if cfg.burst < 1:
        raise ConfigError(f"burst must be at least 1, got {cfg.burst}", key=f"{key}.burst")
    return Rule(interval=1.0 / parse_rate(cfg.rate, key=f"{key}.rate"), burst=cfg.burst)
