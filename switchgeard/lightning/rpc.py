"""``Rpc``: one node connection whose calls are bounded and error-translated.

The adapters (lnd.py, cln.py) describe *what* to ask; ``Rpc`` makes sure every call runs
under a deadline and that only ``BackendError`` subclasses come out.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Generic, TypeVar

from switchgeard.errors import BackendUnavailable
from switchgeard.lightning._bridge import GrpcLink, Target
from switchgeard.lightning.credentials import Identity, Trust
from switchgeard.lightning.endpoints import split_url
from switchgeard.lightning.translate import Context, translate_errors

StubT = TypeVar("StubT")
ResultT = TypeVar("ResultT")


def make_target(url: str, domain: str | None, trust: Trust, who: Identity) -> Target:
    """Parse the endpoint URL; a malformed one is a ``BackendUnavailable`` naming it."""
    try:
        host, port = split_url(url)
    except ValueError as exc:
        raise BackendUnavailable(str(exc), key=who.key, name=who.name) from exc
    return Target(host=host, port=port, trust=trust, server_name=domain or None)


class Rpc(Generic[StubT]):
    """Calls on one channel; ``timeout`` bounds each call unless a call says otherwise."""

    def __init__(
        self,
        target: Target,
        stub_class: type[StubT],
        context: Context,
    ) -> None:
        self._link = GrpcLink(target, stub_class)
        self.context = context

    @property
    def dials(self) -> int:
        """How many times the channel was (re-)dialled: for tests and statistics."""
        return self._link.dials

    async def __call__(
        self,
        request: Callable[[StubT], Awaitable[ResultT]],
        *,
        timeout: float | None = None,
    ) -> ResultT:
        with translate_errors(self.context):
            limit = self.context.timeout if timeout is None else timeout
            return await self._link.call(request, limit)

    async def stream(
        self, open_stream: Callable[[StubT], AsyncIterator[ResultT]]
    ) -> AsyncGenerator[ResultT, None]:
        """Yield a server stream's messages; failures arrive as ``BackendError``."""
        messages = self._link.stream(open_stream)
        try:
            with translate_errors(self.context):
                async for message in messages:
                    yield message
        finally:
            await messages.aclose()

    async def aclose(self) -> None:
        await self._link.aclose()
