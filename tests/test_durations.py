"""The time people log, read the same way by the tracker's pages and the log_work tool."""

from __future__ import annotations

import re

import pytest

from portal.core.durations import MAX_TEXT, logged_hours


@pytest.mark.parametrize(
    ("given", "hours"),
    [
        ("1h30m", 1.5),
        ("1h 30m", 1.5),
        (" 90M ", 1.5),
        ("2h", 2.0),
        ("45m", 0.75),
        ("45 min", 0.75),
        ("1.5h", 1.5),
        ("1 hr 15 mins", 1.25),
        ("1.5", 1.5),
        (2, 2.0),
        (0.25, 0.25),
        ("1d", 24.0),
    ],
)
def test_durations_are_read_as_people_write_them(given, hours):
    assert logged_hours(given) == pytest.approx(hours)


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("", "write hours (1.5) or a duration"),
        (None, "write hours (1.5) or a duration"),
        ("1" * MAX_TEXT + "h", f"at most {MAX_TEXT} characters"),
        ("abc", "is not a duration"),
        ("1h30", "is not a duration"),
        ("30m1h", "is not a duration"),
        ("1h1h", "is not a duration"),
        ("1..5h", "is not a duration"),
        ("1:30", "is not a duration"),
        (True, "write hours"),
        ("0", "more than no time"),
        ("-1h", "more than no time"),
        (float("nan"), "more than no time"),
        ("inf", "more than no time"),
        ("20s", "at least one minute"),
        ("25h", "at most 24 hours"),
        ("2d", "at most 24 hours"),
    ],
)
def test_what_is_no_time_to_log_is_refused_saying_what_to_write(given, why):
    with pytest.raises(ValueError, match=re.escape(why)):
        logged_hours(given)
