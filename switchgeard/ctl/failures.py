"""The two ways a ctl command fails: the operation (exit 1) or the command line (exit 2)."""

from __future__ import annotations


class CtlError(Exception):
    """An operation failed; the message is one line naming what and why (exit status 1)."""


class UsageError(Exception):
    """The command line is wrong (exit status 2)."""
