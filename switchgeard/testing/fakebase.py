"""What every fake node shares: a ``FakeNodeCore`` behind a restartable ``ListeningServer``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, TypeVar

import trio

from switchgeard.testing.fakecore import FakeNodeCore
from switchgeard.testing.fakeserver import ListeningServer


class FakeNode:
    """The node-independent half of ``FakeLnd`` and ``FakeCln``.

    A subclass creates its credentials in ``directory``, sets ``self.server`` and says
    in ``credentials()`` which files (and TLS domain) a client needs.
    """

    kind: ClassVar[str]
    server: ListeningServer

    def __init__(self, directory: Path, core: FakeNodeCore | None) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.core = core or FakeNodeCore()

    @property
    def pubkey(self) -> str:
        return self.core.pubkey

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def credentials(self) -> dict[str, str]:
        """The endpoint fields besides ``url``: credential paths, TLS domain."""
        raise NotImplementedError

    def settle(self, payment_hash: str) -> bool:
        return self.core.settle(payment_hash)

    def endpoint_values(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Keyword arguments for this node's endpoint, ``changes`` applied last."""
        return {"url": self.url} | self.credentials() | changes

    def info(self) -> dict[str, Any]:
        """What ``fakenode`` writes to info.json."""
        node = {"kind": self.kind, "host": self.server.host, "port": self.port, "url": self.url}
        return node | {"pubkey": self.pubkey, "network": self.core.network} | self.credentials()

    async def go_down(self) -> None:
        self.core.faults.down = True
        await self.server.stop()

    async def come_up(self) -> None:
        self.core.faults.down = False
        await self.server.start()


N = TypeVar("N", bound=FakeNode)


async def run_fake(fake: N, task_status: trio.TaskStatus[N]) -> None:
    """Serve ``fake`` until cancelled; needs ``open_bridge()``; reports the node."""
    await fake.server.start()
    try:
        task_status.started(fake)
        await trio.sleep_forever()
    finally:
        await fake.server.stop()
