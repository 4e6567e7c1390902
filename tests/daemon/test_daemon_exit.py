"""Exit statuses of ``run_config``: the systemd unit restarts on 1 but not on 78 (EX_CONFIG)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from switchgeard.config import parse_config
from switchgeard.daemon.process import EXIT_FAILURE, run_config


@pytest.mark.allow_error_logs
def test_a_busy_metrics_port_is_a_listen_failure_not_a_config_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        text = (
            f'[store]\nurl = "sqlite://{tmp_path}/x.db"\n'
            '[lnurl]\nlisten = ["127.0.0.1:0"]\n'
            f'[admin]\nsocket = "{tmp_path}/admin.sock"\n'
            f'[telemetry]\nprometheus_listen = "127.0.0.1:{port}"\n'
        )
        config = parse_config(text, path=tmp_path / "c.toml")
        # a port still held by a stopping process must not stop systemd from restarting us
        assert run_config(config) == EXIT_FAILURE
    assert not (tmp_path / "admin.sock").exists()
