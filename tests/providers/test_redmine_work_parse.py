"""Redmine's sprint-work JSON and write bodies, as pure functions, on bodies shaped like Redmine 5's answers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from portal.core.providers import errors
from portal.core.providers.base import (
    FieldType,
    LinkKind,
    Priority,
    PriorityLevel,
    Status,
    StatusCategory,
    TaskQuery,
    WorklogDraft,
)
from portal.core.providers.redmine.fields import (
    custom_field_number,
    custom_value,
    field_type,
    named_only_field,
    parse_field_definition,
    standard_fields,
)
from portal.core.providers.redmine.history import needed_names, parse_history, people_in
from portal.core.providers.redmine.links import link_types, parse_relation, relation_as_read_from
from portal.core.providers.redmine.query import issue_filters, native_params
from portal.core.providers.redmine.site import start_field_of
from portal.core.providers.redmine.sprints import check_dates, no_start, version_body, version_start
from portal.core.providers.redmine.worklogs import default_activity, parse_time_entry, time_entry_body

SLUG = "rm"
BASE = "https://redmine.example.com"

# --- links ---------------------------------------------------------------------------------------

# Redmine stores "#8 is blocked by #7" as #7 blocks #8.
BLOCKS = {"id": 3, "issue_id": 7, "issue_to_id": 8, "relation_type": "blocks", "delay": None}
OTHERS = {
    "7": {"id": 7, "subject": "Fix the login", "status": {"id": 5, "name": "Closed", "is_closed": True}},
    "8": {"id": 8, "subject": "Ship it", "status": {"id": 1, "name": "New", "is_closed": False}},
}


def test_a_relation_reads_forward_from_its_source():
    link = parse_relation(BLOCKS, task_id="7", slug=SLUG, base_url=BASE, others=OTHERS)
    assert (link.ref, link.id, link.kind, link.label) == ("rm:3", "3", LinkKind.BLOCKS, "blocks")
    assert (link.task_ref, link.other_ref, link.other_key) == ("rm:7", "rm:8", "#8")
    assert link.other_title == "Ship it" and link.other_done is False
    assert link.url == f"{BASE}/issues/8" and link.extra == {"relation_type": "blocks"}


def test_a_relation_reads_backwards_from_its_target():
    link = parse_relation(BLOCKS, task_id="8", slug=SLUG, base_url=BASE, others=OTHERS)
    assert (link.kind, link.label, link.other_ref) == (LinkKind.BLOCKED_BY, "blocked by", "rm:7")
    assert link.other_done is True and link.extra["relation_type"] == "blocked"


@pytest.mark.parametrize(
    ("relation_type", "source_kind", "target_kind", "target_label"),
    [
        ("relates", LinkKind.RELATES, LinkKind.RELATES, "related to"),
        ("duplicates", LinkKind.DUPLICATES, LinkKind.DUPLICATED_BY, "has duplicate"),
        ("precedes", LinkKind.OTHER, LinkKind.OTHER, "follows"),
        ("copied_to", LinkKind.OTHER, LinkKind.OTHER, "copied from"),
    ],
)
def test_each_relation_type_from_both_sides(relation_type, source_kind, target_kind, target_label):
    raw = {**BLOCKS, "relation_type": relation_type, "delay": 2 if relation_type == "precedes" else None}
    source = parse_relation(raw, task_id="7", slug=SLUG, base_url=BASE)
    target = parse_relation(raw, task_id="8", slug=SLUG, base_url=BASE)
    assert source.kind == source_kind and target.kind == target_kind and target.label == target_label
    assert source.other_title is None and source.other_done is None  # the other issue was not given
    if relation_type == "precedes":
        assert source.extra["delay_days"] == 2


def test_relation_as_read_from_either_issue():
    assert relation_as_read_from(BLOCKS, "7") == ("blocks", "8")
    assert relation_as_read_from(BLOCKS, "8") == ("blocked", "7")


def test_link_types_are_redmines_forward_types_with_both_readings():
    types = {t.id: t for t in link_types()}
    assert set(types) == {"relates", "blocks", "duplicates", "precedes", "copied_to"}
    assert (types["blocks"].kind, types["blocks"].outward, types["blocks"].inward) == (
        LinkKind.BLOCKS,
        "blocks",
        "blocked by",
    )
    assert types["relates"].outward == types["relates"].inward == "related to"
    assert (types["precedes"].kind, types["precedes"].inward) == (LinkKind.OTHER, "follows")
    assert types["copied_to"].name == "copied to"


# --- worklogs --------------------------------------------------------------------------------------

TIME_ENTRY = {
    "id": 12,
    "project": {"id": 5, "name": "Shop"},
    "issue": {"id": 37},
    "user": {"id": 1, "name": "Redmine Admin"},
    "activity": {"id": 9, "name": "Development"},
    "hours": 1.5,
    "comments": "Paired on the **fix**.",
    "spent_on": "2026-12-02",
    "created_on": "2026-12-02T21:22:30Z",
    "updated_on": "2026-12-02T21:22:30Z",
}


def test_time_entry_as_a_worklog():
    worklog = parse_time_entry(TIME_ENTRY, slug=SLUG, base_url=BASE)
    assert (worklog.ref, worklog.id, worklog.task_ref, worklog.hours) == ("rm:12", "12", "rm:37", 1.5)
    assert worklog.started == datetime(2026, 12, 2, tzinfo=UTC)  # Redmine keeps the day only
    assert worklog.author.name == "Redmine Admin" and worklog.comment == "Paired on the **fix**."
    assert worklog.created_at == datetime(2026, 12, 2, 21, 22, 30, tzinfo=UTC)
    assert worklog.extra == {"spent_on": date(2026, 12, 2), "project_ref": "rm:5", "activity": "Development"}


def test_time_entry_on_a_project_names_the_project():
    raw = {**TIME_ENTRY, "issue": None, "comments": None}
    worklog = parse_time_entry(raw, slug=SLUG, base_url=BASE)
    assert worklog.task_ref == "rm:5" and worklog.extra["logged_on"] == "project" and worklog.comment is None


def test_default_activity_is_the_default_else_the_first_active():
    activities = [
        {"id": 8, "name": "Design", "active": False},
        {"id": 9, "name": "Development"},
        {"id": 10, "name": "Testing", "is_default": True},
    ]
    assert default_activity(activities) == "10"
    assert default_activity(activities[:2]) == "9"
    assert default_activity([]) is None


def test_time_entry_body():
    started = datetime(2026, 12, 3, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    body = time_entry_body("37", WorklogDraft(hours=0.25, started=started, comment="Review"), "9")
    # the day as the person logging it lives it, not in UTC
    assert body == {
        "issue_id": 37,
        "hours": 0.25,
        "spent_on": "2026-12-03",
        "comments": "Review",
        "activity_id": 9,
    }
    assert time_entry_body("37", WorklogDraft(hours=2), None) == {"issue_id": 37, "hours": 2}


@pytest.mark.parametrize("hours", [0, -1, float("nan"), float("inf")])
def test_time_entry_refuses_hours_that_are_not_positive(hours):
    with pytest.raises(errors.InvalidInput) as caught:
        time_entry_body("37", WorklogDraft(hours=hours), "9")
    assert "hours" in caught.value.field_errors


def test_time_entry_refuses_a_comment_redmine_would_cut():
    with pytest.raises(errors.InvalidInput) as caught:
        time_entry_body("37", WorklogDraft(hours=1, comment="x" * 1025), "9")
    assert "1024" in str(caught.value)


# --- history ---------------------------------------------------------------------------------------

JOURNALED = {
    "id": 35,
    "project": {"id": 5, "name": "Shop"},
    "author": {"id": 1, "name": "Redmine Admin"},
    "assigned_to": {"id": 6, "name": "Dana Dev"},
    "custom_fields": [{"id": 4, "name": "Size", "value": "Large"}],
    "journals": [
        {
            "id": 30,
            "user": {"id": 1, "name": "Redmine Admin"},
            "notes": "closing",
            "created_on": "2026-12-02T21:22:29Z",
            "details": [
                {"property": "attr", "name": "subject", "old_value": "Scr A", "new_value": "Scr A renamed"},
                {"property": "attr", "name": "status_id", "old_value": "1", "new_value": "5"},
                {"property": "attr", "name": "assigned_to_id", "old_value": None, "new_value": "6"},
                {"property": "cf", "name": "4", "old_value": "Small", "new_value": "Large"},
            ],
        },
        {
            "id": 24,
            "user": {"id": 6, "name": "Dana Dev"},
            "notes": "",
            "created_on": "2026-12-02T21:22:20Z",
            "details": [
                {"property": "relation", "name": "blocks", "old_value": None, "new_value": "37"},
                {"property": "attr", "name": "fixed_version_id", "old_value": "3", "new_value": "99"},
                {"property": "attr", "name": "is_private", "old_value": "0", "new_value": "1"},
                {"property": "attachment", "name": "12", "old_value": None, "new_value": "trace.log"},
                {"property": "attr", "name": "parent_id", "old_value": "40", "new_value": None},
            ],
        },
        {"id": 40, "user": {"id": 1, "name": "Redmine Admin"}, "notes": "Only a note", "details": []},
    ],
}
NAMES = {
    "status_id": {"1": "New", "5": "Closed"},
    "assigned_to_id": {"6": "Dana Dev"},
    "fixed_version_id": {"3": "Sprint 3"},
}


def test_history_names_every_changed_field_oldest_first():
    entries = parse_history(JOURNALED, NAMES, slug=SLUG, base_url=BASE)
    assert [(e.field, e.old, e.new) for e in entries] == [
        ("Link", None, "blocks #37"),
        ("Target version", "Sprint 3", "version #99"),  # a version since deleted: named by id
        ("Private", "No", "Yes"),
        ("File", None, "trace.log"),
        ("Parent task", "#40", None),
        ("Subject", "Scr A", "Scr A renamed"),
        ("Status", "New", "Closed"),
        ("Assignee", None, "Dana Dev"),
        ("Size", "Small", "Large"),
    ]
    first, status = entries[0], entries[6]
    assert first.at == datetime(2026, 12, 2, 21, 22, 20, tzinfo=UTC) and first.author.name == "Dana Dev"
    assert status.extra == {
        "journal_id": "30",
        "property": "attr",
        "old_id": "1",
        "new_id": "5",
        "attribute": "status_id",
    }
    assert entries[8].extra["attribute"] == "cf_4"
    assert len({e.at for e in entries[5:]}) == 1  # one save, several entries at the same moment


def test_history_names_unknown_fields_and_ids_plainly():
    entries = parse_history(JOURNALED, {}, slug=SLUG, base_url=BASE)
    status = next(e for e in entries if e.field == "Status")
    assert (status.old, status.new) == ("status #1", "status #5")
    bare = {**JOURNALED, "custom_fields": []}
    assert any(e.field == "Custom field 4" for e in parse_history(bare, {}, slug=SLUG, base_url=BASE))
    named = parse_history(bare, {}, slug=SLUG, base_url=BASE, field_names={"cf_4": "Size"})
    assert any(e.field == "Size" for e in named)


def test_what_history_needs_names_for():
    assert needed_names(JOURNALED) == {"status_id", "assigned_to_id", "fixed_version_id", "cf_4"}
    assert needed_names({"journals": []}) == set()
    assert people_in(JOURNALED) == {"1": "Redmine Admin", "6": "Dana Dev"}


# --- fields ----------------------------------------------------------------------------------------

SIZE = {
    "id": 4,
    "name": "Size",
    "customized_type": "issue",
    "field_format": "list",
    "is_required": False,
    "multiple": False,
    "default_value": "Medium",
    "possible_values": [
        {"value": "Small", "label": "Small"},
        {"value": "Medium", "label": "Medium"},
        {"value": "Large", "label": "Large"},
    ],
    "trackers": [{"id": 1, "name": "Bug"}, {"id": 2, "name": "Feature"}],
}
TEAM = {
    "id": 6,
    "name": "Team",
    "customized_type": "issue",
    "field_format": "enumeration",
    "multiple": True,
    "possible_values": [{"value": "21", "label": "Core"}, {"value": "22", "label": "Web"}],
    "trackers": [{"id": 1, "name": "Bug"}],
}


def test_a_list_field_is_an_option_with_its_values():
    field = parse_field_definition(SIZE, enabled=True)
    assert (field.id, field.name, field.type, field.custom, field.settable) == (
        "cf_4",
        "Size",
        FieldType.OPTION,
        True,
        True,
    )
    assert field.allowed == ("Small", "Medium", "Large")
    assert field.extra == {
        "format": "list",
        "trackers": ["Bug", "Feature"],
        "enabled": True,
        "default": "Medium",
    }
    assert parse_field_definition(SIZE, enabled=None).extra["enabled"] is None


@pytest.mark.parametrize(
    ("field_format", "multiple", "kind"),
    [
        ("string", False, FieldType.TEXT),
        ("text", False, FieldType.MARKDOWN),
        ("int", False, FieldType.NUMBER),
        ("float", False, FieldType.NUMBER),
        ("date", False, FieldType.DATE),
        ("bool", False, FieldType.BOOLEAN),
        ("link", False, FieldType.URL),
        ("list", True, FieldType.OPTIONS),
        ("enumeration", False, FieldType.OPTION),
        ("user", False, FieldType.USER),
        ("user", True, FieldType.USERS),
        ("version", False, FieldType.OTHER),
        ("attachment", False, FieldType.OTHER),
    ],
)
def test_field_types_by_format(field_format, multiple, kind):
    assert field_type({"field_format": field_format, "multiple": multiple}) == kind


def test_a_field_of_another_format_is_read_not_set():
    field = parse_field_definition({**SIZE, "field_format": "version", "possible_values": []}, enabled=True)
    assert field.type == FieldType.OTHER and not field.settable and "version" in field.extra["why"]


def test_a_field_known_by_name_only_is_not_settable():
    field = named_only_field({"id": 4, "name": "Size"})
    assert (field.id, field.type, field.settable) == ("cf_4", FieldType.OTHER, False)
    assert "administrators" in field.extra["why"]


def test_custom_values_as_redmine_takes_them():
    assert custom_value(SIZE, "large") == "Large"  # option names match whatever their case
    assert custom_value(SIZE, None) == ""
    assert custom_value(TEAM, ["Web", "core"]) == ["22", "21"]  # enumerations are stored by id
    assert custom_value(TEAM, None) == []
    assert custom_value({"id": 1, "field_format": "bool"}, False) == "0"
    assert custom_value({"id": 1, "field_format": "date"}, date(2026, 12, 24)) == "2026-12-24"
    assert custom_value({"id": 1, "field_format": "int"}, 3.0) == "3"
    assert custom_value({"id": 1, "field_format": "float"}, 2.5) == "2.5"
    assert custom_value({"id": 1, "field_format": "user", "multiple": True}, ["5", "6"]) == ["5", "6"]
    with pytest.raises(errors.InvalidInput) as caught:
        custom_value(SIZE, "Huge")
    assert "Small, Medium, Large" in str(caught.value) and caught.value.field_errors == {"cf_4": "Huge"}


def test_custom_field_ids():
    assert custom_field_number("cf_12") == 12
    for wrong in ("12", "cf_", "cf_x", "customfield_1"):
        with pytest.raises(errors.InvalidInput):
            custom_field_number(wrong)


def test_standard_fields_list_what_the_project_allows():
    project = {"trackers": [{"id": 1, "name": "Bug"}], "issue_categories": [{"id": 2, "name": "Backend"}]}
    statuses = [Status("rm:1", "1", "New", StatusCategory.TODO)]
    priorities = [Priority("2", "Normal", PriorityLevel.MEDIUM)]
    fields = {f.id: f for f in standard_fields(project, statuses, priorities)}
    assert all(not f.custom and not f.settable for f in fields.values())
    assert fields["tracker_id"].allowed == ("Bug",) and fields["category_id"].allowed == ("Backend",)
    assert fields["status_id"].allowed == ("New",) and fields["priority_id"].allowed == ("Normal",)
    assert fields["subject"].required and fields["due_date"].type == FieldType.DATE


# --- sprints ---------------------------------------------------------------------------------------


def test_version_bodies():
    body = version_body(
        name=" Sprint 4 ", goal="Checkout", end=date(2026, 12, 31), start=date(2026, 12, 14), start_field="2"
    )
    assert body == {
        "name": "Sprint 4",
        "description": "Checkout",
        "due_date": "2026-12-31",
        "custom_fields": [{"id": 2, "value": "2026-12-14"}],
    }
    cleared = version_body(goal=None, end=None, start=None, start_field="2")
    assert cleared == {"description": "", "due_date": "", "custom_fields": [{"id": 2, "value": ""}]}
    assert version_body() == {}


def test_version_bodies_refuse_a_blank_name_and_a_start_without_a_field():
    with pytest.raises(errors.InvalidInput):
        version_body(name="  ")
    with pytest.raises(errors.NotSupported) as caught:
        version_body(start=date(2026, 12, 14), start_field=None)
    assert "Redmine versions have no start date" in str(caught.value) and "Start date" in str(caught.value)


def test_a_sprint_can_not_end_before_it_starts():
    check_dates(date(2026, 12, 1), date(2026, 12, 1))
    check_dates(None, date(2026, 12, 1))
    with pytest.raises(errors.InvalidInput) as caught:
        check_dates(date(2026, 12, 2), date(2026, 12, 1))
    assert caught.value.field_errors == {"end": "before the start"}


def test_why_a_version_can_not_be_started():
    with_field, without = no_start(True), no_start(False)
    assert (
        with_field.startswith("Redmine versions can't be started")
        and "change its start to today" in with_field
    )
    assert "already counts as active" in without


def test_the_start_field_of_a_version():
    version = {
        "custom_fields": [
            {"id": 7, "name": "Owner", "value": "Ana"},
            {"id": 2, "name": "Start date", "value": "2026-12-14"},
        ]
    }
    assert start_field_of(version) == "2"
    assert version_start(version, "2") == date(2026, 12, 14)
    assert version_start(version, None) is None
    assert start_field_of({"custom_fields": []}) is None and start_field_of({}) is None


# --- queries ---------------------------------------------------------------------------------------


def test_blocked_tasks_are_those_blocked_by_an_open_issue():
    assert issue_filters(TaskQuery(blocked=True))["blocked"] == "*o"
    assert "blocked" not in issue_filters(TaskQuery())


def test_native_queries_pass_through_whole():
    assert native_params(" 12 ") == [("query_id", "12")]
    assert native_params("status_id=open&assigned_to_id=me") == [
        ("status_id", "open"),
        ("assigned_to_id", "me"),
    ]
    assert native_params("https://redmine.example.com/projects/shop/issues?query_id=4") == [("query_id", "4")]
    pairs = native_params("f[]=subject&op[subject]=~&v[subject][]=login&f[]=")
    assert pairs == [("f[]", "subject"), ("op[subject]", "~"), ("v[subject][]", "login"), ("f[]", "")]


@pytest.mark.parametrize(
    "query",
    [
        "login fails",
        "",
        "status_id=open&limit=500",
        "key=abc&status_id=*",
        "offset=10",
        "include=journals",
        "a b=1",
    ],
)
def test_native_queries_refuse_what_is_not_one_or_sets_our_parameters(query):
    with pytest.raises(errors.InvalidInput) as caught:
        native_params(query)
    assert caught.value.field_errors.get("native_query")
