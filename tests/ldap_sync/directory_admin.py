"""Changing the test directory from trio: python-ldap as the root DN, in a worker thread."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import ldap
import ldap.modlist
import trio
from slapd import DISABLED_GROUP, PEOPLE, ROOT_DN, ROOT_PASSWORD


def person_dn(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


def person(uid: str, **extra: str) -> dict[str, list[bytes]]:
    attrs = {
        "objectClass": [b"inetOrgPerson"],
        "uid": [uid.encode()],
        "cn": [f"{uid} cn".encode()],
        "sn": [b"Test"],
    }
    for key, value in extra.items():
        attrs[key] = [value.encode()]
    return attrs


class DirectoryAdmin:
    """Adds, changes and removes entries as the root DN."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._limiter = trio.CapacityLimiter(1)
        self._conn: Any = None

    def _bound(self) -> Any:
        if self._conn is None:
            conn = ldap.initialize(self.uri)
            conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 5)
            conn.set_option(ldap.OPT_TIMEOUT, 10)
            conn.simple_bind_s(ROOT_DN, ROOT_PASSWORD)
            self._conn = conn
        return self._conn

    async def _run(self, fn: Callable[[Any], Any]) -> Any:
        def call() -> Any:
            try:
                return fn(self._bound())
            except ldap.SERVER_DOWN:
                self._conn = None
                return fn(self._bound())

        return await trio.to_thread.run_sync(call, limiter=self._limiter)

    async def add_person(self, uid: str, **extra: str) -> None:
        modlist = ldap.modlist.addModlist(person(uid, **extra))
        await self._run(lambda c: c.add_s(person_dn(uid), modlist))

    async def replace(self, dn: str, attribute: str, *values: str) -> None:
        change = [(ldap.MOD_REPLACE, attribute, [v.encode() for v in values])]
        await self._run(lambda c: c.modify_s(dn, change))

    async def delete(self, dn: str) -> None:
        await self._run(lambda c: c.delete_s(dn))

    async def rename(self, dn: str, new_rdn: str) -> None:
        await self._run(lambda c: c.rename_s(dn, new_rdn))

    async def set_disabled(self, dn: str, disabled: bool) -> None:
        op = ldap.MOD_ADD if disabled else ldap.MOD_DELETE
        await self._run(lambda c: c.modify_s(DISABLED_GROUP, [(op, "member", [dn.encode()])]))

    async def entry_uuid(self, dn: str) -> str:
        found = await self._run(
            partial(lambda c: c.search_s(dn, ldap.SCOPE_BASE, attrlist=["entryUUID"]))
        )
        return str(found[0][1]["entryUUID"][0].decode())

    async def close(self) -> None:
        if self._conn is not None:
            await trio.to_thread.run_sync(self._conn.unbind_s)
            self._conn = None
