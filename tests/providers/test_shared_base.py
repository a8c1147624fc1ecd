"""The pieces every vendor adapter shares: dates, paging, vocabulary, the metadata cache."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from portal.core.providers import errors
from portal.core.providers.base import (
    ConnectionConfig,
    PageRequest,
    PriorityLevel,
    SprintState,
    StatusCategory,
)
from portal.core.providers.dates import (
    day_end,
    day_start,
    parse_date,
    parse_millis,
    parse_timestamp,
    to_millis,
    user_timezone,
    utc_stamp,
)
from portal.core.providers.lineage import version_state
from portal.core.providers.metadata import MetadataCache
from portal.core.providers.paging import (
    cursor_numbers,
    make_cursor,
    offset_from,
    page_of,
    page_size,
    read_all,
)
from portal.core.providers.vendor import describe_json_error
from portal.core.providers.vocabulary import priority_level, status_category

# --- dates ---------------------------------------------------------------------------------------------


def test_timestamps_in_every_vendor_notation_are_aware_utc():
    noon = datetime(2026, 1, 5, 12, tzinfo=UTC)
    for text in (
        "2026-01-05T12:00:00Z",  # Redmine, OpenProject
        "2026-01-05T12:00:00.000+0000",  # JIRA
        "2026-01-05T14:00:00+02:00",
        "2026-01-05T12:00:00",  # no offset: UTC
    ):
        parsed = parse_timestamp(text)
        assert parsed == noon and parsed.tzinfo is UTC, text


def test_unreadable_dates_are_none_rather_than_an_error():
    for value in (None, "", "not a date", 42, ["2026-01-05"], "2026-13-45"):
        assert parse_timestamp(value) is None
        assert parse_date(value) is None
    for value in (None, "", "soon", True):
        assert parse_millis(value) is None


def test_dates_and_milliseconds():
    assert parse_date("2026-01-05") == date(2026, 1, 5)
    assert parse_date("2026-01-05T23:30:00Z") == date(2026, 1, 5)
    moment = datetime(2026, 1, 1, 0, 0, 0, 123000, tzinfo=UTC)
    assert parse_millis(to_millis(moment)) == moment
    assert parse_millis(str(to_millis(moment))) == moment


def test_whole_days_and_stamps():
    assert day_start(date(2026, 1, 5)) == datetime(2026, 1, 5, tzinfo=UTC)
    assert day_end(date(2026, 1, 5)) == datetime(2026, 1, 5, 23, 59, 59, tzinfo=UTC)
    assert day_start(None) is None and day_end(None) is None
    berlin = datetime(2026, 1, 5, 10, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert utc_stamp(berlin) == "2026-01-05T09:30:00Z"


def test_an_unknown_time_zone_is_utc():
    assert user_timezone("Europe/Berlin") == ZoneInfo("Europe/Berlin")
    assert user_timezone("Mars/Olympus_Mons") is UTC
    assert user_timezone(None) is UTC and user_timezone("") is UTC


# --- paging ----------------------------------------------------------------------------------------------


def test_cursors_carry_whole_numbers_and_refuse_any_other_shape():
    assert cursor_numbers(None, 1) is None
    assert cursor_numbers("40", 1) == (40,)
    assert cursor_numbers(make_cursor(3, 40, kind="t"), 2, "t") == (3, 40)
    assert cursor_numbers(make_cursor(1, 2), 2) == (1, 2)
    for cursor, count, kind in (
        ("o:3", 2, "t"),  # another kind
        ("t:3", 2, "t"),  # too few numbers
        ("t:3:-1", 2, "t"),  # negative
        ("next-please", 1, None),
        ("3:4", 1, None),
    ):
        with pytest.raises(errors.InvalidInput, match="not issued by this connection"):
            cursor_numbers(cursor, count, kind)


def test_pages_of_a_list_in_memory():
    first = page_of(list(range(5)), PageRequest(limit=2))
    assert first.items == [0, 1] and first.next_cursor == "2" and first.total == 5
    last = page_of(list(range(5)), PageRequest(limit=2, cursor="4"))
    assert last.items == [4] and last.next_cursor is None
    assert offset_from(PageRequest()) == 0
    with pytest.raises(errors.InvalidInput):
        page_of([1], PageRequest(cursor="t:1:2"))


def test_page_size_stays_within_the_vendor_bounds():
    assert page_size(PageRequest(limit=500), 100) == 100
    assert page_size(PageRequest(limit=0), 100) == 1
    assert page_size(PageRequest(limit=25), 100) == 25


def test_read_all_walks_until_the_vendor_says_the_end_or_the_bound():
    data = list(range(23))
    asked: list[int] = []

    def fetch(offset: int) -> tuple[list[int], int | None]:
        asked.append(offset)
        chunk = data[offset : offset + 10]
        return chunk, offset + len(chunk) if offset + len(chunk) < len(data) else None

    assert read_all(fetch, 0) == data
    assert asked == [0, 10, 20]
    asked.clear()
    assert read_all(fetch, 0, max_pages=2) == data[:20]
    assert read_all(lambda position: ([], position + 1), 0) == []  # an empty page ends the walk


# --- vocabulary ---------------------------------------------------------------------------------------------


def test_names_map_onto_levels_and_categories_case_and_spacing_blind():
    levels = {"normal": PriorityLevel.MEDIUM, "very high": PriorityLevel.HIGHEST}
    assert priority_level(" Normal ", levels) == PriorityLevel.MEDIUM
    assert priority_level("Very-High", levels) == PriorityLevel.HIGHEST
    assert priority_level("Whenever", levels) == PriorityLevel.UNKNOWN
    names = {"todo": frozenset({"new"}), "in_progress": frozenset({"doing"})}
    assert status_category("Closed", True, **names) == StatusCategory.DONE
    assert status_category("NEW", False, **names) == StatusCategory.TODO
    assert status_category("In_Progress", False, **names) == StatusCategory.IN_PROGRESS
    assert status_category("Doing", False, **names) == StatusCategory.IN_PROGRESS
    assert status_category("Feedback", False, **names) == StatusCategory.UNKNOWN
    assert status_category("Triage", False, is_default=True, **names) == StatusCategory.TODO


def test_version_states():
    today = date(2026, 3, 1)
    assert version_state("closed", None, today) == SprintState.CLOSED
    assert version_state("open", date(2026, 3, 2), today) == SprintState.FUTURE
    assert version_state("locked", date(2026, 3, 1), today) == SprintState.ACTIVE
    assert version_state("open", None, today) == SprintState.ACTIVE
    assert version_state("archived", None, today) == SprintState.UNKNOWN


# --- error bodies ---------------------------------------------------------------------------------------------


def response(body: object) -> requests.Response:
    resp = requests.Response()
    resp.status_code = 400
    resp._content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return resp


def test_an_error_body_is_read_as_json_or_not_at_all():
    describe = describe_json_error(lambda body: (body.get("oops"), {"field": "bad"}))
    assert describe(response({"oops": "No."})) == ("No.", {"field": "bad"})
    assert describe(response("<html>Bad gateway</html>")) == (None, {})


# --- the metadata cache -------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def config(**changes) -> ConnectionConfig:
    values = {"slug": "acme", "base_url": "https://acme.example", "token": "t0ken", "user_id": 7}
    return ConnectionConfig(**{**values, **changes})


def test_metadata_is_shared_by_the_adapters_of_one_connection_for_its_ttl():
    clock = Clock()
    cache = MetadataCache(ttl=60, clock=clock)
    loads: list[int] = []

    def load() -> str:
        loads.append(1)
        return f"fields #{len(loads)}"

    first = cache.for_connection("jira", config())
    second = cache.for_connection("jira", config())
    assert first.get("fields", load) == "fields #1"
    assert second.get("fields", load) == "fields #1"  # another adapter of the same connection
    clock.now += 59
    assert first.get("fields", load) == "fields #1"
    clock.now += 2
    assert second.get("fields", load) == "fields #2"  # expired
    assert second.get("short", lambda: "x", ttl=1) == "x"
    clock.now += 2
    assert second.get("short", lambda: "y", ttl=1) == "y"


def test_a_changed_connection_starts_empty_and_others_are_apart():
    cache = MetadataCache()
    cache.for_connection("jira", config()).put("fields", "old")
    for changed in (
        config(token="new-token"),
        config(base_url="https://other.example"),
        config(username="ana@acme.example"),
        config(options={"team_id": "9"}),
    ):
        fresh = cache.for_connection("jira", changed)
        assert fresh.get("fields", lambda: "new") == "new"
        cache.for_connection("jira", config()).put("fields", "old")
    assert cache.for_connection("jira", config(user_id=8)).get("fields", lambda: "theirs") == "theirs"
    assert cache.for_connection("redmine", config()).get("fields", lambda: "theirs") == "theirs"
    # The old entries are gone, not merely hidden: going back to the first settings starts empty too.
    cache.for_connection("jira", config(token="rotated"))
    assert cache.for_connection("jira", config()).get("fields", lambda: "reloaded") == "reloaded"


def test_a_failed_load_keeps_nothing():
    metadata = MetadataCache().for_connection("jira", config())

    def fail() -> str:
        raise errors.Unavailable("down")

    with pytest.raises(errors.Unavailable):
        metadata.get("fields", fail)
    assert metadata.get("fields", lambda: "later") == "later"
    metadata.drop("fields")
    assert len(metadata) == 0
