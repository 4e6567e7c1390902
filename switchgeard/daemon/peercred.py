"""Peer credentials (SO_PEERCRED) of Unix socket connections, handed to the ASGI app.

hypercorn gives the app ``client=None`` on Unix sockets and never shows it the socket, so
the link is a context variable: the connection handler (one trio task per connection)
reads the peer's pid, uid and gid from the accepted socket and sets the variable; the
tasks hypercorn starts for that connection's requests inherit the task's context, and
``with_peer_uid`` copies the uid into ``scope["extensions"]["switchgeard.peer_uid"]``.

Where the kernel cannot tell (not Linux, not a Unix socket, getsockopt failing) there is
no uid and the extension is left out; the admin audit line then says ``uid=?``.
"""

from __future__ import annotations

import logging
import socket
import struct
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar, cast

import trio
from hypercorn.typing import AppWrapper, ASGIReceiveCallable, ASGISendCallable, Scope

from switchgeard.admin.app import PEER_UID_EXTENSION

logger = logging.getLogger("switchgeard.http")

_StreamT = TypeVar("_StreamT", bound=trio.abc.Stream)

_UCRED = struct.Struct("3i")  # struct ucred: pid_t pid, uid_t uid, gid_t gid


@dataclass(frozen=True, slots=True)
class PeerCred:
    """The process at the other end of a Unix socket, as the kernel recorded it at connect."""

    pid: int
    uid: int
    gid: int


_peer: ContextVar[PeerCred | None] = ContextVar("switchgeard_peer_cred", default=None)


def read_peer_cred(sock: trio.socket.SocketType) -> PeerCred | None:
    """The credentials of ``sock``'s peer, or None when it is not a Unix socket or unknown."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None or sock.family != socket.AF_UNIX:
        return None
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, option, _UCRED.size)
    except OSError as exc:
        logger.debug("cannot read SO_PEERCRED: %s", exc)
        return None
    if len(raw) != _UCRED.size:
        return None
    pid, uid, gid = _UCRED.unpack(raw)
    return PeerCred(pid=pid, uid=uid, gid=gid)


def current_peer_cred() -> PeerCred | None:
    """The peer of the connection the current task serves (None on TCP or when unknown)."""
    return _peer.get()


def with_peer_cred(
    handler: Callable[[_StreamT], Awaitable[object]],
) -> Callable[[_StreamT], Awaitable[None]]:
    """Wrap a per-connection ``handler`` so that its task knows the connection's peer."""

    async def handle(stream: _StreamT) -> None:
        sock = stream.socket if isinstance(stream, trio.SocketStream) else None
        _peer.set(None if sock is None else read_peer_cred(sock))
        await handler(stream)

    return handle


def with_peer_uid(app: AppWrapper) -> AppWrapper:
    """Wrap ``app`` to put the connection's peer uid into HTTP and WebSocket scopes."""

    async def wrapped(
        scope: Scope,
        receive: ASGIReceiveCallable,
        send: ASGISendCallable,
        sync_spawn: Callable[..., object],
        call_soon: Callable[..., object],
    ) -> None:
        peer = _peer.get()
        if peer is not None and scope["type"] != "lifespan":
            extensions = cast(dict[str, object], scope.setdefault("extensions", {}))
            extensions[PEER_UID_EXTENSION] = peer.uid
        await app(scope, receive, send, sync_spawn, call_soon)

    return wrapped
