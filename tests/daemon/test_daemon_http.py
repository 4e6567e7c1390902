"""serve_asgi: real listeners on port 0 and under tmp_path, graceful stop, socket hygiene."""

from __future__ import annotations

import contextlib
import grp
import os
import socket
import ssl
import stat
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trustme
from quart_trio import QuartTrio

from switchgeard.daemon.http import serve_asgi
from switchgeard.errors import ListenError

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class SlowApp:
    """A raw ASGI app: /slow answers after ``delay`` seconds, everything else at once."""

    def __init__(self, delay: float = 0.5) -> None:
        self.delay = delay
        self.slow_started = trio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["path"] == "/slow":
            self.slow_started.set()
            await trio.sleep(self.delay)
        body = scope["path"].encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            kind = message["type"].removeprefix("lifespan.")
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return


def serve(app: Any, stop: trio.Event, **kwargs: Any) -> Any:
    kwargs.setdefault("graceful_timeout", 5.0)
    return partial(serve_asgi, app, shutdown_trigger=stop.wait, **kwargs)


def unix_client(path: Path) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=str(path)), timeout=5)


def sock_path(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    assert len(str(path)) < 100, "AF_UNIX paths are limited to 107 bytes"
    return path


async def test_tcp_port_0_and_unix_socket(tmp_path: Path) -> None:
    path = sock_path(tmp_path, "http.sock")
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(
            serve(SlowApp(), stop, binds=["127.0.0.1:0", f"unix:{path}"], socket_mode=0o600)
        )
        assert urls[0].startswith("http://127.0.0.1:") and not urls[0].endswith(":0")
        assert urls[1] == f"unix:{path}"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        async with httpx.AsyncClient(timeout=5) as client:
            assert (await client.get(f"{urls[0]}/a")).text == "/a"
        async with unix_client(path) as client:
            assert (await client.get("http://local/b")).text == "/b"
        stop.set()
    assert not path.exists()


async def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this host")
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        try:
            urls = await nursery.start(serve(SlowApp(), stop, binds=["[::1]:0"]))
        except ListenError as exc:
            pytest.skip(f"::1 cannot be bound here: {exc}")
        assert urls[0].startswith("http://[::1]:")
        async with httpx.AsyncClient(timeout=5) as client:
            assert (await client.get(f"{urls[0]}/v6")).status_code == 200
        stop.set()


async def test_request_in_flight_finishes_and_new_connections_are_refused() -> None:
    app = SlowApp(delay=0.5)
    stop = trio.Event()
    results: list[int] = []
    async with trio.open_nursery() as nursery:
        (url,) = await nursery.start(serve(app, stop, binds=["127.0.0.1:0"]))

        async def slow_request() -> None:
            async with httpx.AsyncClient(timeout=5) as client:
                results.append((await client.get(f"{url}/slow")).status_code)

        nursery.start_soon(slow_request)
        with trio.fail_after(5):
            await app.slow_started.wait()
        stop.set()
        await trio.sleep(0.1)
        async with httpx.AsyncClient(timeout=2) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(f"{url}/late")
    assert results == [200]


async def test_the_grace_period_bounds_the_drain() -> None:
    app = SlowApp(delay=60)
    stop = trio.Event()
    outcome: list[str] = []
    async with trio.open_nursery() as nursery:
        (url,) = await nursery.start(serve(app, stop, binds=["127.0.0.1:0"], graceful_timeout=0.2))

        async def slow_request() -> None:
            async with httpx.AsyncClient(timeout=10) as client:
                try:
                    await client.get(f"{url}/slow")
                except httpx.HTTPError as exc:
                    outcome.append(type(exc).__name__)

        nursery.start_soon(slow_request)
        await app.slow_started.wait()
        stopped_at = trio.current_time()
        stop.set()
    assert trio.current_time() - stopped_at < 3
    assert outcome and outcome[0] in {"RemoteProtocolError", "ReadError"}


async def test_https_with_tls_files(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    path = sock_path(tmp_path, "plain.sock")
    stop = trio.Event()
    tls = {"tls_cert_file": cert_file, "tls_key_file": key_file}
    async with trio.open_nursery() as nursery:
        urls = await nursery.start(
            serve(SlowApp(), stop, binds=["127.0.0.1:0", f"unix:{path}"], **tls)
        )
        assert urls[0].startswith("https://")
        context = ssl.create_default_context()
        ca.configure_trust(context)
        async with httpx.AsyncClient(verify=context, timeout=5) as client:
            assert (await client.get(f"{urls[0]}/secure")).text == "/secure"
        async with unix_client(path) as client:  # unix sockets stay plain HTTP
            assert (await client.get("http://local/plain")).text == "/plain"
        stop.set()


async def test_unreadable_tls_files_are_a_listen_error(tmp_path: Path) -> None:
    stop = trio.Event()
    missing = tmp_path / "missing.pem"
    with pytest.raises(ListenError, match="TLS certificate"):
        await serve(
            SlowApp(), stop, binds=["127.0.0.1:0"], tls_cert_file=missing, tls_key_file=missing
        )()


async def test_a_stale_socket_file_is_replaced(tmp_path: Path) -> None:
    path = sock_path(tmp_path, "stale.sock")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))
    dead.close()  # the file stays, nobody listens
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        await nursery.start(serve(SlowApp(), stop, binds=[f"unix:{path}"]))
        async with unix_client(path) as client:
            assert (await client.get("http://local/x")).status_code == 200
        stop.set()


async def test_a_socket_served_by_a_live_process_is_not_stolen(tmp_path: Path) -> None:
    path = sock_path(tmp_path, "live.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as live:
        live.bind(str(path))
        live.listen(1)
        with pytest.raises(ListenError, match="served by another running process"):
            await serve(SlowApp(), trio.Event(), binds=[f"unix:{path}"])()
        assert path.exists()


async def test_a_regular_file_is_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "notasocket"
    path.write_text("keep me")
    with pytest.raises(ListenError, match="not a socket"):
        await serve(SlowApp(), trio.Event(), binds=[f"unix:{path}"])()
    assert path.read_text() == "keep me"


async def test_port_in_use_is_a_listen_error_and_nothing_leaks(tmp_path: Path) -> None:
    path = sock_path(tmp_path, "first.sock")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ListenError, match="address already in use"):
            await serve(SlowApp(), trio.Event(), binds=[f"unix:{path}", f"127.0.0.1:{port}"])()
    assert not path.exists()  # the unix socket bound first was cleaned up


async def test_unknown_socket_group_is_a_listen_error(tmp_path: Path) -> None:
    path = sock_path(tmp_path, "g.sock")
    with pytest.raises(ListenError, match="group 'no-such-group-sg'"):
        await serve(
            SlowApp(), trio.Event(), binds=[f"unix:{path}"], socket_group="no-such-group-sg"
        )()


async def test_socket_group_is_applied(tmp_path: Path) -> None:
    path = sock_path(tmp_path, "grp.sock")
    group = os.getgroups()[0] if os.getgroups() else os.getgid()
    name = grp.getgrgid(group).gr_name
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        await nursery.start(serve(SlowApp(), stop, binds=[f"unix:{path}"], socket_group=name))
        assert os.stat(path).st_gid == group
        stop.set()


@pytest.mark.parametrize("pending", [b"", b"{" * 100_000])
async def test_an_answer_before_the_whole_body_closes_the_connection(
    short_dir: Path, pending: bytes
) -> None:
    # quart-trio stops the request's tasks when it sees the disconnect hypercorn queues as
    # the answer ends; the connection must still be closed, not left open without a reader
    # (no keep-alive timer runs for it: a held connection per request, for free).
    app = QuartTrio(__name__)

    @app.route("/early")
    async def early() -> str:
        return "early"

    path, stop = short_dir / "early.sock", trio.Event()
    head = b"GET /early HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n"
    async with trio.open_nursery() as nursery:
        await nursery.start(serve(app, stop, binds=[f"unix:{path}"]))
        with trio.fail_after(5):
            stream = await trio.open_unix_socket(str(path))
            async with stream:
                await stream.send_all(head + pending)
                answer = b""
                with contextlib.suppress(trio.BrokenResourceError):
                    while chunk := await stream.receive_some():
                        answer += chunk
        stop.set()
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"early")
