"""Redmine's own behaviours in sprint work, against the real server; every write checked as the administrator.

The contract (test_redmine_contract.py) covers what every provider shares; this covers
what is Redmine's: versions that can't be started, relations stored one way and read both,
one relation per pair, activities and days of time entries, journal ids shown by name,
custom fields a project may not use, saved queries and query strings, and what each call
costs in requests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from portal.core.providers import errors
from portal.core.providers.base import (
    BACKLOG,
    ConnectionConfig,
    FieldType,
    LinkKind,
    PageRequest,
    SprintChanges,
    SprintDraft,
    SprintState,
    StatusCategory,
    TaskChanges,
    TaskDraft,
    TaskQuery,
    WorklogDraft,
    WorklogQuery,
)
from portal.core.providers.metadata import MetadataCache
from portal.core.providers.redmine import RedmineAdapter
from tests.contract.suite import TEST_POLICY, _all_pages
from tests.providers import redmine_server as fixtures
from tests.providers.redmine_server import RedmineAdmin, RedmineProbe, RedmineServer, RedmineWorld

redmine = fixtures.redmine
redmine_admin = fixtures.redmine_admin
redmine_world = fixtures.redmine_world

SLUG = "rm"
POLICY = dataclasses.replace(TEST_POLICY, read_timeout=15)  # a real Rails server on a shared machine


def _adapter(url: str, token: str, metadata: MetadataCache | None = None) -> RedmineAdapter:
    config = ConnectionConfig(slug=SLUG, base_url=url, token=token)
    return RedmineAdapter(config, POLICY, metadata=metadata or MetadataCache())


@pytest.fixture
def admin(redmine: RedmineServer) -> Iterator[RedmineAdapter]:
    adapter = _adapter(redmine.url, redmine.api_key)
    yield adapter
    adapter.close()


@pytest.fixture
def developer(redmine: RedmineServer, redmine_world: RedmineWorld) -> Iterator[RedmineAdapter]:
    adapter = _adapter(redmine.url, redmine_world.developer_key)
    yield adapter
    adapter.close()


@pytest.fixture
def probe(redmine_admin: RedmineAdmin) -> RedmineProbe:
    return RedmineProbe(redmine_admin)


def _issue(admin: RedmineAdmin, world: RedmineWorld, title: str, **fields) -> str:
    return admin.create_issue(world.project_id, f"{title} {world.run}", **fields)


def _raw_version(admin: RedmineAdmin, sprint_id: str) -> dict:
    return admin.call("GET", f"versions/{sprint_id}.json")["version"]


# --- sprints -------------------------------------------------------------------------------------


def test_a_sprint_keeps_its_goal_end_and_start(admin, redmine_admin, redmine_world):
    start = date.today() + timedelta(days=3)
    sprint = admin.create_sprint(
        redmine_world.project_id,
        SprintDraft(
            name=f"Planned {redmine_world.run}", start=start, end=start + timedelta(days=9), goal="Pay"
        ),
    )
    raw = _raw_version(redmine_admin, sprint.id)
    assert raw["description"] == "Pay" and raw["due_date"] == (start + timedelta(days=9)).isoformat()
    assert {f["name"]: f["value"] for f in raw["custom_fields"]}[fixtures.START_FIELD] == start.isoformat()
    assert raw["status"] == "open"
    assert sprint.start == datetime.combine(start, datetime.min.time(), UTC) and sprint.goal == "Pay"


def test_a_version_can_not_be_started_and_says_what_to_do(admin, redmine_admin, probe, redmine_world):
    start = date.today() + timedelta(days=5)
    sprint = admin.create_sprint(
        redmine_world.project_id, SprintDraft(name=f"Later {redmine_world.run}", start=start)
    )
    with pytest.raises(errors.NotSupported) as caught:
        admin.update_sprint(sprint.id, SprintChanges(state=SprintState.ACTIVE, name="Renamed anyway"))
    assert "Redmine versions can't be started" in str(caught.value)
    assert "change its start to today" in str(caught.value)
    assert probe.sprint(sprint.id) == {"name": f"Later {redmine_world.run}", "state": "future", "goal": None}
    # what it says to do instead does start it
    started = admin.update_sprint(sprint.id, SprintChanges(start=date.today()))
    assert started.state == SprintState.ACTIVE and probe.sprint(sprint.id)["state"] == "active"


def test_changing_dates_the_wrong_way_round_changes_nothing(admin, redmine_admin, redmine_world):
    start = date.today() + timedelta(days=2)
    sprint = admin.create_sprint(
        redmine_world.project_id,
        SprintDraft(name=f"Dated {redmine_world.run}", start=start, end=start + timedelta(days=5)),
    )
    with pytest.raises(errors.InvalidInput):
        admin.update_sprint(sprint.id, SprintChanges(end=start - timedelta(days=1), goal="Never written"))
    raw = _raw_version(redmine_admin, sprint.id)
    assert raw["due_date"] == (start + timedelta(days=5)).isoformat() and not raw["description"]
    cleared = admin.update_sprint(sprint.id, SprintChanges(end=None, start=None, goal="Written"))
    raw = _raw_version(redmine_admin, sprint.id)
    assert raw["due_date"] is None and raw["description"] == "Written" and cleared.end is None


def test_closing_moves_open_tasks_to_another_sprint(admin, redmine_admin, probe, redmine_world):
    closing = admin.create_sprint(redmine_world.project_id, SprintDraft(name=f"Closing {redmine_world.run}"))
    following = admin.create_sprint(
        redmine_world.project_id, SprintDraft(name=f"Following {redmine_world.run}")
    )
    open_task = _issue(redmine_admin, redmine_world, "Carried", fixed_version_id=int(closing.id))
    done_task = _issue(redmine_admin, redmine_world, "Finished", fixed_version_id=int(closing.id))
    redmine_admin.call("PUT", f"issues/{done_task}.json", {"issue": {"status_id": 5}}, 204)
    with pytest.raises(errors.InvalidInput) as caught:
        admin.update_sprint(closing.id, SprintChanges(state=SprintState.CLOSED, move_open_to=closing.id))
    assert "another sprint" in str(caught.value)
    closed = admin.update_sprint(
        closing.id, SprintChanges(state=SprintState.CLOSED, move_open_to=following.id)
    )
    assert closed.state == SprintState.CLOSED and probe.sprint(closing.id)["state"] == "closed"
    assert probe.sprint_of(open_task) == following.id and probe.sprint_of(done_task) == closing.id


def test_a_refused_change_when_closing_moves_nothing(admin, redmine_admin, probe, redmine_world):
    taken = admin.create_sprint(redmine_world.project_id, SprintDraft(name=f"Taken {redmine_world.run}"))
    closing = admin.create_sprint(redmine_world.project_id, SprintDraft(name=f"Renamed {redmine_world.run}"))
    task = _issue(redmine_admin, redmine_world, "Staying", fixed_version_id=int(closing.id))
    with pytest.raises(errors.InvalidInput):  # Redmine: the name is already taken in the project
        admin.update_sprint(
            closing.id, SprintChanges(name=taken.name, state=SprintState.CLOSED, move_open_to=BACKLOG)
        )
    assert probe.sprint_of(task) == closing.id
    assert probe.sprint(closing.id) == {"name": closing.name, "state": "active", "goal": None}


def test_a_closed_version_takes_no_tasks(admin, redmine_admin, probe, redmine_world):
    task = _issue(redmine_admin, redmine_world, "Homeless")
    with pytest.raises(errors.InvalidInput) as caught:
        admin.move_to_sprint([task], redmine_world.closed_sprint_id)
    assert "closed" in str(caught.value) and "open sprint" in str(caught.value)
    assert probe.sprint_of(task) is None
    # nor can a closing sprint send its open tasks there, and it then stays open
    closing = admin.create_sprint(redmine_world.project_id, SprintDraft(name=f"Stuck {redmine_world.run}"))
    admin.move_to_sprint([task], closing.id)
    with pytest.raises(errors.InvalidInput):
        admin.update_sprint(
            closing.id, SprintChanges(state=SprintState.CLOSED, move_open_to=redmine_world.closed_sprint_id)
        )
    assert probe.sprint(closing.id)["state"] != "closed" and probe.sprint_of(task) == closing.id
    admin.update_sprint(closing.id, SprintChanges(state=SprintState.CLOSED, move_open_to=BACKLOG))
    assert probe.sprint_of(task) is None


def test_an_unknown_sprint_has_no_tasks_to_list(admin):
    with pytest.raises(errors.NotFound):
        admin.sprint_tasks("987654321")


# --- links ---------------------------------------------------------------------------------------


def test_a_link_made_the_other_way_reads_right_from_both_tasks(admin, redmine_admin, probe, redmine_world):
    original = _issue(redmine_admin, redmine_world, "Original")
    copy = _issue(redmine_admin, redmine_world, "Copy")
    duplicates = next(t for t in admin.list_link_types() if t.kind == LinkKind.DUPLICATES)
    link = admin.link_tasks(original, copy, duplicates, outward=False)  # the original "has duplicate" copy
    assert (link.kind, link.label, link.other_ref) == (
        LinkKind.DUPLICATED_BY,
        "has duplicate",
        f"{SLUG}:{copy}",
    )
    stored = redmine_admin.call("GET", f"relations/{link.id}.json")["relation"]
    assert (str(stored["issue_id"]), str(stored["issue_to_id"]), stored["relation_type"]) == (
        copy,
        original,
        "duplicates",
    )
    (from_copy,) = admin.list_links(copy)
    assert from_copy.kind == LinkKind.DUPLICATES and from_copy.other_title == f"Original {redmine_world.run}"
    assert from_copy.other_done is False


def test_redmine_keeps_one_link_between_two_tasks(admin, redmine_admin, probe, redmine_world):
    first = _issue(redmine_admin, redmine_world, "Before")
    second = _issue(redmine_admin, redmine_world, "After")
    types = {t.id: t for t in admin.list_link_types()}
    link = admin.link_tasks(first, second, types["precedes"])
    assert (link.kind, link.label) == (LinkKind.OTHER, "precedes")
    assert admin.list_links(second)[0].label == "follows"
    with pytest.raises(errors.Conflict) as caught:
        admin.link_tasks(second, first, types["relates"])
    assert link.ref in str(caught.value) and "unlink_tasks" in str(caught.value)
    assert probe.linked(first) == {second}
    with pytest.raises(errors.NotFound):
        admin.link_tasks(first, "987654321", types["relates"])
    with pytest.raises(errors.NotFound):
        admin.list_links("987654321")


# --- worklogs ------------------------------------------------------------------------------------


def test_logged_time_keeps_its_day_and_gets_an_activity(admin, redmine_admin, redmine_world):
    task = _issue(redmine_admin, redmine_world, "Timed")
    day = date.today() - timedelta(days=3)
    logged = admin.log_work(
        task, WorklogDraft(hours=0.75, started=datetime.combine(day, datetime.min.time(), UTC))
    )
    entry = redmine_admin.call("GET", f"time_entries/{logged.id}.json")["time_entry"]
    assert entry["spent_on"] == day.isoformat() and entry["hours"] == 0.75 and entry["activity"]["name"]
    assert logged.extra["activity"] == entry["activity"]["name"] and logged.started.date() == day
    later = admin.log_work(task, WorklogDraft(hours=2, comment="Review"))
    assert [w.id for w in _all_pages(lambda page: admin.list_worklogs(task, page), limit=1)] == [
        logged.id,
        later.id,
    ]
    with pytest.raises(errors.InvalidInput):
        admin.log_work(task, WorklogDraft(hours=1, comment="x" * 2000))
    assert RedmineProbe(redmine_admin).logged_hours(task) == pytest.approx(2.75)
    with pytest.raises(errors.NotFound):
        admin.log_work("987654321", WorklogDraft(hours=1))
    with pytest.raises(errors.NotFound):
        admin.list_worklogs("987654321", PageRequest())


def test_worklogs_of_another_person(admin, developer, redmine_admin, redmine_world):
    task = _issue(redmine_admin, redmine_world, "Theirs")
    theirs = developer.log_work(task, WorklogDraft(hours=1.25))
    mine = admin.log_work(task, WorklogDraft(hours=0.5))
    today = date.today()
    query = WorklogQuery(
        user_id=redmine_world.developer_id, since=today, until=today, project_id=redmine_world.project_id
    )
    found = {w.id for w in _all_pages(lambda page: admin.search_worklogs(query, page), limit=50)}
    assert theirs.id in found and mine.id not in found
    assert theirs.author is not None and theirs.author.id == redmine_world.developer_id
    with pytest.raises(errors.InvalidInput):
        admin.search_worklogs(dataclasses.replace(query, since=today + timedelta(days=1)), PageRequest())


# --- history -------------------------------------------------------------------------------------


def test_history_shows_names_not_ids(admin, redmine_admin, redmine_world):
    task = _issue(redmine_admin, redmine_world, "Tracked")
    changes = {
        "status_id": 2,
        "assigned_to_id": int(redmine_world.developer_id),
        "fixed_version_id": int(redmine_world.sprint_id),
        "custom_fields": [{"id": int(redmine_world.size_field_id.removeprefix("cf_")), "value": "Medium"}],
    }
    redmine_admin.call("PUT", f"issues/{task}.json", {"issue": changes}, 204)
    entries = _all_pages(lambda page: admin.task_history(task, page), limit=3)
    by_field = {e.field: e for e in entries}
    assert (by_field["Status"].old, by_field["Status"].new) == ("New", "In Progress")
    assert by_field["Assignee"].new == redmine_world.developer_name
    assert by_field["Assignee"].extra["new_id"] == redmine_world.developer_id
    assert by_field["Target version"].new == f"Sprint {redmine_world.run}"
    assert (by_field["Size"].old, by_field["Size"].new) == (None, "Medium")
    assert all(e.author is not None and e.author.name for e in entries)
    with pytest.raises(errors.NotFound):
        admin.task_history("987654321", PageRequest())


# --- fields --------------------------------------------------------------------------------------


def test_fields_of_a_project_and_tracker(admin, developer, redmine_world):
    fields = {f.name: f for f in admin.list_fields(redmine_world.project_id, "Feature")}
    size = fields[fixtures.SIZE_FIELD]
    assert size.id == redmine_world.size_field_id and size.allowed == ("Small", "Medium", "Large")
    assert size.extra["enabled"] is True
    assert fields["Tracker"].allowed == ("Bug", "Feature", "Support") and not fields["Tracker"].settable
    with pytest.raises(errors.InvalidInput) as caught:
        admin.list_fields(redmine_world.project_id, "Saga")
    assert "Bug" in str(caught.value)
    # Redmine shows definitions to administrators only: a developer sees the field, not how to set it.
    seen = {f.name: f for f in developer.list_fields(redmine_world.project_id)}[fixtures.SIZE_FIELD]
    assert seen.type == FieldType.OTHER and not seen.settable and "administrators" in seen.extra["why"]


def test_a_field_the_project_does_not_use_is_refused_with_nothing_written(
    admin, redmine_admin, probe, redmine_world
):
    size = redmine_world.size_field_id
    title = f"Unsized {redmine_world.run}"
    with pytest.raises(errors.InvalidInput) as caught:
        admin.create_task(redmine_world.other_project_id, TaskDraft(title=title, fields={size: "Small"}))
    assert size in caught.value.field_errors and "project" in str(caught.value)
    left = redmine_admin.call("GET", f"issues.json?project_id={redmine_world.other_project_id}&status_id=*")
    assert title not in {i["subject"] for i in left["issues"]}
    other = redmine_admin.create_issue(redmine_world.other_project_id, f"Other {redmine_world.run}")
    with pytest.raises(errors.InvalidInput):
        admin.update_task(other, TaskChanges(title="Never written", fields={size: "Large"}))
    assert (
        redmine_admin.call("GET", f"issues/{other}.json")["issue"]["subject"] == f"Other {redmine_world.run}"
    )
    with pytest.raises(errors.InvalidInput) as caught:
        admin.create_task(redmine_world.project_id, TaskDraft(title="Huge", fields={size: "Huge"}))
    assert "Small, Medium, Large" in str(caught.value)


# --- queries -------------------------------------------------------------------------------------


def test_a_query_string_passes_through_whole(admin, redmine_admin, redmine_world):
    feature = _issue(redmine_admin, redmine_world, "Queried feature", tracker_id=2)
    bug = _issue(redmine_admin, redmine_world, "Queried bug", tracker_id=1)
    query = TaskQuery(native_query=f"project_id={redmine_world.project_id}&tracker_id=2&subject=~Queried")
    found = {t.id for t in _all_pages(lambda page: admin.list_tasks(query, page), limit=50)}
    assert feature in found and bug not in found
    with pytest.raises(errors.InvalidInput):
        admin.list_tasks(TaskQuery(native_query="tracker_id=2&key=someone-elses"), PageRequest())
    with pytest.raises(errors.NotFound) as caught:
        admin.list_tasks(TaskQuery(native_query="987654"), PageRequest())
    assert "saved query 987654" in str(caught.value)
    with pytest.raises(errors.InvalidInput) as caught:
        admin.list_tasks(TaskQuery(native_query="created_on=>soon"), PageRequest())
    assert "Created" in str(caught.value)


def test_blocked_combines_with_other_filters(admin, redmine_admin, redmine_world):
    blocker = _issue(redmine_admin, redmine_world, "Gate")
    mine = _issue(redmine_admin, redmine_world, "Gated unassigned")
    theirs = _issue(
        redmine_admin, redmine_world, "Gated theirs", assigned_to_id=int(redmine_world.developer_id)
    )
    blocks = next(t for t in admin.list_link_types() if t.kind == LinkKind.BLOCKS)
    for task in (mine, theirs):
        admin.link_tasks(blocker, task, blocks)
    query = TaskQuery(project_id=redmine_world.project_id, blocked=True, assignee=redmine_world.developer_id)
    assert {t.id for t in admin.list_tasks(query, PageRequest(limit=100)).items} == {theirs}


# --- what each call costs ------------------------------------------------------------------------


def _counted(adapter: RedmineAdapter, call) -> int:
    """The HTTP requests `call(adapter)` makes."""
    seen: list[str] = []
    hooks = adapter.http.session.hooks["response"]
    hook = lambda response, *args, **kwargs: seen.append(response.url)  # noqa: E731
    hooks.append(hook)
    try:
        call(adapter)
    finally:
        hooks.remove(hook)
    return len(seen)


@pytest.mark.parametrize(
    ("label", "most_cold", "warm"),
    [
        ("get_task", 2, 1),
        ("list_tasks", 2, 1),
        ("list_tasks by category", 2, 1),
        ("list_tasks blocked", 2, 1),
        ("list_fields", 4, 0),  # the project, statuses, priorities, definitions: metadata all
        ("task_history", 4, 1),  # statuses and the project's members, once
        ("list_links", 2, 2),  # the relations, and the linked tasks' titles and states
    ],
)
def test_metadata_costs_once(redmine, redmine_admin, redmine_world, label, most_cold, warm):
    task = redmine_world.sprint_task_ids[0]
    project = redmine_world.project_id
    calls = {
        "get_task": lambda a: a.get_task(task),
        "list_tasks": lambda a: a.list_tasks(TaskQuery(project_id=project), PageRequest(limit=5)),
        "list_tasks by category": lambda a: a.list_tasks(
            TaskQuery(project_id=project, categories=frozenset({StatusCategory.TODO})), PageRequest(limit=5)
        ),
        "list_tasks blocked": lambda a: a.list_tasks(
            TaskQuery(project_id=project, blocked=True), PageRequest()
        ),
        "list_fields": lambda a: a.list_fields(project),
        "task_history": lambda a: a.task_history(task, PageRequest()),
        "list_links": lambda a: a.list_links(task),
    }
    other = redmine_world.sprint_task_ids[1]
    # history with a status and an assignee to name, and a link to read
    change = {"status_id": 2, "assigned_to_id": int(redmine_world.developer_id)}
    redmine_admin.call("PUT", f"issues/{task}.json", {"issue": change}, 204)
    relations = redmine_admin.call("GET", f"issues/{task}/relations.json")["relations"]
    if not relations:
        relation = {"relation": {"issue_to_id": int(other), "relation_type": "relates"}}
        redmine_admin.call("POST", f"issues/{task}/relations.json", relation, 201)
    cache = MetadataCache()
    cold_adapter = _adapter(redmine.url, redmine.api_key, cache)
    warm_adapter = _adapter(redmine.url, redmine.api_key, cache)
    try:
        cold = _counted(cold_adapter, calls[label])
        warm_count = _counted(warm_adapter, calls[label])
    finally:
        cold_adapter.close()
        warm_adapter.close()
    assert (cold <= most_cold, warm_count) == (True, warm), f"{label}: {cold} cold, {warm_count} warm"
