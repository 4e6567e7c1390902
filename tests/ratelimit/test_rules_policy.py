"""Rates, rules and policy compilation: every bad value is a ConfigError naming its key."""

from __future__ import annotations

import pytest
from ratelimit_helpers import config, rule

from switchgeard.config.model import (
    RateLimitClassConfig,
    RateLimitConfig,
    RateLimitOverrideConfig,
    RateLimitRuleConfig,
)
from switchgeard.errors import ConfigError
from switchgeard.ratelimit.policy import TableId, compile_policy
from switchgeard.ratelimit.rules import Rule, parse_rate, rule_from_config


@pytest.mark.parametrize(
    ("text", "per_second"),
    [("5/s", 5.0), ("300/m", 5.0), ("3600/h", 1.0), (" 0.5 / s ", 0.5), ("1/m", 1 / 60)],
)
def test_parse_rate(text: str, per_second: float) -> None:
    assert parse_rate(text, key="k") == pytest.approx(per_second)


@pytest.mark.parametrize("text", ["", "5", "5/d", "-1/s", "0/s", "five/s", "5/s/s"])
def test_parse_rate_rejects(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_rate(text, key="ratelimit.offer.total.rate")
    assert info.value.key == "ratelimit.offer.total.rate"


def test_rule_parameters() -> None:
    made = rule_from_config(RateLimitRuleConfig(rate="2/s", burst=4), key="k")
    assert made == Rule(interval=0.5, burst=4)
    assert made.tau == pytest.approx(1.5)
    assert rule_from_config(None, key="k") is None


def test_bad_burst_names_key() -> None:
    with pytest.raises(ConfigError) as info:
        rule_from_config(
            RateLimitRuleConfig(rate="2/s", burst=0), key="ratelimit.bech32.per_client"
        )
    assert info.value.key == "ratelimit.bech32.per_client.burst"


def test_policy_errors_name_their_keys() -> None:
    bad_rate = config(invoice=RateLimitClassConfig(per_client=rule("lots", 1)))
    with pytest.raises(ConfigError, match=r"ratelimit\.invoice\.per_client\.rate"):
        compile_policy(bad_rate)
    with pytest.raises(ConfigError, match=r"ratelimit.exempt\[1\]"):
        compile_policy(config(exempt=("10.0.0.0/8", "not-a-net")))
    override = RateLimitOverrideConfig(cidrs=("203.0.113.0/24", "nope"))
    with pytest.raises(ConfigError, match=r"ratelimit.overrides\[0\].cidrs\[1\]"):
        compile_policy(config(overrides=(override,)))


def test_default_policy_covers_every_class() -> None:
    policy = compile_policy(RateLimitConfig())
    assert set(policy.classes) == {"offer", "invoice", "bech32", "verify", "lnurlp", "default"}
    invoice = policy.classes["invoice"]
    assert invoice.per_client == Rule(interval=1.0, burst=5)
    assert TableId("invoice", "per_client", Rule(interval=1.0, burst=5)) in policy.table_ids()


def test_override_scope_is_named_after_its_networks() -> None:
    override = RateLimitOverrideConfig(cidrs=("203.0.113.0/24",), per_client=rule("50/s", 200))
    policy = compile_policy(config(overrides=(override,)))
    assert policy.overrides[0].scope == "override:203.0.113.0/24"
