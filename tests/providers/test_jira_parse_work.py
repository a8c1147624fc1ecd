"""The pure parse functions of JIRA sprint work (portal/core/providers/jira/parse_work.py) and the
query builders they pair with, on JIRA's documented shapes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.core.providers import errors
from portal.core.providers.base import ME, FieldType, LinkKind
from portal.core.providers.jira.parse_work import (
    field_names,
    field_type,
    link_kind,
    parse_changelog,
    parse_create_meta,
    parse_issue_links,
    parse_link_types,
    parse_worklog,
)
from portal.core.providers.jira.query import (
    field_value,
    jira_timestamp,
    sprint_dates,
    sprint_name,
    worklog_seconds,
    worklogs_jql,
)

SLUG = "acme"
BASE = "https://acme.atlassian.net"
BLOCKS = {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"}


def linked(key: str, category: str) -> dict:
    return {
        "id": "1",
        "key": key,
        "fields": {
            "summary": f"Issue {key}",
            "status": {"id": "3", "name": "X", "statusCategory": {"key": category}},
        },
    }


def test_link_types_map_their_outward_phrase_onto_kinds():
    types = parse_link_types(
        {
            "issueLinkTypes": [
                BLOCKS,
                {"id": "10003", "name": "Relates", "inward": "relates to", "outward": "relates to"},
                {"id": "10002", "name": "Duplicate", "inward": "is duplicated by", "outward": "duplicates"},
                {"id": "10001", "name": "Cloners", "inward": "is cloned by", "outward": "clones"},
                {"name": "no id"},
            ]
        }
    )
    assert [(t.name, t.kind) for t in types] == [
        ("Blocks", LinkKind.BLOCKS),
        ("Relates", LinkKind.RELATES),
        ("Duplicate", LinkKind.DUPLICATES),
        ("Cloners", LinkKind.OTHER),
    ]
    assert types[0].inward == "is blocked by" and types[0].outward == "blocks"
    assert link_kind(" Is Blocked By ") == LinkKind.BLOCKED_BY
    assert parse_link_types(None) == [] and parse_link_types({"issueLinkTypes": None}) == []


def test_issue_links_read_from_the_issue_they_are_listed_on():
    links = parse_issue_links(
        [
            {"id": "501", "type": BLOCKS, "outwardIssue": linked("ALPHA-2", "new")},
            {"id": "502", "type": BLOCKS, "inwardIssue": linked("ALPHA-3", "done")},
            {
                "id": "503",
                "type": {"id": "1", "name": "Cloners", "inward": "is cloned by", "outward": "clones"},
                "inwardIssue": linked("BETA-1", "indeterminate"),
            },
            {"id": "504", "type": BLOCKS},  # neither side: skipped
            "junk",
        ],
        SLUG,
        BASE,
        "ALPHA-1",
    )
    assert [(link.id, link.kind, link.label, link.other_key, link.other_done) for link in links] == [
        ("501", LinkKind.BLOCKS, "blocks", "ALPHA-2", False),
        ("502", LinkKind.BLOCKED_BY, "is blocked by", "ALPHA-3", True),
        ("503", LinkKind.OTHER, "is cloned by", "BETA-1", False),
    ]
    first = links[0]
    assert first.ref == "acme:501" and first.task_ref == "acme:ALPHA-1" and first.other_ref == "acme:ALPHA-2"
    assert first.other_title == "Issue ALPHA-2" and first.url == f"{BASE}/browse/ALPHA-2"
    assert first.extra == {"type_id": "10000", "type_name": "Blocks"}
    assert parse_issue_links(None, SLUG, BASE, "ALPHA-1") == []


def test_a_linked_issue_without_a_status_is_not_known_to_be_done():
    (link,) = parse_issue_links(
        [{"id": "9", "type": BLOCKS, "inwardIssue": {"key": "ALPHA-9"}}], SLUG, BASE, "ALPHA-1"
    )
    assert link.other_done is None


def test_a_worklog_in_hours_with_a_markdown_comment():
    worklog = parse_worklog(
        {
            "id": "100028",
            "issueId": "10002",
            "author": {"accountId": "abc", "displayName": "Ana"},
            "comment": {
                "type": "doc",
                "version": 1,
                "content": [
                    {
                        "type": "paragraph",
                        "content": [{"type": "text", "text": "fixed", "marks": [{"type": "strong"}]}],
                    }
                ],
            },
            "started": "2026-01-05T10:30:00.000+0100",
            "created": "2026-01-05T11:00:00.000+0000",
            "timeSpent": "1h 30m",
            "timeSpentSeconds": 5400,
        },
        SLUG,
        BASE,
        "ALPHA-1",
    )
    assert worklog.hours == 1.5 and worklog.id == "100028" and worklog.ref == "acme:100028"
    assert worklog.task_ref == "acme:ALPHA-1"
    assert worklog.started == datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    assert worklog.comment == "**fixed**"
    assert worklog.author is not None and worklog.author.name == "Ana"
    bare = parse_worklog({"id": "7", "timeSpentSeconds": True}, SLUG, BASE, "ALPHA-1")
    assert bare.hours == 0.0 and bare.comment is None and bare.started is None


def test_changelog_entries_one_per_changed_field_named_as_the_site_names_them():
    names = field_names(
        [{"id": "status", "name": "Status"}, {"id": "customfield_10031", "name": "Story Points"}, "junk"]
    )
    changes = parse_changelog(
        [
            {
                "id": "1",
                "author": {"accountId": "ben", "displayName": "Ben"},
                "created": "2026-01-05T10:00:00.000+0100",
                "items": [
                    {
                        "field": "status",
                        "fieldId": "status",
                        "from": "10000",
                        "fromString": "To Do",
                        "to": "10001",
                        "toString": "In Progress",
                    },
                    {
                        "field": "Story Points",
                        "fieldId": "customfield_10031",
                        "from": None,
                        "fromString": None,
                        "to": None,
                        "toString": "3",
                    },
                ],
            },
            {
                "id": "2",
                "created": "2026-01-06T10:00:00.000+0000",
                "items": [{"field": "Link", "from": None, "fromString": "", "to": "ALPHA-9", "toString": ""}],
            },
            {"id": "3", "created": None, "items": [{"field": "lost"}]},
        ],
        SLUG,
        BASE,
        names,
    )
    assert [len(entries) for entries in changes] == [2, 1, 0]
    status, points = changes[0]
    assert (status.field, status.old, status.new) == ("Status", "To Do", "In Progress")
    assert status.extra["from"] == "10000" and status.extra["to"] == "10001"
    assert status.at == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert status.author is not None and status.author.id == "ben"
    assert (points.field, points.old, points.new) == ("Story Points", None, "3")
    (link,) = changes[1]
    assert (link.field, link.old, link.new, link.author) == ("Link", None, "ALPHA-9", None)


@pytest.mark.parametrize(
    ("schema", "kind"),
    [
        ({"type": "string", "system": "summary"}, FieldType.TEXT),
        ({"type": "string", "system": "description"}, FieldType.MARKDOWN),
        (
            {"type": "string", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textarea"},
            FieldType.MARKDOWN,
        ),
        (
            {"type": "string", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:url"},
            FieldType.URL,
        ),
        (
            {"type": "number", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float"},
            FieldType.NUMBER,
        ),
        ({"type": "number", "custom": "com.pyxis.greenhopper.jira:jsw-story-points"}, FieldType.NUMBER),
        ({"type": "date"}, FieldType.DATE),
        ({"type": "datetime"}, FieldType.DATETIME),
        ({"type": "option", "custom": "x:select"}, FieldType.OPTION),
        ({"type": "array", "items": "option", "custom": "x:multiselect"}, FieldType.OPTIONS),
        ({"type": "user"}, FieldType.USER),
        ({"type": "array", "items": "user"}, FieldType.USERS),
        ({"type": "array", "items": "string", "system": "labels"}, FieldType.LABELS),
        (
            {"type": "array", "items": "json", "custom": "com.pyxis.greenhopper.jira:gh-sprint"},
            FieldType.OTHER,
        ),
        ({"type": "issuetype"}, FieldType.OTHER),
        (None, FieldType.OTHER),
    ],
)
def test_field_types_from_schemas(schema, kind):
    assert field_type(schema) == kind


def test_create_metadata_as_field_definitions():
    fields = parse_create_meta(
        [
            {
                "fieldId": "summary",
                "key": "summary",
                "name": "Summary",
                "required": True,
                "schema": {"type": "string", "system": "summary"},
                "operations": ["set"],
            },
            {
                "fieldId": "customfield_10040",
                "key": "customfield_10040",
                "name": "Team",
                "required": False,
                "schema": {"type": "option", "custom": "x:select", "customId": 10040},
                "operations": ["set"],
                "allowedValues": [
                    {"value": "Payments", "id": "1"},
                    {"value": "Old", "id": "2", "disabled": True},
                    {"value": "Search", "id": "3"},
                ],
            },
            {
                "fieldId": "customfield_10020",
                "key": "customfield_10020",
                "name": "Sprint",
                "required": False,
                "schema": {
                    "type": "array",
                    "items": "json",
                    "custom": "com.pyxis.greenhopper.jira:gh-sprint",
                },
                "operations": ["set"],
            },
        ]
    )
    summary, team, sprint = fields
    assert (summary.custom, summary.settable, summary.required, summary.type) == (
        False,
        False,
        True,
        FieldType.TEXT,
    )
    assert (team.id, team.custom, team.settable, team.type) == (
        "customfield_10040",
        True,
        True,
        FieldType.OPTION,
    )
    assert team.allowed == ("Payments", "Search")
    assert team.extra["option_ids"] == {"Payments": "1", "Search": "3"}
    assert (sprint.custom, sprint.settable, sprint.type) == (True, False, FieldType.OTHER)
    assert parse_create_meta(None) == []


def test_field_values_take_jiras_shapes():
    assert field_value(FieldType.OPTION, "Payments") == {"value": "Payments"}
    assert field_value(FieldType.OPTIONS, ("A", "B")) == [{"value": "A"}, {"value": "B"}]
    assert field_value(FieldType.USER, "acc-1") == {"accountId": "acc-1"}
    assert field_value(FieldType.USERS, ["a", "b"]) == [{"accountId": "a"}, {"accountId": "b"}]
    assert field_value(FieldType.DATE, date(2026, 1, 5)) == "2026-01-05"
    assert (
        field_value(FieldType.DATETIME, datetime(2026, 1, 5, 9, tzinfo=UTC)) == "2026-01-05T09:00:00.000+0000"
    )
    assert field_value(FieldType.NUMBER, 2.5) == 2.5
    assert field_value(FieldType.LABELS, "one") == ["one"]
    assert field_value(FieldType.MARKDOWN, "**b**")["type"] == "doc"
    assert field_value(FieldType.OPTION, None) is None
    with pytest.raises(errors.InvalidInput):
        field_value(FieldType.OTHER, "x")


def test_sprint_bodies_and_worklog_values_are_checked():
    assert sprint_dates(date(2026, 1, 5), date(2026, 1, 16)) == {
        "startDate": "2026-01-05T00:00:00.000+0000",
        "endDate": "2026-01-16T23:59:59.000+0000",
    }
    assert sprint_dates(None, None) == {}
    with pytest.raises(errors.InvalidInput) as caught:
        sprint_dates(date(2026, 1, 5), date(2026, 1, 4))
    assert "end" in caught.value.field_errors
    assert sprint_name("  Sprint 7 ") == "Sprint 7"
    with pytest.raises(errors.InvalidInput):
        sprint_name(" ")
    assert worklog_seconds(1.5) == 5400
    for bad in (0, -1, 0.001, True):
        with pytest.raises(errors.InvalidInput):
            worklog_seconds(bad)
    naive = datetime(2026, 1, 5, 9, 30)
    assert jira_timestamp(naive) == "2026-01-05T09:30:00.000+0000"


def test_worklog_jql_widens_the_days_and_quotes_the_author():
    jql = worklogs_jql('acc"1', date(2026, 1, 5), date(2026, 1, 6), "ALPHA")
    assert jql == (
        'project = "ALPHA" AND worklogAuthor = "acc\\"1" AND worklogDate >= "2026-01-04" '
        'AND worklogDate <= "2026-01-07" ORDER BY key ASC'
    )
    assert "worklogAuthor = currentUser()" in worklogs_jql(ME, date(2026, 1, 5), date(2026, 1, 5), None)
