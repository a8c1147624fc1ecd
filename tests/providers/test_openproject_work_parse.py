"""The sprint-work parsers of the OpenProject adapter as pure functions, on HAL+JSON shaped like OpenProject's."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from portal.core.providers import errors
from portal.core.providers.base import FieldType, LinkKind, WorklogDraft
from portal.core.providers.openproject.fields import field_writes, form_schema, parse_field_defs
from portal.core.providers.openproject.history import parse_detail, parse_history
from portal.core.providers.openproject.links import LINK_TYPES, blocking_pairs, parse_relation, relation_ends
from portal.core.providers.openproject.parse import parse_custom_values, parse_status, parse_work_package
from portal.core.providers.openproject.query import native_filters
from portal.core.providers.openproject.sprints import check_sprint_dates, sprint_name, version_write
from portal.core.providers.openproject.worklogs import parse_time_entry, time_entry_payload

SLUG = "op"
BASE = "https://openproject.example.com"


def relation(rel_id: int, kind: str, source: int, target: int, **extra) -> dict:
    return {
        "_type": "Relation",
        "id": rel_id,
        "type": kind,
        "reverseType": "x",
        "_links": {
            "self": {"href": f"/api/v3/relations/{rel_id}"},
            "from": {"href": f"/api/v3/work_packages/{source}", "title": f"WP {source}"},
            "to": {"href": f"/api/v3/work_packages/{target}", "title": f"WP {target}"},
        },
        **extra,
    }


# --- links ---------------------------------------------------------------------------------------


def test_link_types_are_openprojects_six_with_their_generic_kinds():
    kinds = {t.id: t.kind for t in LINK_TYPES}
    assert kinds == {
        "relates": LinkKind.RELATES,
        "blocks": LinkKind.BLOCKS,
        "duplicates": LinkKind.DUPLICATES,
        "precedes": LinkKind.OTHER,
        "includes": LinkKind.OTHER,
        "requires": LinkKind.OTHER,
    }
    blocks = next(t for t in LINK_TYPES if t.id == "blocks")
    assert (blocks.outward, blocks.inward) == ("blocks", "is blocked by")


def test_a_relation_reads_from_both_ends():
    raw = relation(7, "blocks", 10, 20)
    from_blocker = parse_relation(raw, task_id="10", slug=SLUG, base_url=BASE, done={"20": False})
    from_blocked = parse_relation(raw, task_id="20", slug=SLUG, base_url=BASE, done={"10": True})
    assert (from_blocker.kind, from_blocker.label, from_blocker.other_ref) == (
        LinkKind.BLOCKS,
        "blocks",
        "op:20",
    )
    assert (from_blocked.kind, from_blocked.label, from_blocked.other_ref) == (
        LinkKind.BLOCKED_BY,
        "is blocked by",
        "op:10",
    )
    assert from_blocker.ref == "op:7" and from_blocker.id == "7" and from_blocker.task_ref == "op:10"
    assert (from_blocker.other_title, from_blocker.other_key, from_blocker.other_done) == (
        "WP 20",
        "#20",
        False,
    )
    assert from_blocked.other_done is True
    assert parse_relation(raw, task_id="30", slug=SLUG, base_url=BASE) is None


def test_a_relation_given_with_a_reverse_type_is_read_the_other_way_round():
    raw = relation(8, "blocked", 10, 20)  # 10 is blocked by 20
    assert relation_ends(raw) == ("blocks", "20", "10")
    link = parse_relation(raw, task_id="10", slug=SLUG, base_url=BASE)
    assert (link.kind, link.label, link.other_ref) == (LinkKind.BLOCKED_BY, "is blocked by", "op:20")
    assert link.other_done is None  # not said


def test_openprojects_own_relations_keep_their_phrases():
    raw = relation(9, "precedes", 1, 2)
    assert parse_relation(raw, task_id="1", slug=SLUG, base_url=BASE).label == "precedes"
    follows = parse_relation(raw, task_id="2", slug=SLUG, base_url=BASE)
    assert (follows.kind, follows.label, follows.extra["type"]) == (LinkKind.OTHER, "follows", "precedes")
    part = parse_relation(relation(10, "partof", 3, 4), task_id="3", slug=SLUG, base_url=BASE)
    assert (part.label, part.other_ref) == ("is part of", "op:4")


def test_blocking_pairs_are_blocker_then_blocked_whatever_the_direction_given():
    relations = [relation(1, "blocks", 1, 2), relation(2, "blocked", 3, 4), relation(3, "relates", 5, 6)]
    assert blocking_pairs(relations) == [("1", "2"), ("4", "3")]


# --- logged work -------------------------------------------------------------------------------------

TIME_ENTRY = {
    "_type": "TimeEntry",
    "id": 42,
    "comment": {"format": "plain", "raw": "Paired on the **fix**.", "html": "<p>Paired on the **fix**.</p>"},
    "spentOn": "2026-03-02",
    "hours": "PT1H30M",
    "startTime": "2026-03-02T09:58:00.000Z",
    "createdAt": "2026-03-02T13:58:24.927Z",
    "updatedAt": "2026-03-02T13:58:24.927Z",
    "_links": {
        "self": {"href": "/api/v3/time_entries/42"},
        "project": {"href": "/api/v3/projects/11", "title": "Demo"},
        "entity": {"href": "/api/v3/work_packages/77", "title": "Build new hangar"},
        "user": {"href": "/api/v3/users/3", "title": "Carla Reyes"},
        "activity": {"href": "/api/v3/time_entries/activities/1", "title": "Development"},
    },
}


def test_a_time_entry_is_a_worklog():
    worklog = parse_time_entry(TIME_ENTRY, slug=SLUG, base_url=BASE)
    assert (worklog.ref, worklog.id, worklog.task_ref, worklog.hours) == ("op:42", "42", "op:77", 1.5)
    assert worklog.started == datetime(2026, 3, 2, 9, 58, tzinfo=UTC)
    assert worklog.author.name == "Carla Reyes" and worklog.author.id == "3"
    assert worklog.comment == "Paired on the **fix**."
    assert worklog.extra == {"spent_on": "2026-03-02", "activity": "Development", "project_ref": "op:11"}


def test_a_time_entry_without_a_start_time_started_on_its_day():
    raw = {**TIME_ENTRY, "startTime": None, "comment": {"format": "plain", "raw": ""}}
    raw["_links"] = {**TIME_ENTRY["_links"], "workPackage": {"href": "/api/v3/work_packages/5"}}
    del raw["_links"]["entity"]  # servers before time was logged on other entities
    worklog = parse_time_entry(raw, slug=SLUG, base_url=BASE)
    assert worklog.started == datetime(2026, 3, 2, tzinfo=UTC)
    assert worklog.task_ref == "op:5" and worklog.comment is None


def test_logging_work_books_a_duration_on_the_day_it_started_in_utc():
    late = datetime(2026, 3, 2, 23, 30, tzinfo=timezone(timedelta(hours=-2)))  # already the 3rd in UTC
    payload = time_entry_payload(
        "77", WorklogDraft(hours=1.5, started=late, comment="**done**"), date(2026, 1, 1)
    )
    assert payload == {
        "hours": "PT1H30M",
        "spentOn": "2026-03-03",
        "comment": {"raw": "**done**"},
        "_links": {"entity": {"href": "/api/v3/work_packages/77"}},
    }
    assert time_entry_payload("77", WorklogDraft(hours=2), date(2026, 1, 5))["spentOn"] == "2026-01-05"


@pytest.mark.parametrize("hours", [0, -1, float("nan"), float("inf"), True, 0.0000001])
def test_hours_that_are_not_positive_are_refused(hours):
    with pytest.raises(errors.InvalidInput) as caught:
        time_entry_payload("77", WorklogDraft(hours=hours), date(2026, 1, 1))
    assert "hours" in caught.value.field_errors


# --- history ---------------------------------------------------------------------------------------------


def detail(raw: str, markup: str | None) -> dict:
    body = {"format": "custom", "raw": raw}
    if markup is not None:
        body["html"] = markup
    return body


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<strong>Subject</strong> changed from <i>Old</i> to <i>New</i>", ("Subject", "Old", "New")),
        ("<strong>Assignee</strong> set to <i>Ana Silva</i>", ("Assignee", None, "Ana Silva")),
        (
            "<strong>Finish date</strong> deleted (<strike><i>2026-03-09</i></strike>)",
            ("Finish date", "2026-03-09", None),
        ),
        (
            '<strong>Description</strong> changed (<a href="/journals/3/diff">Details</a>)',
            ("Description", None, None),
        ),
        (
            "<strong>Subject</strong> changed from <i>Move to cloud</i> <br/>to <i>Go to &amp; from</i>",
            ("Subject", "Move to cloud", "Go to & from"),
        ),
        ("<strong>Betreff</strong> geändert von <i>Alt</i> zu <i>Neu</i>", ("Betreff", "Alt", "Neu")),
        (
            '<strong>Status</strong> changed from <i title="New">New</i> to <i title="Closed">Closed</i>',
            ("Status", "New", "Closed"),
        ),
    ],
)
def test_a_detail_is_read_from_its_structure_in_any_language(markup, expected):
    assert parse_detail(detail("ignored", markup)) == expected


def test_a_detail_without_markup_is_its_text():
    assert parse_detail(detail("Something  happened", None)) == ("Something happened", None, None)
    assert parse_detail(detail("", "")) is None
    assert parse_detail("not a detail") is None


def activity(activity_id: int, at: str, *details: dict, user: str = "Ana Silva") -> dict:
    return {
        "_type": "Activity",
        "id": activity_id,
        "version": activity_id,
        "createdAt": at,
        "details": list(details),
        "comment": {"format": "markdown", "raw": ""},
        "_links": {"user": {"href": "/api/v3/users/1", "title": user}},
    }


def test_history_is_every_changed_field_oldest_first():
    status = detail(
        "Status changed from New to In progress",
        "<strong>Status</strong> changed from <i>New</i> to <i>In progress</i>",
    )
    sprint = detail("Sprint set to Sprint 2", "<strong>Sprint</strong> set to <i>Sprint 2</i>")
    title = detail(
        "Subject changed from A to B", "<strong>Subject</strong> changed from <i>A</i> to <i>B</i>"
    )
    activities = [
        activity(3, "2026-03-03T10:00:00Z", title, user="Ben Okafor"),
        activity(1, "2026-03-01T10:00:00Z"),  # the creation: nothing changed
        activity(2, "2026-03-02T10:00:00Z", status, sprint),
    ]
    entries = parse_history(activities, slug=SLUG, base_url=BASE)
    assert [(e.field, e.old, e.new) for e in entries] == [
        ("Status", "New", "In progress"),
        ("Sprint", None, "Sprint 2"),
        ("Subject", "A", "B"),
    ]
    assert entries[0].at == entries[1].at == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert entries[2].author.name == "Ben Okafor"
    assert entries[0].extra["activity_id"] == "2" and entries[0].extra["text"].startswith("Status changed")


# --- fields ------------------------------------------------------------------------------------------------

SCHEMA = {
    "_type": "Schema",
    "_dependencies": [],
    "lockVersion": {
        "type": "Integer",
        "name": "Lock Version",
        "required": True,
        "hasDefault": False,
        "writable": False,
    },
    "subject": {"type": "String", "name": "Subject", "required": True, "hasDefault": False, "writable": True},
    "customField1": {
        "type": "CustomOption",
        "name": "Risk",
        "required": False,
        "hasDefault": False,
        "writable": True,
        "location": "_links",
        "_links": {
            "allowedValues": [
                {"href": "/api/v3/custom_options/21", "title": "Low"},
                {"href": "/api/v3/custom_options/23", "title": "High"},
            ]
        },
    },
    "customField2": {
        "type": "[]CustomOption",
        "name": "Platforms",
        "required": False,
        "hasDefault": False,
        "writable": True,
        "location": "_links",
        "_embedded": {
            "allowedValues": [
                {
                    "_type": "CustomOption",
                    "id": 24,
                    "value": "Web",
                    "_links": {"self": {"href": "/api/v3/custom_options/24"}},
                },
                {
                    "_type": "CustomOption",
                    "id": 25,
                    "value": "iOS",
                    "_links": {"self": {"href": "/api/v3/custom_options/25"}},
                },
            ]
        },
    },
    "customField3": {
        "type": "String",
        "name": "Customer",
        "required": True,
        "hasDefault": False,
        "writable": True,
    },
    "customField4": {
        "type": "User",
        "name": "Reviewer",
        "required": False,
        "hasDefault": False,
        "writable": True,
        "location": "_links",
    },
    "customField5": {
        "type": "Formattable",
        "name": "Release notes",
        "required": False,
        "hasDefault": False,
        "writable": True,
    },
    "customField6": {
        "type": "Integer",
        "name": "Seats",
        "required": False,
        "hasDefault": False,
        "writable": True,
    },
    "customField7": {
        "type": "Float",
        "name": "Budget",
        "required": False,
        "hasDefault": False,
        "writable": False,
    },
    "customField8": {
        "type": "Date",
        "name": "Launch",
        "required": False,
        "hasDefault": False,
        "writable": True,
    },
    "customField9": {
        "type": "CustomField::Hierarchy::Item",
        "name": "Area",
        "required": False,
        "hasDefault": False,
        "writable": True,
    },
    "_links": {},
}
FIELDS = {f.id: f for f in parse_field_defs(SCHEMA)}


def test_fields_come_from_the_schema_with_their_types_and_values():
    assert "lockVersion" not in FIELDS
    risk, platforms = FIELDS["customField1"], FIELDS["customField2"]
    assert (risk.name, risk.type, risk.allowed, risk.custom, risk.settable) == (
        "Risk",
        FieldType.OPTION,
        ("Low", "High"),
        True,
        True,
    )
    assert (platforms.type, platforms.allowed) == (FieldType.OPTIONS, ("Web", "iOS"))
    assert {
        key: FIELDS[key].type
        for key in ("customField3", "customField4", "customField5", "customField6", "customField8")
    } == {
        "customField3": FieldType.TEXT,
        "customField4": FieldType.USER,
        "customField5": FieldType.MARKDOWN,
        "customField6": FieldType.NUMBER,
        "customField8": FieldType.DATE,
    }
    assert FIELDS["customField3"].required
    assert not FIELDS["customField7"].settable  # not writable
    assert FIELDS["customField9"].type == FieldType.OTHER and not FIELDS["customField9"].settable
    subject = FIELDS["subject"]
    assert not subject.custom and not subject.settable


def test_form_schema_reads_the_embedded_schema():
    assert form_schema({"_type": "Form", "_embedded": {"schema": SCHEMA}}) is SCHEMA
    assert form_schema({"_type": "Form"}) == {} and form_schema(None) == {}


def test_field_writes_put_plain_values_in_properties_and_options_and_people_in_links():
    properties, links = field_writes(
        FIELDS,
        {
            "customField1": "high",  # names match case-insensitively
            "customField2": ["Web", "iOS"],
            "customField3": "ACME",
            "customField4": "2",
            "customField5": "**Big**",
            "customField6": 3.0,
            "customField8": date(2026, 4, 1),
        },
    )
    assert properties == {
        "customField3": "ACME",
        "customField5": {"raw": "**Big**"},
        "customField6": 3,
        "customField8": "2026-04-01",
    }
    assert links == {
        "customField1": {"href": "/api/v3/custom_options/23"},
        "customField2": [{"href": "/api/v3/custom_options/24"}, {"href": "/api/v3/custom_options/25"}],
        "customField4": {"href": "/api/v3/users/2"},
    }


def test_none_clears_every_kind_of_field():
    properties, links = field_writes(
        FIELDS,
        {
            key: None
            for key in ("customField1", "customField2", "customField3", "customField4", "customField5")
        },
    )
    assert properties == {"customField3": None, "customField5": {"raw": ""}}
    assert links == {"customField1": {"href": None}, "customField2": [], "customField4": {"href": None}}


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"customField1": "Extreme"}, "choose one of: Low, High"),
        ({"customField2": ["Web", "Windows"]}, "choose one of: Web, iOS"),
        ({"customField6": 1.5}, "whole number"),
        ({"customField6": "three"}, "not a number"),
        ({"customField4": "ana@example.com"}, "not a user id"),
        ({"customField42": "x"}, "Risk (customField1)"),
        ({"customField7": 1.0}, "no custom field 'customField7'"),
        ({"subject": "x"}, "no custom field 'subject'"),
    ],
)
def test_a_value_that_does_not_fit_is_refused_saying_what_would(values, says):
    with pytest.raises(errors.InvalidInput) as caught:
        field_writes(FIELDS, values)
    assert says in str(caught.value)


def test_a_work_package_shows_its_custom_values_as_people_read_them():
    raw = {
        "id": 5,
        "subject": "With fields",
        "customField3": "ACME",
        "customField5": {"format": "markdown", "raw": "**notes**", "html": ""},
        "customField6": None,
        "_links": {
            "customField1": {"href": "/api/v3/custom_options/23", "title": "High"},
            "customField2": [{"href": "/api/v3/custom_options/24", "title": "Web"}],
            "customField4": {"href": None},
            "status": {"href": "/api/v3/statuses/1", "title": "New"},
        },
    }
    assert parse_custom_values(raw) == {
        "customField3": "ACME",
        "customField5": "**notes**",
        "customField1": "High",
        "customField2": ["Web"],
    }
    statuses = {"1": parse_status({"id": 1, "name": "New", "isClosed": False}, slug=SLUG)}
    task = parse_work_package(raw, slug=SLUG, base_url=BASE, statuses=statuses)
    assert task.extra["fields"]["customField1"] == "High"


# --- native queries and sprints -----------------------------------------------------------------------------


def test_a_native_query_is_a_filter_array_passed_on_as_given():
    text = ' [{"subject": {"operator": "~", "values": ["Native"]}}, {"status": {"operator": "o", "values": null}}]'
    assert native_filters(text) == text.strip()
    assert json.loads(native_filters("[]")) == []


@pytest.mark.parametrize(
    "text",
    [
        "status = open",
        '{"status": {"operator": "o"}}',
        '[{"a": {"operator": "="}, "b": {"operator": "="}}]',
        '[{"status": "o"}]',
        '[{"status": {"values": []}}]',
    ],
)
def test_anything_else_is_refused_with_an_example(text):
    with pytest.raises(errors.InvalidInput) as caught:
        native_filters(text)
    assert '[{"status": {"operator": "o", "values": null}}]' in str(caught.value)


def test_sprint_fields_become_version_attributes():
    assert version_write({"name": "  Sprint 9 ", "goal": None, "start": date(2026, 4, 1), "end": None}) == {
        "name": "Sprint 9",
        "description": {"raw": ""},
        "startDate": "2026-04-01",
        "endDate": None,
    }
    assert version_write({"goal": "Ship it"}) == {"description": {"raw": "Ship it"}}
    assert version_write({}) == {}


def test_a_sprint_needs_a_name_and_an_end_on_or_after_its_start():
    with pytest.raises(errors.InvalidInput):
        sprint_name("  ")
    with pytest.raises(errors.InvalidInput):
        check_sprint_dates(date(2026, 4, 2), date(2026, 4, 1))
    check_sprint_dates(date(2026, 4, 1), date(2026, 4, 1))
    check_sprint_dates(None, date(2026, 4, 1))
