"""The ClickUp adapter's pure functions: vendor JSON in, domain objects out (and back)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from portal.core.providers import errors
from portal.core.providers.base import (
    PageRequest,
    Priority,
    PriorityLevel,
    SprintState,
    StatusCategory,
    TaskChanges,
    TaskDraft,
)
from portal.core.providers.clickup.comments import comment_markdown, parse_comment
from portal.core.providers.clickup.parse import (
    ListPlace,
    SpaceInfo,
    is_sprint_folder,
    parse_due,
    parse_priority,
    parse_project,
    parse_space,
    parse_sprint,
    parse_status,
    parse_task,
    parse_user,
    place_from_list,
    sprint_state,
)
from portal.core.providers.clickup.query import api_root, create_task_body, due_millis, update_task_body
from portal.core.providers.dates import parse_millis, user_timezone
from portal.core.providers.paging import page_of

SLUG = "cu"
BERLIN = ZoneInfo("Europe/Berlin")


def task_body(**overrides):
    body = {
        "id": "86c0abcde",
        "custom_id": None,
        "custom_item_id": 0,
        "name": "Fix login",
        "text_content": "Steps: open the login page",
        "description": "Steps: open the login page",
        "markdown_description": "Steps: open the **login** page",
        "status": {
            "id": "p9_1",
            "status": "in progress",
            "color": "#4194f6",
            "orderindex": 1,
            "type": "custom",
        },
        "date_created": "1767225600000",
        "date_updated": "1767312000000",
        "date_closed": None,
        "date_done": None,
        "creator": {"id": 81, "username": "Ana Silva", "email": "ana@acme.example", "color": "#000"},
        "assignees": [{"id": 82, "username": "Ben Okafor", "email": "ben@acme.example", "initials": "BO"}],
        "tags": [{"name": "backend", "tag_fg": "#000", "tag_bg": "#fff"}],
        "parent": None,
        "priority": {"color": "#ffcc00", "id": "2", "orderindex": "2", "priority": "high"},
        "due_date": None,
        "start_date": None,
        "points": None,
        "time_estimate": None,
        "locations": [],
        "team_id": "9012",
        "url": "https://app.clickup.com/t/86c0abcde",
        "list": {"id": "9001", "name": "Backlog", "access": True},
        "folder": {"id": "8001", "name": "hidden", "hidden": True, "access": True},
        "space": {"id": "7001"},
    }
    body.update(overrides)
    return body


# --- timestamps and dates -------------------------------------------------------------------


def test_millisecond_strings_become_aware_utc_datetimes():
    moment = parse_millis("1767225600000")
    assert moment == datetime(2026, 1, 1, tzinfo=UTC)
    assert moment.tzinfo is UTC
    assert parse_millis(1767225600123) == datetime(2026, 1, 1, 0, 0, 0, 123000, tzinfo=UTC)
    assert parse_millis(None) is None and parse_millis("") is None


def test_due_dates_are_the_calendar_day_in_the_users_zone():
    late_evening_in_berlin = "1767307800000"  # 2026-01-01 23:50 in Berlin, 22:50 UTC
    assert parse_due(late_evening_in_berlin, BERLIN) == date(2026, 1, 1)
    just_after_midnight_in_berlin = "1767222600000"  # 2026-01-01 00:10 in Berlin, 2025-12-31 23:10 UTC
    assert parse_due(just_after_midnight_in_berlin, BERLIN) == date(2026, 1, 1)
    assert parse_due(just_after_midnight_in_berlin, UTC) == date(2025, 12, 31)
    assert parse_due(None, BERLIN) is None


def test_a_due_date_is_written_as_noon_in_the_users_zone_and_reads_back():
    for zone in (BERLIN, ZoneInfo("Pacific/Auckland"), ZoneInfo("America/Los_Angeles"), UTC):
        day = date(2026, 10, 25)  # Europe leaves summer time that day
        millis = due_millis(day, zone)
        assert datetime.fromtimestamp(millis / 1000, zone).hour == 12
        assert parse_due(str(millis), zone) == day


def test_an_unknown_time_zone_falls_back_to_utc():
    assert user_timezone("Mars/Olympus_Mons") is UTC
    assert user_timezone(None) is UTC
    assert user_timezone("Europe/Berlin") == BERLIN


# --- priorities and statuses ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "level"),
    [
        ({"id": "1", "priority": "urgent", "color": "#f50000"}, PriorityLevel.HIGHEST),
        ({"id": "2", "priority": "high", "color": "#ffcc00"}, PriorityLevel.HIGH),
        ({"id": "3", "priority": "normal", "color": "#6fddff"}, PriorityLevel.MEDIUM),
        ({"id": "4", "priority": "low", "color": "#d8d8d8"}, PriorityLevel.LOW),
        (None, PriorityLevel.NONE),
        ({"id": "7", "priority": "someday"}, PriorityLevel.UNKNOWN),
    ],
)
def test_priorities_map_onto_levels(body, level):
    assert parse_priority(body).level == level


def test_priority_names_and_ids_are_kept():
    priority = parse_priority({"id": "1", "priority": "urgent", "color": "#f50000"})
    assert (priority.id, priority.name) == ("1", "urgent")
    assert parse_priority(None).id is None


@pytest.mark.parametrize(
    ("status_type", "category"),
    [
        ("open", StatusCategory.TODO),
        ("custom", StatusCategory.IN_PROGRESS),
        ("done", StatusCategory.DONE),
        ("closed", StatusCategory.DONE),
        ("unstarted", StatusCategory.UNKNOWN),
        (None, StatusCategory.UNKNOWN),
    ],
)
def test_status_types_map_onto_categories(status_type, category):
    status = parse_status(SLUG, {"id": "p9_3", "status": "review", "type": status_type, "color": "#fff"})
    assert status.category == category
    assert (status.id, status.name, status.ref) == ("p9_3", "review", "cu:p9_3")


def test_a_status_without_an_id_is_known_by_its_name():
    status = parse_status(SLUG, {"status": "to do", "type": "open"})
    assert status.id == "to do"


# --- people --------------------------------------------------------------------------------------


def test_users_flat_and_as_workspace_members():
    flat = parse_user(
        SLUG, {"id": 81, "username": "Ana Silva", "email": "ana@acme.example", "initials": "AS"}
    )
    member = parse_user(SLUG, {"user": {"id": 81, "username": "Ana Silva", "email": "ana@acme.example"}})
    assert (flat.id, flat.ref, flat.name, flat.email) == ("81", "cu:81", "Ana Silva", "ana@acme.example")
    assert member.id == flat.id and member.name == flat.name
    pending = parse_user(SLUG, {"id": 83, "username": None, "email": "new@acme.example"})
    assert pending.name == "new@acme.example"


# --- tasks -------------------------------------------------------------------------------------------


def test_a_task_body_maps_onto_the_model():
    task = parse_task(SLUG, task_body(), tz=BERLIN)
    assert (task.ref, task.id, task.key, task.title) == (
        "cu:86c0abcde",
        "86c0abcde",
        "86c0abcde",
        "Fix login",
    )
    assert task.url == "https://app.clickup.com/t/86c0abcde"
    assert task.status.name == "in progress" and task.status.category == StatusCategory.IN_PROGRESS
    assert task.project_ref == "cu:9001"
    assert task.description == "Steps: open the **login** page"
    assert task.priority.level == PriorityLevel.HIGH
    assert task.assignee.id == "82" and task.reporter.name == "Ana Silva"
    assert task.created_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert task.updated_at == datetime(2026, 1, 2, tzinfo=UTC)
    assert task.labels == ["backend"] and task.type == "task"
    assert task.done_at is None and task.sprint_ref is None and task.parent_ref is None
    assert "folder_id" not in task.extra, "a folderless list's hidden folder is not shown"


def test_estimates_points_and_done_dates():
    task = parse_task(
        SLUG,
        task_body(time_estimate=9_000_000, points=5, date_done="1767312000000", date_closed="1767398400000"),
    )
    assert task.estimate_hours == 2.5 and task.story_points == 5.0
    assert task.done_at == datetime(2026, 1, 2, tzinfo=UTC), "date_done wins over date_closed"
    closed_only = parse_task(SLUG, task_body(date_done=None, date_closed="1767398400000"))
    assert closed_only.done_at == datetime(2026, 1, 3, tzinfo=UTC)


def test_null_priority_is_level_none_and_a_custom_id_is_the_key():
    task = parse_task(
        SLUG, task_body(priority=None, custom_id="ENG-12", custom_item_id=1, parent="86c0parent")
    )
    assert task.priority.level == PriorityLevel.NONE
    assert task.key == "ENG-12" and task.type == "milestone"
    assert task.parent_ref == "cu:86c0parent"


def test_sprint_membership_comes_from_the_home_list_or_other_lists():
    planned = task_body(locations=[{"id": "9100", "name": "Sprint 2"}])
    assert parse_task(SLUG, planned, sprint_list_ids={"9100"}).sprint_ref == "cu:9100"
    assert parse_task(SLUG, planned, sprint_list_ids=set()).sprint_ref is None
    home_in_sprint = task_body(list={"id": "9100", "name": "Sprint 2"})
    assert parse_task(SLUG, home_in_sprint, sprint_list_ids={"9100"}).sprint_ref == "cu:9100"


def test_description_falls_back_to_text_content_when_markdown_was_not_asked_for():
    body = task_body()
    del body["markdown_description"]
    assert parse_task(SLUG, body).description == "Steps: open the login page"
    assert parse_task(SLUG, task_body(markdown_description="")).description is None


def test_markdown_description_round_trips_through_create_and_parse():
    markdown = (
        "Steps:\n\n1. Open the **login** page\n2. Type `admin`\n\nSee [docs](https://example.com/docs)."
    )
    body = create_task_body(TaskDraft(title="Login fails", description=markdown))
    assert body["markdown_content"] == markdown
    assert parse_task(SLUG, task_body(markdown_description=body["markdown_content"])).description == markdown


# --- request bodies ------------------------------------------------------------------------------


def test_create_body_carries_clickup_fields():
    draft = TaskDraft(
        title="Draft",
        priority=Priority(id="1", name="urgent", level=PriorityLevel.HIGHEST),
        assignee_id="82",
        due=date(2026, 2, 3),
        estimate_hours=0.5,
        story_points=3,
        parent_id="86c0parent",
        labels=("ui", "bug"),
    )
    body = create_task_body(draft, BERLIN)
    assert body == {
        "name": "Draft",
        "notify_all": False,
        "assignees": [82],
        "priority": 1,
        "due_date": due_millis(date(2026, 2, 3), BERLIN),
        "due_date_time": False,
        "time_estimate": 1_800_000,
        "points": 3,
        "parent": "86c0parent",
        "tags": ["ui", "bug"],
    }


def test_create_body_refuses_what_clickup_cannot_take():
    with pytest.raises(errors.NotSupported):
        create_task_body(TaskDraft(title="x", epic_id="1"))
    with pytest.raises(errors.NotSupported):
        create_task_body(TaskDraft(title="x", type="Bug"))
    with pytest.raises(errors.InvalidInput) as caught:
        create_task_body(TaskDraft(title="x", assignee_id="ana"))
    assert "assignee_id" in caught.value.field_errors
    with pytest.raises(errors.InvalidInput):
        create_task_body(
            TaskDraft(title="x", priority=Priority(id="P1", name="Blocker", level=PriorityLevel.HIGHEST))
        )


def test_update_body_sets_and_clears():
    body = update_task_body(TaskChanges(title="New", description="Now *better*", due=date(2026, 5, 1)), UTC)
    assert body == {
        "name": "New",
        "markdown_content": "Now *better*",
        "due_date": due_millis(date(2026, 5, 1), UTC),
        "due_date_time": False,
    }
    cleared = update_task_body(TaskChanges(description=None, due=None, priority=None, estimate_hours=None))
    assert cleared == {
        "description": " ",
        "due_date": None,
        "due_date_time": False,
        "priority": None,
        "time_estimate": None,
    }
    assert update_task_body(TaskChanges()) == {}
    with pytest.raises(errors.NotSupported):
        update_task_body(TaskChanges(parent_id=None))


# --- comments ---------------------------------------------------------------------------------------


def test_a_comment_posted_as_markdown_reads_back_unchanged():
    markdown = "Looks good. **Ship it** after `make test`:\n\n- one\n- two"
    body = {
        "id": "458",
        "comment": [{"text": markdown + "\n"}],
        "comment_text": markdown + "\n",
        "user": {"id": 81, "username": "Ana Silva", "email": "ana@acme.example"},
        "resolved": False,
        "assignee": None,
        "assigned_by": None,
        "reactions": [],
        "date": "1767225600000",
    }
    comment = parse_comment(SLUG, body)
    assert comment.body == markdown
    assert comment.ref == "cu:458" and comment.author.name == "Ana Silva"
    assert comment.created_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_rich_comment_text_becomes_markdown():
    segments = [
        {"text": "Plan", "attributes": {"bold": True}},
        {"text": "\n", "attributes": {"header": 2}},
        {"text": "Read "},
        {"text": "the docs", "attributes": {"link": "https://example.com/docs"}},
        {"text": " and run "},
        {"text": "make test", "attributes": {"code": True}},
        {"text": "\n"},
        {"text": "first"},
        {"text": "\n", "attributes": {"list": {"list": "ordered"}}},
        {"text": "second ", "attributes": {"italic": True}},
        {"text": "\n", "attributes": {"list": {"list": "ordered"}}},
        {"text": "loose"},
        {"text": "\n", "attributes": {"list": {"list": "bullet"}}},
        {"text": "print(1)"},
        {"text": "\n", "attributes": {"code-block": True}},
        {"text": "quoted"},
        {"text": "\n", "attributes": {"blockquote": True}},
        {"type": "emoticon", "emoticon": {"code": "1f44d"}},
    ]
    assert comment_markdown(segments) == (
        "## **Plan**\n"
        "Read [the docs](https://example.com/docs) and run `make test`\n"
        "1. first\n"
        "2. *second* \n"
        "- loose\n"
        "```\nprint(1)\n```\n"
        "> quoted"
    )


def test_comment_falls_back_to_comment_text():
    comment = parse_comment(SLUG, {"id": "9", "comment_text": "plain\n", "user": None, "date": "0"})
    assert comment.body == "plain" and comment.author is None


# --- hierarchy and sprints ------------------------------------------------------------------------


def test_space_features_tell_sprints_and_points():
    space = parse_space(
        {
            "id": "7001",
            "name": "Engineering",
            "features": {"sprints": {"enabled": True}, "points": {"enabled": True}},
        }
    )
    assert space == SpaceInfo(id="7001", name="Engineering", sprints=True, points=True)
    assert not parse_space(
        {"id": "7002", "name": "Ops", "features": {"due_dates": {"enabled": True}}}
    ).sprints


def test_sprint_folders_need_the_clickapp_and_sprint_lists():
    sprints_on = SpaceInfo("7001", "Engineering", sprints=True, points=True)
    sprints_off = SpaceInfo("7002", "Marketing", sprints=False, points=False)
    dated = {"id": "1", "name": "Sprint 1", "start_date": "1", "due_date": "2"}
    undated = {"id": "2", "name": "Backlog", "start_date": None, "due_date": None}
    assert is_sprint_folder(sprints_on, {"name": "Sprint Folder", "lists": [dated]})
    assert is_sprint_folder(sprints_on, {"name": "Iterations", "lists": [dated]})
    assert not is_sprint_folder(sprints_on, {"name": "Mobile", "lists": [dated, undated]})
    assert not is_sprint_folder(sprints_off, {"name": "Sprint Folder", "lists": [dated]})
    assert not is_sprint_folder(sprints_on, {"name": "Sprint Folder", "lists": []})


def test_a_list_is_a_project_named_by_its_place():
    folderless = place_from_list(
        {
            "id": "9001",
            "name": "Backlog",
            "content": "Unplanned work",
            "folder": {"id": "8001", "name": "hidden", "hidden": True},
            "space": {"id": "7001", "name": "Engineering"},
        }
    )
    project = parse_project(SLUG, folderless, "9012")
    assert (project.ref, project.name, project.key) == ("cu:9001", "Engineering / Backlog", "9001")
    assert project.url == "https://app.clickup.com/9012/v/li/9001"
    assert project.description == "Unplanned work"
    in_folder = place_from_list(
        {
            "id": "9002",
            "name": "iOS",
            "folder": {"id": "8002", "name": "Mobile"},
            "space": {"id": "7001", "name": "Eng"},
        }
    )
    assert parse_project(SLUG, in_folder, "9012").name == "Eng / Mobile / iOS"


@pytest.mark.parametrize(
    ("now_day", "state"),
    [(1, SprintState.FUTURE), (10, SprintState.ACTIVE), (14, SprintState.ACTIVE), (20, SprintState.CLOSED)],
)
def test_sprint_state_follows_its_dates(now_day, state):
    start = datetime(2026, 3, 2, tzinfo=UTC)
    end = datetime(2026, 3, 15, tzinfo=UTC)
    assert sprint_state(start, end, datetime(2026, 3, now_day, tzinfo=UTC)) == state


def test_a_sprint_without_dates_has_unknown_state():
    assert sprint_state(None, None, datetime.now(UTC)) == SprintState.UNKNOWN


def test_a_sprint_list_maps_onto_a_sprint():
    place = ListPlace(
        list_id="9100",
        list_name="Sprint 2",
        space_id="7001",
        space_name="Engineering",
        folder_id="8100",
        folder_name="Sprint Folder",
        sprint=True,
        start=parse_millis("1767225600000"),
        due=parse_millis("1768435200000"),
    )
    sprint = parse_sprint(SLUG, place, "9012", datetime(2026, 1, 5, tzinfo=UTC))
    assert (sprint.ref, sprint.name, sprint.state) == ("cu:9100", "Sprint 2", SprintState.ACTIVE)
    assert sprint.start == datetime(2026, 1, 1, tzinfo=UTC) and sprint.end == datetime(
        2026, 1, 15, tzinfo=UTC
    )
    assert sprint.completed_at is None and sprint.extra["folder_name"] == "Sprint Folder"


# --- plumbing -------------------------------------------------------------------------------------------


def test_api_root_accepts_the_base_url_with_or_without_the_api_path():
    for base in ("https://api.clickup.com", "https://api.clickup.com/", "https://api.clickup.com/api"):
        assert api_root(base) == "https://api.clickup.com/api/v2/"
    assert api_root("https://api.clickup.com/api/v2/") == "https://api.clickup.com/api/v2/"


def test_offset_pages_and_their_cursors():
    first = page_of(list(range(5)), PageRequest(limit=2))
    assert first.items == [0, 1] and first.next_cursor == "2" and first.total == 5
    last = page_of(list(range(5)), PageRequest(limit=2, cursor="4"))
    assert last.items == [4] and last.next_cursor is None
    with pytest.raises(errors.InvalidInput):
        page_of([1], PageRequest(cursor="t:1:2"))
    with pytest.raises(errors.InvalidInput):
        page_of([1], PageRequest(cursor="-1"))
