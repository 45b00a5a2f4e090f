"""The one exception type for user mistakes.

Anything a user can get wrong (a malformed scenario, a bad argument, a missing file) raises
`UserError`. The CLI prints its message as one paragraph and exits with code 2, never a traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix; `str(error)` says what and where."""

    exit_code = 2
