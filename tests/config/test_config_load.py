"""The TOML loader: the example file, every kind of error with its key path, value forms."""

from __future__ import annotations

import re
import typing
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import pytest

from switchgeard.config import (
    Config,
    StoreConfig,
    check_secret_files,
    load_config,
    parse_config,
    parse_config_bytes,
    read_secret_file,
)
from switchgeard.config.checks import TcpAddress, UnixAddress, parse_listen
from switchgeard.config.diff import changed_keys
from switchgeard.errors import ConfigError

FILE = Path("/etc/switchgeard/switchgeard.toml")
STORE = '[store]\nurl = "sqlite:///var/lib/switchgeard/switchgeard.db"\n'


def parse(text: str, *, with_store: bool = True) -> Config:
    return parse_config((STORE if with_store else "") + text, path=FILE)


def model_keys(cls: Any, seen: set[Any] | None = None) -> set[tuple[str, str]]:
    """Every (dataclass, field) pair of the model reachable from ``cls``."""
    seen = set() if seen is None else seen
    seen.add(cls)
    keys = set()
    hints = typing.get_type_hints(cls)
    for fld in fields(cls):
        if cls is Config and fld.name == "path":
            continue
        inner = _dataclass_in(hints[fld.name])
        if inner is None:
            keys.add((cls.__name__, fld.name))
        elif inner not in seen:
            keys |= model_keys(inner, seen)
    return keys


def resolve(key_path: str) -> tuple[str, str] | None:
    """The (dataclass, field) a dotted key path names, or None if the model has no such key."""
    cls: Any = Config
    *tables, name = key_path.split(".")
    for table in tables:
        hints = typing.get_type_hints(cls)
        cls = _dataclass_in(hints.get(table))
        if cls is None:
            return None
    return (cls.__name__, name) if name in typing.get_type_hints(cls) else None


def _dataclass_in(tp: Any) -> Any:
    if isinstance(tp, type) and is_dataclass(tp):
        return tp
    for arg in typing.get_args(tp):
        found = _dataclass_in(arg)
        if found is not None:
            return found
    return None


def example_keys(text: str) -> set[str]:
    """Key paths set or shown commented out ("# key = ...") under their [table] headers."""
    keys: set[str] = set()
    table = ""
    for line in text.splitlines():
        header = re.fullmatch(r"#?\s*\[\[?([a-z0-9_.]+)\]\]?\s*(#.*)?", line.strip())
        if header:
            table = header[1]
            continue
        assignment = re.match(r"#?\s*([a-z0-9_]+)\s*=", line.strip())
        if assignment:
            keys.add(f"{table}.{assignment[1]}" if table else assignment[1])
    return keys


def test_example_config_loads_and_documents_every_key(repo_root: Path) -> None:
    example = repo_root / "config" / "switchgeard.example.toml"
    config = load_config(example)
    assert config.path == example
    shown = example_keys(example.read_text())
    unknown = sorted(k for k in shown if resolve(k) is None)
    assert unknown == [], f"{example.name} shows keys the model does not have: {unknown}"
    missing = sorted(model_keys(Config) - {resolve(k) for k in shown})
    assert missing == [], f"keys not documented in {example.name}: {missing}"


def test_example_values_are_the_model_defaults(repo_root: Path) -> None:
    """The example says "every key, with its default": a value set there is the default."""
    config = load_config(repo_root / "config" / "switchgeard.example.toml")
    defaults = Config(path=config.path, store=StoreConfig(url=config.store.url))
    assert changed_keys(defaults, config) == []


def test_defaults_need_only_the_store_url() -> None:
    config = parse("")
    assert config.store.url == "sqlite:///var/lib/switchgeard/switchgeard.db"
    assert config.balancer.health.interval == 5.0
    assert config.admin.socket_mode == 0o660


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ("[daemon]\nsurprise = 1\n", "daemon.surprise", "unknown key"),
        ("[balancer.health]\nintervall = '1s'\n", "balancer.health.intervall", "did you mean"),
        ("[nosuchsection]\nx = 1\n", "nosuchsection", "unknown key"),
        ("[balancer.health]\ninterval = 'soon'\n", "balancer.health.interval", "duration"),
        ("[balancer.health]\ninterval = '5 minutes'\n", "balancer.health.interval", "duration"),
        ("[balancer.health]\ninterval = true\n", "balancer.health.interval", "duration"),
        ("[balancer.health]\ninterval = '10ms'\n", "balancer.health.interval", "at least 0.1"),
        ("[balancer.health]\nhealthy_after = true\n", "balancer.health.healthy_after", "integer"),
        ("[balancer.health]\nhealthy_after = 1.5\n", "balancer.health.healthy_after", "integer"),
        ("[balancer.health]\nhealthy_after = 0\n", "balancer.health.healthy_after", "at least 1"),
        ("[balancer]\nstrategy = 'fastest'\n", "balancer.strategy", "must be one of"),
        ("[balancer]\nmultiplier = 2\n", "balancer.multiplier", "unknown key"),
        ("[balancer.retry]\nmultiplier = 'x'\n", "balancer.retry.multiplier", "number"),
        ("[balancer.retry]\ninitial = '2s'\n", "balancer.retry.initial", "max_interval"),
        ("[balancer]\nhealth = 5\n", "balancer.health", "expected a table"),
        ("[lnurl]\nlisten = '127.0.0.1:80'\n", "lnurl.listen", "expected an array"),
        ("[lnurl]\nlisten = ['127.0.0.1:80', 8080]\n", "lnurl.listen[1]", "string"),
        ("[lnurl]\nlisten = ['::1:80']\n", "lnurl.listen[0]", "brackets"),
        ("[lnurl]\nlisten = ['127.0.0.1:99999']\n", "lnurl.listen[0]", "0 to 65535"),
        ("[lnurl]\nlisten = ['unix:run/x.sock']\n", "lnurl.listen[0]", "absolute"),
        ("[lnurl]\nlisten = []\n", "lnurl.listen", "at least one"),
        ("[lnurl]\ntls_cert_file = 'cert.pem'\n", "lnurl.tls_key_file", "together"),
        ("[lnurl]\nqr_scale = 65\n", "lnurl.qr_scale", "at most 64"),
        ("[admin]\nsocket_mode = 660\n", "admin.socket_mode", "octal"),
        ("[admin]\nsocket_mode = '0999'\n", "admin.socket_mode", "octal"),
        ("[admin]\nsocket = ''\n", "admin.socket", "path"),
        ("[logging]\nlevel = 'verbose'\n", "logging.level", "must be one of"),
        (
            "[telemetry]\nprometheus_listen = 'nowhere'\n",
            "telemetry.prometheus_listen",
            "host:port",
        ),
        ("[daemon]\nshutdown_grace = nan\n", "daemon.shutdown_grace", "finite"),
        # values the daemon would refuse at start must fail check-config and reloads too
        ("[ratelimit.offer.per_client]\nrate = 'fast'\n", "ratelimit.offer.per_client.rate", "5/s"),
        ("[ratelimit.invoice.total]\nrate = '0/s'\n", "ratelimit.invoice.total.rate", "above zero"),
        ("[ratelimit]\nexempt = ['10.0.0.0/33']\n", "ratelimit.exempt[0]", "CIDR"),
        (
            "[[ratelimit.overrides]]\ncidrs = ['wallet']\n",
            "ratelimit.overrides[0].cidrs[0]",
            "CIDR",
        ),
        ("[ratelimit]\nbackend = 'redis'\n", "ratelimit.redis_url", "required"),
        ("[telemetry]\notlp_endpoint = 'collector:4318'\n", "telemetry.otlp_endpoint", "http(s)"),
        ("[ratelimit]\nredis_url = 'http://r'\n", "ratelimit.redis_url", "redis://"),
        ("[lnurl]\ntrusted_proxies = ['unix', 'nginx']\n", "lnurl.trusted_proxies[1]", "CIDR"),
        ("[lnurl]\nallowed_hosts = ['a.example', '*']\n", "lnurl.allowed_hosts[1]", "alone"),
        ("[lnurl]\nallowed_hosts = ['a.*.example']\n", "lnurl.allowed_hosts[0]", "first label"),
        ("[lnurl]\nallowed_hosts = ['*a.example']\n", "lnurl.allowed_hosts[0]", "first label"),
        ("[lnurl]\nallowed_hosts = ['*.*.example']\n", "lnurl.allowed_hosts[0]", "first label"),
        ("[lnurl]\nallowed_hosts = ['*.com']\n", "lnurl.allowed_hosts[0]", "two labels"),
        ("[lnurl]\nallowed_hosts = ['']\n", "lnurl.allowed_hosts[0]", "empty entry"),
        ("[lnurl]\nallowed_hosts = ['a..example']\n", "lnurl.allowed_hosts[0]", "empty label"),
        ("[lnurl]\nallowed_hosts = ['.example.com']\n", "lnurl.allowed_hosts[0]", "empty label"),
        ("[lnurl]\nallowed_hosts = ['a.example:443']\n", "lnurl.allowed_hosts[0]", "no port"),
        ("[lnurl]\nallowed_hosts = ['[::1]:8080']\n", "lnurl.allowed_hosts[0]", "no port"),
        ("[lnurl]\nallowed_hosts = ['https://a.example']\n", "lnurl.allowed_hosts[0]", "URL"),
        ("[lnurl]\nallowed_hosts = [' a.example']\n", "lnurl.allowed_hosts[0]", "no spaces"),
        ("[lnurl]\nallowed_hosts = ['a_b.example']\n", "lnurl.allowed_hosts[0]", "'a_b'"),
        ("[lnurl]\nallowed_hosts = ['bücher.example']\n", "lnurl.allowed_hosts[0]", "xn--"),
        ("[lnurl]\nallowed_hosts = ['-a.example']\n", "lnurl.allowed_hosts[0]", "hyphen"),
        ("[lnurl]\nallowed_hosts = ['1.2.3']\n", "lnurl.allowed_hosts[0]", "numeric"),
        ("[lnurl]\nallowed_hosts = ['[1.2.3.4]']\n", "lnurl.allowed_hosts[0]", "brackets"),
        (f"[lnurl]\nallowed_hosts = ['x.{'a' * 64}']\n", "lnurl.allowed_hosts[0]", "1-63"),
        (f"[lnurl]\nallowed_hosts = ['{'a.' * 127}ab']\n", "lnurl.allowed_hosts[0]", "253"),
    ],
)
def test_invalid_values_name_their_key_path(text: str, key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert info.value.key == key
    assert info.value.file == str(FILE)
    assert str(info.value).startswith(f"{FILE}: {key}: ")
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("sqlite://relative.db", "three slashes"),
        ("sqlite:///dir/", "absolute"),
        ("sqlite:///a.db?mode=ro", "query"),
        ("mysql://localhost/db", "expected sqlite"),
        ("postgresql://user:hunter2@db.example/switchgeard", "passfile"),
        ("postgresql://db.example:port/x", "invalid port"),
    ],
)
def test_bad_store_urls_are_rejected_without_echoing_secrets(url: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(f'[store]\nurl = "{url}"\n', with_store=False)
    assert info.value.key == "store.url"
    assert fragment in str(info.value)
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///var/lib/switchgeard/switchgeard.db",
        "postgresql://switchgeard@db.example:5432/switchgeard?sslmode=verify-full",
        "postgres:///switchgeard",
    ],
)
def test_good_store_urls(url: str) -> None:
    assert parse(f'[store]\nurl = "{url}"\n', with_store=False).store.url == url


def test_allowed_hosts_forms() -> None:
    entries = ["pay.example.com", "*.Example.org", "localhost", "127.0.0.1", "::1", "[::1]"]
    config = parse(f"[lnurl]\nallowed_hosts = {entries!r}\n")
    assert config.lnurl.allowed_hosts == tuple(entries)


def test_missing_required_key_names_it() -> None:
    with pytest.raises(ConfigError) as info:
        parse("[lnurl]\n", with_store=False)
    assert info.value.key == "store.url"
    assert "required" in str(info.value)


def test_invalid_toml_names_the_file_and_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse("[store\n", with_store=False)
    assert str(FILE) in str(info.value)
    assert "line 1" in str(info.value)


def test_not_utf8() -> None:
    with pytest.raises(ConfigError, match="UTF-8"):
        parse_config_bytes(b"[store]\nurl = '\xff'\n", path=FILE)


def test_unreadable_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the config file") as info:
        load_config(tmp_path / "absent.toml")
    assert info.value.file == str(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'500ms'", 0.5),
        ("'30s'", 30.0),
        ("'5m'", 300.0),
        ("'1h'", 3600.0),
        ("2.5", 2.5),
        ("7", 7.0),
    ],
)
def test_duration_forms(text: str, expected: float) -> None:
    assert parse(f"[daemon]\nshutdown_grace = {text}\n").daemon.shutdown_grace == expected


def test_file_mode_and_relative_paths() -> None:
    config = parse("[admin]\nsocket_mode = '0600'\nsocket = 'run/admin.sock'\n")
    assert config.admin.socket_mode == 0o600
    assert config.admin.socket == Path("/etc/switchgeard/run/admin.sock")


def test_listen_forms() -> None:
    listen = "['127.0.0.1:0', '[::1]:8443', 'localhost:80', 'unix:/run/switchgeard/http.sock']"
    config = parse(f"[lnurl]\nlisten = {listen}\n")
    assert [parse_listen(x) for x in config.lnurl.listen] == [
        TcpAddress("127.0.0.1", 0),
        TcpAddress("::1", 8443),
        TcpAddress("localhost", 80),
        UnixAddress("/run/switchgeard/http.sock"),
    ]
    assert str(TcpAddress("::1", 8443)) == "[::1]:8443"


def test_array_of_tables() -> None:
    config = parse("[[ratelimit.overrides]]\ncidrs = ['10.0.0.0/8']\n")
    assert config.ratelimit.overrides[0].cidrs == ("10.0.0.0/8",)
    with pytest.raises(ConfigError) as info:
        parse("[[ratelimit.overrides]]\ncidrs = ['10.0.0.0/8']\nbogus = 1\n")
    assert info.value.key == "ratelimit.overrides[0].bogus"


# -- *_file keys ---------------------------------------------------------------------------


def test_read_secret_file(tmp_path: Path) -> None:
    secret = tmp_path / "macaroon"
    secret.write_bytes(b"\x02\x01")
    assert read_secret_file(secret, "lightning.trusted_roots_file") == b"\x02\x01"


@pytest.mark.parametrize("case", ["missing", "directory", "empty"])
def test_bad_secret_files_name_key_and_path(tmp_path: Path, case: str) -> None:
    path = tmp_path / "secret"
    if case == "directory":
        path.mkdir()
    elif case == "empty":
        path.write_bytes(b"")
    with pytest.raises(ConfigError) as info:
        read_secret_file(path, "lnurl.tls_key_file")
    assert info.value.key == "lnurl.tls_key_file"
    assert str(path) in str(info.value)


def test_check_secret_files_walks_every_section(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("certificate")
    config_path = tmp_path / "switchgeard.toml"
    text = STORE + "[lnurl]\ntls_cert_file = 'cert.pem'\ntls_key_file = 'key.pem'\n"
    config = parse_config(text, path=config_path)
    with pytest.raises(ConfigError) as info:
        check_secret_files(config)
    assert info.value.key == "lnurl.tls_key_file"
    assert info.value.file == str(config_path)
    assert str(tmp_path / "key.pem") in str(info.value)
    (tmp_path / "key.pem").write_text("key")
    check_secret_files(config)
