"""Ctrl-C while switchgear-ctl waits on the daemon: exit 130, one line, no traceback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def test_ctrl_c_while_waiting_is_exit_130_without_traceback(short_dir: Path) -> None:
    path = short_dir / "silent.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(os.fspath(path))
        server.listen()  # accepts connections but never answers
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "switchgeard.ctl.main",
                "--socket",
                str(path),
                "reload",
                "--wait",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            conn, _ = server.accept()  # the command is now waiting for its answer
            time.sleep(0.2)
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=10)
            conn.close()
        finally:
            child.kill()
    assert child.returncode == 130
    assert "Traceback" not in err
    assert err.strip().splitlines() == ["switchgear-ctl: interrupted"]
    assert out == ""
