"""The day a test run works with, and the clock held on it for tests that look at dates.

A test that computes "today" at import while the app computes it per request disagrees when the
run crosses midnight (it did, in CI). So the day is chosen once, and every test marked `midday`
runs with the clock moved to noon UTC of that day, still ticking: the app and the test agree on
the date however long the run takes and whenever it starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time

import time_machine

TODAY = date.today()


@contextmanager
def midday(day: date = TODAY) -> Iterator[date]:
    """The clock at noon UTC of `day`, ticking on from there."""
    with time_machine.travel(datetime.combine(day, time(12), UTC), tick=True):
        yield day
