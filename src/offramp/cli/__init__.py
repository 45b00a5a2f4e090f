"""The `offramp` command line: one module per group of commands, all registered on one app.

    scenario.py   scenarios, validate, explain      run.py       run, report, query
    analysis.py   discover, sensitivity, explore    claims.py    claims
    calibrate.py  calibrate                         history.py   validate-history
    conditioning.py  condition, score               search.py    search
"""

from offramp.cli import (  # noqa: F401
    analysis,
    calibrate,
    claims,
    conditioning,
    history,
    run,
    scenario,
    search,
)
from offramp.cli.app import app, main

__all__ = ["app", "main"]
