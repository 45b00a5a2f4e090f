"""The `offramp` command line: one module per group of commands, all registered on one app.

    scenario.py   scenarios, validate, explain      run.py       run, report, query
    analysis.py   discover, sensitivity, explore    claims.py    claims
    calibrate.py  calibrate                         history.py   validate-history
"""

from offramp.cli import analysis, calibrate, claims, history, run, scenario  # noqa: F401
from offramp.cli.app import app, main

__all__ = ["app", "main"]
