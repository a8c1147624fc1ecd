"""JIRA-specific sprint work beyond the shared contract, against the fake JIRA: what is sent, in which
direction, and what JIRA keeps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from portal.core.providers import errors
from portal.core.providers.base import (
    BACKLOG,
    ME,
    FieldType,
    LinkKind,
    PageRequest,
    SprintChanges,
    SprintDraft,
    SprintState,
    TaskChanges,
    TaskDraft,
    TaskQuery,
    WorklogDraft,
    WorklogQuery,
)
from portal.core.providers.jira import JiraAdapter
from tests.fakes.jira import DONE, FakeJira
from tests.fakes.jira_work import TEAM_FIELD, FakeWorklog
from tests.providers.test_jira_contract import make_jira_adapter


@pytest.fixture(scope="module")
def running_fake_jira() -> Iterator[FakeJira]:
    fake = FakeJira()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_jira(running_fake_jira: FakeJira) -> FakeJira:
    running_fake_jira.reset()
    return running_fake_jira


@pytest.fixture
def adapter(fake_jira: FakeJira) -> Iterator[JiraAdapter]:
    adapter = make_jira_adapter(fake_jira)
    yield adapter
    adapter.close()


def sent(fake: FakeJira, method: str, path: str) -> list[dict]:
    return [r.json() for r in fake.requests if r.method == method and r.path == path]


# --- links ---------------------------------------------------------------------------------------


def test_a_link_goes_from_the_source_in_jiras_naming(adapter: JiraAdapter, fake_jira: FakeJira):
    first, second = (fake_jira.add_issue("ALPHA", f"Link {n}").key for n in (1, 2))
    blocks = next(t for t in adapter.list_link_types() if t.kind == LinkKind.BLOCKS)
    link = adapter.link_tasks(first, second, blocks)  # first blocks second
    assert sent(fake_jira, "POST", "/rest/api/3/issueLink") == [
        {"type": {"id": blocks.id}, "inwardIssue": {"key": first}, "outwardIssue": {"key": second}}
    ]
    (stored,) = fake_jira.links.values()
    assert (stored.source, stored.destination) == (first, second)
    assert (link.kind, link.label, link.other_key) == (LinkKind.BLOCKS, "blocks", second)
    (seen_from_second,) = adapter.list_links(second)
    assert (seen_from_second.kind, seen_from_second.label) == (LinkKind.BLOCKED_BY, "is blocked by")
    assert seen_from_second.id == link.id and seen_from_second.other_done is False


def test_the_same_link_twice_is_a_conflict_and_jira_keeps_one(adapter: JiraAdapter, fake_jira: FakeJira):
    first, second = (fake_jira.add_issue("ALPHA", f"Twice {n}").key for n in (1, 2))
    relates = next(t for t in adapter.list_link_types() if t.kind == LinkKind.RELATES)
    adapter.link_tasks(first, second, relates)
    with pytest.raises(errors.Conflict):
        adapter.link_tasks(first, second, relates)
    assert len(fake_jira.links) == 1
    assert len(sent(fake_jira, "POST", "/rest/api/3/issueLink")) == 1


def test_a_vendor_link_type_keeps_its_own_phrase(adapter: JiraAdapter, fake_jira: FakeJira):
    first, second = (fake_jira.add_issue("ALPHA", f"Clone {n}").key for n in (1, 2))
    clones = next(t for t in adapter.list_link_types() if t.name == "Cloners")
    assert clones.kind == LinkKind.OTHER
    link = adapter.link_tasks(first, second, clones, outward=False)  # first "is cloned by" second
    assert (link.kind, link.label) == (LinkKind.OTHER, "is cloned by")
    (stored,) = fake_jira.links.values()
    assert (stored.source, stored.destination) == (second, first)


def test_blocked_lists_name_the_open_blockers(adapter: JiraAdapter, fake_jira: FakeJira):
    blocker, blocked = (fake_jira.add_issue("ALPHA", f"Gate {n}").key for n in (1, 2))
    blocks = next(t for t in adapter.list_link_types() if t.kind == LinkKind.BLOCKS)
    adapter.link_tasks(blocker, blocked, blocks)
    page = adapter.list_tasks(TaskQuery(project_id="ALPHA", blocked=True), PageRequest(limit=50))
    assert [(t.id, t.extra["blocked_by"]) for t in page.items] == [(blocked, [f"acme-jira:{blocker}"])]
    (search,) = [
        body for body in sent(fake_jira, "POST", "/rest/api/3/search/jql") if "issueLinkType" in body["jql"]
    ]
    assert 'issueLinkType = "is blocked by"' in search["jql"] and "issuelinks" in search["fields"]


def test_jql_is_sent_whole_and_nothing_is_added(adapter: JiraAdapter, fake_jira: FakeJira):
    jql = 'project = BETA AND summary ~ "Rotate*" ORDER BY created DESC'
    page = adapter.list_tasks(TaskQuery(native_query=jql), PageRequest(limit=10))
    assert [t.title for t in page.items] == ["Rotate certificates"]
    assert sent(fake_jira, "POST", "/rest/api/3/search/jql")[-1]["jql"] == jql
    with pytest.raises(errors.InvalidInput) as caught:  # JIRA's own word on bad JQL reaches the user
        adapter.list_tasks(TaskQuery(native_query="projekt = ALPHA"), PageRequest())
    assert "projekt" in str(caught.value)


# --- sprints ----------------------------------------------------------------------------------------


def test_closing_moves_open_issues_to_the_sprint_named(adapter: JiraAdapter, fake_jira: FakeJira):
    sprint = adapter.create_sprint(
        "ALPHA", SprintDraft(name="Wrap", start=date.today(), end=date.today() + timedelta(days=6), goal="Go")
    )
    assert fake_jira.sprints[int(sprint.id)].board_id == 1 and fake_jira.sprints[int(sprint.id)].goal == "Go"
    open_issue = fake_jira.add_issue("ALPHA", "Open one").key
    done_issue = fake_jira.add_issue("ALPHA", "Done one", status=DONE).key
    adapter.move_to_sprint([open_issue, done_issue], sprint.id)
    adapter.update_sprint(sprint.id, SprintChanges(state=SprintState.ACTIVE))
    closed = adapter.update_sprint(sprint.id, SprintChanges(state=SprintState.CLOSED, move_open_to="3"))
    assert closed.state == SprintState.CLOSED and closed.completed_at is not None
    assert fake_jira.current_sprint_of(open_issue) == 3
    assert fake_jira.current_sprint_of(done_issue) == int(sprint.id)
    assert fake_jira.sprints[int(sprint.id)].state == "closed"


def test_sprint_state_changes_jira_refuses_are_refused_first(adapter: JiraAdapter, fake_jira: FakeJira):
    undated = adapter.create_sprint("ALPHA", SprintDraft(name="Undated"))
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.update_sprint(undated.id, SprintChanges(state=SprintState.ACTIVE))
    assert "start and an end date" in str(caught.value)
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.update_sprint(undated.id, SprintChanges(state=SprintState.CLOSED))
    assert "only an active sprint can close" in str(caught.value)
    with pytest.raises(errors.InvalidInput):
        adapter.update_sprint("1", SprintChanges(state=SprintState.ACTIVE))  # closed long ago
    with pytest.raises(errors.InvalidInput):
        adapter.update_sprint(undated.id, SprintChanges(start=date(2026, 2, 1), end=date(2026, 1, 1)))
    assert fake_jira.sprints[int(undated.id)].state == "future"
    assert not sent(fake_jira, "POST", f"/rest/agile/1.0/sprint/{undated.id}")
    started = adapter.update_sprint(
        undated.id,
        SprintChanges(state=SprintState.ACTIVE, start=date(2026, 2, 2), end=date(2026, 2, 13), goal=None),
    )
    assert started.state == SprintState.ACTIVE and started.start == datetime(2026, 2, 2, tzinfo=UTC)
    assert fake_jira.sprints[int(undated.id)].end == datetime(2026, 2, 13, 23, 59, 59, tzinfo=UTC)


def test_a_project_without_a_scrum_board_has_no_sprints_to_create(adapter: JiraAdapter, fake_jira: FakeJira):
    with pytest.raises(errors.NotSupported) as caught:
        adapter.create_sprint("BETA", SprintDraft(name="Nope"))
    assert "JIRA" in str(caught.value) and "scrum board" in str(caught.value)
    assert not sent(fake_jira, "POST", "/rest/agile/1.0/sprint")


def test_a_batch_jira_refuses_is_moved_issue_by_issue(adapter: JiraAdapter, fake_jira: FakeJira):
    keys = [fake_jira.add_issue("ALPHA", f"Batch {n}").key for n in range(3)]
    outcomes = adapter.move_to_sprint([keys[0], "ALPHA-777", keys[1], keys[2]], "3")
    assert [o.error is None for o in outcomes] == [True, False, True, True]
    assert isinstance(outcomes[1].error, errors.NotFound)
    assert all(fake_jira.current_sprint_of(key) == 3 for key in keys)
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.move_to_sprint(keys, "1")
    assert "closed" in str(caught.value)
    assert adapter.move_to_sprint(keys[:1], BACKLOG)[0].error is None
    assert fake_jira.current_sprint_of(keys[0]) is None


# --- worklogs ---------------------------------------------------------------------------------------


def test_worklog_search_keeps_the_persons_worklogs_within_the_days(adapter: JiraAdapter, fake_jira: FakeJira):
    key = fake_jira.add_issue("ALPHA", "Shared work").key
    today = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    mine = adapter.log_work(key, WorklogDraft(hours=2, started=today, comment="Mine"))
    old = adapter.log_work(key, WorklogDraft(hours=1, started=today - timedelta(days=10)))
    fake_jira.worklogs[key].append(FakeWorklog("9001", fake_jira.other.account_id, 3600, today, today))
    body = sent(fake_jira, "POST", f"/rest/api/3/issue/{key}/worklog")[0]
    assert body["timeSpentSeconds"] == 7200 and body["started"].endswith(".000+0000")
    query = WorklogQuery(user_id=ME, since=today.date(), until=today.date(), project_id="ALPHA")
    found = adapter.search_worklogs(query, PageRequest(limit=10))
    assert [w.id for w in found.items] == [mine.id]
    theirs = WorklogQuery(user_id=fake_jira.other.account_id, since=today.date(), until=today.date())
    assert [w.id for w in adapter.search_worklogs(theirs, PageRequest()).items] == ["9001"]
    wider = WorklogQuery(user_id=ME, since=today.date() - timedelta(days=11), until=today.date())
    assert [w.id for w in adapter.search_worklogs(wider, PageRequest(limit=1)).items] == [old.id]
    listed = adapter.list_worklogs(key, PageRequest(limit=10)).items
    assert {w.id for w in listed} == {mine.id, old.id, "9001"}


# --- history ----------------------------------------------------------------------------------------


def test_history_pages_inside_a_change_of_several_fields(adapter: JiraAdapter, fake_jira: FakeJira):
    key = fake_jira.add_issue("ALPHA", "Tracked").key
    adapter.update_task(key, TaskChanges(title="Tracked again", due=date(2026, 3, 1)))
    adapter.assign_task(key, fake_jira.other.account_id)
    pages, cursor = [], None
    while True:
        page = adapter.task_history(key, PageRequest(limit=1, cursor=cursor))
        pages.append(page.items)
        cursor = page.next_cursor
        if not cursor:
            break
    entries = [entry for items in pages for entry in items]
    assert all(len(items) <= 1 for items in pages)
    assert [(e.field, e.old, e.new) for e in entries] == [
        ("Summary", "Tracked", "Tracked again"),
        ("Due date", None, "2026-03-01"),
        ("Assignee", None, "Ben Okafor"),
    ]
    assert entries[0].at == entries[1].at and entries[0].author is not None
    assert entries[2].extra["to"] == fake_jira.other.account_id
    with pytest.raises(errors.InvalidInput):
        adapter.task_history(key, PageRequest(cursor="12"))


# --- fields -----------------------------------------------------------------------------------------


def test_fields_depend_on_the_issue_type_and_unknown_types_are_named(
    adapter: JiraAdapter, fake_jira: FakeJira
):
    fields = adapter.list_fields("ALPHA", "Bug")
    assert {f.name for f in fields} >= {"Summary", "Team", "Story Points", "Sprint"}
    team = next(f for f in fields if f.id == TEAM_FIELD)
    assert team.type == FieldType.OPTION and team.allowed == ("Payments", "Search", "Platform")
    assert any(r.path.endswith("/issuetypes/10003") for r in fake_jira.requests)  # Bug's id
    assert TEAM_FIELD not in {f.id for f in adapter.list_fields("BETA")}
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.list_fields("ALPHA", "Saga")
    assert "Task" in caught.value.field_errors["type"]


def test_custom_field_values_are_checked_before_and_by_jira(adapter: JiraAdapter, fake_jira: FakeJira):
    key = fake_jira.add_issue("ALPHA", "Custom").key
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.update_task(key, TaskChanges(fields={"customfield_99999": "x"}))
    assert "list_fields" in str(caught.value)
    with pytest.raises(errors.InvalidInput):
        adapter.update_task(key, TaskChanges(fields={"customfield_10020": 3}))  # the sprint field
    assert not sent(fake_jira, "PUT", f"/rest/api/3/issue/{key}")
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.update_task(key, TaskChanges(fields={TEAM_FIELD: "Nobody"}))
    assert TEAM_FIELD in caught.value.field_errors
    created = adapter.create_task("ALPHA", TaskDraft(title="With team", fields={TEAM_FIELD: "Search"}))
    assert sent(fake_jira, "POST", "/rest/api/3/issue")[-1]["fields"][TEAM_FIELD] == {"value": "Search"}
    assert fake_jira.issues[created.id].custom[TEAM_FIELD]["value"] == "Search"
    history = adapter.task_history(created.id, PageRequest()).items
    assert history == []  # a create is no change
    adapter.update_task(created.id, TaskChanges(fields={TEAM_FIELD: None}))
    (cleared,) = adapter.task_history(created.id, PageRequest()).items
    assert (cleared.field, cleared.old, cleared.new) == ("Team", "Search", None)


def test_every_sprint_work_operation_is_jiras_own():
    """No sprint-work operation falls back to the shared refusal: the JIRA API offers them all."""
    from portal.core.providers.lacking import LacksSprintWork

    operations = [name for name in vars(LacksSprintWork) if not name.startswith("_")]
    assert len(operations) == 12
    for name in operations:
        owner = next(cls for cls in JiraAdapter.__mro__ if name in vars(cls))
        assert owner is not LacksSprintWork, f"{name} is still refused"
        assert owner.__module__.startswith("portal.core.providers.jira."), (name, owner)
