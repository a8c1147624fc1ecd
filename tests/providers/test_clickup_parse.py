"""The ClickUp adapter's pure functions: vendor JSON in, domain objects out (and back)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from portal.core.providers import errors
from portal.core.providers.base import (
    UNSET,
    FieldType,
    LinkKind,
    PageRequest,
    Priority,
    PriorityLevel,
    SprintState,
    StatusCategory,
    TaskChanges,
    TaskDraft,
    WorklogDraft,
)
from portal.core.providers.clickup.comments import comment_markdown, parse_comment
from portal.core.providers.clickup.fields import clickup_value, create_values, parse_field, update_writes
from portal.core.providers.clickup.links import dependency_id, parse_links, read_link_id, task_link_id
from portal.core.providers.clickup.parse import (
    ListPlace,
    SpaceInfo,
    blocker_ids,
    custom_field_value,
    custom_field_values,
    is_done,
    is_sprint_folder,
    may_be_in_a_sprint,
    named_for_sprints,
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
from portal.core.providers.clickup.sprints import (
    check_sprint_values,
    day_millis,
    sprint_list_body,
    start_kept,
)
from portal.core.providers.clickup.worklogs import (
    created_entry,
    day_range_millis,
    duration_millis,
    parse_time_entry,
    time_entry_body,
)
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


# --- sprint work: reads that decide what metadata a task needs ---------------------------------------


def test_only_a_task_in_a_folder_or_in_other_lists_may_be_in_a_sprint():
    assert not may_be_in_a_sprint(task_body())  # a folderless List, and no other List
    assert may_be_in_a_sprint(task_body(folder={"id": "8002", "name": "Mobile", "hidden": False}))
    assert may_be_in_a_sprint(task_body(locations=[{"id": "9100", "name": "Sprint 2"}]))


def test_a_folder_is_named_for_sprints_when_shown_and_so_named():
    assert named_for_sprints({"id": "8100", "name": "Sprint Folder", "hidden": False})
    assert not named_for_sprints({"id": "8001", "name": "sprint", "hidden": True})
    assert not named_for_sprints({"id": "8002", "name": "Mobile"})


def test_done_means_a_done_or_closed_status_type():
    assert not is_done(task_body())
    assert is_done(task_body(status={"status": "shipped", "type": "done"}))
    assert is_done(task_body(status={"status": "closed", "type": "closed"}))


def test_a_sprint_keeps_its_goal_and_a_closed_one_its_end():
    place = ListPlace(
        list_id="9100",
        list_name="Sprint 1",
        space_id="7001",
        space_name="Engineering",
        folder_id="8100",
        folder_name="Sprint Folder",
        sprint=True,
        start=datetime(2026, 1, 1, tzinfo=UTC),
        due=datetime(2026, 1, 14, tzinfo=UTC),
        content="Ship sign-in",
    )
    sprint = parse_sprint(SLUG, place, "9012", datetime(2026, 2, 1, tzinfo=UTC))
    assert sprint.state == SprintState.CLOSED and sprint.goal == "Ship sign-in"
    assert sprint.completed_at == datetime(2026, 1, 14, tzinfo=UTC)


# --- links -----------------------------------------------------------------------------------------


def test_dependencies_read_by_which_side_the_task_is_on():
    waiting = task_body(
        id="86ca",
        dependencies=[
            {"task_id": "86ca", "depends_on": "86cb", "type": 1, "date_created": "1"},
            {"task_id": "86cc", "depends_on": "86ca", "type": 0, "date_created": "2"},
            {"task_id": "86cx", "depends_on": "86cy", "type": 1},  # not about this task
        ],
        linked_tasks=[{"task_id": "86cd", "link_id": "86ca", "date_created": "3", "userid": "81"}],
    )
    links = {link.id: link for link in parse_links(SLUG, waiting)}
    assert set(links) == {"dep.86ca.86cb", "dep.86cc.86ca", "link.86cd.86ca"}
    assert (links["dep.86ca.86cb"].kind, links["dep.86ca.86cb"].label) == (LinkKind.BLOCKED_BY, "waiting on")
    assert links["dep.86ca.86cb"].other_ref == "cu:86cb" and links["dep.86ca.86cb"].task_ref == "cu:86ca"
    assert (links["dep.86cc.86ca"].kind, links["dep.86cc.86ca"].other_key) == (LinkKind.BLOCKS, "86cc")
    assert (links["link.86cd.86ca"].kind, links["link.86cd.86ca"].other_key) == (LinkKind.RELATES, "86cd")
    assert links["link.86cd.86ca"].ref == "cu:link.86cd.86ca"
    assert blocker_ids(waiting) == ["86cb"]


def test_a_link_read_from_the_other_task_is_the_same_link():
    blocker = task_body(id="86cb", dependencies=[{"task_id": "86ca", "depends_on": "86cb", "type": 0}])
    (link,) = parse_links(SLUG, blocker)
    assert (link.id, link.kind, link.other_key) == ("dep.86ca.86cb", LinkKind.BLOCKS, "86ca")
    assert blocker_ids(blocker) == []


def test_link_ids_read_back_and_others_are_refused():
    assert read_link_id(dependency_id("86ca", "86cb")) == ("dep", "86ca", "86cb")
    assert read_link_id(task_link_id("86ca", "86cb")) == ("link", "86ca", "86cb")
    for bad in ("86ca", "dep.86ca", "rel.86ca.86cb", "dep..86cb", "dep.a.b.c"):
        with pytest.raises(errors.InvalidInput):
            read_link_id(bad)


# --- custom fields ------------------------------------------------------------------------------------

SEVERITY = {
    "id": "f-sev",
    "name": "Severity",
    "type": "drop_down",
    "type_config": {
        "options": [
            {"id": "o-low", "name": "Low", "color": None, "orderindex": 0},
            {"id": "o-high", "name": "High", "color": None, "orderindex": 1},
        ]
    },
}
COMPONENTS = {
    "id": "f-com",
    "name": "Components",
    "type": "labels",
    "type_config": {
        "options": [{"id": "l-api", "label": "API", "color": None}, {"id": "l-web", "label": "Web"}]
    },
}
REVIEWER = {"id": "f-rev", "name": "Reviewer", "type": "users", "type_config": {"single_user": True}}
RELEASED = {"id": "f-rel", "name": "Released on", "type": "date", "type_config": {}}


def test_field_definitions_map_onto_field_types():
    severity = parse_field(SEVERITY)
    assert (severity.type, severity.allowed, severity.custom, severity.settable) == (
        FieldType.OPTION,
        ("Low", "High"),
        True,
        True,
    )
    assert parse_field(COMPONENTS).type == FieldType.OPTIONS and parse_field(COMPONENTS).allowed == (
        "API",
        "Web",
    )
    assert parse_field(REVIEWER).type == FieldType.USER
    assert parse_field({**REVIEWER, "type_config": {}}).type == FieldType.USERS
    formula = parse_field({"id": "f-x", "name": "Score", "type": "formula", "type_config": {}})
    assert formula.type == FieldType.OTHER and not formula.settable
    assert (
        parse_field({"id": "f-t", "name": "Notes", "type": "text", "type_config": {}}).type
        == FieldType.MARKDOWN
    )


def test_values_become_what_clickup_takes():
    assert clickup_value(SEVERITY, "high") == "o-high"
    assert clickup_value(COMPONENTS, ["Web", "api"]) == ["l-web", "l-api"]
    assert clickup_value(REVIEWER, ["82"]) == [82]
    assert clickup_value(RELEASED, date(2026, 3, 29), BERLIN) == due_millis(date(2026, 3, 29), BERLIN)
    number = {"id": "f-n", "name": "Effort", "type": "number", "type_config": {}}
    assert clickup_value(number, 2.5) == 2.5
    with pytest.raises(errors.InvalidInput) as caught:
        clickup_value(SEVERITY, "Blocker")
    assert "Low, High" in str(caught.value)
    for data, value in ((number, "three"), (number, True), (RELEASED, "2026-03-29"), (COMPONENTS, 3)):
        with pytest.raises(errors.InvalidInput):
            clickup_value(data, value)
    with pytest.raises(errors.InvalidInput, match="set it in ClickUp"):
        clickup_value({"id": "f-x", "name": "Score", "type": "formula", "type_config": {}}, 1)


def test_create_values_and_update_writes():
    assert create_values([SEVERITY, COMPONENTS], {"f-sev": "Low", "f-com": None}, UTC) == [
        {"id": "f-sev", "value": "o-low"}
    ]
    on_task = [
        {**SEVERITY, "value": 1},
        {
            **REVIEWER,
            "type_config": {},
            "value": [{"id": 81, "username": "Ana"}, {"id": 82, "username": "Ben"}],
        },
        COMPONENTS,
    ]
    writes = update_writes(on_task, {"f-sev": None, "f-rev": ["82", "83"], "f-com": ["API"]}, UTC)
    assert writes == [
        ("DELETE", "f-sev", None),
        ("POST", "f-rev", {"value": {"add": [83], "rem": [81]}}),
        ("POST", "f-com", {"value": ["l-api"]}),
    ]
    with pytest.raises(errors.InvalidInput, match="no custom field"):
        update_writes(on_task, {"f-sev": "Low", "f-nope": 1}, UTC)


def test_a_tasks_custom_field_values_read_as_people_read_them():
    values = custom_field_values(
        [
            {**SEVERITY, "value": 1},  # a drop-down shows its option's orderindex
            {**COMPONENTS, "value": ["l-web"]},
            {**REVIEWER, "value": [{"id": 82, "username": "Ben Okafor"}]},
            {**RELEASED, "value": "1774778400000"},
            {"id": "f-n", "name": "Effort", "type": "number", "value": "3"},
            {"id": "f-c", "name": "Approved", "type": "checkbox", "value": "true"},
            {"id": "f-e", "name": "Empty", "type": "short_text"},
        ]
    )
    assert values == {
        "Severity": "High",
        "Components": ["Web"],
        "Reviewer": ["Ben Okafor"],
        "Released on": "2026-03-29",
        "Effort": 3.0,
        "Approved": True,
    }
    assert custom_field_value({**SEVERITY, "value": "o-low"}) == "Low"
    task = parse_task(SLUG, task_body(custom_fields=[{**SEVERITY, "value": 0}]))
    assert task.extra["fields"] == {"Severity": "Low"}


# --- time entries -----------------------------------------------------------------------------------


def test_a_time_entry_maps_onto_a_worklog():
    worklog = parse_time_entry(
        SLUG,
        {
            "id": "4001",
            "task": {"id": "86ca", "name": "Fix login"},
            "user": {"id": 81, "username": "Ana Silva"},
            "start": "1767225600000",
            "duration": "5400000",
            "description": "Paired on the **fix**",
            "at": "1767232800000",
        },
    )
    assert (worklog.ref, worklog.task_ref, worklog.hours) == ("cu:4001", "cu:86ca", 1.5)
    assert worklog.started == datetime(2026, 1, 1, tzinfo=UTC) and worklog.author.name == "Ana Silva"
    assert worklog.comment == "Paired on the **fix**" and worklog.extra["task_title"] == "Fix login"
    running = parse_time_entry(SLUG, {"id": "4002", "tid": "86cb", "duration": "-1800000", "description": ""})
    assert running.hours == 0.5 and running.task_ref == "cu:86cb" and running.comment is None


def test_a_created_entry_is_read_flat_or_under_data():
    assert created_entry({"id": "1", "duration": 5}) == {"id": "1", "duration": 5}
    assert created_entry({"data": {"id": "2"}}) == {"id": "2"}
    assert created_entry(None) == {}


def test_time_to_log_must_be_positive_and_ends_now_without_a_start():
    now = datetime(2026, 1, 5, 12, tzinfo=UTC)
    body = time_entry_body("86ca", WorklogDraft(hours=1.5, comment="Review"), now)
    assert body == {
        "tid": "86ca",
        "start": int(now.timestamp() * 1000) - 5_400_000,
        "duration": 5_400_000,
        "billable": False,
        "description": "Review",
    }
    started = datetime(2026, 1, 5, 8, tzinfo=UTC)
    assert time_entry_body("86ca", WorklogDraft(hours=1, started=started), now)["start"] == int(
        started.timestamp() * 1000
    )
    for hours in (0, -1, True, "2"):
        with pytest.raises(errors.InvalidInput):
            duration_millis(hours)


def test_whole_days_become_a_millisecond_range():
    first, last = day_range_millis(date(2026, 1, 5), date(2026, 1, 6))
    assert first == int(datetime(2026, 1, 5, tzinfo=UTC).timestamp() * 1000)
    assert last == int(datetime(2026, 1, 7, tzinfo=UTC).timestamp() * 1000) - 1
    with pytest.raises(errors.InvalidInput):
        day_range_millis(date(2026, 1, 6), date(2026, 1, 5))


# --- sprint writes ------------------------------------------------------------------------------------


def test_sprint_days_are_whole_days_in_the_users_zone():
    assert day_millis(date(2026, 3, 2), BERLIN) == int(datetime(2026, 3, 2, tzinfo=BERLIN).timestamp() * 1000)
    assert day_millis(date(2026, 3, 15), BERLIN, end=True) == int(
        datetime(2026, 3, 15, 23, 59, 59, tzinfo=BERLIN).timestamp() * 1000
    )


def test_sprint_values_are_checked_before_anything_is_sent():
    check_sprint_values("Sprint 4", date(2026, 3, 2), date(2026, 3, 2))
    with pytest.raises(errors.InvalidInput):
        check_sprint_values("  ", None, None)
    with pytest.raises(errors.InvalidInput, match="before it starts"):
        check_sprint_values("Sprint 4", date(2026, 3, 2), date(2026, 3, 1))


def test_a_sprint_list_body_leaves_out_what_is_unset_and_clears_none():
    assert sprint_list_body("Sprint 4", UNSET, UNSET, UNSET) == {"name": "Sprint 4"}
    assert sprint_list_body("Sprint 4", None, 10, None, time_of_day=True) == {
        "name": "Sprint 4",
        "content": "",
        "start_date": 10,
        "start_date_time": True,
        "due_date": None,
        "due_date_time": True,
    }


def test_a_start_date_is_kept_when_clickup_answers_it_back():
    assert start_kept(1767225600000, {"start_date": "1767225600000"})
    assert not start_kept(1767225600000, {"start_date": None})
    assert not start_kept(1767225600000, {})
    assert start_kept(None, {"start_date": None})
