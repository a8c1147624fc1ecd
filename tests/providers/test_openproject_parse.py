"""The OpenProject parsers as pure functions, on HAL+JSON shaped like OpenProject's own answers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.core.providers.base import PriorityLevel, SprintState, StatusCategory
from portal.core.providers.openproject.parse import (
    collection_elements,
    format_duration_hours,
    link_id,
    parse_allowed_statuses,
    parse_comment,
    parse_done_at,
    parse_duration_hours,
    parse_epic,
    parse_error,
    parse_priority,
    parse_project,
    parse_sprint,
    parse_status,
    parse_user,
    parse_version,
    parse_work_package,
    priority_from_link,
    status_category,
    status_change_target,
    status_from_link,
)

SLUG = "op"
BASE = "https://openproject.example.com"
MARKDOWN = "Steps:\n\n1. Open the **login** page\n2. Type `admin`\n\n> quoted\n\nSee [docs](https://example.com/docs)."

STATUSES_JSON = [
    {"_type": "Status", "id": 1, "name": "New", "isClosed": False, "isDefault": True, "position": 1},
    {"_type": "Status", "id": 7, "name": "In progress", "isClosed": False, "isDefault": False, "position": 2},
    {"_type": "Status", "id": 12, "name": "Closed", "isClosed": True, "isDefault": False, "position": 3},
    {"_type": "Status", "id": 15, "name": "Waiting for vendor", "isClosed": False, "isDefault": False},
]
STATUSES = {str(raw["id"]): parse_status(raw, slug=SLUG) for raw in STATUSES_JSON}

WORK_PACKAGE = {
    "_type": "WorkPackage",
    "id": 42,
    "lockVersion": 5,
    "subject": "Login fails with SSO",
    "description": {"format": "markdown", "raw": MARKDOWN, "html": "<p>Steps:</p><ol>...</ol>"},
    "scheduleManually": False,
    "startDate": "2026-03-01",
    "dueDate": "2026-03-09",
    "estimatedTime": "PT5H30M",
    "spentTime": "PT1H",
    "storyPoints": 8,
    "percentageDone": 20,
    "createdAt": "2026-02-26T08:15:02.123Z",
    "updatedAt": "2026-03-02T17:45:00.000+01:00",
    "_links": {
        "self": {"href": "/api/v3/work_packages/42", "title": "Login fails with SSO"},
        "schema": {"href": "/api/v3/work_packages/schemas/3-1"},
        "ancestors": [{"href": "/api/v3/work_packages/40", "title": "Identity"}],
        "author": {"href": "/api/v3/users/1", "title": "Ana Silva"},
        "assignee": {"href": "/api/v3/users/2", "title": "Ben Okafor"},
        "responsible": {"href": None},
        "priority": {"href": "/api/v3/priorities/9", "title": "High"},
        "project": {"href": "/api/v3/projects/3", "title": "Demo project"},
        "status": {"href": "/api/v3/statuses/7", "title": "In progress"},
        "type": {"href": "/api/v3/types/1", "title": "Task"},
        "parent": {"href": "/api/v3/work_packages/40", "title": "Identity"},
        "version": {"href": "/api/v3/versions/4", "title": "1.1"},
        "sprint": {"href": "/api/v3/sprints/11", "title": "Sprint 11"},
    },
}


def _work_package(**changes):
    raw = {**WORK_PACKAGE, "_links": dict(WORK_PACKAGE["_links"])}
    links = changes.pop("_links", {})
    raw.update(changes)
    raw["_links"].update(links)
    return raw


# --- work packages ---------------------------------------------------------------------------


def test_work_package_fields():
    task = parse_work_package(WORK_PACKAGE, slug=SLUG, base_url=BASE, statuses=STATUSES, epic_ids={"40"})
    assert (task.ref, task.id, task.key, task.title) == ("op:42", "42", "#42", "Login fails with SSO")
    assert task.url == f"{BASE}/work_packages/42"
    assert task.project_ref == "op:3"
    assert task.status.name == "In progress" and task.status.category == StatusCategory.IN_PROGRESS
    assert task.type == "Task"
    assert (task.priority.id, task.priority.name, task.priority.level) == ("9", "High", PriorityLevel.HIGH)
    assert (task.assignee.id, task.assignee.name, task.assignee.ref) == ("2", "Ben Okafor", "op:2")
    assert task.reporter.name == "Ana Silva"
    assert task.due == date(2026, 3, 9)
    assert task.created_at == datetime(2026, 2, 26, 8, 15, 2, 123000, tzinfo=UTC)
    assert task.updated_at == datetime(2026, 3, 2, 16, 45, tzinfo=UTC)  # converted to UTC
    assert task.updated_at.tzinfo is not None and task.updated_at.utcoffset().total_seconds() == 0
    assert task.estimate_hours == 5.5 and task.story_points == 8.0
    assert task.parent_ref == task.epic_ref == "op:40"
    assert task.sprint_ref == "op:11"  # the sprint, not the version, where the server has sprints
    assert task.extra["version"] == "1.1" and task.extra["lock_version"] == 5
    assert task.done_at is None


def test_description_is_the_markdown_source_untouched():
    task = parse_work_package(WORK_PACKAGE, slug=SLUG, base_url=BASE, statuses=STATUSES)
    assert task.description == MARKDOWN


def test_empty_links_and_fields_are_none():
    raw = _work_package(
        description={"format": "markdown", "raw": "", "html": ""},
        dueDate=None,
        estimatedTime=None,
        storyPoints=None,
        _links={"assignee": {"href": None}, "parent": {"href": None}, "sprint": {"href": None}},
    )
    task = parse_work_package(raw, slug=SLUG, base_url=BASE, statuses=STATUSES)
    assert task.description == ""
    assert (task.due, task.estimate_hours, task.story_points) == (None, None, None)
    assert (task.assignee, task.parent_ref, task.epic_ref, task.sprint_ref) == (None, None, None, None)


def test_parent_that_is_not_an_epic_is_no_epic():
    task = parse_work_package(WORK_PACKAGE, slug=SLUG, base_url=BASE, statuses=STATUSES, epic_ids=set())
    assert task.parent_ref == "op:40" and task.epic_ref is None


def test_version_is_the_sprint_on_servers_without_sprints():
    raw = _work_package()
    del raw["_links"]["sprint"]
    task = parse_work_package(raw, slug=SLUG, base_url=BASE, statuses=STATUSES)
    assert task.sprint_ref == "op:4" and "version" not in task.extra


def test_unknown_status_is_unknown_not_a_guess():
    raw = _work_package(_links={"status": {"href": "/api/v3/statuses/99", "title": "Blocked by legal"}})
    task = parse_work_package(raw, slug=SLUG, base_url=BASE, statuses=STATUSES)
    assert (task.status.id, task.status.name, task.status.category) == (
        "99",
        "Blocked by legal",
        StatusCategory.UNKNOWN,
    )


def test_unreadable_estimate_is_kept_raw():
    task = parse_work_package(_work_package(estimatedTime="P1Y"), slug=SLUG, base_url=BASE, statuses=STATUSES)
    assert task.estimate_hours is None and task.extra["estimated_time"] == "P1Y"


def test_group_assignee_is_marked():
    raw = _work_package(_links={"assignee": {"href": "/api/v3/groups/9", "title": "Support team"}})
    assignee = parse_work_package(raw, slug=SLUG, base_url=BASE, statuses=STATUSES).assignee
    assert (assignee.id, assignee.name, assignee.extra) == ("9", "Support team", {"kind": "groups"})


def test_epic():
    raw = _work_package(_links={"type": {"href": "/api/v3/types/3", "title": "Epic"}})
    epic = parse_epic(raw, slug=SLUG, base_url=BASE, statuses=STATUSES)
    assert (epic.ref, epic.key, epic.title, epic.project_ref) == (
        "op:42",
        "#42",
        "Login fails with SSO",
        "op:3",
    )
    assert epic.description == MARKDOWN and epic.extra["type"] == "Epic"


# --- durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "hours"),
    [
        ("PT5H30M", 5.5),
        ("PT5H", 5.0),
        ("PT45M", 0.75),
        ("PT0S", 0.0),
        ("PT1.5H", 1.5),
        ("P1DT2H", 26.0),
        ("P1W", 168.0),
        ("PT1H0M36S", 1.01),
    ],
)
def test_iso_durations_read_as_hours(duration, hours):
    assert parse_duration_hours(duration) == pytest.approx(hours)


@pytest.mark.parametrize("value", [None, "", "5h", "PT", "P", "P1Y", "P2M", "PTXH", 5])
def test_non_durations_are_none(value):
    assert parse_duration_hours(value) is None


@pytest.mark.parametrize(
    ("hours", "duration"), [(5.5, "PT5H30M"), (5, "PT5H"), (0.75, "PT45M"), (0, "PT0H"), (1.01, "PT1H36S")]
)
def test_hours_written_as_iso_durations(hours, duration):
    assert format_duration_hours(hours) == duration
    assert parse_duration_hours(duration) == pytest.approx(hours)


def test_negative_hours_are_refused():
    with pytest.raises(ValueError):
        format_duration_hours(-1)


# --- statuses, priorities, links -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "is_closed", "is_default", "category"),
    [
        ("Closed", True, False, StatusCategory.DONE),
        ("Rejected", True, False, StatusCategory.DONE),
        ("New", False, True, StatusCategory.TODO),
        ("Confirmed", False, False, StatusCategory.TODO),
        ("In progress", False, False, StatusCategory.IN_PROGRESS),
        ("In testing", False, False, StatusCategory.IN_PROGRESS),
        ("On hold", False, False, StatusCategory.UNKNOWN),
        ("Waiting for vendor", False, False, StatusCategory.UNKNOWN),
        ("Eingang", False, True, StatusCategory.TODO),  # a renamed default status is still where work starts
    ],
)
def test_status_categories(name, is_closed, is_default, category):
    assert status_category(name, is_closed, is_default) == category


def test_status_from_the_statuses_endpoint():
    status = STATUSES["12"]
    assert (status.ref, status.id, status.name, status.category) == (
        "op:12",
        "12",
        "Closed",
        StatusCategory.DONE,
    )
    assert status.extra["isClosed"] is True


def test_status_link_outside_the_known_statuses():
    status = status_from_link({"href": "/api/v3/statuses/3", "title": "Specified"}, slug=SLUG, statuses={})
    assert status.category == StatusCategory.UNKNOWN and status.name == "Specified"
    assert status_from_link({"href": None}, slug=SLUG, statuses=STATUSES) is None


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("Low", PriorityLevel.LOW),
        ("Normal", PriorityLevel.MEDIUM),
        ("High", PriorityLevel.HIGH),
        ("Immediate", PriorityLevel.HIGHEST),
        ("Blocker", PriorityLevel.UNKNOWN),
    ],
)
def test_priority_levels(name, level):
    raw = {"_type": "Priority", "id": 8, "name": name, "position": 2, "isDefault": False, "isActive": True}
    assert parse_priority(raw).level == level
    assert priority_from_link({"href": "/api/v3/priorities/8", "title": name}).level == level


def test_missing_priority_is_none_level():
    assert priority_from_link({"href": None}).level == PriorityLevel.NONE


def test_link_ids():
    assert link_id({"href": "/api/v3/users/5", "title": "Ana"}) == "5"
    assert link_id({"href": "/api/v3/users/5/"}) == "5"
    assert link_id({"href": None}) is None
    assert link_id(None) is None


def test_allowed_statuses_from_embedded_values_or_links():
    embedded_form = {
        "_type": "Form",
        "_embedded": {
            "schema": {
                "status": {
                    "type": "Status",
                    "_embedded": {"allowedValues": [STATUSES_JSON[0], STATUSES_JSON[2]]},
                    "_links": {"allowedValues": [{"href": "/api/v3/statuses/1", "title": "New"}]},
                }
            }
        },
    }
    assert [s.name for s in parse_allowed_statuses(embedded_form, slug=SLUG, statuses=STATUSES)] == [
        "New",
        "Closed",
    ]
    linked_form = {
        "_embedded": {
            "schema": {
                "status": {
                    "_links": {
                        "allowedValues": [
                            {"href": "/api/v3/statuses/7", "title": "In progress"},
                            {"href": "/api/v3/statuses/12", "title": "Closed"},
                        ]
                    }
                }
            }
        }
    }
    allowed = parse_allowed_statuses(linked_form, slug=SLUG, statuses=STATUSES)
    assert [(s.name, s.category) for s in allowed] == [
        ("In progress", StatusCategory.IN_PROGRESS),
        ("Closed", StatusCategory.DONE),
    ]


# --- projects and users ------------------------------------------------------------------------


def test_project():
    raw = {
        "_type": "Project",
        "id": 3,
        "identifier": "demo-project",
        "name": "Demo project",
        "active": True,
        "public": False,
        "description": {"format": "markdown", "raw": "The **demo**.", "html": "<p>The <b>demo</b>.</p>"},
        "_links": {"self": {"href": "/api/v3/projects/3"}, "parent": {"href": "/api/v3/projects/1"}},
    }
    project = parse_project(raw, slug=SLUG, base_url=BASE)
    assert (project.ref, project.id, project.key, project.name) == (
        "op:3",
        "3",
        "demo-project",
        "Demo project",
    )
    assert project.url == f"{BASE}/projects/demo-project"
    assert project.description == "The **demo**."
    assert project.extra["workspace_type"] == "Project" and project.extra["parent_ref"] == "op:1"


def test_program_workspace_is_marked():
    raw = {"_type": "Program", "id": 8, "identifier": "growth", "name": "Growth", "_links": {}}
    project = parse_project(raw, slug=SLUG, base_url=BASE)
    assert project.extra["workspace_type"] == "Program" and project.description is None


def test_user_with_and_without_email():
    raw = {
        "_type": "User",
        "id": 1,
        "name": "Ana Silva",
        "login": "ana",
        "firstName": "Ana",
        "lastName": "Silva",
        "email": "ana@example.com",
        "admin": False,
        "status": "active",
        "_links": {"self": {"href": "/api/v3/users/1", "title": "Ana Silva"}},
    }
    user = parse_user(raw, slug=SLUG, base_url=BASE)
    assert (user.ref, user.id, user.name, user.email) == ("op:1", "1", "Ana Silva", "ana@example.com")
    assert user.url == f"{BASE}/users/1" and user.extra["login"] == "ana"
    hidden = parse_user({k: v for k, v in raw.items() if k != "email"}, slug=SLUG, base_url=BASE)
    assert hidden.email is None


def test_placeholder_user_is_marked():
    user = parse_user(
        {"_type": "PlaceholderUser", "id": 20, "name": "Designer (tbd)"}, slug=SLUG, base_url=BASE
    )
    assert user.name == "Designer (tbd)" and user.extra["kind"] == "PlaceholderUser"


# --- comments and activities -------------------------------------------------------------------


def _activity(activity_id, created, *, comment="", details=()):
    return {
        "_type": "Activity::Comment" if comment else "Activity",
        "id": activity_id,
        "version": activity_id,
        "comment": {"format": "markdown", "raw": comment, "html": f"<p>{comment}</p>" if comment else ""},
        "details": [{"format": "custom", "raw": d, "html": f"<strong>{d}</strong>"} for d in details],
        "internal": False,
        "createdAt": created,
        "updatedAt": created,
        "_links": {
            "self": {"href": f"/api/v3/activity/{activity_id}"},
            "workPackage": {"href": "/api/v3/work_packages/42", "title": "Login fails with SSO"},
            "user": {"href": "/api/v3/users/2", "title": "Ben Okafor"},
        },
    }


def test_comment_is_the_markdown_source_untouched():
    body = "Looks good. **Ship it** after `make test`:\n\n- one\n- two"
    comment = parse_comment(
        _activity(1478, "2026-03-02T10:00:00.000Z", comment=body), slug=SLUG, base_url=BASE, task_id="42"
    )
    assert comment.body == body
    assert (comment.ref, comment.id, comment.author.name) == ("op:1478", "1478", "Ben Okafor")
    assert comment.created_at == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert comment.url == f"{BASE}/work_packages/42/activity"


@pytest.mark.parametrize(
    ("detail", "target"),
    [
        ("Status changed from New to Closed", "Closed"),
        ("Status changed from New \nto Closed", "Closed"),
        ("Status set to Closed", "Closed"),
        ("Status changed from In progress to Closed.", "Closed"),
        ("Status changed from Closed to New", None),  # reopened: not a closed status
        ("Subject changed from Closed to New to Closed", None),  # not a status detail
        ("Status changed from New to Done to dusted", "Done to dusted"),  # a name that contains " to "
    ],
)
def test_status_change_details(detail, target):
    assert status_change_target(detail, ["Closed", "Done to dusted", "Rejected"]) == target


def test_done_at_is_the_last_move_into_a_closed_status():
    activities = [
        _activity(1, "2026-03-01T09:00:00Z"),
        _activity(2, "2026-03-02T09:00:00Z", details=["Status changed from New to Closed"]),
        _activity(3, "2026-03-03T09:00:00Z", details=["Status changed from Closed to In progress"]),
        _activity(
            4,
            "2026-03-04T15:30:00Z",
            comment="Done now",
            details=["Status changed from In progress to Closed"],
        ),
        _activity(5, "2026-03-05T09:00:00Z", details=["Subject changed from a to b"]),
    ]
    assert parse_done_at(activities, ["Closed", "Rejected"]) == datetime(2026, 3, 4, 15, 30, tzinfo=UTC)


def test_done_at_without_a_status_change_is_none():
    activities = [_activity(1, "2026-03-01T09:00:00Z", details=["Finish date set to 2026-03-09"])]
    assert parse_done_at(activities, ["Closed"]) is None


# --- sprints and versions ---------------------------------------------------------------------


def _sprint(status: str):
    return {
        "_type": "Sprint",
        "id": 3,
        "name": "Sprint 11",
        "startDate": "2026-02-02",
        "finishDate": "2026-02-09",
        "createdAt": "2026-02-06T09:30:49.157Z",
        "updatedAt": "2026-02-10T09:53:21.620Z",
        "_links": {
            "self": {"href": "/api/v3/sprints/3", "title": "Sprint 11"},
            "definingWorkspace": {"href": "/api/v3/projects/10", "title": "Scrum project"},
            "status": {"href": f"urn:openproject-org:api:v3:sprints:status:{status}", "title": status},
        },
    }


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("in_planning", SprintState.FUTURE),
        ("active", SprintState.ACTIVE),
        ("completed", SprintState.CLOSED),
        ("archived", SprintState.UNKNOWN),
    ],
)
def test_sprint_states(status, state):
    assert parse_sprint(_sprint(status), slug=SLUG, base_url=BASE).state == state


def test_sprint_fields():
    sprint = parse_sprint(_sprint("active"), slug=SLUG, base_url=BASE)
    assert (sprint.ref, sprint.id, sprint.name, sprint.project_ref) == ("op:3", "3", "Sprint 11", "op:10")
    assert sprint.start == datetime(2026, 2, 2, tzinfo=UTC) and sprint.end == datetime(2026, 2, 9, tzinfo=UTC)
    assert sprint.extra["kind"] == "sprint"


@pytest.mark.parametrize(
    ("status", "start", "state"),
    [
        ("closed", "2026-01-01", SprintState.CLOSED),
        ("open", "2026-01-01", SprintState.ACTIVE),
        ("locked", "2026-01-01", SprintState.ACTIVE),
        ("open", "2026-06-01", SprintState.FUTURE),
        ("open", None, SprintState.ACTIVE),
        ("frozen", "2026-01-01", SprintState.UNKNOWN),
    ],
)
def test_version_states(status, start, state):
    raw = {
        "_type": "Version",
        "id": 4,
        "name": "1.1",
        "description": {"format": "plain", "raw": "", "html": ""},
        "startDate": start,
        "endDate": "2026-06-30",
        "status": status,
        "sharing": "none",
        "_links": {"definingProject": {"href": "/api/v3/projects/3", "title": "Demo project"}},
    }
    sprint = parse_version(raw, slug=SLUG, base_url=BASE, today=date(2026, 3, 1))
    assert sprint.state == state
    assert (sprint.ref, sprint.url, sprint.project_ref) == ("op:4", f"{BASE}/versions/4", "op:3")


# --- errors and collections ---------------------------------------------------------------------


def test_single_error_names_the_field_in_our_terms():
    body = {
        "_type": "Error",
        "errorIdentifier": "urn:openproject-org:api:v3:errors:PropertyConstraintViolation",
        "message": "Subject can't be blank.",
        "_embedded": {"details": {"attribute": "subject"}},
    }
    assert parse_error(body) == ("Subject can't be blank.", {"title": "Subject can't be blank."})


def test_multiple_errors():
    body = {
        "_type": "Error",
        "errorIdentifier": "urn:openproject-org:api:v3:errors:MultipleErrors",
        "message": "Multiple field constraints have been violated.",
        "_embedded": {
            "errors": [
                {
                    "_type": "Error",
                    "errorIdentifier": "urn:openproject-org:api:v3:errors:PropertyConstraintViolation",
                    "message": "Subject can't be blank.",
                    "_embedded": {"details": {"attribute": "Subject"}},
                },
                {
                    "_type": "Error",
                    "errorIdentifier": "urn:openproject-org:api:v3:errors:PropertyConstraintViolation",
                    "message": "Finish date must be after the start date.",
                    "_embedded": {"details": {"attribute": "dueDate"}},
                },
            ]
        },
    }
    message, fields = parse_error(body)
    assert message == "Multiple field constraints have been violated."
    assert fields == {"title": "Subject can't be blank.", "due": "Finish date must be after the start date."}


def test_a_body_that_is_not_an_openproject_error():
    assert parse_error({"error": "nginx"}) == (None, {})
    assert parse_error(["not", "an", "object"]) == (None, {})


def test_collection_elements():
    body = {"_type": "Collection", "total": 2, "count": 2, "_embedded": {"elements": [{"id": 1}, {"id": 2}]}}
    assert [e["id"] for e in collection_elements(body)] == [1, 2]
    assert collection_elements({"_type": "Collection", "total": 0, "count": 0, "_embedded": {}}) == []
    assert collection_elements(None) == []
