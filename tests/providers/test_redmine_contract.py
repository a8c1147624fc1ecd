"""The provider contract, and Redmine's own behaviours, against a real Redmine server.

Fault injection needs a fake, and Redmine has none: those contract tests skip
themselves here. The few answers a healthy Redmine never gives (API disabled,
not Redmine at all) come from a minimal local server instead.
"""

from __future__ import annotations

import dataclasses
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
    TaskSort,
)
from portal.core.providers.http import HttpPolicy
from portal.core.providers.redmine import RedmineAdapter
from portal.core.providers.registry import build_adapter
from tests.contract.suite import TEST_POLICY, ContractEnv, ProviderContract, SprintWorkContract, _all_pages
from tests.fakes.base import FakeVendor
from tests.providers import redmine_server as fixtures
from tests.providers.redmine_server import RedmineAdmin, RedmineProbe, RedmineServer, RedmineWorld

# The session fixtures that start Redmine and fill it, made visible to this module.
redmine = fixtures.redmine
redmine_admin = fixtures.redmine_admin
redmine_world = fixtures.redmine_world

SLUG = "rm"
# A real Rails server on a shared two-core machine can take longer than the fakes'
# one-second budget now and then; a timed-out create is not retried, so allow more.
REDMINE_POLICY = dataclasses.replace(TEST_POLICY, read_timeout=15)


def _adapter(server_url: str, token: str, policy: HttpPolicy = REDMINE_POLICY) -> RedmineAdapter:
    return RedmineAdapter(ConnectionConfig(slug=SLUG, base_url=server_url, token=token), policy)


@pytest.fixture
def contract_env(redmine: RedmineServer, redmine_admin: RedmineAdmin, redmine_world: RedmineWorld):
    made: list[RedmineAdapter] = []

    def make_adapter(token: str | None = None, policy: HttpPolicy | None = None) -> RedmineAdapter:
        adapter = _adapter(redmine.url, token or redmine.api_key, policy or REDMINE_POLICY)
        made.append(adapter)
        return adapter

    def seed_tasks(count: int, title_prefix: str = "Seeded", assignee_id: str | None = None) -> list[str]:
        fields = {"assigned_to_id": assignee_id} if assignee_id else {}
        return [
            redmine_admin.create_issue(
                redmine_world.project_id, f"{title_prefix} {n} {redmine_world.run}", **fields
            )
            for n in range(count)
        ]

    yield ContractEnv(
        adapter=make_adapter(),
        slug=SLUG,
        project_id=redmine_world.project_id,
        other_user_id=redmine_world.developer_id,
        other_user_name=redmine_world.developer_name,
        make_adapter=make_adapter,
        seed_tasks=seed_tasks,
        sprint_id=redmine_world.sprint_id,
        probe=RedmineProbe(redmine_admin),
        vendor="Redmine",
        # Redmine versions have no start of their own: they can be created and closed, not started.
        unsupported=frozenset({"start_sprint"}),
        extra={
            "missing_task_id": "987654321",
            "missing_sprint_id": "987654321",
            "option_field": fixtures.SIZE_FIELD,
            # The public saved query the test server has (any status, subject contains "Native"),
            # or, for another prefix, the same filter as a query string.
            "native_query": lambda prefix: (
                redmine_world.native_query_id if prefix == "Native" else f"status_id=*&subject=~{prefix}"
            ),
        },
    )
    for adapter in made:
        adapter.close()


class TestRedmineContract(ProviderContract, SprintWorkContract):
    pass


# --- what the contract does not cover: Redmine's own behaviours ------------------------------


@pytest.fixture
def admin_adapter(redmine: RedmineServer) -> Iterator[RedmineAdapter]:
    adapter = _adapter(redmine.url, redmine.api_key)
    yield adapter
    adapter.close()


@pytest.fixture
def developer_adapter(redmine: RedmineServer, redmine_world: RedmineWorld) -> Iterator[RedmineAdapter]:
    adapter = _adapter(redmine.url, redmine_world.developer_key)
    yield adapter
    adapter.close()


def test_registry_builds_the_redmine_adapter(redmine: RedmineServer):
    config = ConnectionConfig(slug=SLUG, base_url=redmine.url, token=redmine.api_key)
    adapter = build_adapter("redmine", config, REDMINE_POLICY)
    try:
        assert isinstance(adapter, RedmineAdapter) and isinstance(adapter, ProviderAdapter)
        assert adapter.check().user.extra["login"] == "admin"
    finally:
        adapter.close()


def test_check_summary_names_host_user_and_mail_or_login(
    admin_adapter: RedmineAdapter,
    developer_adapter: RedmineAdapter,
    redmine_admin: RedmineAdmin,
    redmine_world: RedmineWorld,
):
    host = admin_adapter.base_url.split("://", 1)[1]
    me = redmine_admin.call("GET", "users/current.json")["user"]
    result = admin_adapter.check()
    assert result.site == host
    assert result.summary == f"Connected to {host} as {me['firstname']} {me['lastname']}, {me['mail']}"
    # Redmine hides a new user's address by default, from the user too: the login stands in.
    result = developer_adapter.check()
    assert result.summary == f"Connected to {host} as Dana Dev{redmine_world.run}, dev-{redmine_world.run}"


def test_status_the_workflow_refuses_is_reported_not_ignored(
    developer_adapter: RedmineAdapter, redmine_admin: RedmineAdmin, redmine_world: RedmineWorld
):
    # Redmine's default workflow lets a Developer close an issue but not reject it.
    task_id = redmine_admin.create_issue(redmine_world.project_id, f"Workflow {redmine_world.run}")
    allowed = {s.name for s in developer_adapter.available_statuses(task_id)}
    assert "Closed" in allowed and "Rejected" not in allowed
    rejected = next(
        s for s in developer_adapter.list_statuses(redmine_world.project_id) if s.name == "Rejected"
    )
    with pytest.raises(errors.InvalidInput) as caught:
        developer_adapter.set_task_status(task_id, rejected)
    assert "Rejected" in str(caught.value) and "workflow" in str(caught.value)
    assert "status" in caught.value.field_errors
    assert developer_adapter.get_task(task_id).status.name == "New"


def test_closing_sets_done_at_and_the_done_filter_finds_it(
    admin_adapter: RedmineAdapter, redmine_admin: RedmineAdmin, redmine_world: RedmineWorld
):
    task_id = redmine_admin.create_issue(redmine_world.project_id, f"Closing {redmine_world.run}")
    before = datetime.now(UTC) - timedelta(minutes=5)
    assert admin_adapter.get_task(task_id).done_at is None
    closed = next(s for s in admin_adapter.available_statuses(task_id) if s.name == "Closed")
    task = admin_adapter.set_task_status(task_id, closed)
    assert task.status.category == StatusCategory.DONE
    assert task.done_at is not None and task.done_at.tzinfo is not None and task.done_at >= before
    done = frozenset({StatusCategory.DONE})
    page = admin_adapter.list_tasks(
        TaskQuery(project_id=redmine_world.project_id, categories=done), PageRequest(limit=100)
    )
    assert task_id in {t.id for t in page.items}
    assert all(t.status.category == StatusCategory.DONE for t in page.items)
    open_page = admin_adapter.list_tasks(
        TaskQuery(project_id=redmine_world.project_id, categories=frozenset({StatusCategory.TODO})),
        PageRequest(limit=100),
    )
    assert task_id not in {t.id for t in open_page.items}


def test_updated_since_and_sort_order(
    admin_adapter: RedmineAdapter, redmine_admin: RedmineAdmin, redmine_world: RedmineWorld
):
    first = redmine_admin.create_issue(redmine_world.project_id, f"Ordered A {redmine_world.run}")
    second = redmine_admin.create_issue(redmine_world.project_id, f"Ordered B {redmine_world.run}")
    created = admin_adapter.get_task(first).created_at
    query = TaskQuery(
        project_id=redmine_world.project_id, text="Ordered", updated_since=created - timedelta(seconds=1)
    )
    ids = [t.id for t in admin_adapter.list_tasks(query, PageRequest(limit=100)).items]
    assert {first, second} <= set(ids)
    newest_first = [
        t.id
        for t in admin_adapter.list_tasks(dataclasses.replace(query, sort=TaskSort.KEY), PageRequest()).items
    ]
    assert newest_first.index(second) < newest_first.index(first)
    later = TaskQuery(
        project_id=redmine_world.project_id, updated_since=datetime.now(UTC) + timedelta(hours=1)
    )
    assert admin_adapter.list_tasks(later, PageRequest()).items == []


def test_sprints_by_state_with_the_closed_version(admin_adapter: RedmineAdapter, redmine_world: RedmineWorld):
    closed = admin_adapter.list_sprints(redmine_world.project_id, SprintState.CLOSED, PageRequest(limit=10))
    # (the sprint-work contract closes sprints of its own in the same project)
    closed_ids = {s.id for s in closed.items}
    assert redmine_world.closed_sprint_id in closed_ids and redmine_world.sprint_id not in closed_ids
    assert all(s.state == SprintState.CLOSED for s in closed.items)
    active = admin_adapter.list_sprints(redmine_world.project_id, SprintState.ACTIVE, PageRequest(limit=10))
    assert redmine_world.sprint_id in {s.id for s in active.items}
    sprint = admin_adapter.get_sprint(redmine_world.sprint_id)
    assert sprint.start is not None and sprint.start <= datetime.now(UTC)
    assert sprint.project_ref == f"{SLUG}:{redmine_world.project_id}"
    tasks = admin_adapter.sprint_tasks(redmine_world.sprint_id)
    assert set(redmine_world.sprint_task_ids) <= {t.id for t in tasks}


def test_moving_a_task_into_and_out_of_a_sprint(
    admin_adapter: RedmineAdapter, redmine_admin: RedmineAdmin, redmine_world: RedmineWorld
):
    task_id = redmine_admin.create_issue(redmine_world.project_id, f"Planned {redmine_world.run}")
    moved = admin_adapter.update_task(
        task_id, TaskChanges(sprint_id=redmine_world.sprint_id, estimate_hours=2.5)
    )
    assert moved.sprint_ref == f"{SLUG}:{redmine_world.sprint_id}" and moved.estimate_hours == 2.5
    cleared = admin_adapter.update_task(task_id, TaskChanges(sprint_id=None, estimate_hours=None))
    assert cleared.sprint_ref is None and cleared.estimate_hours is None


def test_comments_page_in_order(
    admin_adapter: RedmineAdapter, redmine_admin: RedmineAdmin, redmine_world: RedmineWorld
):
    task_id = redmine_admin.create_issue(redmine_world.project_id, f"Discussed {redmine_world.run}")
    # a change without notes makes a journal entry that is not a comment
    admin_adapter.update_task(task_id, TaskChanges(title=f"Discussed again {redmine_world.run}"))
    for n in range(3):
        admin_adapter.add_comment(task_id, f"Note {n}")
    comments = _all_pages(lambda page: admin_adapter.list_comments(task_id, page), limit=2)
    assert [c.body for c in comments] == ["Note 0", "Note 1", "Note 2"]
    me = admin_adapter.current_user()
    assert all(c.author.id == me.id and c.author.name == me.name for c in comments)
    assert all(c.url.endswith(f"/issues/{task_id}#change-{c.id}") for c in comments)
    with pytest.raises(errors.InvalidInput):
        admin_adapter.add_comment(task_id, "   ")


def test_labels_are_the_issue_category(
    admin_adapter: RedmineAdapter, redmine_admin: RedmineAdmin, redmine_world: RedmineWorld
):
    redmine_admin.call(
        "POST",
        f"projects/{redmine_world.project_id}/issue_categories.json",
        {"issue_category": {"name": f"Backend {redmine_world.run}"}},
        201,
    )
    task = admin_adapter.create_task(
        redmine_world.project_id,
        TaskDraft(title="Categorised", labels=(f"Backend {redmine_world.run}",), type="Feature"),
    )
    assert task.labels == [f"Backend {redmine_world.run}"] and task.type == "Feature"
    with pytest.raises(errors.InvalidInput) as caught:
        admin_adapter.create_task(
            redmine_world.project_id, TaskDraft(title="Uncategorised", labels=("Nope",))
        )
    assert "labels" in caught.value.field_errors


def test_invalid_values_carry_field_errors(admin_adapter: RedmineAdapter, redmine_world: RedmineWorld):
    with pytest.raises(errors.InvalidInput) as caught:
        admin_adapter.create_task(redmine_world.project_id, TaskDraft(title=""))
    assert caught.value.status == 422
    assert "blank" in caught.value.field_errors["title"]
    with pytest.raises(errors.InvalidInput) as caught:
        admin_adapter.create_task(redmine_world.project_id, TaskDraft(title="No such type", type="Saga"))
    assert "Bug" in str(caught.value)


def test_people_are_the_project_members(admin_adapter: RedmineAdapter, redmine_world: RedmineWorld):
    members = admin_adapter.list_users(redmine_world.project_id)
    assert [u.id for u in members] == [redmine_world.developer_id]
    assert admin_adapter.list_users(redmine_world.project_id, text="nobody-like-this") == []
    everyone = admin_adapter.list_users(text=f"dev-{redmine_world.run}")
    assert [u.email for u in everyone] == [f"dev-{redmine_world.run}@example.com"]


def test_listing_everyone_needs_an_administrator(developer_adapter: RedmineAdapter):
    with pytest.raises(errors.PermissionDenied) as caught:
        developer_adapter.list_users()
    assert "administrators" in str(caught.value)


def test_projects_filter_by_name(admin_adapter: RedmineAdapter, redmine_world: RedmineWorld):
    page = admin_adapter.list_projects(PageRequest(limit=100), text=f"other {redmine_world.run}")
    assert [p.id for p in page.items] == [redmine_world.other_project_id]
    project = admin_adapter.get_project(redmine_world.project_identifier)
    assert project.id == redmine_world.project_id and project.key == redmine_world.project_identifier


def test_epics_and_story_points_are_not_supported(admin_adapter: RedmineAdapter, redmine_world: RedmineWorld):
    with pytest.raises(errors.NotSupported):
        admin_adapter.create_task(redmine_world.project_id, TaskDraft(title="Pointed", story_points=3))
    with pytest.raises(errors.NotSupported):
        admin_adapter.list_tasks(TaskQuery(epic_id="1"), PageRequest())


# --- answers a working Redmine does not give ---------------------------------------------------


@pytest.fixture
def bare_server() -> Iterator[FakeVendor]:
    """A local server with no routes: it answers 404 to everything unless told otherwise."""
    server = FakeVendor()
    server.start()
    yield server
    server.stop()


def test_rest_api_disabled_is_explained(bare_server: FakeVendor):
    # With the REST API off, Redmine answers an API key with an empty 403.
    bare_server.fail_next(403, count=3, body="")
    adapter = _adapter(bare_server.base_url, "a-key-0000")
    with pytest.raises(errors.PermissionDenied) as caught:
        adapter.check()
    assert "REST API" in str(caught.value) and "a-key-0000" not in str(caught.value)
    assert bare_server.requests[0].headers["x-redmine-api-key"] == "a-key-0000"


def test_a_server_without_the_api_is_not_this_product(bare_server: FakeVendor):
    adapter = _adapter(bare_server.base_url, "a-key-0000")
    with pytest.raises(errors.NotThisProduct):
        adapter.check()


def test_filters_by_status_and_unassigned(
    admin_adapter: RedmineAdapter, redmine_admin: RedmineAdmin, redmine_world: RedmineWorld
):
    feedback = next(s for s in admin_adapter.list_statuses(redmine_world.project_id) if s.name == "Feedback")
    waiting = redmine_admin.create_issue(redmine_world.project_id, f"Waiting {redmine_world.run}")
    # a new issue starts in the tracker's default status; Feedback comes after
    redmine_admin.call("PUT", f"issues/{waiting}.json", {"issue": {"status_id": int(feedback.id)}}, 204)
    taken = redmine_admin.create_issue(
        redmine_world.project_id, f"Taken {redmine_world.run}", assigned_to_id=int(redmine_world.developer_id)
    )
    assert feedback.category == StatusCategory.UNKNOWN
    by_status = admin_adapter.list_tasks(
        TaskQuery(project_id=redmine_world.project_id, statuses=(feedback,)), PageRequest(limit=100)
    )
    assert waiting in {t.id for t in by_status.items} and taken not in {t.id for t in by_status.items}
    unassigned = admin_adapter.list_tasks(
        TaskQuery(project_id=redmine_world.project_id, unassigned=True), PageRequest(limit=100)
    )
    ids = {t.id for t in unassigned.items}
    assert waiting in ids and taken not in ids and all(t.assignee is None for t in unassigned.items)
    # Feedback is neither todo nor in progress: asking for both and Feedback finds nothing.
    none = admin_adapter.list_tasks(
        TaskQuery(statuses=(feedback,), categories=frozenset({StatusCategory.TODO})), PageRequest()
    )
    assert none.items == [] and none.total == 0
