"""Debian packages installed with apt-get, one installer at a time.

Two processes that find a package missing at the same moment (two test
workers, two `forecast-hub postgres start`) would race for dpkg's lock, and
the second apt-get would fail. An installer holds ``one_installer`` around
its apt-get commands and looks again for what it installs once it holds it,
so the second one finds the package the first one installed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from forecast_hub.file_lock import exclusive

LOCK_PATH = Path("/var/lock/forecast-hub-apt.lock")


@contextlib.contextmanager
def one_installer() -> Iterator[None]:
    """An exclusive lock shared by every forecast-hub process on the machine."""
    LOCK_PATH.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(LOCK_PATH):
        yield
