"""The terminal every `offramp` command prints to."""

from __future__ import annotations

import os
import sys

from rich.console import Console

PIPED_WIDTH = 130
"""Columns for piped output (make run, CI logs) instead of rich's 80, unless COLUMNS is set."""


def stdout_console() -> Console:
    """A rich console on standard output: the terminal's width, or PIPED_WIDTH when piped."""
    piped = not sys.stdout.isatty() and not os.environ.get("COLUMNS")
    return Console(soft_wrap=True, width=PIPED_WIDTH if piped else None)
