"""OpenProject's own sprint-work behaviours against the fake: what is sent, what is refused, what it costs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from portal.core.providers import errors
from portal.core.providers.base import (
    BACKLOG,
    ME,
    ConnectionConfig,
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
from portal.core.providers.openproject import OpenProjectAdapter
from tests.contract.suite import TEST_POLICY, _all_pages
from tests.fakes import openproject as fake_op
from tests.fakes.openproject import FakeOpenProject

SLUG = "op"


def make_adapter(fake: FakeOpenProject, token: str = fake_op.TOKEN) -> OpenProjectAdapter:
    config = ConnectionConfig(slug=SLUG, base_url=fake.base_url, token=token)
    return OpenProjectAdapter(config, TEST_POLICY, metadata=MetadataCache())


@pytest.fixture
def fake() -> Iterator[FakeOpenProject]:
    server = FakeOpenProject()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def versions_fake() -> Iterator[FakeOpenProject]:
    """OpenProject before 17.3: versions stand in for sprints."""
    server = FakeOpenProject(sprints=False)
    server.start()
    yield server
    server.stop()


def sent(fake: FakeOpenProject, method: str, pattern: str) -> list:
    return [r for r in fake.requests if r.method == method and re.search(pattern, r.path)]


def made(fake: FakeOpenProject, call) -> list[str]:
    before = len(fake.requests)
    call()
    return [f"{r.method} {r.path}" for r in fake.requests[before:]]


# --- sprints ---------------------------------------------------------------------------------------------


def test_sprint_writes_on_openproject_17_3_say_where_to_make_them(fake):
    adapter = make_adapter(fake)
    for write in (
        lambda: adapter.create_sprint("1", SprintDraft(name="Sprint 4")),
        lambda: adapter.update_sprint("3", SprintChanges(state=SprintState.ACTIVE)),
    ):
        with pytest.raises(errors.NotSupported) as caught:
            write()
        assert "Backlogs module" in str(caught.value) and "move_to_sprint" in str(caught.value)
    assert not sent(fake, "POST", r"/versions") and not sent(fake, "PATCH", r"/versions|/sprints")


def test_a_sprint_is_created_as_a_version_of_the_project(versions_fake):
    adapter = make_adapter(versions_fake)
    start = date.today() + timedelta(days=7)
    sprint = adapter.create_sprint(
        "1", SprintDraft(name=" Sprint 9 ", start=start, end=start + timedelta(days=13), goal="Ship **it**")
    )
    body = sent(versions_fake, "POST", r"^/api/v3/versions$")[0].json()
    assert body == {
        "name": "Sprint 9",
        "description": {"raw": "Ship **it**"},
        "startDate": start.isoformat(),
        "endDate": (start + timedelta(days=13)).isoformat(),
        "status": "open",
        "_links": {"definingProject": {"href": "/api/v3/projects/1"}},
    }
    stored = versions_fake.versions[int(sprint.id)]
    assert (stored.name, stored.project_id, stored.description) == ("Sprint 9", 1, "Ship **it**")
    assert (sprint.state, sprint.goal, sprint.project_ref) == (SprintState.FUTURE, "Ship **it**", f"{SLUG}:1")


def test_a_name_already_taken_is_the_vendors_refusal(versions_fake):
    with pytest.raises(errors.InvalidInput) as caught:
        make_adapter(versions_fake).create_sprint("1", SprintDraft(name="1.1"))
    assert caught.value.field_errors == {"name": "Name has already been taken."}


def test_starting_a_future_version_gives_it_today_as_its_start(versions_fake):
    adapter = make_adapter(versions_fake)
    started = adapter.update_sprint("3", SprintChanges(state=SprintState.ACTIVE))  # 2.0 starts in 30 days
    assert started.state == SprintState.ACTIVE
    assert versions_fake.versions[3].start == datetime.now(UTC).date()
    assert sent(versions_fake, "PATCH", r"^/api/v3/versions/3$")[-1].json() == {
        "startDate": datetime.now(UTC).date().isoformat()
    }


def test_a_closed_version_does_not_start_again(versions_fake):
    with pytest.raises(errors.InvalidInput) as caught:
        make_adapter(versions_fake).update_sprint("1", SprintChanges(state=SprintState.ACTIVE))
    assert "create_sprint" in str(caught.value)
    assert not sent(versions_fake, "PATCH", r".")


def test_dates_that_end_before_the_start_are_refused_before_writing(versions_fake):
    adapter = make_adapter(versions_fake)
    with pytest.raises(errors.InvalidInput):
        adapter.update_sprint("2", SprintChanges(end=versions_fake.versions[2].start - timedelta(days=1)))
    with pytest.raises(errors.InvalidInput):
        adapter.update_sprint("2", SprintChanges(state=SprintState.FUTURE))
    assert not sent(versions_fake, "PATCH", r".")


def test_closing_moves_the_open_work_into_the_next_sprint(versions_fake):
    adapter = make_adapter(versions_fake)
    in_sprint = {wp.id for wp in versions_fake.work_packages.values() if wp.version_id == 2}
    done = {
        wp_id
        for wp_id in in_sprint
        if versions_fake.statuses[versions_fake.work_packages[wp_id].status_id].is_closed
    }
    closed = adapter.update_sprint("2", SprintChanges(state=SprintState.CLOSED, move_open_to="3"))
    assert closed.state == SprintState.CLOSED and versions_fake.versions[2].status == "closed"
    assert {
        wp_id for wp_id in in_sprint if versions_fake.work_packages[wp_id].version_id == 3
    } == in_sprint - done
    assert all(versions_fake.work_packages[wp_id].version_id == 2 for wp_id in done)


def test_closing_stays_open_when_the_work_can_not_move(versions_fake):
    adapter = make_adapter(versions_fake)
    with pytest.raises(errors.InvalidInput) as caught:  # version 1.0 is closed: it takes no work
        adapter.update_sprint("2", SprintChanges(state=SprintState.CLOSED, move_open_to="1"))
    assert "stays open" in str(caught.value)
    assert versions_fake.versions[2].status == "open"
    with pytest.raises(errors.InvalidInput):
        adapter.update_sprint("2", SprintChanges(state=SprintState.CLOSED, move_open_to="2"))
    assert versions_fake.versions[2].status == "open"


def test_moves_read_every_lock_version_at_once_and_patch_each_task(fake):
    adapter = make_adapter(fake)
    first, second = (str(fake.add_work_package(1, f"Move {n}")) for n in range(2))
    adapter.get_sprint("3")  # the server is known to have sprints
    requests = made(fake, lambda: adapter.move_to_sprint([first, "x1", second], "3"))
    assert requests == [
        "GET /api/v3/sprints/3",
        "GET /api/v3/work_packages",
        f"PATCH /api/v3/work_packages/{first}",
        f"PATCH /api/v3/work_packages/{second}",
    ]
    assert sent(fake, "PATCH", rf"/work_packages/{first}$")[0].json()["_links"] == {
        "sprint": {"href": "/api/v3/sprints/3"}
    }
    outcomes = adapter.move_to_sprint([first, "x1"], BACKLOG)
    assert outcomes[0].error is None and isinstance(outcomes[1].error, errors.NotFound)
    assert fake.work_packages[int(first)].sprint_id is None


def test_a_task_of_another_project_does_not_move_into_the_sprint(fake):
    ops_task = str(fake.add_work_package(2, "Ops chore"))
    outcome = make_adapter(fake).move_to_sprint([ops_task], "3")[0]
    assert isinstance(outcome.error, errors.InvalidInput)
    assert "Sprint is not set to one of the allowed values." in str(outcome.error)
    assert fake.work_packages[int(ops_task)].sprint_id is None


def test_versions_move_through_the_version_link(versions_fake):
    task = str(versions_fake.add_work_package(1, "Planned"))
    make_adapter(versions_fake).move_to_sprint([task], "3")
    assert sent(versions_fake, "PATCH", rf"/work_packages/{task}$")[0].json()["_links"] == {
        "version": {"href": "/api/v3/versions/3"}
    }
    assert versions_fake.work_packages[int(task)].version_id == 3


def test_a_sprint_filter_on_a_server_without_sprints_falls_back_to_versions_once(versions_fake):
    adapter = make_adapter(versions_fake)
    query = TaskQuery(sprint_id="2")
    first = made(versions_fake, lambda: adapter.list_tasks(query, PageRequest()))
    assert first == [
        "GET /api/v3/statuses",
        "GET /api/v3/work_packages",  # with the sprint filter: refused
        "GET /api/v3/sprints",  # is it that the server has no sprints? yes
        "GET /api/v3/work_packages",
        "GET /api/v3/work_packages",  # which parents are epics
    ]
    assert made(versions_fake, lambda: adapter.list_tasks(query, PageRequest())) == [
        "GET /api/v3/work_packages"
    ]
    filters = json.loads(versions_fake.requests[-1].arg("filters"))
    assert filters == [{"version": {"operator": "=", "values": ["2"]}}]


def test_an_invalid_sprint_filter_on_a_server_with_sprints_is_the_vendors_refusal(fake):
    fake.fail_next(400, path=r"^/api/v3/work_packages$", method="GET")
    with pytest.raises(errors.InvalidInput):
        make_adapter(fake).list_tasks(TaskQuery(sprint_id="2"), PageRequest())
    assert [r.arg("filters") for r in sent(fake, "GET", r"^/api/v3/work_packages$")][-1] is not None
    assert sent(fake, "GET", r"^/api/v3/sprints$")  # asked, and the server has sprints: no fallback


# --- links -----------------------------------------------------------------------------------------------


def test_link_types_cost_no_request(fake):
    adapter = make_adapter(fake)
    assert made(fake, adapter.list_link_types) == []


def test_a_link_made_from_the_blocked_side_is_stored_from_the_blocker(fake):
    adapter = make_adapter(fake)
    blocker, blocked = (str(fake.add_work_package(1, f"Link {n}")) for n in range(2))
    blocks = next(t for t in adapter.list_link_types() if t.kind == LinkKind.BLOCKS)
    link = adapter.link_tasks(blocked, blocker, blocks, outward=False)
    assert sent(fake, "POST", rf"^/api/v3/work_packages/{blocker}/relations$")[0].json() == {
        "type": "blocks",
        "_links": {"to": {"href": f"/api/v3/work_packages/{blocked}"}},
    }
    (stored,) = fake.relations.values()
    assert (stored.from_id, stored.to_id, stored.type) == (int(blocker), int(blocked), "blocks")
    assert (link.kind, link.label, link.other_title) == (LinkKind.BLOCKED_BY, "is blocked by", "Link 0")


def test_links_are_read_from_the_work_package_and_say_whether_the_other_is_done(fake):
    adapter = make_adapter(fake)
    task = str(fake.add_work_package(1, "Hub"))
    done = str(fake.add_work_package(1, "Finished", status_id=fake_op.CLOSED))
    follower = str(fake.add_work_package(1, "Later"))
    types = {t.id: t for t in adapter.list_link_types()}
    adapter.link_tasks(done, task, types["blocks"])
    adapter.link_tasks(task, follower, types["precedes"])
    requests = made(fake, lambda: adapter.list_links(task))
    assert requests == [f"GET /api/v3/work_packages/{task}", "GET /api/v3/work_packages"]
    links = {link.other_ref: link for link in adapter.list_links(task)}
    assert (links[f"{SLUG}:{done}"].kind, links[f"{SLUG}:{done}"].other_done) == (LinkKind.BLOCKED_BY, True)
    later = links[f"{SLUG}:{follower}"]
    assert (later.kind, later.label, later.other_done) == (LinkKind.OTHER, "precedes", False)


def test_a_second_relation_between_two_work_packages_is_a_conflict(fake):
    adapter = make_adapter(fake)
    one, two = (str(fake.add_work_package(1, f"Pair {n}")) for n in range(2))
    relates = next(t for t in adapter.list_link_types() if t.kind == LinkKind.RELATES)
    adapter.link_tasks(one, two, relates)
    with pytest.raises(errors.Conflict) as caught:
        adapter.link_tasks(two, one, next(t for t in adapter.list_link_types() if t.kind == LinkKind.BLOCKS))
    assert "unlink_tasks" in str(caught.value)
    assert len(fake.relations) == 1


def test_linking_to_a_missing_work_package_is_not_found(fake):
    adapter = make_adapter(fake)
    relates = adapter.list_link_types()[0]
    with pytest.raises(errors.NotFound, match="#999999"):
        adapter.link_tasks("1", "999999", relates)
    with pytest.raises(errors.NotFound):
        adapter.link_tasks("999999", "1", relates)
    with pytest.raises(errors.NotFound):
        adapter.list_links("999999")
    assert not fake.relations


def test_a_link_type_openproject_lacks_is_refused_naming_its_own(fake):
    from portal.core.providers.base import LinkType

    with pytest.raises(errors.InvalidInput) as caught:
        make_adapter(fake).link_tasks(
            "1", "2", LinkType(id="clones", name="clones", outward="clones", inward="is cloned by")
        )
    assert "relates, blocks, duplicates, precedes, includes, requires" in str(caught.value)
    assert not sent(fake, "POST", r"/relations$")


def test_the_blocked_filter_lists_what_an_open_work_package_blocks(fake):
    adapter = make_adapter(fake)
    blocker, blocked, other_blocker, freed = (str(fake.add_work_package(1, f"Chain {n}")) for n in range(4))
    blocks = next(t for t in adapter.list_link_types() if t.kind == LinkKind.BLOCKS)
    adapter.link_tasks(blocker, blocked, blocks)
    adapter.link_tasks(other_blocker, freed, blocks)
    fake.record_status_change(int(other_blocker), fake_op.CLOSED, at=datetime.now(UTC))
    page = adapter.list_tasks(TaskQuery(project_id="1", blocked=True), PageRequest(limit=50))
    assert [t.id for t in page.items] == [blocked]
    listing = sent(fake, "GET", r"^/api/v3/workspaces/1/work_packages$")[-1]
    assert {"id": {"operator": "=", "values": [blocked]}} in json.loads(listing.arg("filters"))


def test_nothing_blocked_needs_no_listing(fake):
    adapter = make_adapter(fake)
    assert adapter.list_tasks(TaskQuery(project_id="1", blocked=True), PageRequest()).items == []
    assert not sent(fake, "GET", r"/work_packages$")


# --- logged work -------------------------------------------------------------------------------------------


def test_work_is_logged_as_a_time_entry_on_the_work_package(fake):
    adapter = make_adapter(fake)
    task = str(fake.add_work_package(1, "Timed"))
    started = datetime.now(UTC) - timedelta(days=1)
    logged = adapter.log_work(
        task, WorklogDraft(hours=1.5, started=started, comment="Paired on the **fix**.")
    )
    (entry,) = fake.time_entries.values()
    assert (entry.work_package_id, entry.hours, entry.spent_on, entry.comment) == (
        int(task),
        "PT1H30M",
        started.date(),
        "Paired on the **fix**.",
    )
    assert (logged.hours, logged.task_ref, logged.author.name) == (1.5, f"{SLUG}:{task}", "Ana Silva")
    assert logged.started == datetime.combine(started.date(), datetime.min.time(), tzinfo=UTC)


def test_worklogs_of_a_task_are_filtered_and_oldest_first(fake):
    adapter = make_adapter(fake)
    task = str(fake.add_work_package(1, "Timed twice"))
    today = datetime.now(UTC)
    adapter.log_work(task, WorklogDraft(hours=2, started=today))
    adapter.log_work(task, WorklogDraft(hours=1, started=today - timedelta(days=2)))
    worklogs = _all_pages(lambda page: adapter.list_worklogs(task, page), limit=1)
    assert [w.hours for w in worklogs] == [1.0, 2.0]
    request = sent(fake, "GET", r"^/api/v3/time_entries$")[-1]
    assert json.loads(request.arg("filters")) == [
        {"entity_type": {"operator": "=", "values": ["WorkPackage"]}},
        {"entity_id": {"operator": "=", "values": [task]}},
    ]
    assert json.loads(request.arg("sortBy")) == [["spent_on", "asc"], ["id", "asc"]]


def test_a_persons_worklogs_over_days_within_a_project(fake):
    mine, theirs = make_adapter(fake), make_adapter(fake, fake_op.OTHER_TOKEN)  # Ana, and Ben
    task = str(fake.add_work_package(1, "Shared work"))
    ops = str(fake.add_work_package(2, "Ops work"))
    ana_logged = mine.log_work(task, WorklogDraft(hours=1))
    mine.log_work(ops, WorklogDraft(hours=3))  # another project
    theirs.log_work(task, WorklogDraft(hours=2))
    query = WorklogQuery(
        user_id=ME, since=date.today() - timedelta(days=1), until=date.today(), project_id="1"
    )
    assert [w.id for w in mine.search_worklogs(query, PageRequest()).items] == [ana_logged.id]
    filters = json.loads(sent(fake, "GET", r"^/api/v3/time_entries$")[-1].arg("filters"))
    assert filters[0] == {"user_id": {"operator": "=", "values": ["1"]}}  # ME is the connection's user
    assert filters[1]["spent_on"]["operator"] == "<>d"
    bens = WorklogQuery(user_id="2", since=date.today(), until=date.today())
    assert [w.hours for w in mine.search_worklogs(bens, PageRequest()).items] == [2.0]
    with pytest.raises(errors.InvalidInput):
        mine.search_worklogs(
            WorklogQuery(user_id=ME, since=date.today(), until=date.today() - timedelta(days=1)),
            PageRequest(),
        )


def test_worklogs_of_a_missing_task_are_not_found_and_of_a_task_without_any_empty(fake):
    adapter = make_adapter(fake)
    with pytest.raises(errors.NotFound):
        adapter.list_worklogs("999999", PageRequest())
    assert adapter.list_worklogs(str(fake.epic_id), PageRequest()).items == []


def test_logging_on_a_missing_work_package_is_not_found_and_zero_hours_never_leave(fake):
    adapter = make_adapter(fake)
    with pytest.raises(errors.NotFound):
        adapter.log_work("999999", WorklogDraft(hours=1))
    before = len(fake.requests)
    with pytest.raises(errors.InvalidInput):
        adapter.log_work("1", WorklogDraft(hours=0))
    assert len(fake.requests) == before and not fake.time_entries


# --- history -------------------------------------------------------------------------------------------------


def test_history_names_who_changed_which_field_from_what_to_what(fake):
    adapter = make_adapter(fake)
    task = str(fake.add_work_package(1, "Tracked"))
    adapter.update_task(
        task, TaskChanges(title="Tracked, renamed", sprint_id="3", description="Now *described*.")
    )
    fake.record_status_change(
        int(task), fake_op.IN_PROGRESS, at=datetime.now(UTC) + timedelta(minutes=1), user_id=2
    )
    entries = _all_pages(lambda page: adapter.task_history(task, page), limit=1)
    changes = [(e.field, e.old, e.new, e.author.name) for e in entries]
    assert changes == [
        ("Subject", "Tracked", "Tracked, renamed", "Ana Silva"),
        ("Description", None, None, "Ana Silva"),
        ("Sprint", None, "Sprint 3", "Ana Silva"),
        ("Status", "New", "In progress", "Ben Okafor"),
    ]
    assert [e.at for e in entries] == sorted(e.at for e in entries)


def test_history_of_a_missing_task_is_not_found(fake):
    with pytest.raises(errors.NotFound):
        make_adapter(fake).task_history("999999", PageRequest())


# --- fields --------------------------------------------------------------------------------------------------


def test_fields_are_listed_from_the_create_form_per_type_and_kept(fake):
    adapter = make_adapter(fake)
    fields = {f.name: f for f in adapter.list_fields("1")}
    assert {name for name, f in fields.items() if f.custom} == {
        "Risk",
        "Platforms",
        "Customer",
        "Reviewer",
        "Release notes",
    }
    assert fields["Risk"].allowed == ("Low", "Medium", "High")
    assert not fields["Subject"].settable and not fields["Subject"].custom
    assert sent(fake, "POST", r"^/api/v3/workspaces/1/work_packages/form$")[-1].json() == {}
    adapter.list_fields("1", "Bug")
    assert sent(fake, "POST", r"/work_packages/form$")[-1].json() == {
        "_links": {"type": {"href": "/api/v3/types/5"}}
    }
    assert made(fake, lambda: (adapter.list_fields("1"), adapter.list_fields("1", "bug"))) == []
    assert {f.name for f in adapter.list_fields("2") if f.custom} == {"Customer"}


def test_custom_fields_are_written_by_id_and_cleared_with_none(fake):
    adapter = make_adapter(fake)
    fields = {f.name: f.id for f in adapter.list_fields("1")}
    created = adapter.create_task(
        "1",
        TaskDraft(
            title="With every field",
            fields={
                fields["Risk"]: "high",
                fields["Platforms"]: ["Web", "Android"],
                fields["Customer"]: "ACME",
                fields["Reviewer"]: "2",
                fields["Release notes"]: "**Big** release",
            },
        ),
    )
    wp = int(created.id)
    assert fake.custom_value_names(wp, 1) == "High" and fake.custom_value_names(wp, 2) == ["Web", "Android"]
    assert (fake.custom_value_names(wp, 3), fake.custom_value_names(wp, 4)) == ("ACME", "Ben Okafor")
    assert fake.custom_value_names(wp, 5) == "**Big** release"
    assert created.extra["fields"] == {
        "customField1": "High",
        "customField2": ["Web", "Android"],
        "customField3": "ACME",
        "customField4": "Ben Okafor",
        "customField5": "**Big** release",
    }
    adapter.update_task(
        created.id,
        TaskChanges(
            fields=dict.fromkeys(
                fields[name] for name in ("Risk", "Platforms", "Customer", "Reviewer", "Release notes")
            )
        ),
    )
    assert all(fake.custom_value_names(wp, cf) is None for cf in range(1, 6))
    assert "fields" not in adapter.get_task(created.id).extra


def test_an_option_that_is_not_allowed_creates_nothing(fake):
    adapter = make_adapter(fake)
    risk = next(f for f in adapter.list_fields("1") if f.name == "Risk")
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.create_task("1", TaskDraft(title="Risky", fields={risk.id: "Extreme"}))
    assert "Low, Medium, High" in str(caught.value)
    assert not sent(fake, "POST", r"/work_packages$")


def test_fields_of_another_type_are_those_of_the_work_packages_own_type(fake):
    adapter = make_adapter(fake)
    bug = adapter.create_task("1", TaskDraft(title="Typed bug", type="Bug"))
    risk = next(f for f in adapter.list_fields("1", "Bug") if f.name == "Risk")
    adapter.update_task(bug.id, TaskChanges(fields={risk.id: "Low"}))
    assert fake.custom_value_names(int(bug.id), 1) == "Low"
    forms = [r.json() for r in sent(fake, "POST", r"/work_packages/form$")]
    assert forms[-1] == {"_links": {"type": {"href": "/api/v3/types/5"}}}


# --- native queries ---------------------------------------------------------------------------------------------


def test_a_native_query_is_sent_as_the_filters_whole(fake):
    adapter = make_adapter(fake)
    seeded = {str(fake.add_work_package(3, f"Native {n}")) for n in range(2)}
    native = '[{"subject": {"operator": "~", "values": ["Native"]}}]'
    page = adapter.list_tasks(TaskQuery(native_query=native, project_id="1", text="ignored"), PageRequest())
    assert {t.id for t in page.items} == seeded  # the project and text are not added to it
    request = sent(fake, "GET", r"^/api/v3/work_packages$")[-1]
    assert request.arg("filters") == native


def test_a_native_query_the_vendor_refuses_is_invalid_input_with_its_words(fake):
    adapter = make_adapter(fake)
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.list_tasks(
            TaskQuery(native_query='[{"colour": {"operator": "=", "values": ["red"]}}]'), PageRequest()
        )
    assert "colour filter does not exist" in str(caught.value)
    before = len(fake.requests)
    with pytest.raises(errors.InvalidInput):
        adapter.list_tasks(TaskQuery(native_query="status is open"), PageRequest())
    assert len(fake.requests) == before


def test_tasks_read_after_writes_keep_their_categories_without_the_status_list(fake):
    adapter = make_adapter(fake)
    task = adapter.create_task("1", TaskDraft(title="Fresh"))
    assert task.status.category == StatusCategory.TODO
    assert not sent(fake, "GET", r"^/api/v3/statuses$")
