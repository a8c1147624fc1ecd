"""The time people log in one entry, read as they write it, the same way on every page and tool.

`logged_hours` takes hours (1.5, "1.5") or a duration with units ("1h30m", "90m", "2h 15m", "45 min");
units are read by pytimeparse, over text of at most MAX_TEXT characters.
"""

from __future__ import annotations

import math

from pytimeparse.timeparse import timeparse

MAX_HOURS = 24.0  # one entry is at most a day: longer work is logged day by day
MAX_TEXT = 40
HOW = "write hours (1.5) or a duration such as 1h30m, 2h or 45m"


def logged_hours(value: str | float | None) -> float:
    """Hours of work in one entry: at least a minute, at most MAX_HOURS.

    Raises ValueError with a message that says how to write it: for text that is no duration (a clock
    such as "1:30" included, which would read as minutes and seconds), for text over MAX_TEXT characters,
    and for less than a minute or more than a day.
    """
    if isinstance(value, bool):
        raise ValueError(HOW)
    if isinstance(value, int | float):
        hours = float(value)
    else:
        text = str(value or "").strip().lower()
        if not text or len(text) > MAX_TEXT:
            raise ValueError(f"{HOW}, in at most {MAX_TEXT} characters")
        try:
            hours = float(text)
        except ValueError:
            seconds = None if ":" in text else timeparse(text)
            if seconds is None:
                raise ValueError(f"{text!r} is not a duration: {HOW}") from None
            hours = seconds / 3600
    if not math.isfinite(hours) or hours <= 0:
        raise ValueError(f"log more than no time: {HOW}")
    if round(hours * 3600) < 60:
        raise ValueError("log at least one minute")
    if hours > MAX_HOURS:
        raise ValueError(f"log at most {MAX_HOURS:g} hours in one entry; log each day on its own")
    return hours
