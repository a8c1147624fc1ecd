"""The pure parts of the JIRA adapter: JSON -> domain objects, errors, JQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from portal.core.providers import errors
from portal.core.providers.base import (
    ME,
    PriorityLevel,
    SprintState,
    Status,
    StatusCategory,
    TaskQuery,
    TaskSort,
)
from portal.core.providers.dates import parse_timestamp
from portal.core.providers.jira.parse import (
    board_location_project,
    current_sprint_board,
    current_sprint_id,
    find_sprint_field,
    parse_comment,
    parse_epic,
    parse_error,
    parse_estimation_field,
    parse_issue,
    parse_priority,
    parse_project,
    parse_project_statuses,
    parse_sprint,
    parse_status,
    parse_transition_targets,
    parse_user,
    sprint_boards,
    sprint_field_in_schema,
)
from portal.core.providers.jira.query import build_task_jql, jql_string, jql_text
from portal.core.providers.vendor import describe_json_error

SLUG = "acme"
BASE = "https://acme.atlassian.net"


def status(status_id: str, name: str, key: str) -> dict:
    return {
        "self": f"{BASE}/rest/api/3/status/{status_id}",
        "description": "",
        "iconUrl": f"{BASE}/images/icons/statuses/generic.png",
        "name": name,
        "id": status_id,
        "statusCategory": {
            "self": f"{BASE}/rest/api/3/statuscategory/4",
            "id": 4,
            "key": key,
            "colorName": "yellow",
            "name": name,
        },
    }


USER = {
    "self": f"{BASE}/rest/api/3/user?accountId=712020:1c2b",
    "accountId": "712020:1c2b",
    "emailAddress": "ana@acme.com",
    "avatarUrls": {"48x48": "https://avatar-management.example/48.png"},
    "displayName": "Ana Silva",
    "active": True,
    "timeZone": "Europe/Lisbon",
    "accountType": "atlassian",
}

ISSUE = {
    "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
    "id": "10231",
    "self": f"{BASE}/rest/api/3/issue/10231",
    "key": "SHOP-42",
    "fields": {
        "summary": "Card payments time out",
        "status": status("3", "In Progress", "indeterminate"),
        "priority": {"self": f"{BASE}/rest/api/3/priority/2", "iconUrl": "x", "name": "High", "id": "2"},
        "assignee": USER,
        "reporter": {**USER, "accountId": "5b10a2844c20165700ede21g", "displayName": "Mia Krystof"},
        "project": {
            "self": f"{BASE}/rest/api/3/project/10000",
            "id": "10000",
            "key": "SHOP",
            "name": "Shop",
            "projectTypeKey": "software",
            "simplified": False,
        },
        "issuetype": {"id": "10001", "name": "Story", "subtask": False, "hierarchyLevel": 0},
        "parent": {
            "id": "10200",
            "key": "SHOP-7",
            "self": f"{BASE}/rest/api/3/issue/10200",
            "fields": {
                "summary": "Payments",
                "status": status("3", "In Progress", "indeterminate"),
                "issuetype": {"id": "10000", "name": "Epic", "subtask": False, "hierarchyLevel": 1},
            },
        },
        "description": {
            "type": "doc",
            "version": 1,
            "content": [
                {
                    "type": "paragraph",
                    "content": [
                        {"type": "text", "text": "Fails after "},
                        {"type": "text", "text": "30 s", "marks": [{"type": "strong"}]},
                    ],
                }
            ],
        },
        "duedate": "2026-02-01",
        "created": "2026-01-05T10:00:00.000+0100",
        "updated": "2026-01-06T09:15:30.123+0000",
        "resolutiondate": None,
        "statuscategorychangedate": "2026-01-05T11:00:00.000+0100",
        "labels": ["payments", "p1"],
        "timetracking": {"originalEstimate": "1d", "originalEstimateSeconds": 28800},
        "timeoriginalestimate": 28800,
        "customfield_10020": [
            {
                "id": 11,
                "name": "Sprint 11",
                "state": "closed",
                "boardId": 3,
                "completeDate": "2026-01-02T10:00:00.000Z",
            },
            {"id": 12, "name": "Sprint 12", "state": "active", "boardId": 3},
        ],
        "customfield_10031": 5.0,
        "customfield_10016": 99,
    },
}


# --- issues ----------------------------------------------------------------------------------------


def test_an_issue_becomes_a_task():
    task = parse_issue(
        ISSUE, SLUG, BASE, sprint_field="customfield_10020", story_points_field="customfield_10031"
    )
    assert (task.ref, task.id, task.key) == ("acme:SHOP-42", "SHOP-42", "SHOP-42")
    assert task.title == "Card payments time out"
    assert task.url == f"{BASE}/browse/SHOP-42"
    assert task.status.category == StatusCategory.IN_PROGRESS and task.status.ref == "acme:3"
    assert task.priority.level == PriorityLevel.HIGH
    assert task.assignee.email == "ana@acme.com" and task.assignee.ref == "acme:712020:1c2b"
    assert task.reporter.name == "Mia Krystof"
    assert task.project_ref == "acme:SHOP"
    assert task.type == "Story"
    assert task.description == "Fails after **30 s**"
    assert task.due == date(2026, 2, 1)
    assert task.created_at == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert task.updated_at == datetime(2026, 1, 6, 9, 15, 30, 123000, tzinfo=UTC)
    assert task.done_at is None  # not done: the category change is not a completion
    assert task.estimate_hours == 8
    assert task.story_points == 5  # the board's field, not the look-alike
    assert task.epic_ref == "acme:SHOP-7" and task.parent_ref is None
    assert task.sprint_ref == "acme:12"
    assert task.extra["sprint_refs"] == ["acme:11", "acme:12"]
    assert task.labels == ["payments", "p1"]


def test_a_list_result_without_description_leaves_it_unknown():
    fields = {k: v for k, v in ISSUE["fields"].items() if k != "description"}
    task = parse_issue({**ISSUE, "fields": fields}, SLUG, BASE)
    assert task.description is None
    assert task.story_points is None and task.sprint_ref is None  # fields not named, not read


def test_a_sub_task_parent_is_a_parent_not_an_epic():
    parent = {
        "key": "SHOP-41",
        "fields": {"issuetype": {"name": "Story", "subtask": False, "hierarchyLevel": 0}},
    }
    task = parse_issue({**ISSUE, "fields": {**ISSUE["fields"], "parent": parent}}, SLUG, BASE)
    assert task.parent_ref == "acme:SHOP-41" and task.epic_ref is None


def test_done_at_is_the_resolution_date_or_the_move_into_done():
    done = status("10002", "Done", "done")
    resolved = {**ISSUE["fields"], "status": done, "resolutiondate": "2026-01-07T12:00:00.000+0000"}
    assert parse_issue({**ISSUE, "fields": resolved}, SLUG, BASE).done_at == datetime(
        2026, 1, 7, 12, tzinfo=UTC
    )
    unresolved = {**ISSUE["fields"], "status": done, "resolutiondate": None}
    assert parse_issue({**ISSUE, "fields": unresolved}, SLUG, BASE).done_at == datetime(
        2026, 1, 5, 10, tzinfo=UTC
    )


def test_a_bare_issue_parses():
    task = parse_issue({"id": "1", "key": "X-1", "fields": {"summary": "Hi"}}, SLUG, BASE)
    assert (task.title, task.status, task.assignee, task.estimate_hours, task.labels) == (
        "Hi",
        None,
        None,
        None,
        [],
    )


# --- statuses ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "category"),
    [
        ("new", StatusCategory.TODO),
        ("indeterminate", StatusCategory.IN_PROGRESS),
        ("done", StatusCategory.DONE),
        ("undefined", StatusCategory.UNKNOWN),
        ("something-new", StatusCategory.UNKNOWN),
    ],
)
def test_status_categories_map_by_key(key, category):
    assert parse_status(status("5", "Whatever", key), SLUG).category == category


def test_a_status_without_category_is_unknown():
    assert parse_status({"id": "9", "name": "Limbo"}, SLUG).category == StatusCategory.UNKNOWN
    assert parse_status(None, SLUG) is None


def test_project_statuses_are_listed_once():
    data = [
        {
            "id": "1",
            "name": "Task",
            "subtask": False,
            "statuses": [status("1", "To Do", "new"), status("3", "Done", "done")],
        },
        {
            "id": "2",
            "name": "Bug",
            "subtask": False,
            "statuses": [status("3", "Done", "done"), status("4", "Triage", "new")],
        },
    ]
    assert [s.name for s in parse_project_statuses(data, SLUG)] == ["To Do", "Done", "Triage"]


def test_transition_targets_skip_unavailable_and_repeated_targets():
    data = {
        "transitions": [
            {
                "id": "21",
                "name": "Start",
                "to": status("3", "In Progress", "indeterminate"),
                "isAvailable": True,
            },
            {"id": "22", "name": "Start again", "to": status("3", "In Progress", "indeterminate")},
            {"id": "31", "name": "Close", "to": status("5", "Done", "done"), "isAvailable": False},
        ]
    }
    (target,) = parse_transition_targets(data, SLUG)
    assert (target.name, target.extra["transition_id"]) == ("In Progress", "21")


# --- priorities, users, projects ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("Highest", PriorityLevel.HIGHEST),
        ("High", PriorityLevel.HIGH),
        ("Medium", PriorityLevel.MEDIUM),
        ("Low", PriorityLevel.LOW),
        ("Lowest", PriorityLevel.LOWEST),
        ("Blocker", PriorityLevel.HIGHEST),
        ("Trivial", PriorityLevel.LOWEST),
        ("P1 - drop everything", PriorityLevel.UNKNOWN),
    ],
)
def test_priority_names_map_onto_levels(name, level):
    priority = parse_priority({"id": "7", "name": name, "isDefault": False})
    assert (priority.id, priority.name, priority.level) == ("7", name, level)


def test_a_user_with_a_hidden_email():
    user = parse_user({**USER, "emailAddress": None}, SLUG, BASE)
    assert user.email is None and user.url == f"{BASE}/jira/people/712020%3A1c2b"
    assert parse_user({"displayName": "Former user"}, SLUG, BASE) is None


def test_a_project():
    project = parse_project(
        {"id": "10000", "key": "SHOP", "name": "Shop", "projectTypeKey": "software", "simplified": True},
        SLUG,
        BASE,
    )
    assert (project.ref, project.id, project.key, project.url) == (
        "acme:SHOP",
        "SHOP",
        "SHOP",
        f"{BASE}/browse/SHOP",
    )
    assert project.extra == {"project_id": "10000", "project_type": "software", "team_managed": True}


def test_a_comment():
    comment = parse_comment(
        {
            "id": "10500",
            "author": USER,
            "body": {
                "type": "doc",
                "version": 1,
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": "LGTM"}]}],
            },
            "created": "2026-01-05T10:00:00.000+0100",
            "updated": "2026-01-05T10:00:00.000+0100",
        },
        SLUG,
        BASE,
        "SHOP-42",
    )
    assert (comment.ref, comment.body, comment.author.name) == ("acme:10500", "LGTM", "Ana Silva")
    assert comment.url == f"{BASE}/browse/SHOP-42?focusedCommentId=10500"


def test_an_epic():
    epic = parse_epic(
        {
            "id": "10200",
            "key": "SHOP-7",
            "fields": {
                "summary": "Payments",
                "status": status("3", "In Progress", "indeterminate"),
                "project": {"key": "SHOP"},
            },
        },
        SLUG,
        BASE,
    )
    assert (epic.ref, epic.title, epic.project_ref, epic.description) == (
        "acme:SHOP-7",
        "Payments",
        "acme:SHOP",
        None,
    )


# --- sprints and fields ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("future", SprintState.FUTURE),
        ("active", SprintState.ACTIVE),
        ("closed", SprintState.CLOSED),
        ("paused", SprintState.UNKNOWN),
    ],
)
def test_sprint_states(state, expected):
    assert parse_sprint({"id": 5, "name": "S5", "state": state}, SLUG, BASE).state == expected


def test_a_sprint():
    sprint = parse_sprint(
        {
            "id": 37,
            "self": f"{BASE}/rest/agile/1.0/sprint/37",
            "state": "closed",
            "name": "sprint 1",
            "startDate": "2015-04-11T15:22:00.000+10:00",
            "endDate": "2015-04-20T01:22:00.000+10:00",
            "completeDate": "2015-04-20T11:04:00.000+10:00",
            "originBoardId": 5,
            "goal": "sprint 1 goal",
        },
        SLUG,
        BASE,
        "acme:SHOP",
    )
    assert sprint.ref == "acme:37" and sprint.project_ref == "acme:SHOP"
    assert sprint.start == datetime(2015, 4, 11, 5, 22, tzinfo=UTC)
    assert sprint.completed_at == datetime(2015, 4, 20, 1, 4, tzinfo=UTC)
    assert sprint.goal == "sprint 1 goal" and "rapidView=5" in sprint.url and "sprint=37" in sprint.url


def test_the_current_sprint_of_an_issue():
    assert current_sprint_id([{"id": 1, "state": "closed"}, {"id": 2, "state": "future"}]) == "2"
    assert current_sprint_id([{"id": 3, "state": "future"}, {"id": 2, "state": "active"}]) == "2"
    closed = [
        {"id": 4, "state": "closed", "completeDate": "2026-01-10T00:00:00.000Z"},
        {"id": 3, "state": "closed", "completeDate": "2025-12-10T00:00:00.000Z"},
    ]
    assert current_sprint_id(closed) == "4"
    legacy = ["com.atlassian.greenhopper.service.sprint.Sprint@1f[id=9,rapidViewId=3,state=ACTIVE,name=S9]"]
    assert current_sprint_id(legacy) == "9"
    assert current_sprint_id(None) is None


def test_the_estimation_field_comes_from_the_board():
    field = {"type": "field", "field": {"fieldId": "customfield_10031", "displayName": "Story Points"}}
    assert parse_estimation_field({"estimation": field}) == "customfield_10031"
    hours = {
        "type": "field",
        "field": {"fieldId": "timeoriginalestimate", "displayName": "Original estimate"},
    }
    assert parse_estimation_field({"estimation": hours}) is None
    assert parse_estimation_field({"estimation": {"type": "issueCount"}}) is None
    assert parse_estimation_field({}) is None


def test_the_sprint_field_is_found_by_its_type():
    fields = [
        {"id": "summary", "schema": {"type": "string", "system": "summary"}},
        {"id": "customfield_10111", "name": "Sprint (old)", "schema": {"type": "string", "custom": "x:text"}},
        {
            "id": "customfield_10020",
            "name": "Sprint",
            "schema": {"custom": "com.pyxis.greenhopper.jira:gh-sprint"},
        },
    ]
    assert find_sprint_field(fields) == "customfield_10020"
    assert find_sprint_field(fields[:2]) is None


def test_timestamps_are_utc():
    assert parse_timestamp("2026-01-05T09:00:00.000+0000") == datetime(2026, 1, 5, 9, tzinfo=UTC)
    assert parse_timestamp("2026-01-05T09:00:00.000-0500") == datetime(2026, 1, 5, 14, tzinfo=UTC)
    assert parse_timestamp("2026-01-05T09:00:00.000Z").tzinfo == UTC
    assert parse_timestamp("not a date") is None and parse_timestamp(None) is None


# --- errors ------------------------------------------------------------------------------------------------


def response(status_code: int, body: object) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status_code
    resp._content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return resp


def test_jira_errors_join_messages_and_keep_field_errors():
    describe_jira_error = describe_json_error(parse_error)
    body = {
        "errorMessages": ["Issue type is required.", "Project is archived."],
        "errors": {"summary": "Too long."},
    }
    assert describe_jira_error(response(400, body)) == (
        "Issue type is required.; Project is archived.",
        {"summary": "Too long."},
    )
    assert describe_jira_error(response(400, {"errorMessages": [], "errors": {"duedate": "Bad"}})) == (
        None,
        {"duedate": "Bad"},
    )
    assert describe_jira_error(response(404, {"message": "Board not found", "status-code": 404})) == (
        "Board not found",
        {},
    )
    assert describe_jira_error(response(401, "<html>Unauthorized</html>")) == (None, {})


# --- JQL ---------------------------------------------------------------------------------------------------


def test_jql_strings_are_quoted_and_escaped():
    assert jql_string('say "hi"') == '"say \\"hi\\""'
    assert jql_string("C:\\temp") == '"C:\\\\temp"'
    assert jql_string("two\nlines") == '"two lines"'
    # Lucene's specials are escaped for text search, then quoted for JQL.
    assert jql_text("a+b") == '"a\\\\+b"'


def test_an_empty_query_is_bounded_without_restricting():
    assert build_task_jql(TaskQuery()) == 'created >= "1970/01/01" ORDER BY updated DESC, key DESC'


def test_every_filter_becomes_a_clause():
    jql = build_task_jql(
        TaskQuery(
            project_id="SHOP",
            assignee="712020:1c2b",
            statuses=(
                Status("acme:3", "3", "In Progress", StatusCategory.IN_PROGRESS),
                Status("acme:x", "x", 'Odd "one"', StatusCategory.UNKNOWN),
            ),
            categories=frozenset({StatusCategory.DONE}),
            text="timeout",
            sprint_id="12",
            epic_id="SHOP-7",
            updated_since=datetime(2026, 1, 5, 9, 0, 45, tzinfo=UTC),
            sort=TaskSort.DUE,
            descending=False,
        ),
        user_zone=ZoneInfo("America/New_York"),
    )
    assert jql == (
        'project = "SHOP" AND assignee = "712020:1c2b" AND status in (3, "Odd \\"one\\"") '
        'AND statusCategory in ("Done") AND text ~ "timeout" AND sprint = 12 AND parent = "SHOP-7" '
        'AND updated >= "2026/01/05 04:00" ORDER BY duedate ASC, key ASC'
    )


def test_me_and_unassigned():
    assert build_task_jql(TaskQuery(assignee=ME)).startswith("assignee = currentUser() ORDER BY")
    assert (
        build_task_jql(TaskQuery(unassigned=True, sort=TaskSort.KEY)) == "assignee is EMPTY ORDER BY key DESC"
    )


def test_a_sprint_id_must_be_a_number():
    with pytest.raises(errors.InvalidInput):
        build_task_jql(TaskQuery(sprint_id="12 OR 1=1"))


def test_what_a_cold_answer_teaches_about_the_site():
    schema = {
        "summary": {"type": "string", "system": "summary"},
        "customfield_10020": {
            "type": "array",
            "items": "json",
            "custom": "com.pyxis.greenhopper.jira:gh-sprint",
        },
    }
    assert sprint_field_in_schema(schema) == "customfield_10020"
    assert sprint_field_in_schema({"summary": {"type": "string"}}) is None
    assert sprint_field_in_schema(None) is None
    entries = [
        {"id": 1, "state": "closed", "boardId": 7, "completeDate": "2026-01-01T00:00:00.000Z"},
        {"id": 2, "state": "active", "boardId": 9},
        {"id": 3, "state": "future"},  # no board said
    ]
    assert sprint_boards(entries) == {"1": "7", "2": "9"}
    assert current_sprint_board(entries) == "9"
    assert current_sprint_board(entries[:1]) == "7"  # in no open sprint: its last closed one's
    assert current_sprint_board(entries[2:]) is None and current_sprint_board(None) is None
    config = {"location": {"type": "project", "key": "alpha", "id": "10000"}}
    assert board_location_project(config) == "ALPHA"
    assert board_location_project({"location": {"type": "user", "key": "x"}}) is None
    assert board_location_project(None) is None
