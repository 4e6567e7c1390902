"""A small synchronous HTTP/1.1 client for the admin API over a Unix socket (stdlib only)."""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from switchgeard.admin import protocol
from switchgeard.ctl.failures import CtlError


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer: status, headers (lower-case names) and the raw body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    value: Any = None
    """The body parsed as JSON (None when empty); ``AdminClient`` checks it parses."""

    def json(self) -> Any:
        return self.value


class AdminClient:
    """Talks to the admin socket at ``path``; every method raises ``CtlError`` on failure."""

    def __init__(self, path: str, *, timeout: float = 15.0) -> None:
        self.path = path
        self.timeout = timeout

    def request(
        self,
        method: str,
        target: str,
        *,
        body: object = None,
        query: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """Send one request and return the answer, whatever its status."""
        if query:
            target += "?" + urlencode({k: _query_value(v) for k, v in query.items()})
        sent = dict(headers or {})
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = protocol.JSON_TYPE
        conn = _UnixConnection(self.path, self.timeout)
        try:
            conn.request(method, target, body=payload, headers=sent)
            response = conn.getresponse()
            data = response.read()
        except OSError as exc:
            raise CtlError(self._describe(exc)) from exc
        except http.client.HTTPException as exc:
            shown = str(exc)[:80]
            raise CtlError(f"admin socket {self.path}: bad answer ({shown!r})") from exc
        finally:
            conn.close()
        names = {k.lower(): v for k, v in response.getheaders()}
        return Reply(response.status, names, data, self._parse(response.status, data))

    def _parse(self, status: int, data: bytes) -> Any:
        """The JSON of an answer; CtlError if it is not JSON (not a switchgeard socket?)."""
        if not data:
            return None
        try:
            return json.loads(data.decode("utf-8"))
        except ValueError as exc:  # UnicodeDecodeError is one too
            raise CtlError(
                f"admin socket {self.path}: HTTP {status} answer is not JSON "
                "(is this switchgeard's admin socket?)"
            ) from exc

    def call(
        self,
        method: str,
        target: str,
        what: str,
        *,
        body: object = None,
        query: dict[str, object] | None = None,
    ) -> Reply:
        """Like ``request``, but a 4xx/5xx answer raises ``CtlError`` starting with ``what``."""
        reply = self.request(method, target, body=body, query=query)
        if reply.status >= 400:
            raise CtlError(f"{what}: {describe_error(reply)}")
        return reply

    def _describe(self, exc: OSError) -> str:
        if isinstance(exc, FileNotFoundError):
            why = "no such socket (is switchgeard running? try --socket)"
        elif isinstance(exc, PermissionError):
            why = "permission denied (are you in the socket's group?)"
        elif isinstance(exc, ConnectionRefusedError):
            why = "connection refused (is switchgeard running?)"
        elif isinstance(exc, TimeoutError):
            why = f"no answer within {self.timeout:g} s"
        else:
            why = exc.strerror or str(exc)
        return f"cannot use admin socket {self.path}: {why}"


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def describe_error(reply: Reply) -> str:
    """One line for an error answer: ``not found: backend 02ab… does not exist``."""
    info = protocol.read_error_body(reply.status, reply.json())
    text = info.message.replace("\n", " ")
    if info.field and info.field not in text:
        text = f"{info.field}: {text}"
    return f"{info.code.replace('_', ' ')}: {text}"
