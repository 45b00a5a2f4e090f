"""The exception types a user meets.

Anything a user can get wrong (a malformed scenario, a bad argument, a missing file) raises
`UserError`; a fault of the machine or of the files around a run (a disk full, a permission, a
damaged file, an unreachable scheduler) raises `EnvironmentFault`. The CLI prints either as one
paragraph and exits with code 2 or 3, never a traceback (`offramp --debug ...` shows it).
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix; `str(error)` says what and where."""

    exit_code = 2


class EnvironmentFault(UserError):
    """The machine or the files around a run failed, not the user's input; `str(error)` names
    what and what to do."""

    exit_code = 3
