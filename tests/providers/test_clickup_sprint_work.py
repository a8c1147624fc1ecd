"""ClickUp's own sprint-work behaviour, beyond the contract, against the ClickUp fake on 127.0.0.1.

Every write is checked in the fake's state, not through the adapter's reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from portal.core.providers import errors
from portal.core.providers.base import (
    BACKLOG,
    ME,
    ConnectionConfig,
    LinkKind,
    LinkType,
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
from portal.core.providers.clickup import ClickUpAdapter
from portal.core.providers.clickup.links import DEPENDENCY, TASK_LINK
from tests.contract.suite import TEST_POLICY
from tests.fakes.clickup import TOKEN, ClickUpFake, days, now_millis

SLUG = "cu"
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def fake() -> Iterator[ClickUpFake]:
    server = ClickUpFake(page_size=3)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def adapter(fake: ClickUpFake) -> Iterator[ClickUpAdapter]:
    config = ConnectionConfig(
        slug=SLUG, base_url=fake.base_url, token=TOKEN, options={"team_id": fake.team.id}
    )
    built = ClickUpAdapter(config, TEST_POLICY)
    yield built
    built.close()


def sent(fake: ClickUpFake, method: str, path_end: str):
    return [r for r in fake.requests if r.method == method and r.path.endswith(path_end)]


def millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# --- sprints ----------------------------------------------------------------------------------------


def test_a_new_sprint_is_a_list_of_the_sprint_folder_dated_in_whole_days_of_the_users_zone(fake, adapter):
    start, end = date(2026, 3, 30), date(2026, 4, 12)
    sprint = adapter.create_sprint(
        fake.ios.id, SprintDraft(name=" Sprint 9 ", start=start, end=end, goal="Ship it")
    )
    stored = fake.lists[sprint.id]
    assert fake.folders[stored.folder_id].name == "Sprint Folder" and stored.name == "Sprint 9"
    assert stored.start_date == millis(datetime(2026, 3, 30, tzinfo=BERLIN))
    assert stored.due_date == millis(datetime(2026, 4, 12, 23, 59, 59, tzinfo=BERLIN))
    assert stored.content == "Ship it" and sprint.goal == "Ship it"
    assert sprint.ref == f"{SLUG}:{sprint.id}" and sprint.start == datetime(2026, 3, 29, 22, tzinfo=UTC)


def test_sprints_need_the_sprints_clickapp_to_be_created(fake, adapter):
    before = set(fake.lists)
    with pytest.raises(errors.NotSupported, match="Sprints ClickApp"):
        adapter.create_sprint(fake.launch.id, SprintDraft(name="Campaign sprint"))
    assert set(fake.lists) == before


def test_a_start_date_clickup_does_not_keep_undoes_the_write(fake, adapter):
    fake.keeps_list_start_dates = False
    before = set(fake.lists)
    with pytest.raises(errors.NotSupported, match="did not keep the sprint's start date"):
        adapter.create_sprint(
            fake.backlog.id, SprintDraft(name="Undated", start=date.today(), end=date.today())
        )
    assert set(fake.lists) == before, "the List created without its start date was deleted"
    future = fake.future_sprint
    with pytest.raises(errors.NotSupported):
        adapter.update_sprint(future.id, SprintChanges(name="Renamed", state=SprintState.ACTIVE))
    assert future.name == "Sprint 3", "nothing else changed without the start date"


def test_starting_dates_the_sprint_from_now_and_needs_an_end(fake, adapter):
    future = fake.future_sprint
    started = adapter.update_sprint(future.id, SprintChanges(state=SprintState.ACTIVE))
    assert started.state == SprintState.ACTIVE
    assert abs(future.start_date - now_millis()) < 60_000
    undated = adapter.create_sprint(fake.backlog.id, SprintDraft(name="No end"))
    with pytest.raises(errors.InvalidInput, match="end date"):
        adapter.update_sprint(undated.id, SprintChanges(state=SprintState.ACTIVE))
    assert fake.lists[undated.id].start_date is None
    with pytest.raises(errors.InvalidInput, match="closed"):
        adapter.update_sprint(fake.finished_sprint.id, SprintChanges(state=SprintState.ACTIVE))


def test_closing_moves_open_tasks_to_another_sprint_and_keeps_done_ones(fake, adapter):
    sprint = fake.current_sprint
    planned = next(t for t in fake.tasks.values() if t.name == "Dark theme")  # planned in from the backlog
    done = fake.add_task(fake.backlog, "Done in the sprint", status="done")
    done.other_list_ids.append(sprint.id)
    with pytest.raises(errors.InvalidInput, match="home List"):  # "Offline mode" lives in the sprint List
        adapter.update_sprint(
            sprint.id, SprintChanges(state=SprintState.CLOSED, move_open_to=fake.future_sprint.id)
        )
    assert planned.other_list_ids == [sprint.id] and now_millis() <= sprint.due_date, (
        "nothing moved or closed"
    )
    for task in fake.tasks.values():
        if task.list_id == sprint.id:
            task.status = "done"
    closed = adapter.update_sprint(
        sprint.id, SprintChanges(state=SprintState.CLOSED, move_open_to=fake.future_sprint.id)
    )
    assert closed.state == SprintState.CLOSED and sprint.due_date < now_millis()
    assert planned.other_list_ids == [fake.future_sprint.id]
    assert done.other_list_ids == [sprint.id]
    with pytest.raises(errors.InvalidInput, match="start it"):
        adapter.update_sprint(
            fake.future_sprint.id, SprintChanges(state=SprintState.CLOSED, move_open_to=BACKLOG)
        )


def test_renaming_and_regoaling_a_sprint_keeps_its_dates(fake, adapter):
    sprint = fake.current_sprint
    start, due = sprint.start_date, sprint.due_date
    updated = adapter.update_sprint(sprint.id, SprintChanges(name="Sprint 2: auth", goal="Sign-in works"))
    assert (sprint.name, sprint.content, sprint.start_date, sprint.due_date) == (
        "Sprint 2: auth",
        "Sign-in works",
        start,
        due,
    )
    assert updated.state == SprintState.ACTIVE and updated.goal == "Sign-in works"
    put = sent(fake, "PUT", f"/list/{sprint.id}")[-1].json()
    assert "start_date" not in put and "due_date" not in put


def test_moves_refuse_closed_sprints_and_report_each_task(fake, adapter):
    task = fake.add_task(fake.backlog, "To plan")
    with pytest.raises(errors.InvalidInput, match="closed"):
        adapter.move_to_sprint([task.id], fake.finished_sprint.id)
    assert task.other_list_ids == []
    offline = next(t for t in fake.tasks.values() if t.name == "Offline mode")  # home List is Sprint 2
    outcomes = adapter.move_to_sprint([offline.id, task.id], fake.future_sprint.id)
    assert isinstance(outcomes[0].error, errors.NotSupported) and "home List" in str(outcomes[0].error)
    assert outcomes[1].error is None and task.other_list_ids == [fake.future_sprint.id]


# --- links --------------------------------------------------------------------------------------------


def test_a_task_that_blocks_another_makes_the_other_wait_on_it(fake, adapter):
    blocker = fake.add_task(fake.backlog, "API ready")
    waiting = fake.add_task(fake.ios, "Screen uses the API")
    link = adapter.link_tasks(blocker.id, waiting.id, DEPENDENCY, outward=True)
    assert (link.kind, link.label, link.id) == (LinkKind.BLOCKS, "blocking", f"dep.{waiting.id}.{blocker.id}")
    assert [(p.first, p.second) for p in fake.dependencies] == [(waiting.id, blocker.id)]
    assert sent(fake, "POST", f"/task/{waiting.id}/dependency")[-1].json() == {"depends_on": blocker.id}
    blocker.status = "done"
    (seen,) = adapter.list_links(waiting.id)
    assert (seen.kind, seen.other_title, seen.other_done) == (LinkKind.BLOCKED_BY, "API ready", True)
    with pytest.raises(errors.Conflict):
        adapter.link_tasks(waiting.id, blocker.id, DEPENDENCY, outward=False)
    assert len(fake.dependencies) == 1
    adapter.unlink_tasks(link.id)
    deleted = sent(fake, "DELETE", f"/task/{waiting.id}/dependency")[-1]
    assert deleted.query == {"depends_on": [blocker.id]} and fake.dependencies == []


def test_task_links_relate_both_ways_and_unlink(fake, adapter):
    first, second = fake.add_task(fake.backlog, "Spec"), fake.add_task(fake.ios, "Design")
    link = adapter.link_tasks(first.id, second.id, TASK_LINK)
    assert link.kind == LinkKind.RELATES and fake.linked_ids(second.id) == {first.id}
    assert [item.id for item in adapter.list_links(second.id)] == [link.id]
    adapter.unlink_tasks(link.id)
    assert fake.task_links == []
    with pytest.raises(errors.NotFound):
        adapter.unlink_tasks(link.id)
    with pytest.raises(errors.InvalidInput):
        adapter.unlink_tasks("not-a-link")
    clones = LinkType(id="clones", name="Clones", outward="clones", inward="is cloned by")
    with pytest.raises(errors.InvalidInput, match="Dependency, Task link"):
        adapter.link_tasks(first.id, second.id, clones)
    assert fake.task_links == []


def test_blocked_asks_for_a_blocker_not_on_the_page_and_a_deleted_one_blocks_nothing(fake, adapter):
    waiting = fake.add_task(fake.ios, "Waiting on the backlog")
    blocker = fake.add_task(fake.backlog, "Elsewhere")
    orphan = fake.add_task(fake.ios, "Waiting on a deleted task")
    gone = fake.add_task(fake.backlog, "Deleted later")
    adapter.link_tasks(waiting.id, blocker.id, DEPENDENCY, outward=False)
    adapter.link_tasks(orphan.id, gone.id, DEPENDENCY, outward=False)
    gone.deleted = True
    query = TaskQuery(project_id=fake.ios.id, blocked=True)
    before = len(fake.requests)
    ids = {t.id for t in adapter.list_tasks(query, PageRequest(limit=50)).items}
    assert ids == {waiting.id}
    asked = {r.path for r in fake.requests[before:]}
    assert f"/api/v2/task/{blocker.id}" in asked and f"/api/v2/task/{gone.id}" in asked


# --- time -----------------------------------------------------------------------------------------------


def test_logged_time_is_a_time_entry_on_the_task(fake, adapter):
    task = fake.add_task(fake.backlog, "Timed")
    started = datetime(2026, 1, 5, 9, tzinfo=UTC)
    worklog = adapter.log_work(task.id, WorklogDraft(hours=0.75, started=started, comment="Pairing *notes*"))
    (entry,) = fake.time_entries
    assert (entry.task_id, entry.start, entry.duration, entry.description) == (
        task.id,
        millis(started),
        2_700_000,
        "Pairing *notes*",
    )
    assert (worklog.id, worklog.hours, worklog.started) == (entry.id, 0.75, started)
    assert worklog.author is not None and worklog.author.id == str(fake.me.id)


def test_an_answer_without_the_entrys_id_is_found_by_its_start(fake, adapter):
    fake.time_entry_answer_has_id = False
    task = fake.add_task(fake.backlog, "Timed without an id")
    worklog = adapter.log_work(task.id, WorklogDraft(hours=2))
    (entry,) = fake.time_entries
    assert worklog.id == entry.id and worklog.hours == 2


def test_an_owner_reads_everyones_time_on_a_task_a_member_their_own(fake, adapter):
    task = fake.add_task(fake.backlog, "Shared work")
    mine = fake.add_time_entry(task, 1, now_millis() - days(2))
    theirs = fake.add_time_entry(task, 2, now_millis() - days(1), user_id=fake.other.id)
    assert [w.id for w in adapter.list_worklogs(task.id, PageRequest()).items] == [mine.id, theirs.id]
    fake.me_role = 3
    member = ClickUpAdapter(
        ConnectionConfig("cu2", fake.base_url, TOKEN, options={"team_id": fake.team.id}), TEST_POLICY
    )
    try:
        assert [w.id for w in member.list_worklogs(task.id, PageRequest()).items] == [mine.id]
        assert sent(fake, "GET", "/time_entries")[-1].arg("assignee") is None
        before = len(fake.requests)
        query = WorklogQuery(user_id=str(fake.other.id), since=date.today(), until=date.today())
        with pytest.raises(errors.PermissionDenied, match="owners and admins"):
            member.search_worklogs(query, PageRequest())
        assert not [r for r in fake.requests[before:] if r.path.endswith("/time_entries")]
    finally:
        member.close()


def test_searching_time_keeps_the_days_and_the_list(fake, adapter):
    in_backlog, in_ios = fake.add_task(fake.backlog, "Backlog work"), fake.add_task(fake.ios, "iOS work")
    today = datetime.combine(date.today(), datetime.min.time(), tzinfo=UTC)
    kept = fake.add_time_entry(in_backlog, 1, millis(today) + 1000)
    fake.add_time_entry(in_ios, 1, millis(today) + 2000)
    fake.add_time_entry(in_backlog, 1, millis(today) - 1000)  # yesterday
    query = WorklogQuery(user_id=ME, since=date.today(), until=date.today(), project_id=fake.backlog.id)
    assert [w.id for w in adapter.search_worklogs(query, PageRequest()).items] == [kept.id]
    assert sent(fake, "GET", "/time_entries")[-1].arg("list_id") == fake.backlog.id
    with pytest.raises(errors.NotFound):
        adapter.list_worklogs("86cnothere", PageRequest())


# --- fields -----------------------------------------------------------------------------------------------


def test_fields_are_listed_with_types_and_options(fake, adapter):
    fields = {f.name: f for f in adapter.list_fields(fake.backlog.id)}
    assert fields["Severity"].allowed == ("Low", "Medium", "High")
    assert fields["Components"].allowed == ("API", "Web", "Mobile")
    assert not fields["Score"].settable and fields["Score"].custom
    assert not fields["Status"].custom and not fields["Status"].settable
    assert adapter.list_fields(fake.launch.id) == [f for f in fields.values() if not f.custom]


def test_custom_fields_are_written_on_create_and_changed_one_by_one(fake, adapter):
    fields = {f.name: f.id for f in adapter.list_fields(fake.backlog.id)}
    released = date(2026, 5, 4)
    task = adapter.create_task(
        fake.backlog.id,
        TaskDraft(
            title="With fields",
            fields={
                fields["Components"]: ["api", "Web"],
                fields["Reviewer"]: [str(fake.other.id)],
                fields["Effort"]: 2.5,
                fields["Released on"]: released,
                fields["Customer"]: "Acme",
            },
        ),
    )
    assert fake.field_display(task.id, fields["Components"]) == ["API", "Web"]
    assert fake.tasks[task.id].custom_values[fields["Reviewer"]] == [fake.other.id]
    assert fake.tasks[task.id].custom_values[fields["Released on"]] == millis(
        datetime(2026, 5, 4, 12, tzinfo=BERLIN)
    )
    assert task.extra["fields"]["Released on"] == "2026-05-04" and task.extra["fields"]["Effort"] == 2.5
    adapter.update_task(
        task.id, TaskChanges(fields={fields["Reviewer"]: [str(fake.me.id)], fields["Effort"]: None})
    )
    assert fake.tasks[task.id].custom_values[fields["Reviewer"]] == [fake.me.id]
    assert fields["Effort"] not in fake.tasks[task.id].custom_values


def test_a_value_clickup_cannot_take_is_refused_before_any_write(fake, adapter):
    task = fake.add_task(fake.backlog, "Untouched", priority=3)
    fields = {f.name: f.id for f in adapter.list_fields(fake.backlog.id)}
    before = len(fake.requests)
    with pytest.raises(errors.InvalidInput, match="Low, Medium, High"):
        adapter.update_task(
            task.id,
            TaskChanges(title="Renamed", fields={fields["Customer"]: "Acme", fields["Severity"]: "Blocker"}),
        )
    assert {r.method for r in fake.requests[before:]} == {"GET"}, "nothing was written"
    assert task.name == "Untouched" and task.custom_values == {}
    with pytest.raises(errors.InvalidInput):
        adapter.create_task(fake.backlog.id, TaskDraft(title="Never made", fields={fields["Score"]: 1}))
    assert not [t for t in fake.tasks.values() if t.name == "Never made"]


# --- views and history --------------------------------------------------------------------------------


def test_a_view_id_lists_the_views_tasks_page_by_page(fake, adapter):
    made = [fake.add_task(fake.backlog, f"Release {n}") for n in range(5)]
    view = fake.add_view(fake.backlog, "Release work", "release")
    query = TaskQuery(native_query=f" {view.id} ", project_id=fake.ios.id)  # other filters are not applied
    first = adapter.list_tasks(query, PageRequest(limit=2))
    second = adapter.list_tasks(query, PageRequest(limit=10, cursor=first.next_cursor))
    assert [t.id for t in first.items + second.items] == [t.id for t in made] and second.next_cursor is None
    assert {r.path for r in fake.requests if "/view/" in r.path} == {f"/api/v2/view/{view.id}/task"}
    with pytest.raises(errors.NotFound, match="native_query takes a ClickUp view id"):
        adapter.list_tasks(TaskQuery(native_query="6-000-9"), PageRequest())
    with pytest.raises(errors.InvalidInput):
        adapter.list_tasks(TaskQuery(project_id=fake.backlog.id), PageRequest(cursor=first.next_cursor))


def test_history_is_refused_saying_what_to_use_instead(fake, adapter):
    with pytest.raises(errors.NotSupported) as caught:
        adapter.task_history(fake.add_task(fake.backlog, "Old").id, PageRequest())
    assert "ClickUp does not support" in str(caught.value) and "get_task" in str(caught.value)
