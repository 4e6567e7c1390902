"""Live reload: file changes reach subscribers; invalid files and restart-only keys are reported."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
import trio

from switchgeard.config import load_config
from switchgeard.config.diff import changed_keys, keep_restart_values
from switchgeard.config.watch import ConfigWatcher, run_config_watcher

BASE = """\
[store]
url = "sqlite:///var/lib/switchgeard/a.db"

[lnurl]
listen = ["127.0.0.1:8080"]
qr_scale = 8

[balancer.health]
interval = "5s"
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "switchgeard.toml"
    path.write_text(BASE)
    return path


def edit(path: Path, old: str, new: str) -> None:
    """Rewrite in place, as `echo >` or a careless editor would."""
    path.write_text(path.read_text().replace(old, new))


def replace_with_nothing(path: Path) -> str:
    """Delete the file; return what it held."""
    text = path.read_text()
    path.unlink()
    return text


def write(path: Path, text: str) -> None:
    path.write_text(text)


def touch(path: Path) -> None:
    path.touch()


def edit_atomically(path: Path, old: str, new: str) -> None:
    """Write a new file beside it and rename it over the old one, as vim and ansible do."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(path.read_text().replace(old, new))
    os.replace(temporary, path)


async def test_a_valid_change_reaches_a_subscriber_within_2_seconds(config_file: Path) -> None:
    watcher = ConfigWatcher(load_config(config_file))
    health = watcher.section("balancer")
    async with trio.open_nursery() as nursery:
        await nursery.start(run_config_watcher, watcher)
        edit(config_file, 'interval = "5s"', 'interval = "750ms"')
        with trio.fail_after(2):
            new, old = await health.wait_transition()
        nursery.cancel_scope.cancel()
    assert (old.health.interval, new.health.interval) == (5.0, 0.75)
    assert watcher.current.balancer.health.interval == 0.75
    stats = watcher.statistics()
    assert (stats.reloads, stats.reload_failures) == (1, 0)
    assert stats.last_result is not None and stats.last_result.changed == ("balancer",)


async def test_an_atomic_rename_edit_is_picked_up(config_file: Path) -> None:
    watcher = ConfigWatcher(load_config(config_file))
    async with trio.open_nursery() as nursery:
        await nursery.start(run_config_watcher, watcher)
        edit_atomically(config_file, "qr_scale = 8", "qr_scale = 12")
        with trio.fail_after(2):
            await watcher.section("lnurl").wait_value(lambda cfg: cfg.qr_scale == 12)
        nursery.cancel_scope.cancel()


async def test_polling_under_the_autojump_clock(config_file: Path, autojump_clock: object) -> None:
    watcher = ConfigWatcher(load_config(config_file))
    async with trio.open_nursery() as nursery:
        await nursery.start(run_config_watcher, watcher)
        await trio.sleep(10)
        assert watcher.statistics().reloads == 0  # nothing changed, nothing published
        edit(config_file, "qr_scale = 8", "qr_scale = 9")
        start = trio.current_time()
        await watcher.section("lnurl").wait_value(lambda cfg: cfg.qr_scale == 9)
        assert trio.current_time() - start <= 1.0
        nursery.cancel_scope.cancel()


@pytest.mark.allow_error_logs
async def test_an_invalid_file_keeps_the_old_config_and_is_reported(
    config_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    watcher = ConfigWatcher(load_config(config_file))
    before = watcher.current
    async with trio.open_nursery() as nursery:
        await nursery.start(run_config_watcher, watcher)
        edit(config_file, 'interval = "5s"', 'interval = "5 parsecs"')
        with trio.fail_after(2):
            while watcher.statistics().reload_failures == 0:
                await trio.sleep(0.05)
        await trio.sleep(1.5)  # the same bad content is not reported again
        nursery.cancel_scope.cancel()
    stats = watcher.statistics()
    assert stats.reload_failures == 1
    assert watcher.current is before
    assert stats.last_result is not None and stats.last_result.error is not None
    assert stats.last_result.error.key == "balancer.health.interval"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "balancer.health.interval" in errors[0].getMessage()


@pytest.mark.allow_error_logs
async def test_a_missing_secret_file_rejects_the_reload(config_file: Path) -> None:
    watcher = ConfigWatcher(load_config(config_file))
    edit(
        config_file,
        "[balancer.health]",
        "[lightning]\ntrusted_roots_file = 'roots.pem'\n[balancer.health]",
    )
    result = await watcher.reload()
    assert result.error is not None and result.error.key == "lightning.trusted_roots_file"
    write(config_file.parent / "roots.pem", "roots")
    result = await watcher.reload()
    assert result.ok and result.needs_restart == ("lightning.trusted_roots_file",)


@pytest.mark.allow_error_logs
async def test_a_vanished_file_is_one_failure_and_its_return_a_reload(config_file: Path) -> None:
    watcher = ConfigWatcher(load_config(config_file))
    text = replace_with_nothing(config_file)
    assert await watcher.reload_if_changed() is not None
    assert await watcher.reload_if_changed() is None
    assert watcher.statistics().reload_failures == 1
    write(config_file, text.replace("qr_scale = 8", "qr_scale = 3"))
    result = await watcher.reload_if_changed()
    assert result is not None and result.changed == ("lnurl",)


async def test_restart_only_keys_keep_their_running_value_and_are_reported(
    config_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    watcher = ConfigWatcher(load_config(config_file))
    lnurl_before = watcher.current.lnurl
    edit(config_file, "a.db", "b.db")
    edit(config_file, "127.0.0.1:8080", "127.0.0.1:8081")
    edit(config_file, "qr_scale = 8", "qr_scale = 10")
    result = await watcher.reload()
    assert result.ok
    assert result.changed == ("lnurl",)
    assert result.needs_restart == ("store.url", "lnurl.listen")
    running = watcher.current
    assert running.store.url.endswith("a.db")
    assert running.lnurl.listen == lnurl_before.listen
    assert running.lnurl.qr_scale == 10
    assert watcher.statistics().needs_restart == ("store.url", "lnurl.listen")
    assert any("store.url" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    # a reload without further change still reports what waits for a restart
    again = await watcher.reload()
    assert again.changed == () and again.needs_restart == ("store.url", "lnurl.listen")


@pytest.mark.parametrize(
    ("table", "line", "key"),
    [
        # read once when the component opens: a reload must not claim to apply them
        ("lightning", "call_timeout = '1s'", "lightning.call_timeout"),
        (
            "telemetry",
            "otlp_endpoint = 'http://127.0.0.1:4318/v1/metrics'",
            "telemetry.otlp_endpoint",
        ),
        ("telemetry", "otlp_interval = '5s'", "telemetry.otlp_interval"),
        ("logging", "dir = 'logs'", "logging.dir"),
        ("ratelimit", "backend = 'redis'\nredis_url = 'redis://127.0.0.1'", "ratelimit.backend"),
        ("ratelimit", "redis_timeout = '1s'", "ratelimit.redis_timeout"),
    ],
)
async def test_keys_read_only_at_start_are_reported_as_needing_a_restart(
    config_file: Path, table: str, line: str, key: str
) -> None:
    watcher = ConfigWatcher(load_config(config_file))
    before = watcher.current
    write(config_file, f"{BASE}\n[{table}]\n{line}\n")
    result = await watcher.reload()
    assert result.ok and result.changed == ()
    assert key in result.needs_restart
    assert watcher.current == before


async def test_an_unchanged_file_publishes_nothing(config_file: Path) -> None:
    watcher = ConfigWatcher(load_config(config_file))
    touch(config_file)
    assert await watcher.reload_if_changed() is None  # baseline: same content
    os.utime(config_file, ns=(1, 1))
    assert await watcher.reload_if_changed() is None  # stat changed, content did not
    result = await watcher.reload()
    assert result.ok and result.changed == () and result.needs_restart == ()


def test_diff_helpers(config_file: Path) -> None:
    old = load_config(config_file)
    edit(config_file, "a.db", "b.db")
    edit(config_file, 'interval = "5s"', 'interval = "6s"')
    new = load_config(config_file)
    assert changed_keys(old, new) == ["store.url", "balancer.health.interval"]
    effective = keep_restart_values(new, old)
    assert effective.store == old.store
    assert effective.balancer == new.balancer
    assert keep_restart_values(old, old) is old
