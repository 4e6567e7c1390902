"""The daemon: command line, composition root, HTTP serving, signals and systemd.

The top layer: it may import every package below it and picks the concrete
implementations (store engine, node adapters). Nothing imports the daemon.
"""

from switchgeard.daemon.cli import main

__all__ = ["main"]
