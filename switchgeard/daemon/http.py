"""Serving an ASGI app with hypercorn's trio worker on TCP (optionally TLS) and Unix sockets.

We create and bind the sockets ourselves and hand them to hypercorn, so that:

* a Unix socket gets its mode and group before it accepts anything (bind, chmod, chown,
  then listen), without touching the process umask;
* a stale socket file is replaced, but one that a live process serves is an error;
* the socket file is removed on exit (only if it is still ours);
* the addresses reported through ``task_status`` carry the real port when port 0 was asked;
* connections on Unix sockets carry the peer's uid (SO_PEERCRED, see ``peercred``) into the
  ASGI scope, which hypercorn's own ``worker_serve`` cannot do, so ``_serve_hypercorn`` does
  its TCP/Unix part with our connection handler;
* an HTTP/1.1 response head goes out in one write with its body (``coalesce``).
"""

from __future__ import annotations

import contextlib
import errno
import grp
import logging
import os
import socket
import ssl
import stat
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio.lifespan import Lifespan
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import (
    AppWrapper,
    ASGIReceiveCallable,
    ASGISendCallable,
    ASGISendEvent,
    ConnectionState,
    Framework,
    LifespanState,
    Scope,
)
from hypercorn.utils import wrap_app

from switchgeard.config.checks import TcpAddress, UnixAddress, parse_listen
from switchgeard.daemon.coalesce import CoalescingTCPServer
from switchgeard.daemon.peercred import with_peer_cred, with_peer_uid
from switchgeard.errors import ListenError

logger = logging.getLogger("switchgeard.http")

_BACKLOG = 128

# hypercorn's own "Running on ..." lines repeat ours; keep its warnings and errors.
_hypercorn_logger = logging.getLogger("switchgeard.http.server")
_hypercorn_logger.setLevel(logging.WARNING)


@dataclass(slots=True)
class _Listener:
    sock: socket.socket
    url: str
    unix_path: str | None = None
    unix_id: tuple[int, int] | None = None  # (st_dev, st_ino) of the socket file we created

    def close(self) -> None:
        self.sock.close()
        if self.unix_path is None:
            return
        try:
            st = os.lstat(self.unix_path)
        except FileNotFoundError:
            return
        if (st.st_dev, st.st_ino) == self.unix_id:
            os.unlink(self.unix_path)


async def serve_asgi(
    app: Framework,
    *,
    binds: Sequence[str],
    tls_cert_file: Path | None = None,
    tls_key_file: Path | None = None,
    socket_mode: int = 0o660,
    socket_group: str | None = None,
    shutdown_trigger: Callable[[], Awaitable[None]],
    graceful_timeout: float,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` on every address in ``binds`` until ``shutdown_trigger`` returns.

    ``binds`` entries are "host:port", "[v6addr]:port" or "unix:/abs/path". With a TLS
    certificate and key, TCP listeners speak HTTPS (h2 and http/1.1); Unix sockets stay
    plain HTTP (they sit behind a local proxy or the admin CLI). Unix socket files get
    ``socket_mode`` and ``socket_group`` and are removed on exit.

    Reports the bound addresses ("http://127.0.0.1:43121", "https://[::1]:8443",
    "unix:/run/x.sock") through ``task_status``. When ``shutdown_trigger`` returns, the
    listeners close at once and requests in flight get ``graceful_timeout`` seconds to finish.
    Raises ListenError when an address cannot be bound or the TLS files cannot be loaded.
    """
    tls = tls_cert_file is not None and tls_key_file is not None
    config = _hypercorn_config(tls_cert_file, tls_key_file, graceful_timeout)
    ssl_context = _ssl_context(config) if tls else None
    listeners = await trio.to_thread.run_sync(
        _open_listeners, list(binds), tls, socket_mode, socket_group
    )
    try:
        wrapped = with_peer_uid(_shield_last_send(wrap_app(app, config.wsgi_max_body_size, "asgi")))
        trio_listeners = [_trio_listener(x, ssl_context) for x in listeners]
        urls = [x.url for x in listeners]
        await _serve_hypercorn(
            wrapped, config, trio_listeners, shutdown_trigger, partial(_started, task_status, urls)
        )
    finally:
        for listener in listeners:
            listener.close()


def _shield_last_send(app: AppWrapper) -> AppWrapper:
    """Let the last body message of a response finish even if the app is being cancelled.

    When a response ends before its request body did, hypercorn queues the disconnect and
    closes the connection from inside that last ``send``; quart-trio cancels the request on
    seeing the disconnect, which would abort the close and leave the connection open with
    no reader and no keep-alive timer. hypercorn already shields its socket writes, so the
    shield adds no wait of its own.
    """

    async def wrapped(
        scope: Scope,
        receive: ASGIReceiveCallable,
        send: ASGISendCallable,
        sync_spawn: Callable[..., object],
        call_soon: Callable[..., object],
    ) -> None:
        async def send_last_shielded(message: ASGISendEvent) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                with trio.CancelScope(shield=True):
                    await send(message)
            else:
                await send(message)

        await app(scope, receive, send_last_shielded, sync_spawn, call_soon)

    return wrapped


def _started(task_status: trio.TaskStatus[list[str]], urls: list[str]) -> None:
    for url in urls:
        logger.info("listening on %s", url)
    task_status.started(urls)


def _trio_listener(
    listener: _Listener, ssl_context: ssl.SSLContext | None
) -> trio.abc.Listener[trio.abc.Stream]:
    plain = trio.SocketListener(trio.socket.from_stdlib_socket(listener.sock))
    if ssl_context is None or listener.unix_path is not None:
        return plain
    return trio.SSLListener(plain, ssl_context, https_compatible=True)


async def _serve_hypercorn(
    app: AppWrapper,
    config: HypercornConfig,
    listeners: list[trio.abc.Listener[trio.abc.Stream]],
    shutdown_trigger: Callable[[], Awaitable[None]],
    started: Callable[[], None],
) -> None:
    """hypercorn's ``worker_serve`` for TCP and Unix listeners, with our connection handler.

    Runs the app's lifespan startup, calls ``started``, serves until ``shutdown_trigger``
    returns, closes the listeners at once, gives connections ``config.graceful_timeout``
    seconds to finish their requests, then runs the lifespan shutdown.
    """
    lifespan_state: LifespanState = {}
    lifespan = Lifespan(app, config, lifespan_state)
    context = WorkerContext(None)
    async with trio.open_nursery() as lifespan_nursery:
        await lifespan_nursery.start(lifespan.handle_lifespan)
        await lifespan.wait_for_startup()
        async with trio.open_nursery() as connections:
            state = ConnectionState(lifespan_state.copy())
            handler = with_peer_cred(partial(CoalescingTCPServer, app, config, context, state))
            started()
            try:
                async with trio.open_nursery() as accepting:
                    accepting.start_soon(_cancel_when, shutdown_trigger, accepting.cancel_scope)
                    accepting.start_soon(
                        partial(
                            trio.serve_listeners, handler, listeners, handler_nursery=connections
                        )
                    )
            finally:
                await context.terminated.set()
                connections.cancel_scope.deadline = trio.current_time() + config.graceful_timeout
        await lifespan.wait_for_shutdown()
        lifespan_nursery.cancel_scope.cancel()


async def _cancel_when(trigger: Callable[[], Awaitable[None]], scope: trio.CancelScope) -> None:
    await trigger()
    scope.cancel()


def _hypercorn_config(
    cert: Path | None, key: Path | None, graceful_timeout: float
) -> HypercornConfig:
    config = HypercornConfig()
    config.graceful_timeout = graceful_timeout
    config.accesslog = None
    config.errorlog = _hypercorn_logger
    config.include_server_header = False
    config.backlog = _BACKLOG
    if cert is not None and key is not None:
        config.certfile = str(cert)
        config.keyfile = str(key)
    return config


def _ssl_context(config: HypercornConfig) -> ssl.SSLContext:
    try:
        context = config.create_ssl_context()
    except (OSError, ssl.SSLError) as exc:
        raise ListenError(
            f"cannot load the TLS certificate {config.certfile} and key {config.keyfile}: {exc}"
        ) from None
    if context is None:
        raise ListenError("a TLS certificate and key are both needed")
    return context


def _open_listeners(binds: list[str], tls: bool, mode: int, group: str | None) -> list[_Listener]:
    listeners: list[_Listener] = []
    complete = False
    try:
        for bind in binds:
            try:
                address = parse_listen(bind)
            except ValueError as exc:
                raise ListenError(str(exc)) from None
            if isinstance(address, UnixAddress):
                listeners.append(_open_unix(address, mode, group))
            else:
                listeners.append(_open_tcp(address, tls))
        complete = True
    finally:
        if not complete:
            for listener in listeners:
                listener.close()
    return listeners


def _open_tcp(address: TcpAddress, tls: bool) -> _Listener:
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((address.host, address.port))
        sock.listen(_BACKLOG)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise ListenError(f"cannot listen on {address}: {_reason(exc)}") from None
    host, port = sock.getsockname()[:2]
    bound = TcpAddress(host, port)
    return _Listener(sock, f"{'https' if tls else 'http'}://{bound}")


def _open_unix(address: UnixAddress, mode: int, group: str | None) -> _Listener:
    gid = -1 if group is None else _group_id(group)
    _remove_stale_socket(address.path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(address.path)
        st = os.lstat(address.path)
        listener = _Listener(sock, str(address), address.path, (st.st_dev, st.st_ino))
    except OSError as exc:
        sock.close()
        raise ListenError(f"cannot listen on {address}: {_reason(exc)}") from None
    try:
        # Nobody can connect before listen(), so mode and group are right from the first client.
        os.chmod(address.path, mode)
        if gid != -1:
            os.chown(address.path, -1, gid)
        sock.listen(_BACKLOG)
        sock.setblocking(False)
    except OSError as exc:
        listener.close()
        raise ListenError(f"cannot set up {address}: {_reason(exc)}") from None
    return listener


def _group_id(name: str) -> int:
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise ListenError(f"socket group {name!r} does not exist") from None


def _remove_stale_socket(path: str) -> None:
    """Remove a socket file nobody serves; refuse a live one or a non-socket file."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise ListenError(f"{path} exists and is not a socket; refusing to replace it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        logger.info("removed stale socket %s", path)
        return
    except OSError as exc:
        raise ListenError(f"cannot check existing socket {path}: {_reason(exc)}") from None
    finally:
        probe.close()
    raise ListenError(
        f"{path} is served by another running process; stop it or choose another path"
    )


def _reason(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "address already in use"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "address not available on this host"
    if exc.errno == errno.EACCES:
        return "permission denied"
    return exc.strerror or str(exc)
