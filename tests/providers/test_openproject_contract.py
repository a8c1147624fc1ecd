"""The provider contract, and OpenProject's own behaviours, against the fake OpenProject."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from portal.core.providers import errors
from portal.core.providers.base import (
    ConnectionConfig,
    PageRequest,
    ProviderAdapter,
    SprintState,
    StatusCategory,
    TaskChanges,
    TaskDraft,
    TaskQuery,
)
from portal.core.providers.http import HttpPolicy
from portal.core.providers.metadata import MetadataCache
from portal.core.providers.openproject import OpenProjectAdapter
from portal.core.providers.registry import build_adapter
from tests.contract.suite import TEST_POLICY, ContractEnv, ProviderContract, SprintWorkContract, _all_pages
from tests.fakes import openproject as fake_op
from tests.fakes.openproject import FakeOpenProject

SLUG = "op"


def make_adapter(fake: FakeOpenProject, token: str = fake_op.TOKEN, policy: HttpPolicy = TEST_POLICY):
    return OpenProjectAdapter(ConnectionConfig(slug=SLUG, base_url=fake.base_url, token=token), policy)


@pytest.fixture
def fake() -> Iterator[FakeOpenProject]:
    # A fresh server per test: fault switches and delays never leak into the next test.
    server = FakeOpenProject()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def versions_fake() -> Iterator[FakeOpenProject]:
    """OpenProject 17 before 17.3: workspaces, but versions instead of sprints."""
    server = FakeOpenProject(sprints=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def legacy_fake() -> Iterator[FakeOpenProject]:
    """An OpenProject before version 17: no workspaces, no sprints (versions instead)."""
    server = FakeOpenProject(workspaces=False, sprints=False)
    server.start()
    yield server
    server.stop()


class OpenProjectProbe:
    """The fake OpenProject's own state, read behind the adapter's back."""

    SPRINT_STATES = {
        "in_planning": SprintState.FUTURE,
        "active": SprintState.ACTIVE,
        "completed": SprintState.CLOSED,
    }

    def __init__(self, fake: FakeOpenProject):
        self.fake = fake

    def sprint_of(self, task_id: str) -> str | None:
        wp = self.fake.work_packages[int(task_id)]
        planned = wp.sprint_id if self.fake.has_sprints else wp.version_id
        return str(planned) if planned is not None else None

    def sprint(self, sprint_id: str) -> dict:
        if self.fake.has_sprints:
            sprint = self.fake.sprints[int(sprint_id)]
            return {"name": sprint.name, "state": self.SPRINT_STATES[sprint.status], "goal": None}
        version = self.fake.versions[int(sprint_id)]
        if version.status == "closed":
            state = SprintState.CLOSED
        elif version.start is not None and version.start > datetime.now(UTC).date():
            state = SprintState.FUTURE
        else:
            state = SprintState.ACTIVE
        return {"name": version.name, "state": state, "goal": version.description or None}

    def linked(self, task_id: str) -> set[str]:
        wp_id = int(task_id)
        return {str(r.to_id if r.from_id == wp_id else r.from_id) for r in self.fake.relations_of(wp_id)}

    def logged_hours(self, task_id: str) -> float:
        return self.fake.logged_hours(int(task_id))

    def field_value(self, task_id: str, field_id: str):
        return self.fake.custom_value_names(int(task_id), int(field_id.removeprefix("customField")))

    def retitle(self, task_id: str, title: str) -> None:
        self.fake.retitle(int(task_id), title)


def native_subject_query(prefix: str) -> str:
    return json.dumps([{"subject": {"operator": "~", "values": [prefix]}}])


def openproject_env(fake: FakeOpenProject) -> ContractEnv:
    made: list[OpenProjectAdapter] = []

    def adapter_for(token: str | None = None, policy: HttpPolicy | None = None) -> OpenProjectAdapter:
        adapter = make_adapter(fake, token or fake_op.TOKEN, policy or TEST_POLICY)
        made.append(adapter)
        return adapter

    def seed_tasks(count: int, title_prefix: str = "Seeded", assignee_id: str | None = None) -> list[str]:
        assignee = int(assignee_id) if assignee_id else None
        return [
            str(fake.add_work_package(1, f"{title_prefix} task {n}", assignee_id=assignee))
            for n in range(count)
        ]

    def fault(status: int, path: str | None = None, method: str | None = None, headers=None, count: int = 1):
        fake.fail_next(status, path=path, method=method, headers=headers, count=count)

    def count_requests(method: str, path: str) -> int:
        return sum(1 for r in fake.requests if r.method == method and re.search(path, r.path))

    return ContractEnv(
        adapter=adapter_for(),
        slug=SLUG,
        project_id="1",
        other_user_id="2",
        other_user_name="Ben Okafor",
        make_adapter=adapter_for,
        seed_tasks=seed_tasks,
        fault=fault,
        count_requests=count_requests,
        slow=lambda seconds: fake.delay_next(seconds, count=6),
        sprint_id="2",
        epic_id=str(fake.epic_id),
        probe=OpenProjectProbe(fake),
        # OpenProject 17.3's sprints are read-only through the API; versions are written in full.
        unsupported=frozenset({"sprint_writes"}) if fake.has_sprints else frozenset(),
        vendor="OpenProject",
        extra={
            "token": fake_op.TOKEN,
            "long_rate_limit_headers": {"Retry-After": "30"},
            "clear_faults": fake.clear_faults,
            "missing_task_id": "999999",
            "option_field": "Risk",
            "native_query": native_subject_query,
        },
    )


class TestOpenProjectContract(ProviderContract, SprintWorkContract):
    @pytest.fixture
    def contract_env(self, fake: FakeOpenProject) -> Iterator[ContractEnv]:
        env = openproject_env(fake)
        yield env
        env.adapter.close()


class TestOpenProjectWithVersionsContract(ProviderContract, SprintWorkContract):
    """The same contract on OpenProject 17 before 17.3: workspaces, and versions for sprints."""

    @pytest.fixture
    def contract_env(self, versions_fake: FakeOpenProject) -> Iterator[ContractEnv]:
        env = openproject_env(versions_fake)
        yield env
        env.adapter.close()


class TestOpenProjectBeforeVersion17Contract(ProviderContract, SprintWorkContract):
    """The same contract on a server without workspaces and sprints (versions stand in)."""

    @pytest.fixture
    def contract_env(self, legacy_fake: FakeOpenProject) -> Iterator[ContractEnv]:
        env = openproject_env(legacy_fake)
        yield env
        env.adapter.close()


# --- OpenProject's own behaviours -------------------------------------------------------------


def _requests(fake: FakeOpenProject, method: str, pattern: str) -> list:
    return [r for r in fake.requests if r.method == method and re.search(pattern, r.path)]


def test_the_registry_builds_the_adapter(fake):
    config = ConnectionConfig(slug=SLUG, base_url=fake.base_url, token=fake_op.TOKEN)
    adapter = build_adapter("openproject", config, TEST_POLICY)
    assert isinstance(adapter, OpenProjectAdapter) and isinstance(adapter, ProviderAdapter)
    assert (
        adapter.check().summary
        == f"Connected to 127.0.0.1:{fake.server.server_address[1]} as Ana Silva, ana@example.com"
    )


def test_basic_auth_uses_apikey_as_the_user(fake):
    make_adapter(fake).current_user()
    header = fake.requests[-1].headers["authorization"]
    assert base64.b64decode(header.removeprefix("Basic ")).decode() == f"apikey:{fake_op.TOKEN}"


def test_token_is_not_in_the_adapters_repr(fake):
    adapter = make_adapter(fake)
    adapter.current_user()
    assert fake_op.TOKEN not in repr(adapter) and fake_op.TOKEN not in repr(adapter._config)
    assert fake_op.TOKEN not in repr(adapter.http.session.auth)


def test_not_openproject_is_reported(fake):
    fake.fail_next(200, path=r"/users/me$", body={"hello": "world"})
    with pytest.raises(errors.NotThisProduct):
        make_adapter(fake).check()


def test_vendor_message_and_field_errors_are_kept(fake):
    with pytest.raises(errors.InvalidInput) as caught:
        make_adapter(fake).create_task("1", TaskDraft(title=""))
    assert caught.value.field_errors == {"title": "Subject can't be blank."}
    assert "Subject can't be blank." in str(caught.value)


def test_multiple_errors_become_several_field_errors(fake):
    adapter = make_adapter(fake)
    (task_id,) = [str(fake.add_work_package(1, "Many errors"))]
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.update_task(task_id, TaskChanges(title=" ", priority=None))
    assert set(caught.value.field_errors) == {"title", "priority"}


def test_workspaces_are_used_on_openproject_17(fake):
    adapter = make_adapter(fake)
    adapter.list_tasks(TaskQuery(project_id="1"), PageRequest())
    adapter.list_users("1")
    assert _requests(fake, "GET", r"^/api/v3/workspaces/1/work_packages$")
    assert _requests(fake, "GET", r"^/api/v3/workspaces/1/available_assignees$")
    assert not _requests(fake, "GET", r"^/api/v3/projects/1/")


def test_older_servers_fall_back_to_projects_once(legacy_fake):
    adapter = make_adapter(legacy_fake)
    for _ in range(3):
        adapter.list_tasks(TaskQuery(project_id="1"), PageRequest())
    adapter.list_users("1")
    assert len(_requests(legacy_fake, "GET", r"^/api/v3/workspaces/")) == 1  # learnt once, remembered
    assert len(_requests(legacy_fake, "GET", r"^/api/v3/projects/1/work_packages$")) == 3
    assert _requests(legacy_fake, "GET", r"^/api/v3/projects/1/available_assignees$")


def test_missing_project_on_openproject_17_is_not_found_and_not_a_fallback(fake):
    adapter = make_adapter(fake)
    adapter.list_projects(PageRequest())  # the server is known to have workspaces
    with pytest.raises(errors.NotFound):
        adapter.list_tasks(TaskQuery(project_id="4242"), PageRequest())
    assert not _requests(fake, "GET", r"^/api/v3/projects/4242/")


def test_missing_project_on_an_unknown_server_is_not_found(fake):
    with pytest.raises(errors.NotFound):
        make_adapter(fake).list_tasks(TaskQuery(project_id="4242"), PageRequest())


def test_filters_are_json_and_closed_work_is_included_by_default(fake):
    adapter = make_adapter(fake)
    page = adapter.list_tasks(TaskQuery(project_id="1"), PageRequest(limit=100))
    assert str(fake.done_in_sprint_id) in {t.id for t in page.items}  # a closed one
    sent = _requests(fake, "GET", r"^/api/v3/workspaces/1/work_packages$")[-1]
    assert json.loads(sent.arg("filters")) == []
    assert json.loads(sent.arg("sortBy")) == [["updatedAt", "desc"], ["id", "asc"]]


def test_filters_for_every_query_field(fake):
    adapter = make_adapter(fake)
    since = datetime(2026, 1, 1, tzinfo=UTC)
    adapter.list_tasks(
        TaskQuery(
            project_id="1",
            assignee="2",
            categories=frozenset({StatusCategory.DONE}),
            text="Order",
            sprint_id="2",
            epic_id="1",
            updated_since=since,
        ),
        PageRequest(),
    )
    filters = json.loads(_requests(fake, "GET", r"^/api/v3/workspaces/1/work_packages$")[-1].arg("filters"))
    assert filters == [
        {"assignee": {"operator": "=", "values": ["2"]}},
        {"status": {"operator": "c", "values": None}},
        {"search": {"operator": "**", "values": ["Order"]}},
        {"sprint": {"operator": "=", "values": ["2"]}},
        {"parent": {"operator": "=", "values": ["1"]}},
        {"updatedAt": {"operator": "<>d", "values": ["2026-01-01T00:00:00Z", ""]}},
    ]


def test_open_categories_use_status_ids_or_the_open_operator(fake):
    adapter = make_adapter(fake)
    todo_and_doing = frozenset({StatusCategory.TODO, StatusCategory.IN_PROGRESS})
    page = adapter.list_tasks(TaskQuery(project_id="1", categories=todo_and_doing), PageRequest(limit=100))
    filters = json.loads(_requests(fake, "GET", r"^/api/v3/workspaces/1/work_packages$")[-1].arg("filters"))
    # "Parked" is open but UNKNOWN: the open operator would let it through, so ids are sent.
    assert filters == [{"status": {"operator": "=", "values": ["1", "7"]}}]
    assert page.items and all(t.status.category in todo_and_doing for t in page.items)
    with_unknown = todo_and_doing | {StatusCategory.UNKNOWN}
    adapter.list_tasks(TaskQuery(project_id="1", categories=with_unknown), PageRequest())
    filters = json.loads(_requests(fake, "GET", r"^/api/v3/workspaces/1/work_packages$")[-1].arg("filters"))
    assert filters == [{"status": {"operator": "o", "values": None}}]


def test_unassigned_and_updated_since(fake):
    adapter = make_adapter(fake)
    fresh = fake.add_work_package(1, "Fresh and unowned", updated_at=datetime.now(UTC))
    page = adapter.list_tasks(
        TaskQuery(project_id="1", unassigned=True, updated_since=datetime.now(UTC) - timedelta(hours=1)),
        PageRequest(limit=100),
    )
    assert [t.id for t in page.items] == [str(fresh)]


def test_stale_lock_version_is_reread_and_retried_once(fake):
    adapter = make_adapter(fake)
    task_id = str(fake.add_work_package(1, "Contended"))
    fake.edit_after_next_reads(int(task_id), count=1)
    updated = adapter.update_task(task_id, TaskChanges(title="Saved after a conflict"))
    assert updated.title == "Saved after a conflict"
    patches = _requests(fake, "PATCH", rf"^/api/v3/work_packages/{task_id}$")
    assert [p.json()["lockVersion"] for p in patches] == [0, 1]  # stale, then the re-read one
    assert len(_requests(fake, "GET", rf"^/api/v3/work_packages/{task_id}$")) == 2


def test_a_second_conflict_is_raised(fake):
    adapter = make_adapter(fake)
    task_id = str(fake.add_work_package(1, "Hot potato"))
    fake.edit_after_next_reads(int(task_id), count=2)
    with pytest.raises(errors.Conflict):
        adapter.update_task(task_id, TaskChanges(title="Never saved"))
    assert fake.work_packages[int(task_id)].subject == "Hot potato"


def test_every_patch_carries_the_current_lock_version(fake):
    adapter = make_adapter(fake)
    task_id = str(fake.add_work_package(1, "Locked"))
    fake.record_status_change(int(task_id), fake_op.IN_PROGRESS, at=datetime.now(UTC))  # lockVersion 1 now
    adapter.assign_task(task_id, "2")
    sent = _requests(fake, "PATCH", rf"^/api/v3/work_packages/{task_id}$")[-1].json()
    assert sent == {"_links": {"assignee": {"href": "/api/v3/users/2"}}, "lockVersion": 1}
    adapter.assign_task(task_id, None)
    sent = _requests(fake, "PATCH", rf"^/api/v3/work_packages/{task_id}$")[-1].json()
    assert sent == {"_links": {"assignee": {"href": None}}, "lockVersion": 2}


def test_allowed_statuses_come_from_the_form(fake):
    adapter = make_adapter(fake)
    task_id = str(fake.add_work_package(1, "Workflow", status_id=fake_op.REJECTED))
    assert [s.name for s in adapter.available_statuses(task_id)] == ["New", "Rejected"]
    assert _requests(fake, "POST", rf"^/api/v3/work_packages/{task_id}/form$")


def test_a_status_the_workflow_forbids_is_refused_before_patching(fake):
    adapter = make_adapter(fake)
    task_id = str(fake.add_work_package(1, "Rejected for good", status_id=fake_op.REJECTED))
    closed = next(s for s in adapter.list_statuses("1") if s.name == "Closed")
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.set_task_status(task_id, closed)
    assert "New" in caught.value.field_errors["status"]
    assert not _requests(fake, "PATCH", r".")


def test_status_change_that_does_not_take_is_a_conflict(fake):
    adapter = make_adapter(fake)
    task_id = str(fake.add_work_package(1, "Sticky"))
    closed = next(s for s in adapter.available_statuses(task_id) if s.name == "Closed")
    unchanged = fake.work_package_json(fake.work_packages[int(task_id)])
    fake.fail_next(200, path=rf"^/api/v3/work_packages/{task_id}$", method="PATCH", body=unchanged)
    with pytest.raises(errors.Conflict, match="kept work package"):
        adapter.set_task_status(task_id, closed)


def test_fields_round_trip_through_openproject_names(fake):
    adapter = make_adapter(fake)
    created = adapter.create_task(
        "1", TaskDraft(title="Estimate me", type="Bug", estimate_hours=5.5, story_points=8, sprint_id="3")
    )
    sent = _requests(fake, "POST", r"^/api/v3/workspaces/1/work_packages$")[-1].json()
    assert sent["estimatedTime"] == "PT5H30M" and sent["storyPoints"] == 8
    assert sent["_links"]["type"] == {"href": "/api/v3/types/5"}
    assert sent["_links"]["sprint"] == {"href": "/api/v3/sprints/3"}
    assert (created.type, created.estimate_hours, created.story_points) == ("Bug", 5.5, 8.0)
    assert created.sprint_ref == f"{SLUG}:3"
    updated = adapter.update_task(
        created.id, TaskChanges(estimate_hours=None, story_points=None, sprint_id=None)
    )
    assert (updated.estimate_hours, updated.story_points, updated.sprint_ref) == (None, None, None)


def test_fractional_story_points_are_refused_locally(fake):
    with pytest.raises(errors.InvalidInput) as caught:
        make_adapter(fake).create_task("1", TaskDraft(title="Half a point", story_points=0.5))
    assert "story_points" in caught.value.field_errors
    assert not _requests(fake, "POST", r".")


def test_unknown_type_lists_the_projects_types(fake):
    with pytest.raises(errors.InvalidInput) as caught:
        make_adapter(fake).create_task("1", TaskDraft(title="Typed", type="Saga"))
    assert caught.value.field_errors["type"] == "choose one of: Task, Epic, User story, Bug"


def test_labels_are_not_supported(fake):
    with pytest.raises(errors.NotSupported):
        make_adapter(fake).create_task("1", TaskDraft(title="Labelled", labels=("ui",)))


def test_epic_is_the_parent_when_the_parent_is_an_epic(fake):
    adapter = make_adapter(fake)
    task = adapter.create_task("1", TaskDraft(title="Grandchild", parent_id="3"))  # #3's parent is the epic
    assert task.parent_ref == f"{SLUG}:3" and task.epic_ref is None
    child = adapter.get_task("3")
    assert child.parent_ref == child.epic_ref == f"{SLUG}:{fake.epic_id}"


def test_a_work_package_that_is_not_an_epic_is_not_found_as_one(fake):
    with pytest.raises(errors.NotFound):
        make_adapter(fake).get_epic("3")


def test_epics_are_listed_open_and_closed(fake):
    closed_epic = fake.add_work_package(1, "Old epic", type_id=fake_op.EPIC_TYPE, status_id=fake_op.CLOSED)
    epics = make_adapter(fake).list_epics("1", PageRequest()).items
    assert {e.id for e in epics} == {str(fake.epic_id), str(closed_epic)}
    assert all(e.extra["type"] == "Epic" for e in epics)


def test_project_without_an_epic_type_has_no_epics(fake):
    page = make_adapter(fake).list_epics("2", PageRequest())
    assert page.items == [] and page.next_cursor is None
    assert not _requests(fake, "GET", r"/work_packages$")


def test_sprints_map_states_and_dates(fake):
    adapter = make_adapter(fake)
    sprints = {s.name: s for s in adapter.list_sprints("1", None, PageRequest(limit=10)).items}
    assert {name: s.state for name, s in sprints.items()} == {
        "Sprint 1": SprintState.CLOSED,
        "Sprint 2": SprintState.ACTIVE,
        "Sprint 3": SprintState.FUTURE,
    }
    active = adapter.list_sprints("1", SprintState.ACTIVE, PageRequest()).items
    assert [s.name for s in active] == ["Sprint 2"]
    assert active[0].start.date() == fake.sprints[2].start and active[0].start.tzinfo is not None
    assert active[0].project_ref == f"{SLUG}:1"


def test_versions_stand_in_for_sprints_on_older_servers(legacy_fake):
    adapter = make_adapter(legacy_fake)
    sprints = {s.name: s for s in adapter.list_sprints("1", None, PageRequest(limit=10)).items}
    assert {name: s.state for name, s in sprints.items()} == {
        "1.0": SprintState.CLOSED,
        "1.1": SprintState.ACTIVE,
        "2.0": SprintState.FUTURE,
    }
    assert sprints["1.1"].extra["kind"] == "version"
    tasks = adapter.sprint_tasks("2")
    assert tasks and all(t.sprint_ref == f"{SLUG}:2" for t in tasks)
    filters = json.loads(_requests(legacy_fake, "GET", r"^/api/v3/work_packages$")[0].arg("filters"))
    assert filters == [{"version": {"operator": "=", "values": ["2"]}}]


def test_sprint_tasks_carry_points_estimates_and_done_at(fake):
    tasks = {t.title: t for t in make_adapter(fake).sprint_tasks("2")}
    assert set(tasks) == {"Payment form validation", "Order summary page", "Fix rounding in totals"}
    done = tasks["Payment form validation"]
    assert done.status.category == StatusCategory.DONE
    assert done.done_at == fake_op.SEED_TIME + timedelta(days=2, hours=6)
    assert (done.story_points, done.estimate_hours) == (3.0, 5.5)
    assert tasks["Order summary page"].done_at is None
    # Only closed work packages cost an activities request.
    assert [r.path for r in _requests(fake, "GET", r"/activities$")] == [
        f"/api/v3/work_packages/{fake.done_in_sprint_id}/activities"
    ]


def test_done_at_is_left_out_of_plain_reads(fake):
    assert make_adapter(fake).get_task(str(fake.done_in_sprint_id)).done_at is None


def test_comments_are_activities_with_a_comment(fake):
    adapter = make_adapter(fake)
    task_id = str(fake.done_in_sprint_id)  # has status-change activities without comments
    adapter.add_comment(task_id, "First")
    adapter.add_comment(task_id, "Second")
    comments = _all_pages(lambda page: adapter.list_comments(task_id, page), limit=1)
    assert [c.body for c in comments] == ["First", "Second"]
    assert comments[0].author.name == "Ana Silva"
    assert _requests(fake, "POST", rf"/work_packages/{task_id}/activities$")[0].json() == {
        "comment": {"raw": "First"}
    }


def test_people_without_a_project_come_from_principals(fake):
    users = make_adapter(fake).list_users(text="carl")
    assert [(u.id, u.name) for u in users] == [("3", "Carla Reyes")]
    filters = json.loads(_requests(fake, "GET", r"^/api/v3/principals$")[-1].arg("filters"))
    assert filters == [{"type": {"operator": "=", "values": ["User"]}}]


def test_project_key_and_url_use_the_identifier(fake):
    project = make_adapter(fake).get_project("1")
    assert (project.key, project.url) == ("demo-project", f"{fake.base_url}/projects/demo-project")
    assert project.description == "Where the **demo** happens."


def test_project_text_search(fake):
    page = make_adapter(fake).list_projects(PageRequest(), text="oper")
    assert [p.name for p in page.items] == ["Operations"]


def test_project_on_older_servers_by_id(legacy_fake):
    adapter = make_adapter(legacy_fake)
    assert adapter.get_project("2").name == "Operations"
    with pytest.raises(errors.NotFound):
        adapter.get_project("4242")


def test_unknown_project_is_not_found(fake):
    with pytest.raises(errors.NotFound):
        make_adapter(fake).get_project("4242")


def test_bad_cursor_is_invalid_input(fake):
    with pytest.raises(errors.InvalidInput):
        make_adapter(fake).list_tasks(TaskQuery(), PageRequest(cursor="next-please"))


def test_internal_address_refusal_names_the_setting(fake):
    adapter = make_adapter(fake, policy=HttpPolicy())
    with pytest.raises(errors.AddressNotAllowed, match="ALLOWED_PROVIDER_HOSTS"):
        adapter.list_projects(PageRequest())
    assert not fake.requests


# --- metadata costs once ---------------------------------------------------------------------------


def requests_made(fake: FakeOpenProject, call) -> list[str]:
    before = len(fake.requests)
    call()
    return [f"{r.method} {r.path}" for r in fake.requests[before:]]


def test_statuses_and_what_the_server_offers_are_read_once_per_connection(fake):
    cache = MetadataCache()
    config = ConnectionConfig(slug=SLUG, base_url=fake.base_url, token=fake_op.TOKEN)
    adapter = OpenProjectAdapter(config, TEST_POLICY, metadata=cache)
    child = str(fake.done_in_sprint_id)  # its parent is the epic
    # A single work package embeds its status and its parent: one request, even cold.
    cold = requests_made(fake, lambda: adapter.get_task(child))
    assert cold == [f"GET /api/v3/work_packages/{child}"]
    assert adapter.get_task(child).epic_ref == f"{SLUG}:{fake.epic_id}"
    assert adapter.get_task(child).status.category == StatusCategory.DONE
    sprint_query = TaskQuery(project_id="1", sprint_id="2")
    # The sprint filter is tried without asking first whether the server has sprints.
    cold_sprint = requests_made(fake, lambda: adapter.list_tasks(sprint_query, PageRequest(limit=10)))
    assert cold_sprint == ["GET /api/v3/statuses", "GET /api/v3/workspaces/1/work_packages"]
    other = OpenProjectAdapter(config, TEST_POLICY, metadata=cache)  # another adapter of the connection
    assert other.get_task(child).epic_ref == f"{SLUG}:{fake.epic_id}"
    for call in (
        lambda: other.get_task(child),
        lambda: other.list_tasks(sprint_query, PageRequest(limit=10)),
        lambda: other.list_tasks(TaskQuery(categories=frozenset({StatusCategory.DONE})), PageRequest()),
        lambda: other.current_user(),
    ):
        assert len(requests_made(fake, call)) == 1
    assert requests_made(fake, lambda: other.list_statuses("1")) == []  # the statuses are kept
    assert requests_made(fake, other.current_user) == []
    assert requests_made(fake, other.list_link_types) == []  # OpenProject's relation types are fixed
    other.list_fields("1")
    assert requests_made(fake, lambda: other.list_fields("1")) == []  # the fields are kept per project
    other.close()
    adapter.close()


def test_a_cold_project_listing_is_two_requests_when_parents_are_in_the_page(fake):
    adapter = OpenProjectAdapter(
        ConnectionConfig(slug=SLUG, base_url=fake.base_url, token=fake_op.TOKEN),
        TEST_POLICY,
        metadata=MetadataCache(),
    )
    made = requests_made(fake, lambda: adapter.list_tasks(TaskQuery(project_id="1"), PageRequest(limit=50)))
    assert made == ["GET /api/v3/statuses", "GET /api/v3/workspaces/1/work_packages"]
    tasks = {t.id: t for t in adapter.list_tasks(TaskQuery(project_id="1"), PageRequest(limit=50)).items}
    assert tasks[str(fake.done_in_sprint_id)].epic_ref == f"{SLUG}:{fake.epic_id}"  # the epic was in the page


def test_parents_outside_the_page_are_looked_up_once(fake):
    adapter = OpenProjectAdapter(
        ConnectionConfig(slug=SLUG, base_url=fake.base_url, token=fake_op.TOKEN),
        TEST_POLICY,
        metadata=MetadataCache(),
    )
    query = TaskQuery(sprint_id="2")  # the sprint's tasks; their epic is not in the sprint
    made = requests_made(fake, lambda: adapter.list_tasks(query, PageRequest(limit=50)))
    assert made == ["GET /api/v3/statuses", "GET /api/v3/work_packages", "GET /api/v3/work_packages"]
    lookup = fake.requests[-1]
    assert json.loads(lookup.arg("filters")) == [{"id": {"operator": "=", "values": [str(fake.epic_id)]}}]
    assert requests_made(fake, lambda: adapter.list_tasks(query, PageRequest(limit=50))) == [
        "GET /api/v3/work_packages"
    ]
