"""One contract every provider adapter must meet, run identically over each vendor.

A vendor's test module subclasses `ProviderContract` and provides a
`contract_env` fixture returning a `ContractEnv`: an adapter pointed at the
vendor's fake (or, for Redmine, a real server), a project to work in, and
hooks to seed data and inject faults.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

import pytest

from portal.core.providers import errors
from portal.core.providers.base import (
    BACKLOG,
    ME,
    FieldType,
    LinkKind,
    PageRequest,
    PriorityLevel,
    ProviderAdapter,
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
from portal.core.providers.http import HttpPolicy

TEST_POLICY = HttpPolicy(
    allowed_hosts=("127.0.0.1",), connect_timeout=2, read_timeout=1, max_rate_limit_wait=3, backoff=0.01
)


class VendorProbe(Protocol):
    """Reads (and, for history, changes) the vendor's own state behind the adapter's back.

    Writes made through the adapter are checked here, not through the adapter's own reads.
    For a fake this reads the fake's state; for Redmine, its API as an administrator; for
    the built-in tracker, its tables.
    """

    def sprint_of(self, task_id: str) -> str | None:
        """The native id of the sprint the vendor has the task in, None for the backlog."""
        ...

    def sprint(self, sprint_id: str) -> dict[str, Any]:
        """The sprint as the vendor keeps it: {"name": str, "state": a SprintState value, "goal": str | None}."""
        ...

    def linked(self, task_id: str) -> set[str]:
        """Native ids of the tasks linked to this one, in either direction."""
        ...

    def logged_hours(self, task_id: str) -> float:
        """The total time logged on the task, in hours."""
        ...

    def field_value(self, task_id: str, field_id: str) -> Any:
        """The task's value of a custom field: an option's name (or names), None when empty."""
        ...

    def retitle(self, task_id: str, title: str) -> None:
        """Change the task's title behind the adapter's back (the change its history must show)."""
        ...


@dataclass
class ContractEnv:
    adapter: ProviderAdapter
    slug: str
    project_id: str
    # Another person who can be assigned tasks in the project: native id, name, email.
    other_user_id: str
    other_user_name: str
    # Build an adapter for the same server with other credentials or policy.
    make_adapter: Callable[..., ProviderAdapter]
    # Create `count` tasks behind the adapter's back (in the fake's state or through the
    # vendor's API); keyword arguments: title_prefix, assignee_id. Returns native ids.
    seed_tasks: Callable[..., list[str]]
    # Inject a fault: fault(status, path=regex, method=..., headers=..., count=...).
    # None for a real server, where faults can't be injected.
    fault: Callable[..., None] | None = None
    # Count requests the server received: count_requests(method, path_regex).
    count_requests: Callable[[str, str], int] | None = None
    # Make the server answer the next several (at least 5) requests after `seconds`: slow(seconds).
    slow: Callable[[float], None] | None = None
    # A sprint with tasks: native sprint id; None where the vendor has no sprints (they must say so).
    sprint_id: str | None = None
    # An epic with at least one child task: native epic id; None where the vendor has no epics.
    epic_id: str | None = None
    # The vendor's own state, for checking writes of the sprint-work operations.
    probe: VendorProbe | None = None
    # Sprint-work operations this vendor lacks, which must raise NotSupported naming the vendor:
    # "start_sprint", "links", "worklogs", "worklog_search", "history", "custom_fields", "native_query",
    # "sprint_writes" (sprints the API serves read-only: no create, change, start or close; moves then
    # use the environment's sprint).
    unsupported: frozenset[str] = frozenset()
    # The vendor's name as messages give it ("JIRA", "Redmine", "the team tracker").
    vendor: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # extra keys used by the sprint-work tests:
    #   "option_field": the name of a custom single-choice field of the project (with >= 2 values);
    #   "native_query": fn(title_prefix) -> a native query matching the tasks whose title starts so.


def _all_pages(
    fetch: Callable[[PageRequest], Any], limit: int, max_pages: int = 50, then: int | None = None
) -> list[Any]:
    """Every item, `limit` per page; after three pages, `then` per page when given (for server-wide
    lists, which a real server may hold many of)."""
    items: list[Any] = []
    cursor = None
    for number in range(max_pages):
        if then is not None and number == 3:
            limit = then
        page = fetch(PageRequest(limit=limit, cursor=cursor))
        assert len(page.items) <= limit
        items.extend(page.items)
        cursor = page.next_cursor
        if not cursor:
            return items
    raise AssertionError("paging did not end")


def _needs_faults(env: ContractEnv) -> None:
    if env.fault is None:
        pytest.skip(
            "no fault switches for this provider (a real server, or no server at all): the fakes cover this error class"
        )


class ProviderContract:
    """Subclass in a vendor module and provide the `contract_env` fixture."""

    # False for the built-in tracker, which makes no outbound requests: the address
    # guard and HTTP fault tests don't apply to it.
    network = True

    def _needs_network(self) -> None:
        if not self.network:
            pytest.skip("the built-in tracker makes no outbound requests")

    # --- identity ----------------------------------------------------------
    def test_check_names_the_current_user(self, contract_env: ContractEnv):
        result = contract_env.adapter.check()
        assert result.user.name
        assert result.user.name in result.summary
        assert result.summary.startswith("Connected to")
        assert result.user.ref == f"{contract_env.slug}:{result.user.id}"

    def test_current_user_is_the_checked_user(self, contract_env: ContractEnv):
        assert contract_env.adapter.current_user().id == contract_env.adapter.check().user.id

    # --- projects ------------------------------------------------------------
    def test_projects_are_listed_with_refs_and_pages(self, contract_env: ContractEnv):
        projects = _all_pages(lambda page: contract_env.adapter.list_projects(page), limit=1, then=50)
        ids = [p.id for p in projects]
        assert contract_env.project_id in ids
        assert len(ids) == len(set(ids)), "a project appeared on two pages"
        assert len(ids) >= 2, "the environment must hold at least two projects to prove paging"
        for project in projects:
            assert project.ref == f"{contract_env.slug}:{project.id}"
            assert project.url.startswith("http")
            assert project.name

    def test_get_project(self, contract_env: ContractEnv):
        project = contract_env.adapter.get_project(contract_env.project_id)
        assert project.id == contract_env.project_id
        assert project.ref == f"{contract_env.slug}:{contract_env.project_id}"

    def test_statuses_cover_todo_and_done(self, contract_env: ContractEnv):
        statuses = contract_env.adapter.list_statuses(contract_env.project_id)
        categories = {s.category for s in statuses}
        assert StatusCategory.TODO in categories or StatusCategory.IN_PROGRESS in categories
        assert StatusCategory.DONE in categories
        assert all(s.name for s in statuses)

    def test_priorities_map_onto_levels(self, contract_env: ContractEnv):
        priorities = contract_env.adapter.list_priorities(contract_env.project_id)
        assert priorities, "every provider has priorities"
        assert any(p.level not in (PriorityLevel.UNKNOWN, PriorityLevel.NONE) for p in priorities)

    def test_people_who_can_be_assigned(self, contract_env: ContractEnv):
        users = contract_env.adapter.list_users(contract_env.project_id)
        assert contract_env.other_user_id in {u.id for u in users}
        for user in users:
            assert user.ref == f"{contract_env.slug}:{user.id}"

    # --- tasks -----------------------------------------------------------------
    def test_create_then_get_round_trips_fields(self, contract_env: ContractEnv):
        adapter = contract_env.adapter
        priorities = adapter.list_priorities(contract_env.project_id)
        high = next((p for p in priorities if p.level == PriorityLevel.HIGH), priorities[0])
        due = date.today() + timedelta(days=7)
        description = (
            "Steps:\n\n1. Open the **login** page\n2. Type `admin`\n\nSee [docs](https://example.com/docs)."
        )
        created = adapter.create_task(
            contract_env.project_id,
            TaskDraft(
                title="Contract: login fails",
                description=description,
                priority=high,
                assignee_id=contract_env.other_user_id,
                due=due,
            ),
        )
        assert created.ref == f"{contract_env.slug}:{created.id}"
        fetched = adapter.get_task(created.id)
        assert fetched.title == "Contract: login fails"
        assert fetched.description is not None
        assert "**login**" in fetched.description and "`admin`" in fetched.description
        assert "[docs](https://example.com/docs)" in fetched.description
        assert fetched.priority is not None and fetched.priority.name == high.name
        assert fetched.assignee is not None and fetched.assignee.id == contract_env.other_user_id
        assert fetched.due == due
        assert fetched.status is not None and fetched.status.category != StatusCategory.DONE
        assert fetched.url.startswith("http")
        assert fetched.project_ref == f"{contract_env.slug}:{contract_env.project_id}"

    def test_list_tasks_pages_through_more_than_one_page(self, contract_env: ContractEnv):
        seeded = set(contract_env.seed_tasks(5, title_prefix="Paging"))
        query = TaskQuery(project_id=contract_env.project_id, text="Paging")
        tasks = _all_pages(lambda page: contract_env.adapter.list_tasks(query, page), limit=2)
        ids = [t.id for t in tasks]
        assert len(ids) == len(set(ids)), "a task appeared on two pages"
        assert seeded <= set(ids)
        for task in tasks:
            assert task.ref == f"{contract_env.slug}:{task.id}"
            assert task.title and task.url

    def test_list_tasks_filters_by_assignee_and_category(self, contract_env: ContractEnv):
        adapter = contract_env.adapter
        mine = contract_env.seed_tasks(1, title_prefix="Mine", assignee_id=adapter.current_user().id)
        theirs = contract_env.seed_tasks(1, title_prefix="Theirs", assignee_id=contract_env.other_user_id)
        page = adapter.list_tasks(
            TaskQuery(project_id=contract_env.project_id, assignee=ME), PageRequest(limit=100)
        )
        ids = {t.id for t in page.items}
        assert set(mine) <= ids and not set(theirs) & ids
        page = adapter.list_tasks(
            TaskQuery(project_id=contract_env.project_id, assignee=contract_env.other_user_id),
            PageRequest(limit=100),
        )
        ids = {t.id for t in page.items}
        assert set(theirs) <= ids and not set(mine) & ids
        open_only = frozenset({StatusCategory.TODO, StatusCategory.IN_PROGRESS})
        page = adapter.list_tasks(
            TaskQuery(project_id=contract_env.project_id, categories=open_only), PageRequest(limit=100)
        )
        assert all(t.status is None or t.status.category in open_only for t in page.items)

    def test_update_task_changes_and_clears_fields(self, contract_env: ContractEnv):
        adapter = contract_env.adapter
        (task_id,) = contract_env.seed_tasks(1, title_prefix="Update")
        due = date.today() + timedelta(days=3)
        updated = adapter.update_task(
            task_id, TaskChanges(title="Updated title", description="Now with *emphasis*.", due=due)
        )
        assert updated.title == "Updated title"
        fetched = adapter.get_task(task_id)
        assert fetched.title == "Updated title"
        assert "*emphasis*" in (fetched.description or "")
        assert fetched.due == due
        adapter.update_task(task_id, TaskChanges(due=None))
        assert adapter.get_task(task_id).due is None

    def test_status_change_to_done_is_verified(self, contract_env: ContractEnv):
        adapter = contract_env.adapter
        (task_id,) = contract_env.seed_tasks(1, title_prefix="Status")
        targets = adapter.available_statuses(task_id)
        done = next((s for s in targets if s.category == StatusCategory.DONE), None)
        assert done is not None, f"no done status among {[s.name for s in targets]}"
        moved = adapter.set_task_status(task_id, done)
        assert moved.status is not None and moved.status.name == done.name
        assert adapter.get_task(task_id).status.category == StatusCategory.DONE

    def test_assign_and_unassign(self, contract_env: ContractEnv):
        adapter = contract_env.adapter
        (task_id,) = contract_env.seed_tasks(1, title_prefix="Assign")
        assigned = adapter.assign_task(task_id, contract_env.other_user_id)
        assert assigned.assignee is not None and assigned.assignee.id == contract_env.other_user_id
        unassigned = adapter.assign_task(task_id, None)
        assert unassigned.assignee is None
        assert adapter.get_task(task_id).assignee is None

    def test_comments_round_trip_markdown(self, contract_env: ContractEnv):
        adapter = contract_env.adapter
        (task_id,) = contract_env.seed_tasks(1, title_prefix="Comment")
        body = "Looks good. **Ship it** after `make test`:\n\n- one\n- two"
        comment = adapter.add_comment(task_id, body)
        assert comment.ref.startswith(f"{contract_env.slug}:")
        comments = _all_pages(lambda page: adapter.list_comments(task_id, page), limit=10)
        bodies = [c.body for c in comments]
        assert any("**Ship it**" in b and "`make test`" in b and "- two" in b for b in bodies), bodies
        assert all(c.author is None or c.author.name for c in comments)

    def test_delete_task(self, contract_env: ContractEnv):
        adapter = contract_env.adapter
        (task_id,) = contract_env.seed_tasks(1, title_prefix="Delete")
        adapter.delete_task(task_id)
        with pytest.raises(errors.NotFound):
            adapter.get_task(task_id)

    # --- sprints and epics -------------------------------------------------------
    def test_sprints(self, contract_env: ContractEnv):
        adapter = contract_env.adapter
        if contract_env.sprint_id is None:  # the environment's vendor has no sprints
            with pytest.raises(errors.NotSupported):
                adapter.list_sprints(contract_env.project_id, None, PageRequest())
            return
        sprints = _all_pages(lambda page: adapter.list_sprints(contract_env.project_id, None, page), limit=1)
        assert contract_env.sprint_id in {s.id for s in sprints}
        sprint = adapter.get_sprint(contract_env.sprint_id)
        assert sprint.ref == f"{contract_env.slug}:{contract_env.sprint_id}"
        assert sprint.state != SprintState.UNKNOWN
        tasks = adapter.sprint_tasks(contract_env.sprint_id)
        assert tasks, "the environment's sprint must hold tasks"
        assert all(t.sprint_ref == sprint.ref for t in tasks)
        in_sprint = adapter.list_tasks(TaskQuery(sprint_id=contract_env.sprint_id), PageRequest(limit=100))
        assert {t.id for t in tasks} == {t.id for t in in_sprint.items}

    def test_epics(self, contract_env: ContractEnv):
        adapter = contract_env.adapter
        if contract_env.epic_id is None:  # the environment's vendor has no epics
            with pytest.raises(errors.NotSupported):
                adapter.list_epics(contract_env.project_id, PageRequest())
            return
        epics = _all_pages(lambda page: adapter.list_epics(contract_env.project_id, page), limit=10)
        assert contract_env.epic_id in {e.id for e in epics}
        epic = adapter.get_epic(contract_env.epic_id)
        assert epic.ref == f"{contract_env.slug}:{contract_env.epic_id}"
        child = adapter.create_task(
            contract_env.project_id, TaskDraft(title="Child of the epic", epic_id=contract_env.epic_id)
        )
        assert adapter.get_task(child.id).epic_ref == epic.ref
        children = adapter.list_tasks(TaskQuery(epic_id=contract_env.epic_id), PageRequest(limit=100))
        assert child.id in {t.id for t in children.items}

    # --- errors ------------------------------------------------------------------
    def test_unknown_task_is_not_found(self, contract_env: ContractEnv):
        with pytest.raises(errors.NotFound):
            contract_env.adapter.get_task(contract_env.extra.get("missing_task_id", "999999"))

    def test_rejected_token_is_authentication_failed(self, contract_env: ContractEnv):
        adapter = contract_env.make_adapter(token="wrong-token-0000")
        with pytest.raises(errors.AuthenticationFailed) as caught:
            adapter.check()
        assert "wrong-token-0000" not in str(caught.value)

    def test_vendor_refusing_values_is_invalid_input(self, contract_env: ContractEnv):
        with pytest.raises(errors.InvalidInput):
            contract_env.adapter.create_task(contract_env.project_id, TaskDraft(title=""))

    def test_internal_address_is_refused_without_allowance(self, contract_env: ContractEnv):
        self._needs_network()
        adapter = contract_env.make_adapter(policy=HttpPolicy(allowed_hosts=()))
        with pytest.raises(errors.AddressNotAllowed) as caught:
            adapter.check()
        assert "ALLOWED_PROVIDER_HOSTS" in str(caught.value)

    @pytest.mark.parametrize(
        ("status", "error_class"),
        [
            (401, errors.AuthenticationFailed),
            (403, errors.PermissionDenied),
            (404, errors.NotFound),
            (409, errors.Conflict),
            (422, errors.InvalidInput),
        ],
    )
    def test_vendor_errors_map_onto_the_error_tree(self, contract_env: ContractEnv, status, error_class):
        _needs_faults(contract_env)
        (task_id,) = contract_env.seed_tasks(1, title_prefix="Fault")
        contract_env.fault(status, count=5)
        with pytest.raises(error_class):
            contract_env.adapter.get_task(task_id)

    def test_rate_limit_is_waited_out_when_short(self, contract_env: ContractEnv):
        _needs_faults(contract_env)
        (task_id,) = contract_env.seed_tasks(1, title_prefix="RateShort")
        contract_env.fault(429, count=1)  # the vendor's own rate-limit headers: a short wait
        assert contract_env.adapter.get_task(task_id).id == task_id

    def test_rate_limit_beyond_the_bound_fails_with_retry_after(self, contract_env: ContractEnv):
        _needs_faults(contract_env)
        (task_id,) = contract_env.seed_tasks(1, title_prefix="RateLong")
        contract_env.fault(429, count=10, headers=contract_env.extra["long_rate_limit_headers"])
        with pytest.raises(errors.RateLimited) as caught:
            contract_env.adapter.get_task(task_id)
        assert caught.value.retry_after is not None and caught.value.retry_after > 3

    def test_server_error_on_read_is_retried(self, contract_env: ContractEnv):
        _needs_faults(contract_env)
        (task_id,) = contract_env.seed_tasks(1, title_prefix="Retry")
        contract_env.fault(503, count=1)
        assert contract_env.adapter.get_task(task_id).id == task_id

    def test_server_error_on_create_is_not_retried(self, contract_env: ContractEnv):
        _needs_faults(contract_env)
        contract_env.adapter.current_user()  # warm any lookups the adapter caches
        contract_env.adapter.list_statuses(contract_env.project_id)
        contract_env.fault(503, count=5, method="POST")
        before = contract_env.count_requests("POST", r".")
        with pytest.raises(errors.Unavailable):
            contract_env.adapter.create_task(contract_env.project_id, TaskDraft(title="Exactly once"))
        assert contract_env.count_requests("POST", r".") - before == 1

    def test_slow_answer_times_out(self, contract_env: ContractEnv):
        _needs_faults(contract_env)
        contract_env.slow(1.5)
        with pytest.raises(errors.TimedOut):
            contract_env.adapter.get_project(contract_env.project_id)

    def test_messages_never_contain_the_token(self, contract_env: ContractEnv):
        token = contract_env.extra.get("token")
        if not token or contract_env.fault is None:
            pytest.skip("needs the fake's token and fault injection")
        for status in (400, 401, 403, 404, 409, 422, 429, 500):
            contract_env.fault(status, count=10)
            # Every one of these statuses must fail the call: a message checked only if one happened proves nothing.
            with pytest.raises(errors.ProviderError) as caught:
                contract_env.adapter.get_project(contract_env.project_id)
            contract_env.extra["clear_faults"]()
            assert token not in str(caught.value), status
            assert not re.search(re.escape(token[-12:]), repr(caught.value)), status


def _unsupported(env: ContractEnv, operation: str) -> bool:
    """True when the vendor lacks `operation`; the test then checks the refusal names the vendor."""
    return operation in env.unsupported


def _assert_names_vendor(env: ContractEnv, caught: pytest.ExceptionInfo) -> None:
    assert env.vendor and env.vendor.lower() in str(caught.value).lower(), (
        f"a refusal must name the vendor ({env.vendor!r}): {caught.value}"
    )


def _probe(env: ContractEnv) -> VendorProbe:
    assert env.probe is not None, "the sprint-work tests need the vendor probe"
    return env.probe


def _sprint_to_fill(env: ContractEnv, name: str) -> str:
    """A sprint to move tasks into: a new one, or the environment's own where sprints can't be written."""
    if _unsupported(env, "sprint_writes"):
        assert env.sprint_id is not None, "a vendor with read-only sprints still has sprints"
        return env.sprint_id
    return env.adapter.create_sprint(env.project_id, SprintDraft(name=name)).id


class SprintWorkContract:
    """The sprint-work operations (create/start/close sprints, moves, links, worklogs,
    history, custom fields, native queries), every write checked through the vendor's state.

    Mixed into ProviderContract subclasses: `class TestRedmineContract(ProviderContract, SprintWorkContract)`.
    """

    # --- sprints ---------------------------------------------------------------
    def test_create_sprint_is_stored_as_future(self, contract_env: ContractEnv):
        adapter = contract_env.adapter
        start = date.today() + timedelta(days=14)
        if _unsupported(contract_env, "sprint_writes"):
            with pytest.raises(errors.NotSupported) as caught:
                adapter.create_sprint(
                    contract_env.project_id, SprintDraft(name="Contract sprint A", start=start)
                )
            _assert_names_vendor(contract_env, caught)
            return
        sprint = adapter.create_sprint(
            contract_env.project_id,
            SprintDraft(
                name="Contract sprint A", start=start, end=start + timedelta(days=13), goal="Ship it"
            ),
        )
        assert sprint.ref == f"{contract_env.slug}:{sprint.id}"
        assert sprint.state == SprintState.FUTURE
        stored = _probe(contract_env).sprint(sprint.id)
        assert stored["name"] == "Contract sprint A"
        assert stored["state"] == SprintState.FUTURE
        listed = _all_pages(
            lambda page: adapter.list_sprints(contract_env.project_id, SprintState.FUTURE, page), limit=50
        )
        assert sprint.id in {s.id for s in listed}

    def test_create_sprint_refuses_an_empty_name_and_reversed_dates(self, contract_env: ContractEnv):
        adapter = contract_env.adapter
        if _unsupported(contract_env, "sprint_writes"):
            return  # test_create_sprint_is_stored_as_future checks the refusal
        with pytest.raises(errors.InvalidInput):
            adapter.create_sprint(contract_env.project_id, SprintDraft(name=" "))
        with pytest.raises(errors.InvalidInput):
            adapter.create_sprint(
                contract_env.project_id,
                SprintDraft(name="Backwards", start=date.today(), end=date.today() - timedelta(days=1)),
            )

    def test_update_sprint_renames_it(self, contract_env: ContractEnv):
        adapter = contract_env.adapter
        if _unsupported(contract_env, "sprint_writes"):
            assert contract_env.sprint_id is not None
            before = _probe(contract_env).sprint(contract_env.sprint_id)["name"]
            with pytest.raises(errors.NotSupported) as caught:
                adapter.update_sprint(contract_env.sprint_id, SprintChanges(name="Renamed"))
            _assert_names_vendor(contract_env, caught)
            assert _probe(contract_env).sprint(contract_env.sprint_id)["name"] == before
            return
        sprint = adapter.create_sprint(contract_env.project_id, SprintDraft(name="Contract sprint B"))
        updated = adapter.update_sprint(sprint.id, SprintChanges(name="Contract sprint B2"))
        assert updated.name == "Contract sprint B2"
        assert _probe(contract_env).sprint(sprint.id)["name"] == "Contract sprint B2"

    def test_move_to_sprint_and_back_to_the_backlog(self, contract_env: ContractEnv):
        adapter = contract_env.adapter
        probe = _probe(contract_env)
        sprint_id = _sprint_to_fill(contract_env, "Contract sprint C")
        first, second = contract_env.seed_tasks(2, title_prefix="Move")
        missing = contract_env.extra.get("missing_task_id", "999999")
        outcomes = adapter.move_to_sprint([first, missing, second], sprint_id)
        assert [o.task_id for o in outcomes] == [first, missing, second]
        assert outcomes[0].error is None and outcomes[2].error is None
        assert isinstance(outcomes[1].error, errors.ProviderError)
        assert probe.sprint_of(first) == sprint_id and probe.sprint_of(second) == sprint_id
        assert {t.id for t in adapter.sprint_tasks(sprint_id)} >= {first, second}
        outcomes = adapter.move_to_sprint([first], BACKLOG)
        assert outcomes[0].error is None
        assert probe.sprint_of(first) is None
        assert probe.sprint_of(second) == sprint_id

    def test_move_to_an_unknown_sprint_is_not_found(self, contract_env: ContractEnv):
        (task,) = contract_env.seed_tasks(1, title_prefix="MoveNowhere")
        with pytest.raises(errors.NotFound):
            contract_env.adapter.move_to_sprint([task], contract_env.extra.get("missing_sprint_id", "987654"))
        assert _probe(contract_env).sprint_of(task) is None

    def test_start_then_close_moves_open_tasks(self, contract_env: ContractEnv):
        adapter = contract_env.adapter
        probe = _probe(contract_env)
        if _unsupported(contract_env, "sprint_writes"):
            assert contract_env.sprint_id is not None
            before = probe.sprint(contract_env.sprint_id)["state"]
            for state in (SprintState.ACTIVE, SprintState.CLOSED):
                with pytest.raises(errors.NotSupported) as caught:
                    adapter.update_sprint(
                        contract_env.sprint_id, SprintChanges(state=state, move_open_to=BACKLOG)
                    )
                _assert_names_vendor(contract_env, caught)
            assert probe.sprint(contract_env.sprint_id)["state"] == before
            return
        sprint = adapter.create_sprint(
            contract_env.project_id,
            SprintDraft(name="Contract sprint D", start=date.today(), end=date.today() + timedelta(days=13)),
        )
        open_task, done_task = contract_env.seed_tasks(2, title_prefix="Close")
        adapter.move_to_sprint([open_task, done_task], sprint.id)
        done = next(s for s in adapter.available_statuses(done_task) if s.category == StatusCategory.DONE)
        adapter.set_task_status(done_task, done)
        if _unsupported(contract_env, "start_sprint"):
            with pytest.raises(errors.NotSupported) as caught:
                adapter.update_sprint(sprint.id, SprintChanges(state=SprintState.ACTIVE))
            _assert_names_vendor(contract_env, caught)
        else:
            started = adapter.update_sprint(sprint.id, SprintChanges(state=SprintState.ACTIVE))
            assert started.state == SprintState.ACTIVE
            assert probe.sprint(sprint.id)["state"] == SprintState.ACTIVE
        with pytest.raises(errors.InvalidInput):  # open tasks, and nowhere said to move them
            adapter.update_sprint(sprint.id, SprintChanges(state=SprintState.CLOSED))
        assert probe.sprint(sprint.id)["state"] != SprintState.CLOSED
        closed = adapter.update_sprint(
            sprint.id, SprintChanges(state=SprintState.CLOSED, move_open_to=BACKLOG)
        )
        assert closed.state == SprintState.CLOSED
        assert probe.sprint(sprint.id)["state"] == SprintState.CLOSED
        assert probe.sprint_of(open_task) is None
        assert probe.sprint_of(done_task) == sprint.id

    # --- links -------------------------------------------------------------------
    def test_link_types_include_blocks_and_relates(self, contract_env: ContractEnv):
        if _unsupported(contract_env, "links"):
            with pytest.raises(errors.NotSupported) as caught:
                contract_env.adapter.list_link_types()
            _assert_names_vendor(contract_env, caught)
            return
        kinds = {t.kind for t in contract_env.adapter.list_link_types()}
        assert {LinkKind.BLOCKS, LinkKind.RELATES} <= kinds

    def test_blocking_link_reads_from_both_sides_and_filters_blocked_tasks(self, contract_env: ContractEnv):
        if _unsupported(contract_env, "links"):
            return  # test_link_types_include_blocks_and_relates checks the refusal
        adapter = contract_env.adapter
        probe = _probe(contract_env)
        blocker, blocked, free = contract_env.seed_tasks(3, title_prefix="Blocking")
        blocks = next(t for t in adapter.list_link_types() if t.kind == LinkKind.BLOCKS)
        link = adapter.link_tasks(blocked, blocker, blocks, outward=False)  # blocked "is blocked by" blocker
        assert link.kind == LinkKind.BLOCKED_BY
        assert link.ref == f"{contract_env.slug}:{link.id}"
        assert blocker in probe.linked(blocked) and blocked in probe.linked(blocker)
        from_blocker = [
            item for item in adapter.list_links(blocker) if item.other_ref.endswith(f":{blocked}")
        ]
        assert [item.kind for item in from_blocker] == [LinkKind.BLOCKS]
        query = TaskQuery(project_id=contract_env.project_id, blocked=True, text="Blocking")
        ids = {t.id for t in _all_pages(lambda page: adapter.list_tasks(query, page), limit=50)}
        assert blocked in ids and blocker not in ids and free not in ids
        done = next(s for s in adapter.available_statuses(blocker) if s.category == StatusCategory.DONE)
        adapter.set_task_status(blocker, done)
        ids = {t.id for t in _all_pages(lambda page: adapter.list_tasks(query, page), limit=50)}
        assert blocked not in ids, "a task whose blocker is done is no longer blocked"
        adapter.unlink_tasks(link.id)
        assert blocker not in probe.linked(blocked)
        assert not [item for item in adapter.list_links(blocked) if item.other_ref.endswith(f":{blocker}")]
        with pytest.raises(errors.NotFound):
            adapter.unlink_tasks(link.id)

    def test_linking_a_task_to_itself_is_refused(self, contract_env: ContractEnv):
        if _unsupported(contract_env, "links"):
            return
        (task,) = contract_env.seed_tasks(1, title_prefix="SelfLink")
        relates = next(t for t in contract_env.adapter.list_link_types() if t.kind == LinkKind.RELATES)
        with pytest.raises(errors.InvalidInput):
            contract_env.adapter.link_tasks(task, task, relates)
        assert not _probe(contract_env).linked(task)

    # --- logged work --------------------------------------------------------------
    def test_log_work_and_read_it_back(self, contract_env: ContractEnv):
        adapter = contract_env.adapter
        (task,) = contract_env.seed_tasks(1, title_prefix="Worklog")
        if _unsupported(contract_env, "worklogs"):
            with pytest.raises(errors.NotSupported) as caught:
                adapter.log_work(task, WorklogDraft(hours=1.5))
            _assert_names_vendor(contract_env, caught)
            return
        logged = adapter.log_work(task, WorklogDraft(hours=1.5, comment="Paired on the **fix**."))
        assert logged.hours == pytest.approx(1.5)
        assert logged.task_ref == f"{contract_env.slug}:{task}"
        assert _probe(contract_env).logged_hours(task) == pytest.approx(1.5)
        worklogs = _all_pages(lambda page: adapter.list_worklogs(task, page), limit=10)
        assert [w.hours for w in worklogs] == [pytest.approx(1.5)]
        assert "**fix**" in (worklogs[0].comment or "")
        with pytest.raises(errors.InvalidInput):
            adapter.log_work(task, WorklogDraft(hours=0))
        assert _probe(contract_env).logged_hours(task) == pytest.approx(1.5)

    def test_search_worklogs_of_a_person_over_days(self, contract_env: ContractEnv):
        adapter = contract_env.adapter
        if _unsupported(contract_env, "worklogs") or _unsupported(contract_env, "worklog_search"):
            with pytest.raises(errors.NotSupported) as caught:
                adapter.search_worklogs(
                    WorklogQuery(user_id=ME, since=date.today(), until=date.today()), PageRequest()
                )
            _assert_names_vendor(contract_env, caught)
            return
        (task,) = contract_env.seed_tasks(1, title_prefix="WorklogSearch")
        logged = adapter.log_work(task, WorklogDraft(hours=2))
        query = WorklogQuery(
            user_id=ME,
            since=date.today() - timedelta(days=1),
            until=date.today() + timedelta(days=1),
            project_id=contract_env.project_id,
        )
        found = _all_pages(lambda page: adapter.search_worklogs(query, page), limit=50)
        assert logged.id in {w.id for w in found}
        past = WorklogQuery(
            user_id=ME,
            since=date.today() - timedelta(days=30),
            until=date.today() - timedelta(days=20),
            project_id=contract_env.project_id,
        )
        assert logged.id not in {
            w.id for w in _all_pages(lambda page: adapter.search_worklogs(past, page), limit=50)
        }

    # --- history -------------------------------------------------------------------
    def test_history_shows_a_change_made_elsewhere(self, contract_env: ContractEnv):
        adapter = contract_env.adapter
        (task,) = contract_env.seed_tasks(1, title_prefix="History")
        if _unsupported(contract_env, "history"):
            with pytest.raises(errors.NotSupported) as caught:
                adapter.task_history(task, PageRequest())
            _assert_names_vendor(contract_env, caught)
            return
        _probe(contract_env).retitle(task, "History renamed")
        entries = _all_pages(lambda page: adapter.task_history(task, page), limit=2)
        renamed = [e for e in entries if e.new == "History renamed"]
        assert renamed, [(e.field, e.old, e.new) for e in entries]
        assert renamed[0].old and renamed[0].old.startswith("History")
        assert renamed[0].at is not None
        stamps = [e.at for e in entries]
        assert stamps == sorted(stamps), "history is oldest first"

    # --- fields --------------------------------------------------------------------
    def test_custom_option_field_is_listed_and_set(self, contract_env: ContractEnv):
        adapter = contract_env.adapter
        if _unsupported(contract_env, "custom_fields"):
            with pytest.raises(errors.NotSupported) as caught:
                adapter.list_fields(contract_env.project_id)
            _assert_names_vendor(contract_env, caught)
            return
        fields = adapter.list_fields(contract_env.project_id)
        name = contract_env.extra["option_field"]
        option = next((f for f in fields if f.name.lower() == name.lower()), None)
        assert option is not None, [f.name for f in fields]
        assert option.custom and option.settable and option.type == FieldType.OPTION
        assert len(option.allowed) >= 2
        created = adapter.create_task(
            contract_env.project_id, TaskDraft(title="Custom field", fields={option.id: option.allowed[0]})
        )
        probe = _probe(contract_env)
        assert probe.field_value(created.id, option.id) == option.allowed[0]
        adapter.update_task(created.id, TaskChanges(fields={option.id: option.allowed[1]}))
        assert probe.field_value(created.id, option.id) == option.allowed[1]
        adapter.update_task(created.id, TaskChanges(fields={option.id: None}))
        assert probe.field_value(created.id, option.id) in (None, "", [])
        assert any(not f.custom and not f.settable for f in fields), "standard fields are listed too"

    # --- native queries -------------------------------------------------------------
    def test_native_query_is_passed_through(self, contract_env: ContractEnv):
        adapter = contract_env.adapter
        if _unsupported(contract_env, "native_query"):
            with pytest.raises(errors.NotSupported) as caught:
                adapter.list_tasks(TaskQuery(native_query="anything"), PageRequest())
            _assert_names_vendor(contract_env, caught)
            return
        seeded = set(contract_env.seed_tasks(3, title_prefix="Native"))
        query = TaskQuery(native_query=contract_env.extra["native_query"]("Native"))
        found = {t.id for t in _all_pages(lambda page: adapter.list_tasks(query, page), limit=2)}
        assert seeded <= found
