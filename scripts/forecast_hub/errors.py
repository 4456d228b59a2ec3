"""Errors a person can act on.

Anything raised as ``UserError`` is an expected failure (a missing folder, bad
input, a wrong flag): the CLI prints its message on one line and exits
non-zero, without a traceback.
"""


class UserError(Exception):
    """An expected failure whose message says what to fix."""
