"""Per-service log files: routing, rotation without loss, stderr, and secret redaction."""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path

import pytest

from switchgeard.config.model import LoggingConfig
from switchgeard.errors import ConfigError
from switchgeard.telemetry.logs import open_service_logs
from switchgeard.telemetry.redact import Redactor

MACAROON = "0201036c6e6402f801030a10" + "a1b2c3d4e5f60718" * 14
PUBKEY = "02" + "ab" * 32
PAYMENT_HASH = "cd" * 32
PEM = (
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oK0IY+jJwBvNoAoGCCqGSM49\n"
    "-----END EC PRIVATE KEY-----"
)


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_each_file_receives_exactly_its_services_lines(tmp_path: Path) -> None:
    stderr = io.StringIO()
    with open_service_logs(LoggingConfig(dir=tmp_path), stderr=stderr):
        logging.getLogger("switchgeard.lnurl.access").info("wallet GET /offers/x")
        logging.getLogger("switchgeard.lnurl").warning("wallet asked for too much")
        logging.getLogger("switchgeard.admin.audit").info("admin created offer")
        logging.getLogger("switchgeard.balancer.health").info("backend b1 unhealthy")
        logging.getLogger("switchgeard.ldap").info("ldap synced")
        logging.getLogger("switchgeard.daemon").info("started")
        logging.getLogger("switchgeard.config.watch").info("config reloaded")
        logging.getLogger("switchgeard.balancer").debug("below the level: dropped")
    assert _lines(tmp_path / "lnurl.log")[0] == "wallet GET /offers/x"  # access lines as is
    assert _lines(tmp_path / "lnurl.log")[1].endswith(
        "switchgeard.lnurl: wallet asked for too much"
    )
    assert len(_lines(tmp_path / "lnurl.log")) == 2
    assert [line.split(": ", 1)[1] for line in _lines(tmp_path / "admin.log")] == [
        "admin created offer"
    ]
    assert [line.split(": ", 1)[1] for line in _lines(tmp_path / "balancer.log")] == [
        "backend b1 unhealthy"
    ]
    assert [line.split(": ", 1)[1] for line in _lines(tmp_path / "ldap.log")] == ["ldap synced"]
    system = [line.split(": ", 1)[1] for line in _lines(tmp_path / "system.log")]
    assert system == ["started", "config reloaded"]
    assert [line.split(": ", 1)[1] for line in stderr.getvalue().splitlines()] == system
    assert "wallet" not in stderr.getvalue()


def test_without_a_directory_wallet_activity_never_reaches_stderr() -> None:
    stderr = io.StringIO()
    with open_service_logs(LoggingConfig(), stderr=stderr) as logs:
        logging.getLogger("switchgeard.lnurl.access").warning("wallet 1.2.3.4")
        logging.getLogger("switchgeard.balancer").warning("backend down")
        logging.getLogger("switchgeard.daemon").warning("started")
    assert logs.files == {}
    out = stderr.getvalue()
    assert "wallet" not in out
    assert "backend down" in out and "started" in out


@pytest.mark.allow_error_logs
def test_a_services_errors_also_reach_the_system_log(tmp_path: Path) -> None:
    stderr = io.StringIO()
    with open_service_logs(LoggingConfig(dir=tmp_path), stderr=stderr) as logs:
        logging.getLogger("switchgeard.lnurl").error("store failed while serving")
        logging.getLogger("switchgeard.lnurl").warning("wallet asked for too much")
        logs.set_level("error")
        logging.getLogger("switchgeard.balancer").warning("below the new level")
    assert [line.split(": ", 1)[1] for line in _lines(tmp_path / "lnurl.log")] == [
        "store failed while serving",
        "wallet asked for too much",
    ]
    system = _lines(tmp_path / "system.log")
    assert [line.split(" ", 3)[3] for line in system] == [
        "switchgeard.lnurl: store failed while serving"
    ]
    assert "store failed" in stderr.getvalue() and "wallet" not in stderr.getvalue()
    assert _lines(tmp_path / "balancer.log") == []


def test_loggers_are_restored_on_exit(tmp_path: Path) -> None:
    lnurl = logging.getLogger("switchgeard.lnurl")
    before = (list(lnurl.handlers), lnurl.propagate, lnurl.level)
    with open_service_logs(LoggingConfig(dir=tmp_path)):
        assert not lnurl.propagate
    assert (list(lnurl.handlers), lnurl.propagate, lnurl.level) == before


def _wait_for_content(path: Path) -> None:
    deadline = time.monotonic() + 5.0
    while path.stat().st_size == 0:
        assert time.monotonic() < deadline, "the log writer thread wrote nothing"
        time.sleep(0.001)


def test_rotation_by_rename_continues_in_a_new_file_without_loss(tmp_path: Path) -> None:
    log = logging.getLogger("switchgeard.lnurl.access")
    with open_service_logs(LoggingConfig(dir=tmp_path)):
        for n in range(500):
            log.info("line %d", n)
            if n == 250:  # as logrotate does, once the writer thread has written something
                _wait_for_content(tmp_path / "lnurl.log")
                (tmp_path / "lnurl.log").rename(tmp_path / "lnurl.log.1")
    old, new = _lines(tmp_path / "lnurl.log.1"), _lines(tmp_path / "lnurl.log")
    assert old and new
    assert old + new == [f"line {n}" for n in range(500)]


def test_unwritable_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info, open_service_logs(LoggingConfig(dir=tmp_path / "no")):
        pass
    assert info.value.key == "logging.dir"


@pytest.mark.allow_error_logs
def test_secrets_never_reach_any_log(tmp_path: Path) -> None:
    stderr = io.StringIO()
    with open_service_logs(LoggingConfig(dir=tmp_path), stderr=stderr) as logs:
        logs.redactor.add_secret("s3cr3t-rune-value")
        logs.redactor.add_secret(bytes.fromhex(MACAROON[:64]))
        lnurl = logging.getLogger("switchgeard.lnurl")
        system = logging.getLogger("switchgeard.lightning")
        lnurl.info("GET /cb?amount=1000&token=abc123def&k1=ffee")
        system.info("macaroon %s loaded for %s", MACAROON, PUBKEY)
        system.info("headers {'authorization': 'Bearer eyJhbGciOi.payload.sig'}")
        system.info("password = hunter2, bind_pw: 'letmein'")
        system.info("key material:\n%s", PEM)
        system.info("rune s3cr3t-rune-value for invoice %s", PAYMENT_HASH)
        system.info("cln rune: %s", "tU-RLjMiDpY2U0o3W1oFowar36RFGpWloPbW9-RuZdo9MyZpZD0wMjQ")
        try:
            raise ValueError(f"bad macaroon {MACAROON}")
        except ValueError:
            system.exception("failed")
    text = "\n".join(p.read_text() for p in tmp_path.iterdir()) + stderr.getvalue()
    secrets = [MACAROON, MACAROON[:64], "abc123def", "hunter2", "letmein", "eyJhbGciOi"]
    secrets += ["MHcCAQEEIBkg4LVWM9nuwNSk3", "s3cr3t-rune-value", "tU-RLjMiDpY2U0o3W1oF"]
    for secret in secrets:
        assert secret not in text
    assert PUBKEY in text and PAYMENT_HASH in text  # public identifiers stay readable
    assert "amount=1000" in text
    assert "Traceback" in text and "ValueError" in text


@pytest.mark.parametrize(
    "text",
    [
        "lnbc10u1pjqqqqqpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdqqcqzzs",
        "LNURL1DP68GURN8GHJ7UM9WFMXJCM99E3K7MF0V9CXJ0M385EKVCENXC6R2C35XVUKXEFCV5MKVV34X5EKZD3EV56NYD3HXQURZEPEXEJXXEPNXSCRVWFNV9NXZCN9XQ6XYEFHVGCXXCMYXYMNSERXFQ5FNS",
        "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    ],
)
def test_public_values_are_kept(text: str) -> None:
    assert Redactor().redact(f"value {text} end") == f"value {text} end"
