"""The provider contract and ClickUp's own behaviour, against the ClickUp fake on 127.0.0.1."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.core.providers import errors
from portal.core.providers.base import (
    ME,
    ConnectionConfig,
    PageRequest,
    PriorityLevel,
    ProviderAdapter,
    SprintState,
    StatusCategory,
    TaskChanges,
    TaskDraft,
    TaskQuery,
    TaskSort,
)
from portal.core.providers.clickup import ClickUpAdapter
from portal.core.providers.clickup.adapter import FILTER_SCAN_PAGES
from portal.core.providers.http import HttpPolicy
from portal.core.providers.metadata import MetadataCache
from portal.core.providers.registry import adapter_class
from tests.contract.suite import TEST_POLICY, ContractEnv, ProviderContract, SprintWorkContract
from tests.fakes.base import FakeRequest
from tests.fakes.clickup import TOKEN, ClickUpFake, days, now_millis

SLUG = "acme-clickup"
# Small vendor pages, so the contract's paging tests cross ClickUp page boundaries.
FAKE_PAGE_SIZE = 3


@pytest.fixture
def clickup_fake() -> Iterator[ClickUpFake]:
    fake = ClickUpFake(page_size=FAKE_PAGE_SIZE)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def make_adapter(clickup_fake: ClickUpFake) -> Iterator:
    adapters: list[ClickUpAdapter] = []

    def build(
        token: str = TOKEN, policy: HttpPolicy = TEST_POLICY, team_id: str | None = "default"
    ) -> ClickUpAdapter:
        options = {"team_id": clickup_fake.team.id if team_id == "default" else team_id}
        if options["team_id"] is None:
            options = {}
        config = ConnectionConfig(slug=SLUG, base_url=clickup_fake.base_url, token=token, options=options)
        adapter = ClickUpAdapter(config, policy)
        adapters.append(adapter)
        return adapter

    yield build
    for adapter in adapters:
        adapter.close()


class ClickUpProbe:
    """The fake's own state, read behind the adapter's back."""

    def __init__(self, fake: ClickUpFake) -> None:
        self.fake = fake

    def _sprint_list_ids(self) -> set[str]:
        fake = self.fake
        return {
            lst.id
            for lst in fake.lists.values()
            if lst.folder_id
            and fake.spaces[lst.space_id].sprints
            and "sprint" in fake.folders[lst.folder_id].name.lower()
        }

    def sprint_of(self, task_id: str) -> str | None:
        task = self.fake.tasks[task_id]
        sprints = self._sprint_list_ids()
        return next((lid for lid in [task.list_id, *task.other_list_ids] if lid in sprints), None)

    def sprint(self, sprint_id: str) -> dict:
        lst = self.fake.lists[sprint_id]
        now = now_millis()
        if lst.start_date is None or lst.due_date is None:
            state = SprintState.UNKNOWN
        elif now < lst.start_date:
            state = SprintState.FUTURE
        elif now <= lst.due_date:
            state = SprintState.ACTIVE
        else:
            state = SprintState.CLOSED
        return {"name": lst.name, "state": state, "goal": lst.content or None}

    def linked(self, task_id: str) -> set[str]:
        return self.fake.linked_ids(task_id)

    def logged_hours(self, task_id: str) -> float:
        return self.fake.logged_hours(task_id)

    def field_value(self, task_id: str, field_id: str):
        return self.fake.field_display(task_id, field_id)

    def retitle(self, task_id: str, title: str) -> None:
        self.fake.tasks[task_id].name = title


@pytest.fixture
def contract_env(clickup_fake: ClickUpFake, make_adapter) -> ContractEnv:
    fake = clickup_fake

    def seed_tasks(count: int, title_prefix: str = "Seeded", assignee_id: str | None = None) -> list[str]:
        assignees = [int(assignee_id)] if assignee_id else []
        return [
            fake.add_task(fake.backlog, f"{title_prefix} {n}", assignee_ids=assignees).id
            for n in range(1, count + 1)
        ]

    def fault(
        status: int, path: str | None = None, method: str | None = None, headers=None, count: int = 1
    ) -> None:
        fake.fail_next(status, count=count, path=path, method=method, headers=headers)

    def count_requests(method: str, path: str) -> int:
        return sum(1 for r in fake.requests if r.method == method and re.search(path, r.path))

    return ContractEnv(
        adapter=make_adapter(),
        slug=SLUG,
        project_id=fake.backlog.id,
        other_user_id=str(fake.other.id),
        other_user_name=fake.other.username,
        make_adapter=make_adapter,
        seed_tasks=seed_tasks,
        fault=fault,
        count_requests=count_requests,
        slow=lambda seconds: fake.delay_next(seconds, count=6),
        sprint_id=fake.current_sprint.id,
        epic_id=None,
        probe=ClickUpProbe(fake),
        vendor="ClickUp",
        unsupported=frozenset({"history"}),
        extra={
            "option_field": "Severity",
            "native_query": lambda prefix: fake.add_view(fake.backlog, f"Starts with {prefix}", prefix).id,
            "missing_sprint_id": "901299999999",
            "missing_task_id": "86czzzzzz",
            "token": TOKEN,
            "long_rate_limit_headers": fake.rate_limit_headers(remaining=0, reset_in=60),
            "clear_faults": fake.clear_faults,
        },
    )


class TestClickUpContract(ProviderContract, SprintWorkContract):
    pass


def last_task_page_request(fake: ClickUpFake) -> FakeRequest:
    return next(r for r in reversed(fake.requests) if r.method == "GET" and r.path.endswith("/task"))


# --- ClickUp's own behaviour ------------------------------------------------------------------


def test_registry_builds_the_clickup_adapter(make_adapter):
    assert adapter_class("clickup") is ClickUpAdapter
    assert isinstance(make_adapter(), ProviderAdapter)
    assert not ClickUpAdapter.needs_username


def test_token_goes_in_the_header_without_bearer(clickup_fake, make_adapter):
    make_adapter().current_user()
    assert clickup_fake.requests[-1].headers["authorization"] == TOKEN
    assert clickup_fake.requests[-1].path == "/api/v2/user"


def test_a_bearer_token_is_refused(clickup_fake, make_adapter):
    with pytest.raises(errors.AuthenticationFailed) as caught:
        make_adapter(token=f"Bearer {TOKEN}").check()
    assert "(401)" in str(caught.value) and "OAUTH_025" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_adapter_repr_hides_the_token(make_adapter):
    adapter = make_adapter()
    assert TOKEN not in repr(adapter) and TOKEN not in repr(adapter._config)


def test_check_uses_the_only_workspace_when_none_is_chosen(clickup_fake, make_adapter):
    adapter = make_adapter(team_id=None)
    result = adapter.check()
    assert result.workspaces == ((clickup_fake.team.id, "Acme"),)
    assert result.summary == "Connected to ClickUp workspace Acme as Ana Silva, ana@acme.example"
    assert result.site == "Acme"
    assert clickup_fake.backlog.id in {p.id for p in adapter.list_projects(PageRequest(limit=50)).items}


def test_check_asks_to_choose_among_several_workspaces(clickup_fake, make_adapter):
    side = clickup_fake.add_team("Side Project", [clickup_fake.me.id])
    adapter = make_adapter(team_id=None)
    result = adapter.check()
    assert result.workspaces == ((clickup_fake.team.id, "Acme"), (side.id, "Side Project"))
    assert result.summary.startswith("Connected to ClickUp as Ana Silva, ana@acme.example")
    assert result.summary.endswith("choose a workspace")
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.list_projects(PageRequest())
    assert "team_id" in caught.value.field_errors and "Side Project" in caught.value.field_errors["team_id"]


def test_a_chosen_workspace_the_token_cannot_see_fails_the_check(make_adapter):
    with pytest.raises(errors.InvalidInput) as caught:
        make_adapter(team_id="1234").check()
    assert "team_id" in caught.value.field_errors


def test_team_not_authorized_is_permission_denied_not_bad_credentials(clickup_fake, make_adapter):
    stranger = clickup_fake.add_team("Someone else", [clickup_fake.other.id])
    with pytest.raises(errors.PermissionDenied) as caught:
        make_adapter(team_id=stranger.id).list_projects(PageRequest())
    assert "Team not authorized" in str(caught.value)


def test_projects_are_lists_named_by_their_place(clickup_fake, make_adapter):
    projects = make_adapter().list_projects(PageRequest(limit=50)).items
    names = {p.name for p in projects}
    assert names == {
        "Engineering / Backlog",
        "Engineering / Mobile / iOS",
        "Engineering / Mobile / Android",
        "Marketing / Campaigns / Spring launch",
        "Marketing / Ideas",
    }, "sprint lists are sprints, not projects"
    ios = next(p for p in projects if p.name.endswith("iOS"))
    assert ios.url == f"https://app.clickup.com/{clickup_fake.team.id}/v/li/{ios.id}"
    assert ios.extra["folder_name"] == "Mobile" and ios.extra["space_name"] == "Engineering"
    found = make_adapter().list_projects(PageRequest(limit=50), text="mobile").items
    assert {p.name for p in found} == {"Engineering / Mobile / iOS", "Engineering / Mobile / Android"}


def test_get_project_names_a_folderless_list_without_the_hidden_folder(clickup_fake, make_adapter):
    project = make_adapter().get_project(clickup_fake.backlog.id)
    assert project.name == "Engineering / Backlog"
    assert project.description == "Everything not yet planned"
    assert "folder_id" not in project.extra


def test_statuses_map_clickup_types_onto_categories(clickup_fake, make_adapter):
    statuses = make_adapter().list_statuses(clickup_fake.backlog.id)
    assert [(s.name, s.category) for s in statuses] == [
        ("to do", StatusCategory.TODO),
        ("in progress", StatusCategory.IN_PROGRESS),
        ("review", StatusCategory.IN_PROGRESS),
        ("done", StatusCategory.DONE),
        ("closed", StatusCategory.DONE),
    ]


def test_sprints_are_the_lists_of_the_sprint_folder(clickup_fake, make_adapter):
    adapter = make_adapter()
    sprints = adapter.list_sprints(clickup_fake.backlog.id, None, PageRequest(limit=10)).items
    states = {s.name: s.state for s in sprints}
    assert states == {
        "Sprint 1": SprintState.CLOSED,
        "Sprint 2": SprintState.ACTIVE,
        "Sprint 3": SprintState.FUTURE,
    }
    current = next(s for s in sprints if s.name == "Sprint 2")
    assert current.start == datetime.fromtimestamp(clickup_fake.current_sprint.start_date / 1000, tz=UTC)
    assert current.end == datetime.fromtimestamp(clickup_fake.current_sprint.due_date / 1000, tz=UTC)
    active = adapter.list_sprints(clickup_fake.ios.id, SprintState.ACTIVE, PageRequest()).items
    assert [s.id for s in active] == [clickup_fake.current_sprint.id]


def test_a_finished_sprint_reports_points_estimates_and_done_dates(clickup_fake, make_adapter):
    tasks = make_adapter().sprint_tasks(clickup_fake.finished_sprint.id)
    assert sorted(t.story_points for t in tasks) == [3.0, 5.0]
    for task in tasks:
        assert task.status.category == StatusCategory.DONE
        assert task.done_at is not None and task.done_at.tzinfo is not None
        assert task.estimate_hours == 4.0
        assert task.sprint_ref == f"{SLUG}:{clickup_fake.finished_sprint.id}"


def test_sprint_tasks_include_tasks_planned_in_from_another_list(clickup_fake, make_adapter):
    tasks = make_adapter().sprint_tasks(clickup_fake.current_sprint.id)
    titles = {t.title for t in tasks}
    assert titles == {"Offline mode", "Crash on start", "Dark theme"}
    planned = next(t for t in tasks if t.title == "Dark theme")
    assert planned.project_ref == f"{SLUG}:{clickup_fake.backlog.id}"
    assert make_adapter().get_task(planned.id).sprint_ref == f"{SLUG}:{clickup_fake.current_sprint.id}"


def test_sprints_need_the_sprints_clickapp(clickup_fake, make_adapter):
    with pytest.raises(errors.NotSupported) as caught:
        make_adapter().list_sprints(clickup_fake.launch.id, None, PageRequest())
    assert "Sprints ClickApp" in str(caught.value)
    with pytest.raises(errors.NotFound):
        make_adapter().get_sprint(clickup_fake.ios.id)


def test_tasks_join_and_leave_sprints_through_their_other_lists(clickup_fake, make_adapter):
    adapter = make_adapter()
    sprint_ref = f"{SLUG}:{clickup_fake.current_sprint.id}"
    task = adapter.create_task(
        clickup_fake.backlog.id, TaskDraft(title="Planned work", sprint_id=clickup_fake.current_sprint.id)
    )
    assert task.sprint_ref == sprint_ref and task.project_ref == f"{SLUG}:{clickup_fake.backlog.id}"
    moved = adapter.update_task(task.id, TaskChanges(sprint_id=clickup_fake.future_sprint.id))
    assert moved.sprint_ref == f"{SLUG}:{clickup_fake.future_sprint.id}"
    assert clickup_fake.tasks[task.id].other_list_ids == [clickup_fake.future_sprint.id]
    out = adapter.update_task(task.id, TaskChanges(sprint_id=None))
    assert out.sprint_ref is None and clickup_fake.tasks[task.id].other_list_ids == []


def test_epics_are_not_supported(clickup_fake, make_adapter):
    adapter = make_adapter()
    with pytest.raises(errors.NotSupported, match="no epics"):
        adapter.get_epic("1")
    with pytest.raises(errors.NotSupported, match="no epics"):
        adapter.create_task(clickup_fake.backlog.id, TaskDraft(title="Child", epic_id="1"))
    with pytest.raises(errors.NotSupported, match="no epics"):
        adapter.list_tasks(TaskQuery(epic_id="1"), PageRequest())


def test_sorting_by_priority_is_not_supported(make_adapter):
    with pytest.raises(errors.NotSupported, match="priority"):
        make_adapter().list_tasks(TaskQuery(sort=TaskSort.PRIORITY), PageRequest())


def test_list_tasks_sends_clickup_filters(clickup_fake, make_adapter):
    adapter = make_adapter()
    me = adapter.current_user()
    statuses = [s for s in adapter.list_statuses(clickup_fake.backlog.id) if s.name in ("to do", "done")]
    since = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    query = TaskQuery(
        project_id=clickup_fake.backlog.id,
        assignee=ME,
        statuses=tuple(statuses),
        updated_since=since,
        sort=TaskSort.DUE,
        descending=False,
    )
    adapter.list_tasks(query, PageRequest(limit=5))
    sent = last_task_page_request(clickup_fake)
    assert sent.path == f"/api/v2/list/{clickup_fake.backlog.id}/task"
    assert sent.args("assignees[]") == [me.id]
    assert sent.args("statuses[]") == ["to do", "done"]
    assert sent.arg("include_closed") == "true" and sent.arg("include_timl") == "true"
    assert sent.arg("date_updated_gt") == str(int(since.timestamp() * 1000))
    assert (sent.arg("order_by"), sent.arg("reverse"), sent.arg("page")) == ("due_date", "false", "0")
    assert sent.arg("include_markdown_description") == "true" and sent.arg("subtasks") == "true"


def test_open_categories_leave_closed_tasks_out_at_the_source(clickup_fake, make_adapter):
    closed = clickup_fake.add_task(clickup_fake.backlog, "Old closed", status="closed")
    done = clickup_fake.add_task(clickup_fake.backlog, "Old done", status="done")
    query = TaskQuery(
        project_id=clickup_fake.backlog.id,
        categories=frozenset({StatusCategory.TODO, StatusCategory.IN_PROGRESS}),
    )
    ids = {t.id for t in make_adapter().list_tasks(query, PageRequest(limit=50)).items}
    assert last_task_page_request(clickup_fake).arg("include_closed") == "false"
    assert closed.id not in ids and done.id not in ids, "done-type statuses are dropped on our side"


def test_workspace_wide_tasks_come_from_filtered_team_tasks(clickup_fake, make_adapter):
    tasks = make_adapter().list_tasks(TaskQuery(), PageRequest(limit=50)).items
    assert last_task_page_request(clickup_fake).path == f"/api/v2/team/{clickup_fake.team.id}/task"
    assert "Write the announcement" in {t.title for t in tasks}
    assert len({t.id for t in tasks}) == len(tasks)


def test_text_filter_reads_a_bounded_number_of_pages_per_call(clickup_fake, make_adapter):
    for n in range(FAKE_PAGE_SIZE * (FILTER_SCAN_PAGES + 2)):
        clickup_fake.add_task(clickup_fake.ios, f"Filler {n}", created=now_millis() - days(1) + n)
    needle = clickup_fake.add_task(clickup_fake.ios, "Needle in the haystack", created=now_millis() - days(2))
    adapter = make_adapter()
    adapter.current_user()
    query = TaskQuery(project_id=clickup_fake.ios.id, text="needle", sort=TaskSort.CREATED, descending=True)

    def task_page_requests() -> int:
        return sum(1 for r in clickup_fake.requests if r.path.endswith("/task"))

    before = task_page_requests()
    first = adapter.list_tasks(query, PageRequest(limit=10))
    assert first.items == [] and first.next_cursor, "the scan stopped at its bound and says where to go on"
    assert task_page_requests() - before == FILTER_SCAN_PAGES
    assert first.total is None
    second = adapter.list_tasks(query, PageRequest(limit=10, cursor=first.next_cursor))
    assert [t.id for t in second.items] == [needle.id] and second.next_cursor is None


def test_a_foreign_cursor_is_invalid_input(clickup_fake, make_adapter):
    with pytest.raises(errors.InvalidInput):
        make_adapter().list_tasks(TaskQuery(project_id=clickup_fake.backlog.id), PageRequest(cursor="o:3"))


def test_due_dates_are_calendar_days_in_the_users_time_zone(clickup_fake, make_adapter):
    adapter = make_adapter()
    due = date(2026, 3, 29)  # the day Berlin moves to summer time
    task = adapter.create_task(clickup_fake.backlog.id, TaskDraft(title="Due on a day", due=due))
    stored = clickup_fake.tasks[task.id].due_date
    berlin = ZoneInfo("Europe/Berlin")
    assert stored == int(datetime(2026, 3, 29, 12, tzinfo=berlin).timestamp() * 1000)
    late_evening = int(datetime(2026, 4, 2, 23, 30, tzinfo=berlin).timestamp() * 1000)  # 21:30 UTC
    clickup_fake.tasks[task.id].due_date = late_evening
    assert adapter.get_task(task.id).due == date(2026, 4, 2)


def test_create_sends_markdown_priority_estimate_points_and_tags(clickup_fake, make_adapter):
    adapter = make_adapter()
    urgent = next(p for p in adapter.list_priorities() if p.level == PriorityLevel.HIGHEST)
    task = adapter.create_task(
        clickup_fake.backlog.id,
        TaskDraft(
            title="Full draft",
            description="# Plan\n\n- [ ] step",
            priority=urgent,
            estimate_hours=1.5,
            story_points=5,
            labels=("backend",),
        ),
    )
    sent = next(r for r in reversed(clickup_fake.requests) if r.method == "POST").json()
    assert sent["markdown_content"] == "# Plan\n\n- [ ] step" and sent["priority"] == 1
    assert sent["time_estimate"] == 5_400_000 and sent["points"] == 5 and sent["tags"] == ["backend"]
    assert (task.priority.name, task.priority.level) == ("urgent", PriorityLevel.HIGHEST)
    assert task.estimate_hours == 1.5 and task.story_points == 5.0 and task.labels == ["backend"]
    assert task.description == "# Plan\n\n- [ ] step"
    assert task.url == f"https://app.clickup.com/t/{task.id}"


def test_update_clears_priority_estimate_points_and_description(clickup_fake, make_adapter):
    adapter = make_adapter()
    seeded = clickup_fake.add_task(
        clickup_fake.backlog,
        "Clear me",
        priority=2,
        points=3,
        time_estimate=3_600_000,
        markdown="Some *text*",
    )
    task = adapter.update_task(
        seeded.id, TaskChanges(priority=None, estimate_hours=None, story_points=None, description=None)
    )
    assert task.priority.level == PriorityLevel.NONE
    assert task.estimate_hours is None and task.story_points is None and task.description is None
    with pytest.raises(errors.NotSupported):
        adapter.update_task(seeded.id, TaskChanges(parent_id=None))


def test_assigning_replaces_the_assignees(clickup_fake, make_adapter):
    seeded = clickup_fake.add_task(clickup_fake.backlog, "Reassign", assignee_ids=[clickup_fake.me.id])
    task = make_adapter().assign_task(seeded.id, str(clickup_fake.other.id))
    assert task.extra["assignee_ids"] == [str(clickup_fake.other.id)]
    put = next(r for r in clickup_fake.requests if r.method == "PUT")
    assert put.json() == {"assignees": {"add": [clickup_fake.other.id], "rem": [clickup_fake.me.id]}}


def test_a_status_clickup_does_not_keep_is_a_conflict(clickup_fake, make_adapter):
    seeded = clickup_fake.add_task(clickup_fake.backlog, "Stubborn")
    adapter = make_adapter()
    done = next(s for s in adapter.available_statuses(seeded.id) if s.name == "done")
    # ClickUp answers the update as if it worked, but the task stays where it was.
    clickup_fake.fail_next(200, method="PUT", body=clickup_fake.task_json(seeded))
    with pytest.raises(errors.Conflict, match="to do"):
        adapter.set_task_status(seeded.id, done)


def test_vendor_messages_are_kept(clickup_fake, make_adapter):
    with pytest.raises(errors.InvalidInput) as caught:
        make_adapter().create_task(clickup_fake.backlog.id, TaskDraft(title=" "))
    assert "Task name invalid (INPUT_005)" in str(caught.value)


def test_comments_page_by_the_oldest_comment_seen(clickup_fake, make_adapter):
    task = clickup_fake.add_task(clickup_fake.backlog, "Chatty")
    start = now_millis() - days(1)
    for n in range(30):
        clickup_fake.add_comment(task, f"Comment {n}", date=start + n * 1000)
    adapter = make_adapter()
    bodies, cursor = [], None
    while True:
        page = adapter.list_comments(task.id, PageRequest(limit=7, cursor=cursor))
        bodies += [c.body for c in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert bodies == [f"Comment {n}" for n in reversed(range(30))]
    continued = [r for r in clickup_fake.requests if r.path.endswith("/comment") and r.arg("start_id")]
    assert continued and continued[0].arg("start") == str(start + 5 * 1000)


def test_another_product_at_the_url_is_not_this_product(clickup_fake, make_adapter):
    clickup_fake.fail_next(200, path=r"/user$", body={"status": "ok", "version": "3.2"})
    with pytest.raises(errors.NotThisProduct):
        make_adapter().check()


def test_an_http_url_is_refused_before_any_request(clickup_fake, make_adapter):
    adapter = make_adapter(policy=HttpPolicy())
    with pytest.raises(errors.AddressNotAllowed):
        adapter.list_projects(PageRequest())
    assert clickup_fake.requests == []


def test_base_url_may_include_the_api_path(clickup_fake):
    config = ConnectionConfig(
        slug=SLUG,
        base_url=clickup_fake.base_url + "/api/v2/",
        token=TOKEN,
        options={"team_id": clickup_fake.team.id},
    )
    adapter = ClickUpAdapter(config, TEST_POLICY)
    try:
        assert adapter.current_user().name == "Ana Silva"
    finally:
        adapter.close()


def test_due_dates_written_read_back_on_the_same_day(clickup_fake, make_adapter):
    adapter = make_adapter()
    for offset in (0, 1, 180):
        due = date.today() + timedelta(days=offset)
        task = adapter.create_task(clickup_fake.backlog.id, TaskDraft(title=f"Due {offset}", due=due))
        assert adapter.get_task(task.id).due == due


# --- metadata costs once ---------------------------------------------------------------------------


def requests_made(fake: ClickUpFake, call) -> list[str]:
    before = len(fake.requests)
    call()
    return [f"{r.method} {r.path}" for r in fake.requests[before:]]


def test_a_cold_read_asks_only_for_the_metadata_its_task_needs(clickup_fake):
    cache = MetadataCache()
    config = ConnectionConfig(
        slug=SLUG, base_url=clickup_fake.base_url, token=TOKEN, options={"team_id": clickup_fake.team.id}
    )
    team, engineering = clickup_fake.team.id, clickup_fake.engineering.id
    plain = clickup_fake.add_task(clickup_fake.backlog, "In a folderless List, no due date")
    due = clickup_fake.add_task(clickup_fake.backlog, "Due", due_date=now_millis() + days(3))
    planned = clickup_fake.add_task(clickup_fake.ios, "Planned into the sprint")
    planned.other_list_ids.append(clickup_fake.current_sprint.id)
    campaign = clickup_fake.add_task(clickup_fake.launch, "In a Space without sprints")
    adapter = ClickUpAdapter(config, TEST_POLICY, metadata=cache)

    # A folderless List is never a sprint: no hierarchy; no due date: no time zone.
    assert requests_made(clickup_fake, lambda: adapter.get_task(plain.id)) == [f"GET /api/v2/task/{plain.id}"]
    assert requests_made(clickup_fake, lambda: adapter.get_task(due.id)) == [
        f"GET /api/v2/task/{due.id}",
        "GET /api/v2/user",  # the user's time zone gives the due date's calendar day
    ]
    made = requests_made(clickup_fake, lambda: adapter.get_task(planned.id))
    assert made == [
        f"GET /api/v2/task/{planned.id}",
        f"GET /api/v2/team/{team}/space",  # does the Space have the Sprints ClickApp?
        f"GET /api/v2/space/{engineering}/folder",  # which of its Lists are sprints
    ]
    assert adapter.get_task(planned.id).sprint_ref == f"{SLUG}:{clickup_fake.current_sprint.id}"
    # A task only in a List of a folder named for sprints is in that sprint: the folders are not read either.
    home = next(t for t in clickup_fake.tasks.values() if t.name == "Crash on start")
    fresh = ClickUpAdapter(config, TEST_POLICY, metadata=MetadataCache())
    made = requests_made(clickup_fake, lambda: fresh.get_task(home.id))
    assert made == [f"GET /api/v2/task/{home.id}", f"GET /api/v2/team/{team}/space"]
    assert fresh.get_task(home.id).sprint_ref == f"{SLUG}:{clickup_fake.current_sprint.id}"
    fresh = ClickUpAdapter(config, TEST_POLICY, metadata=MetadataCache())
    sprint_id = clickup_fake.current_sprint.id
    made = requests_made(
        clickup_fake, lambda: fresh.list_tasks(TaskQuery(sprint_id=sprint_id), PageRequest(limit=2))
    )
    assert made == [
        f"GET /api/v2/list/{sprint_id}",
        f"GET /api/v2/team/{team}/space",
        f"GET /api/v2/list/{sprint_id}/task",
    ]
    fresh.close()
    # A Space without the Sprints ClickApp has no sprint Lists: its folders are not read.
    made = requests_made(clickup_fake, lambda: adapter.get_task(campaign.id))
    assert made == [f"GET /api/v2/task/{campaign.id}"]
    assert adapter.get_task(campaign.id).sprint_ref is None

    other = ClickUpAdapter(config, TEST_POLICY, metadata=cache)  # another adapter of the connection
    for call in (
        lambda a: a.get_task(planned.id),
        lambda a: a.get_task(due.id),
        lambda a: a.list_tasks(TaskQuery(project_id=clickup_fake.backlog.id), PageRequest(limit=2)),
        lambda a: a.list_tasks(TaskQuery(sprint_id=clickup_fake.current_sprint.id), PageRequest(limit=2)),
    ):
        call(adapter)
        assert len(requests_made(clickup_fake, lambda call=call: call(other))) == 1
    made = requests_made(clickup_fake, lambda: adapter.list_statuses(clickup_fake.backlog.id))
    assert len(made) == 1  # the List, with its statuses
    assert requests_made(clickup_fake, lambda: other.list_statuses(clickup_fake.backlog.id)) == []
    assert requests_made(clickup_fake, lambda: other.list_fields(clickup_fake.backlog.id)) == [
        f"GET /api/v2/list/{clickup_fake.backlog.id}/field"
    ]
    assert requests_made(clickup_fake, lambda: adapter.list_fields(clickup_fake.backlog.id)) == []
    other.close()
    adapter.close()
