"""Initial LDAP sync of N entries (default 10 000): wall time and memory, per sync mode.

Starts a throwaway slapd (tests/ldap_sync/slapd.py: unprivileged, loopback, syncprov),
loads N inetOrgPerson entries offline with slapadd, then runs ``run_ldap_sync`` against a
fresh SQLite store until the first full sync is done, once in poll mode (paged search)
and once in syncrepl mode (paged reconcile + refreshAndPersist refresh). Memory is the
Python heap peak (tracemalloc) and the process's peak RSS. Prints a Markdown section for
bench/RESULTS.md.

    .venv/bin/python bench/ldap.py [--entries 10000]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import trio

# This file is named ldap.py: keep its directory off the path so "import ldap" is python-ldap.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent / "tests" / "ldap_sync"))

from slapd import PEOPLE, ROOT_DN, ROOT_PASSWORD, Slapd  # noqa: E402

from switchgeard.config.model import LdapConfig, Seconds, StoreConfig  # noqa: E402
from switchgeard.ldap_sync import run_ldap_sync  # noqa: E402
from switchgeard.store import open_store  # noqa: E402
from switchgeard.store.records import Page  # noqa: E402


def people_ldif(count: int) -> str:
    return "\n".join(
        f"dn: uid=user{i:05d},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: user{i:05d}\n"
        f"cn: User {i}\nsn: Number {i}\ndisplayName: User number {i}\n"
        f"mail: user{i:05d}@pay.example\n"
        for i in range(count)
    )


async def initial_sync(slapd: Slapd, directory: Path, mode: str, count: int) -> dict[str, float]:
    password = directory / f"password-{mode}"
    password.write_text(ROOT_PASSWORD)
    cfg = LdapConfig(
        uri=slapd.uri,
        bind_dn=ROOT_DN,
        bind_password_file=password,
        base_dn=PEOPLE,
        domain="pay.example",
        sync=mode,
        page_size=500,
        poll_interval=Seconds(3600),
    )
    store_cfg = StoreConfig(url=f"sqlite:///{directory}/{mode}.db", page_max=10_000)
    async with open_store(store_cfg) as store, trio.open_nursery() as nursery:
        tracemalloc.start()
        started = time.perf_counter()
        syncer = await nursery.start(partial(run_ldap_sync, store, cfg))
        while syncer.statistics().last_full_sync_at is None:
            await trio.sleep(0.01)
        loaded = time.perf_counter() - started
        while syncer.statistics().state != "synced":
            await trio.sleep(0.01)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        stored = await store.list_addresses(Page(count=10_000), source="ldap")
        assert len(stored) == min(count, 10_000), len(stored)
        nursery.cancel_scope.cancel()
    return {"loaded": loaded, "seconds": elapsed, "heap_mb": peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    args = parser.parse_args()
    slapd = Slapd.create(people_ldif(args.entries))
    slapd.start()
    try:
        with tempfile.TemporaryDirectory(prefix="switchgeard-bench-ldap-") as tmp:
            results = {
                mode: trio.run(initial_sync, slapd, Path(tmp), mode, args.entries)
                for mode in ("poll", "syncrepl")
            }
    finally:
        slapd.destroy()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"## ldap\n\n{stamp}, {platform.machine()}, nproc {os.cpu_count()}, Python "
        f"{platform.python_version()} (`.venv/bin/python bench/ldap.py --entries {args.entries}`)."
        "\nslapd 2.5 (mdb, syncprov) on loopback, SQLite store, page size 500; the first full"
        "\nsync after start with an empty store.\n\n"
        "| mode | entries | all served after s | in sync after s | Python heap peak MB |\n"
        "| --- | ---: | ---: | ---: | ---: |"
    )
    for mode, result in results.items():
        print(
            f"| {mode} | {args.entries:,} | {result['loaded']:.2f} | {result['seconds']:.2f} "
            f"| {result['heap_mb']:.1f} |"
        )
    print(
        f'\nPeak RSS of the whole bench process: {rss_mb:.0f} MB. "All served" is the first'
        "\nfull paged reconcile (one store transaction); in syncrepl mode the refreshAndPersist"
        "\nrefresh then re-reads every entry (python-ldap decodes each sync control with"
        "\npyasn1, about 1 ms per entry) before the cookie is saved; nothing is written then."
        "\nA restart with the saved cookie skips both (tests/ldap_sync: resumes from cookie)."
    )


if __name__ == "__main__":
    main()
