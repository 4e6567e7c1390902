"""The operations wiring in pieces: which secrets are registered, reloads reaching the
limiter and the logs, LDAP failure counting, identifier counts."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from switchgeard.config import load_config
from switchgeard.config.model import (
    Config,
    RateLimitClassConfig,
    RateLimitConfig,
    RateLimitRuleConfig,
)
from switchgeard.daemon.meters import LdapPublisher, count_local_addresses
from switchgeard.daemon.ops import apply_reload, open_ops
from switchgeard.daemon.secrets import backend_secret_paths, config_secret_paths, secret_forms
from switchgeard.store.records import ClnGrpc, LndGrpc
from switchgeard.telemetry.redact import RedactingFilter, Redactor

PEM = (
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oK0IY+jJwBvNoAoGCCqGSM49\n"
    "-----END EC PRIVATE KEY-----\n"
)


def _config(tmp_path: Path, extra: str = "") -> Config:
    path = tmp_path / "switchgeard.toml"
    path.write_text(
        f'[store]\nurl = "sqlite://{tmp_path}/x.db"\n'
        f'[admin]\nsocket = "{tmp_path}/admin.sock"\n'
        '[telemetry]\nprometheus_listen = ""\n' + extra
    )
    return load_config(path)


def test_secret_forms() -> None:
    assert secret_forms(b"\x02\x01\xff") == ["0201ff", "0201FF"]
    forms = secret_forms(PEM.encode())
    assert "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oK0IY+jJwBvNoAoGCCqGSM49" in forms
    assert secret_forms(b"hunter2-password\n") == ["hunter2-password"]
    assert secret_forms(b"ABCDEF0123") == ["ABCDEF0123", "abcdef0123", "ABCDEF0123"]


def test_secret_paths_skip_certificates(tmp_path: Path) -> None:
    for name in ("cert.pem", "key.pem"):
        (tmp_path / name).write_text(PEM)
    config = _config(
        tmp_path,
        f'[lnurl]\ntls_cert_file = "{tmp_path}/cert.pem"\ntls_key_file = "{tmp_path}/key.pem"\n',
    )
    assert config_secret_paths(config) == [tmp_path / "key.pem"]
    lnd = LndGrpc(url="https://n:10009", macaroon_path="/m/admin.macaroon")
    cln = ClnGrpc(url="https://n:9736", client_cert_path="/c.pem", client_key_path="/k.pem")
    assert backend_secret_paths(_backend(lnd)) == [Path("/m/admin.macaroon")]
    assert backend_secret_paths(_backend(cln)) == [Path("/k.pem")]


def _backend(implementation: Any) -> Any:
    class Record:
        pass

    record = Record()
    record.implementation = implementation  # type: ignore[attr-defined]
    return record


def test_the_stderr_filter_redacts_tracebacks() -> None:
    redactor = Redactor()
    redactor.add_secret("letmein-secret")
    try:
        raise ValueError("bad password letmein-secret")
    except ValueError as exc:
        record = logging.LogRecord("x", logging.ERROR, "f", 1, "m %s", ("letmein-secret",),
                                   (type(exc), exc, exc.__traceback__))  # fmt: skip
    RedactingFilter(redactor).filter(record)
    text = logging.Formatter().format(record)
    assert "letmein-secret" not in text and "ValueError" in text


async def test_reloads_reach_the_limiter_and_keep_it_on_bad_limits(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = _config(tmp_path)
    async with open_ops(config) as ops:
        before = ops.limiter.policy
        rule = RateLimitRuleConfig(rate="7/s", burst=3)
        faster = dataclasses.replace(
            config, ratelimit=RateLimitConfig(invoice=RateLimitClassConfig(per_client=rule))
        )
        apply_reload(ops, config, faster)
        invoice = ops.limiter.policy.classes["invoice"].per_client
        assert invoice is not None and invoice.burst == 3 and ops.limiter.policy is not before
        bogus = RateLimitRuleConfig(rate="fast", burst=3)
        broken = dataclasses.replace(
            faster, ratelimit=RateLimitConfig(invoice=RateLimitClassConfig(per_client=bogus))
        )
        kept = ops.limiter.policy
        apply_reload(ops, faster, broken)
        assert ops.limiter.policy is kept
        assert "rate limits unchanged" in caplog.text and "ratelimit.invoice" in caplog.text
        hashed = dataclasses.replace(
            broken, logging=dataclasses.replace(broken.logging, client_ip="hash", level="error")
        )
        apply_reload(ops, broken, hashed)
        assert ops.client_ip.mode == "hash"
        assert logging.getLogger("switchgeard.balancer").level == logging.ERROR


class _Syncer:
    def __init__(self) -> None:
        self.failures = 0
        self.at: datetime | None = None

    def statistics(self) -> Any:
        synced = datetime(2026, 1, 1, tzinfo=UTC)
        return dataclasses.make_dataclass("S", ["failures", "last_error_at", "last_synced_at"])(
            self.failures, self.at, synced
        )


class _Metrics:
    def __init__(self) -> None:
        self.samples: list[Any] = []

    def publish_ldap(self, sample: Any) -> None:
        self.samples.append(sample)


def test_ldap_errors_count_every_failed_attempt() -> None:
    syncer, metrics = _Syncer(), _Metrics()
    publish = LdapPublisher(syncer, metrics)  # type: ignore[arg-type]
    publish()
    syncer.failures, syncer.at = 2, datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    publish()
    syncer.failures, syncer.at = 1, datetime(2026, 1, 1, 0, 5, tzinfo=UTC)  # ok, then failed
    publish()
    publish()
    assert [s.errors for s in metrics.samples] == [0, 2, 3, 3]
    assert metrics.samples[-1].last_success == datetime(2026, 1, 1, tzinfo=UTC).timestamp()


class _Addresses:
    def __init__(self, total: int) -> None:
        self.total = total

    async def list_addresses(self, page: Any, *, domain: Any = None, source: Any = None) -> Any:
        assert source == "local"
        return list(range(page.start, min(page.start + 100, self.total)))


async def test_local_addresses_are_counted_page_by_page() -> None:
    assert await count_local_addresses(_Addresses(250)) == 250
    assert await count_local_addresses(_Addresses(0)) == 0
