"""Redmine JSON -> domain objects, as pure functions, on bodies shaped like Redmine 5's answers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.core.providers.base import PriorityLevel, SprintState, StatusCategory
from portal.core.providers.dates import parse_timestamp
from portal.core.providers.redmine.parse import (
    parse_comments,
    parse_error,
    parse_issue,
    parse_memberships,
    parse_priority,
    parse_project,
    parse_status,
    parse_user,
    parse_version,
    status_category,
)

SLUG = "rm"
BASE = "https://redmine.example.com"

ISSUE = {
    "id": 42,
    "project": {"id": 7, "name": "Shop"},
    "tracker": {"id": 1, "name": "Bug"},
    "status": {"id": 2, "name": "In Progress", "is_closed": False},
    "priority": {"id": 3, "name": "High"},
    "author": {"id": 1, "name": "Redmine Admin"},
    "assigned_to": {"id": 5, "name": "Dana Dev"},
    "category": {"id": 9, "name": "Backend"},
    "fixed_version": {"id": 11, "name": "Sprint 3"},
    "parent": {"id": 40},
    "subject": "Login fails",
    "description": "Steps:\n\n1. Open the **login** page",
    "start_date": "2026-11-28",
    "due_date": "2026-12-05",
    "done_ratio": 30,
    "is_private": False,
    "estimated_hours": 3.0,
    "total_estimated_hours": 3.0,
    "spent_hours": 0.5,
    "total_spent_hours": 0.5,
    "custom_fields": [{"id": 1, "name": "Customer", "value": "ACME"}],
    "created_on": "2026-11-28T04:41:46Z",
    "updated_on": "2026-11-29T10:00:00Z",
    "closed_on": None,
}


def issue(**changes):
    return {**ISSUE, **changes}


def test_timestamps_are_aware_utc():
    assert parse_timestamp("2026-11-28T04:41:46Z") == datetime(2026, 11, 28, 4, 41, 46, tzinfo=UTC)
    converted = parse_timestamp("2026-11-28T06:41:46+02:00")
    assert converted == datetime(2026, 11, 28, 4, 41, 46, tzinfo=UTC) and converted.tzinfo is UTC
    assert parse_timestamp("2026-11-28T04:41:46").tzinfo is UTC
    assert parse_timestamp(None) is None


def test_current_user_has_name_mail_and_login():
    user = parse_user(
        {
            "id": 1,
            "login": "admin",
            "admin": True,
            "firstname": "Redmine",
            "lastname": "Admin",
            "mail": "admin@example.net",
            "api_key": "f9872be5e3ade0b2373e80d2c6d7b1e9027f5188",
            "status": 1,
        },
        slug=SLUG,
        base_url=BASE,
    )
    assert (user.ref, user.id, user.name, user.email) == ("rm:1", "1", "Redmine Admin", "admin@example.net")
    assert user.url == f"{BASE}/users/1"
    assert user.extra == {"login": "admin", "admin": True, "status": 1}
    assert "f9872be5" not in repr(user)


def test_user_with_hidden_mail_and_reference_users():
    hidden = parse_user(
        {"id": 5, "login": "dana", "firstname": "Dana", "lastname": "Dev"}, slug=SLUG, base_url=BASE
    )
    assert hidden.name == "Dana Dev" and hidden.email is None and hidden.extra["login"] == "dana"
    reference = parse_user({"id": 5, "name": "Dana Dev"}, slug=SLUG, base_url=BASE)
    assert (reference.id, reference.name, reference.email) == ("5", "Dana Dev", None)


@pytest.mark.parametrize(
    ("name", "is_closed", "category"),
    [
        ("New", False, StatusCategory.TODO),
        ("In Progress", False, StatusCategory.IN_PROGRESS),
        ("in-progress", False, StatusCategory.IN_PROGRESS),
        ("Work in progress", False, StatusCategory.IN_PROGRESS),
        ("Open", False, StatusCategory.TODO),
        ("Resolved", False, StatusCategory.UNKNOWN),  # open in Redmine: waiting, not done
        ("Feedback", False, StatusCategory.UNKNOWN),
        ("Closed", True, StatusCategory.DONE),
        ("Rejected", True, StatusCategory.DONE),
        ("Done", None, StatusCategory.UNKNOWN),  # whether it is closed is not said: no guess
    ],
)
def test_status_categories(name, is_closed, category):
    assert status_category(name, is_closed) == category


def test_status_from_the_statuses_list():
    status = parse_status({"id": 5, "name": "Closed", "is_closed": True}, slug=SLUG)
    assert (status.ref, status.id, status.name, status.category) == (
        "rm:5",
        "5",
        "Closed",
        StatusCategory.DONE,
    )
    assert status.extra == {"is_closed": True}


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("Low", PriorityLevel.LOW),
        ("Normal", PriorityLevel.MEDIUM),
        ("High", PriorityLevel.HIGH),
        ("Urgent", PriorityLevel.HIGHEST),
        ("Immediate", PriorityLevel.HIGHEST),
        ("Niedrig", PriorityLevel.UNKNOWN),
        ("Whenever", PriorityLevel.UNKNOWN),
    ],
)
def test_priority_levels(name, level):
    priority = parse_priority({"id": 2, "name": name, "is_default": True, "active": True})
    assert (priority.id, priority.name, priority.level) == ("2", name, level)
    assert priority.extra == {"is_default": True, "active": True}


def test_project_key_is_the_identifier_and_url_uses_it():
    project = parse_project(
        {
            "id": 7,
            "name": "Shop",
            "identifier": "shop",
            "description": "",
            "homepage": "",
            "status": 1,
            "is_public": True,
            "parent": {"id": 3, "name": "Company"},
            "created_on": "2026-11-28T04:41:46Z",
        },
        slug=SLUG,
        base_url=BASE,
    )
    assert (project.ref, project.id, project.key, project.name) == ("rm:7", "7", "shop", "Shop")
    assert project.url == f"{BASE}/projects/shop"
    assert project.description is None
    assert project.extra["parent_ref"] == "rm:3" and "homepage" not in project.extra


def test_issue_fields():
    task = parse_issue(ISSUE, slug=SLUG, base_url=BASE)
    assert (task.ref, task.id, task.key, task.title) == ("rm:42", "42", "#42", "Login fails")
    assert task.url == f"{BASE}/issues/42"
    assert task.project_ref == "rm:7"
    assert task.description == "Steps:\n\n1. Open the **login** page"
    assert task.type == "Bug"
    assert task.status.name == "In Progress" and task.status.category == StatusCategory.IN_PROGRESS
    assert task.priority.name == "High" and task.priority.level == PriorityLevel.HIGH
    assert task.assignee.ref == "rm:5" and task.assignee.name == "Dana Dev"
    assert task.reporter.name == "Redmine Admin"
    assert task.due == date(2026, 12, 5)
    assert task.created_at == datetime(2026, 11, 28, 4, 41, 46, tzinfo=UTC)
    assert task.updated_at == datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    assert task.done_at is None
    assert task.estimate_hours == 3.0 and task.story_points is None
    assert task.parent_ref == "rm:40" and task.sprint_ref == "rm:11" and task.epic_ref is None
    assert task.labels == ["Backend"]
    assert task.extra["done_ratio"] == 30 and task.extra["start_date"] == "2026-11-28"
    assert task.extra["custom_fields"] == {"Customer": "ACME"}


def test_unassigned_issue_without_optional_fields():
    bare = {
        key: value
        for key, value in ISSUE.items()
        if key not in ("assigned_to", "category", "fixed_version", "parent", "custom_fields")
    }
    task = parse_issue(
        {**bare, "due_date": None, "estimated_hours": None, "description": ""}, slug=SLUG, base_url=BASE
    )
    assert task.assignee is None and task.sprint_ref is None and task.parent_ref is None
    assert task.due is None and task.estimate_hours is None and task.labels == []
    assert task.description == ""


def test_closed_issue_is_done_at_closed_on():
    task = parse_issue(
        issue(status={"id": 5, "name": "Closed", "is_closed": True}, closed_on="2026-12-01T08:00:00Z"),
        slug=SLUG,
        base_url=BASE,
    )
    assert task.status.category == StatusCategory.DONE
    assert task.done_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_reopened_issue_keeps_closed_on_but_is_not_done():
    task = parse_issue(
        issue(status={"id": 1, "name": "New", "is_closed": False}, closed_on="2026-12-01T08:00:00Z"),
        slug=SLUG,
        base_url=BASE,
    )
    assert task.done_at is None
    assert task.extra["closed_on"] == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_status_without_is_closed_uses_the_known_statuses():
    # Redmine before 5.0 sends only id and name on an issue's status.
    closed = parse_status({"id": 7, "name": "Erledigt", "is_closed": True}, slug=SLUG)
    raw = issue(status={"id": 7, "name": "Erledigt"}, closed_on="2026-12-01T08:00:00Z")
    assert parse_issue(raw, slug=SLUG, base_url=BASE).status.category == StatusCategory.UNKNOWN
    task = parse_issue(raw, slug=SLUG, base_url=BASE, known_statuses={"7": closed})
    assert task.status.category == StatusCategory.DONE and task.done_at is not None


def test_journals_with_notes_are_the_comments():
    raw = {
        "id": 42,
        "journals": [
            {
                "id": 100,
                "user": {"id": 1, "name": "Redmine Admin"},
                "notes": "",
                "created_on": "2026-11-28T05:00:00Z",
                "private_notes": False,
                "details": [{"property": "attr", "name": "status_id", "old_value": "1", "new_value": "2"}],
            },
            {
                "id": 101,
                "user": {"id": 5, "name": "Dana Dev"},
                "notes": "Looks good. **Ship it** after `make test`:\n\n- one\n- two",
                "created_on": "2026-11-28T06:00:00Z",
                "private_notes": False,
                "details": [],
            },
            {
                "id": 102,
                "user": {"id": 1, "name": "Redmine Admin"},
                "notes": "Internal only",
                "created_on": "2026-11-28T07:00:00Z",
                "updated_on": "2026-11-28T07:30:00Z",
                "private_notes": True,
                "details": [],
            },
        ],
    }
    comments = parse_comments(raw, slug=SLUG, base_url=BASE)
    assert [c.id for c in comments] == ["101", "102"]
    first, private = comments
    assert first.ref == "rm:101" and first.body.startswith("Looks good. **Ship it**")
    assert first.author.name == "Dana Dev" and first.created_at == datetime(2026, 11, 28, 6, tzinfo=UTC)
    assert first.url == f"{BASE}/issues/42#change-101"
    assert first.updated_at is None and "private" not in first.extra
    assert private.extra["private"] is True and private.updated_at == datetime(
        2026, 11, 28, 7, 30, tzinfo=UTC
    )


VERSION = {
    "id": 11,
    "project": {"id": 7, "name": "Shop"},
    "name": "Sprint 3",
    "description": "Checkout works end to end",
    "status": "open",
    "due_date": "2026-12-31",
    "sharing": "none",
    "wiki_page_title": None,
    "estimated_hours": 12.0,
    "spent_hours": 0.0,
    "created_on": "2026-11-28T04:41:46Z",
    "updated_on": "2026-11-28T04:41:46Z",
}
NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)


def test_open_version_is_an_active_sprint_from_its_creation():
    sprint = parse_version(VERSION, slug=SLUG, base_url=BASE, now=NOW)
    assert (sprint.ref, sprint.id, sprint.name, sprint.state) == (
        "rm:11",
        "11",
        "Sprint 3",
        SprintState.ACTIVE,
    )
    assert sprint.start == datetime(2026, 11, 28, 4, 41, 46, tzinfo=UTC)
    assert sprint.end == datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert sprint.goal == "Checkout works end to end"
    assert sprint.project_ref == "rm:7" and sprint.url == f"{BASE}/versions/11"
    assert sprint.extra["due_date"] == date(2026, 12, 31) and sprint.extra["estimated_hours"] == 12.0


def test_version_with_a_later_custom_start_is_future():
    raw = {**VERSION, "custom_fields": [{"id": 4, "name": "Start date", "value": "2027-01-04"}]}
    sprint = parse_version(raw, slug=SLUG, base_url=BASE, now=NOW)
    assert sprint.state == SprintState.FUTURE
    assert sprint.start == datetime(2027, 1, 4, tzinfo=UTC)
    started = parse_version(raw, slug=SLUG, base_url=BASE, now=datetime(2027, 1, 5, tzinfo=UTC))
    assert started.state == SprintState.ACTIVE


def test_version_custom_start_that_is_not_a_date_falls_back_to_creation():
    raw = {**VERSION, "custom_fields": [{"id": 4, "name": "Start", "value": "soon"}]}
    assert parse_version(raw, slug=SLUG, base_url=BASE, now=NOW).start == datetime(
        2026, 11, 28, 4, 41, 46, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("status", "state"),
    [("locked", SprintState.ACTIVE), ("closed", SprintState.CLOSED), ("archived", SprintState.UNKNOWN)],
)
def test_version_states(status, state):
    assert parse_version({**VERSION, "status": status}, slug=SLUG, base_url=BASE, now=NOW).state == state


def test_version_without_due_date_has_no_end():
    sprint = parse_version(
        {**VERSION, "due_date": None, "description": ""}, slug=SLUG, base_url=BASE, now=NOW
    )
    assert sprint.end is None and sprint.goal is None


def test_memberships_keep_users_not_groups():
    raw = {
        "memberships": [
            {
                "id": 1,
                "project": {"id": 7, "name": "Shop"},
                "user": {"id": 5, "name": "Dana Dev"},
                "roles": [{"id": 4, "name": "Developer"}, {"id": 5, "name": "Reporter", "inherited": True}],
            },
            {"id": 2, "project": {"id": 7, "name": "Shop"}, "group": {"id": 9, "name": "QA"}, "roles": []},
        ],
        "total_count": 2,
        "offset": 0,
        "limit": 25,
    }
    members = parse_memberships(raw, slug=SLUG, base_url=BASE)
    assert [(user.ref, user.name, roles) for user, roles in members] == [("rm:5", "Dana Dev", ["4", "5"])]


def test_validation_errors_map_onto_fields():
    message, fields = parse_error(
        {
            "errors": [
                "Subject cannot be blank",
                "Due date must be greater than start date",
                "Tracker is invalid",
            ]
        }
    )
    assert message == "Subject cannot be blank; Due date must be greater than start date; Tracker is invalid"
    assert fields == {
        "title": "Subject cannot be blank",
        "due": "Due date must be greater than start date",
        "type": "Tracker is invalid",
    }


def test_validation_errors_without_a_known_field_keep_the_message():
    message, fields = parse_error({"errors": ["Parent task is invalid", "Something else is wrong"]})
    assert message == "Parent task is invalid; Something else is wrong"
    assert fields == {"parent_id": "Parent task is invalid"}


def test_old_style_error_pairs_and_other_bodies():
    assert parse_error({"errors": [["subject", "can't be blank"]]}) == ("subject can't be blank", {})
    assert parse_error({"errors": "Not allowed"}) == ("Not allowed", {})
    assert parse_error(None) == (None, {})
    assert parse_error({"error": "x"}) == (None, {})
    assert parse_error({"errors": []}) == (None, {})
