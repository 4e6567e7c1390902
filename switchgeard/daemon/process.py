"""Running the daemon as a process: ``trio.run`` and the mapping of failures to exit codes."""

from __future__ import annotations

import gc
import logging

import trio

from switchgeard.config import Config
from switchgeard.daemon.compose import run_daemon
from switchgeard.errors import ConfigError, ListenError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 78  # EX_CONFIG; the systemd unit does not restart on it
EXIT_INTERRUPTED = 130

logger = logging.getLogger("switchgeard.daemon")


def run_config(config: Config) -> int:
    """Run the daemon on an already loaded ``config``; return the exit status."""
    status = EXIT_OK
    try:
        trio.run(_serve_frozen, config)
    except* ConfigError as group:
        _log_errors(group)
        status = EXIT_CONFIG
    except* ListenError as group:
        _log_errors(group)
        status = EXIT_FAILURE
    except* KeyboardInterrupt:
        logger.warning("interrupted during start-up")
        status = EXIT_INTERRUPTED
    return status


async def _serve_frozen(config: Config) -> None:
    """``run_daemon``, with what start-up built moved out of the collector's sight once
    serving: a full collection otherwise rescans every module, class and app object
    (about 100 000) and stalls the trio thread for tens of milliseconds under load."""
    async with trio.open_nursery() as nursery:
        await nursery.start(run_daemon, config)
        gc.collect()
        gc.freeze()


def _log_errors(group: BaseExceptionGroup[ConfigError] | BaseExceptionGroup[ListenError]) -> None:
    for exc in _leaves(group):
        logger.critical("cannot run: %s", exc)


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    leaves: list[BaseException] = []
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            leaves.extend(_leaves(exc))
        else:
            leaves.append(exc)
    return leaves
