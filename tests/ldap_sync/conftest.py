"""Fixtures for the LDAP tests: a fresh slapd per test (it starts in about 0.2 s)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

pytest.importorskip("ldap", reason="python-ldap is not installed (pip install '.[ldap]')")

from directory_admin import DirectoryAdmin
from slapd import Slapd


@pytest.fixture
def slapd() -> Iterator[Slapd]:
    server = Slapd.create()
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
async def directory(slapd: Slapd) -> AsyncIterator[DirectoryAdmin]:
    admin = DirectoryAdmin(slapd.uri)
    try:
        yield admin
    finally:
        await admin.close()
