"""Value checks used by the config model: listen addresses, store URLs, rates and networks.

Each ``check_*`` function raises ``ValueError`` with a message meant for an operator; the
loader prefixes it with the key path and the file. ``parse_listen`` is also used by the
daemon to bind what the config names, and ``parse_allowed_host`` by the LNURL service to
match hosts, so config checks and use can never disagree.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_HOSTNAME = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_HOSTNAME_MAX = 253
_UNIX_PATH_MAX = 107  # sun_path is 108 bytes including the terminating NUL
_RATE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*/\s*(s|m|h)\s*")
_REDIS_SCHEMES = ("redis", "rediss", "unix")


class FieldProblem(ValueError):
    """Raised by a dataclass ``validate()`` method: ``field`` is the key within the section."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True, slots=True)
class TcpAddress:
    """A TCP listen address; ``host`` is an IP literal (without brackets) or a host name."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class UnixAddress:
    """A Unix stream socket listen address."""

    path: str

    def __str__(self) -> str:
        return f"unix:{self.path}"


def parse_listen(value: str) -> TcpAddress | UnixAddress:
    """Parse "host:port", "[v6addr]:port" or "unix:/abs/path"; raise ValueError if invalid."""
    if value.startswith("unix:"):
        path = value[len("unix:") :]
        if not path.startswith("/"):
            raise ValueError(
                f"{value!r}: a unix socket needs an absolute path, "
                "e.g. unix:/run/switchgeard/http.sock"
            )
        if len(path.encode()) > _UNIX_PATH_MAX:
            raise ValueError(f"{value!r}: unix socket paths are limited to {_UNIX_PATH_MAX} bytes")
        return UnixAddress(path)
    return parse_host_port(value)


def parse_host_port(value: str) -> TcpAddress:
    """Parse "host:port" or "[v6addr]:port" (port 0-65535); raise ValueError if invalid."""
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        if not bracket or not rest.startswith(":"):
            raise ValueError(f"{value!r}: expected [v6addr]:port, e.g. [::1]:8080")
        port_text = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{value!r}: {host!r} is not an IPv6 address") from None
    else:
        host, colon, port_text = value.rpartition(":")
        if not colon or not host:
            raise ValueError(f"{value!r}: expected host:port, e.g. 127.0.0.1:8080")
        if ":" in host:
            raise ValueError(f"{value!r}: write IPv6 addresses in brackets, e.g. [::1]:8080")
        if not _HOSTNAME.fullmatch(host):
            raise ValueError(f"{value!r}: {host!r} is not an IPv4 address or host name")
    if not port_text.isdigit() or int(port_text) > 65535:
        raise ValueError(f"{value!r}: the port must be a number from 0 to 65535")
    return TcpAddress(host, int(port_text))


def check_listen(value: str) -> None:
    """Validate one listen entry (see ``parse_listen``)."""
    parse_listen(value)


def check_optional_host_port(value: str) -> None:
    """Validate "host:port", or accept "" meaning "disabled"."""
    if value:
        parse_host_port(value)


def check_store_url(url: str) -> None:
    """Validate "sqlite:///abs/path.db" or "postgresql://..." without an inline password.

    Messages never repeat a PostgreSQL URL, which may hold credentials.
    """
    if url.startswith("sqlite:"):
        _check_sqlite_url(url)
    elif url.startswith(("postgresql://", "postgres://")):
        _check_postgres_url(url)
    else:
        raise ValueError("expected sqlite:///absolute/path.db or postgresql://user@host/dbname")


def _check_sqlite_url(url: str) -> None:
    if not url.startswith("sqlite:///"):
        raise ValueError(f"{url!r}: expected sqlite:///absolute/path.db (three slashes)")
    path = url[len("sqlite://") :]
    if any(c in path for c in "?#"):
        raise ValueError(f"{url!r}: query strings are not supported for SQLite")
    if path.endswith("/") or path.startswith("//"):
        raise ValueError(f"{url!r}: expected sqlite:///absolute/path.db")


def _check_postgres_url(url: str) -> None:
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ValueError("the PostgreSQL URL has an invalid port") from None
    if parts.password is not None:
        raise ValueError(
            "do not put the password in the URL; use a passfile "
            "(postgresql://user@host/db?passfile=/etc/switchgeard/pgpass) or peer authentication"
        )
    if any(c.isspace() for c in url):
        raise ValueError("the PostgreSQL URL contains whitespace")


def check_rate(value: str) -> None:
    """Validate a request rate: "<count>/s", "<count>/m" or "<count>/h", above zero."""
    match = _RATE.fullmatch(value)
    if match is None:
        raise ValueError(f'{value!r}: expected "<count>/s", "<count>/m" or "<count>/h", e.g. "5/s"')
    if float(match[1]) <= 0:
        raise ValueError(f"{value!r}: the rate must be above zero")


def check_network(value: str) -> None:
    """Validate an IP address or CIDR network ("203.0.113.0/24", "2001:db8::/32")."""
    try:
        ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address or CIDR network") from None


def check_proxy(value: str) -> None:
    """Validate a trusted proxy: an IP address, a CIDR network, or "unix"."""
    if value != "unix":
        check_network(value)


def check_allowed_host(value: str) -> None:
    """Validate an ``[lnurl] allowed_hosts`` entry (see ``parse_allowed_host``)."""
    parse_allowed_host(value)


def parse_allowed_host(value: str) -> tuple[str, bool]:
    """An ``allowed_hosts`` entry as (lower-case name, is a wildcard); ValueError if invalid.

    Entries are host names, IP addresses (IPv6 with or without brackets) or ``*.`` followed
    by a name of at least two labels. A wildcard stands for exactly one label, as in TLS
    certificates (RFC 6125 6.4.3): ``*.example.com`` matches ``pay.example.com``, not
    ``example.com`` and not ``a.pay.example.com``. For a wildcard the name after ``*.``
    is returned.
    """
    if not value:
        raise ValueError("an empty entry matches no host; an empty allowed_hosts answers any host")
    if value != value.strip():
        raise ValueError(f"{value!r}: expected a host name such as pay.example.com, no spaces")
    if value == "*":
        raise ValueError("'*' alone is not allowed; an empty allowed_hosts answers any host")
    address = _ip_literal(value)
    if address is not None:
        return address, False
    _refuse_url_and_port(value)
    name = value.lower()
    wildcard = name.startswith("*.")
    rest = name[2:] if wildcard else name
    _check_host_name(value, rest)
    if wildcard and "." not in rest:
        raise ValueError(
            f"{value!r}: a wildcard needs a name of two labels or more after '*.' "
            f"(this one would match every name under {rest!r})"
        )
    return rest, wildcard


def _ip_literal(value: str) -> str | None:
    bracketed = value.startswith("[") and value.endswith("]")
    text = value[1:-1] if bracketed else value
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if bracketed and address.version == 4:
        raise ValueError(f"{value!r}: only IPv6 addresses are written in brackets")
    if "%" in text:
        raise ValueError(f"{value!r}: a Host header never carries a zone index (%...)")
    return text.lower()


def _refuse_url_and_port(value: str) -> None:
    if "/" in value:
        raise ValueError(f"{value!r}: expected a host name, not a URL (e.g. pay.example.com)")
    if ":" in value:
        raise ValueError(f"{value!r}: no port here; allowed_hosts compares host names only")


def _check_host_name(value: str, name: str) -> None:
    if "*" in name:
        raise ValueError(
            f"{value!r}: '*' may only stand for the whole first label, as in '*.example.com'"
        )
    labels = name.split(".")
    if "" in labels:
        raise ValueError(f"{value!r}: empty label (two dots, or a dot at the start or end)")
    for label in labels:
        if not _LABEL.fullmatch(label):
            raise ValueError(
                f"{value!r}: {label!r} is not a host name label (letters, digits and hyphens, "
                "1-63 characters, no hyphen at either end; internationalised names in xn-- form)"
            )
    if len(name) > _HOSTNAME_MAX:
        raise ValueError(f"{value!r}: a host name has at most {_HOSTNAME_MAX} characters")
    if labels[-1].isdigit():
        raise ValueError(f"{value!r}: neither an IP address nor a host name (numeric last label)")


def check_redis_url(value: str) -> None:
    """Validate "redis://", "rediss://" or "unix://" URLs, or accept "" (not set)."""
    if value and urlsplit(value).scheme not in _REDIS_SCHEMES:
        raise ValueError(f"{value!r}: expected redis://host:port/db, rediss://... or unix://path")


def check_optional_http_url(value: str) -> None:
    """Validate an "http://" or "https://" URL with a host, or accept "" (not set)."""
    if value and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc):
        raise ValueError(
            f"{value!r}: expected an http(s) URL, e.g. http://127.0.0.1:4318/v1/metrics"
        )
