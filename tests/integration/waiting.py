"""Waiting for a condition instead of sleeping for a guessed time.

The one poll loop of the tests: the unit tests import it as `integration.waiting`,
pulse.py (which benchmarks also import, outside pytest) relatively. It imports nothing
from pytest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    what: str | Callable[[], str],
    timeout_s: float,
    interval_s: float = 0.02,
    error: Callable[[str], Exception] = AssertionError,
) -> T:
    """Call `condition` every `interval_s` until it returns something truthy; return that.

    `what` says what is waited for (a callable is asked only on failure, so it can
    describe the state then). The condition is tried once more after the deadline, so
    a slow last call is not lost; if it still fails, `error` is raised with "waited
    {timeout_s} s for {what}". An exception from `condition` goes straight through:
    raise one there to stop waiting for something that can no longer happen.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        late = time.monotonic() >= deadline
        value = condition()
        if value:
            return value
        if late:
            described = what() if callable(what) else what
            raise error(f"waited {timeout_s:g} s for {described}")
        time.sleep(interval_s)
