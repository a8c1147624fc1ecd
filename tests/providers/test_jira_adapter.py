"""JIRA-specific behaviour of the adapter, beyond the shared contract, against the fake JIRA."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from portal.core.providers import errors
from portal.core.providers.base import (
    ME,
    ConnectionConfig,
    PageRequest,
    PriorityLevel,
    SprintState,
    StatusCategory,
    TaskChanges,
    TaskDraft,
    TaskQuery,
    TaskSort,
)
from portal.core.providers.jira import JiraAdapter
from portal.core.providers.metadata import MetadataCache
from tests.contract.suite import TEST_POLICY
from tests.fakes.jira import (
    DECOY_STORY_POINTS_FIELD,
    DONE,
    IN_PROGRESS,
    SPRINT_FIELD,
    STORY_POINTS_FIELD,
    FakeJira,
)
from tests.providers.test_jira_contract import SLUG, make_jira_adapter


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
def adapter(fake_jira: FakeJira):
    adapter = make_jira_adapter(fake_jira)
    yield adapter
    adapter.close()


def search_bodies(fake: FakeJira) -> list[dict]:
    return [r.json() for r in fake.requests if r.method == "POST" and r.path == "/rest/api/3/search/jql"]


# --- identity ------------------------------------------------------------------------------------


def test_check_summary_names_host_name_and_email(adapter: JiraAdapter, fake_jira: FakeJira):
    result = adapter.check()
    host = fake_jira.base_url.removeprefix("http://")
    assert result.summary == f"Connected to {host} as Ana Silva, ana@example.com"
    assert result.site == host
    assert result.user.id == fake_jira.me.account_id


def test_without_an_email_the_adapter_refuses_before_calling(fake_jira: FakeJira):
    adapter = make_jira_adapter(fake_jira, username="")
    with pytest.raises(errors.AuthenticationFailed, match="email"):
        adapter.check()
    assert not fake_jira.requests


def test_the_token_is_in_no_repr(adapter: JiraAdapter, fake_jira: FakeJira):
    token = fake_jira.credentials()[1]
    adapter.check()
    assert token not in repr(adapter)
    assert token not in repr(adapter._config)


# --- projects, people, priorities ----------------------------------------------------------------------


def test_projects_carry_keys_urls_and_descriptions(adapter: JiraAdapter, fake_jira: FakeJira):
    page = adapter.list_projects(PageRequest(limit=10))
    alpha = next(p for p in page.items if p.id == "ALPHA")
    assert alpha.ref == f"{SLUG}:ALPHA"
    assert alpha.url == f"{fake_jira.base_url}/browse/ALPHA"
    assert alpha.description == "The web shop."
    assert page.total == 2 and page.next_cursor is None
    assert [p.id for p in adapter.list_projects(PageRequest(), text="beta").items] == ["BETA"]


def test_unknown_project_is_not_found(adapter: JiraAdapter):
    with pytest.raises(errors.NotFound, match="No project could be found"):
        adapter.get_project("NOPE")


def test_priorities_map_jira_names_onto_levels(adapter: JiraAdapter):
    levels = {p.name: p.level for p in adapter.list_priorities("ALPHA")}
    assert levels == {
        "Highest": PriorityLevel.HIGHEST,
        "High": PriorityLevel.HIGH,
        "Medium": PriorityLevel.MEDIUM,
        "Low": PriorityLevel.LOW,
        "Lowest": PriorityLevel.LOWEST,
    }


def test_assignable_people_leave_out_apps_and_deactivated_accounts(adapter: JiraAdapter):
    names = {u.name for u in adapter.list_users("ALPHA")}
    assert names == {"Ana Silva", "Ben Okafor", "Cho Park"}
    cho = next(u for u in adapter.list_users("ALPHA", text="cho"))
    assert cho.email is None  # hidden by her privacy settings
    assert {u.name for u in adapter.list_users()} == {"Ana Silva", "Ben Okafor", "Cho Park"}
    assert [u.name for u in adapter.list_users(text="ben")] == ["Ben Okafor"]


def test_statuses_come_once_with_their_categories(adapter: JiraAdapter):
    statuses = adapter.list_statuses("ALPHA")
    assert [(s.name, s.category) for s in statuses] == [
        ("To Do", StatusCategory.TODO),
        ("In Progress", StatusCategory.IN_PROGRESS),
        ("Done", StatusCategory.DONE),
    ]


# --- search ------------------------------------------------------------------------------------------


def test_search_uses_the_jql_endpoint_and_names_its_fields(adapter: JiraAdapter, fake_jira: FakeJira):
    adapter.list_tasks(TaskQuery(project_id="ALPHA"), PageRequest(limit=5))
    adapter.list_tasks(TaskQuery(project_id="ALPHA"), PageRequest(limit=5))
    assert not any(r.path == "/rest/api/3/search" for r in fake_jira.requests)
    cold, warm = search_bodies(fake_jira)
    assert cold["jql"] == warm["jql"] == 'project = "ALPHA" ORDER BY updated DESC, key DESC'
    # Cold, the site's fields are learnt from the answer; warm, the search names what it needs.
    assert "*navigable" in cold["fields"] and cold["expand"] == "schema"
    assert {"summary", "status", "resolutiondate", SPRINT_FIELD, STORY_POINTS_FIELD} <= set(warm["fields"])
    assert DECOY_STORY_POINTS_FIELD not in warm["fields"] and "*navigable" not in warm["fields"]
    assert "expand" not in warm


def test_text_search_is_quoted_so_it_cannot_change_the_query(adapter: JiraAdapter, fake_jira: FakeJira):
    key = fake_jira.add_issue("ALPHA", 'Crash on "Save" with C:\\temp (again)').key
    fake_jira.add_issue("BETA", "Unrelated")
    page = adapter.list_tasks(TaskQuery(text='"Save" with C:\\temp'), PageRequest(limit=10))
    assert [t.id for t in page.items] == [key]
    hostile = adapter.list_tasks(TaskQuery(text='x" OR project = "BETA'), PageRequest(limit=10))
    assert hostile.items == []


def test_filters_become_jql(adapter: JiraAdapter, fake_jira: FakeJira):
    statuses = adapter.list_statuses("ALPHA")
    since = datetime(2026, 1, 5, 7, 30, 59, tzinfo=UTC)
    adapter.list_tasks(
        TaskQuery(
            project_id="ALPHA",
            assignee=ME,
            statuses=(statuses[1],),
            categories=frozenset({StatusCategory.TODO, StatusCategory.IN_PROGRESS}),
            updated_since=since,
            sort=TaskSort.PRIORITY,
            descending=False,
        ),
        PageRequest(limit=5),
    )
    jql = search_bodies(fake_jira)[-1]["jql"]
    assert jql == (
        'project = "ALPHA" AND assignee = currentUser() AND status in (10001) '
        'AND statusCategory in ("To Do", "In Progress") '
        # JQL reads dates in the user's zone: Ana's is Europe/Berlin, an hour ahead in January.
        'AND updated >= "2026/01/05 08:30" ORDER BY priority ASC, key ASC'
    )


def test_unassigned_and_other_people(adapter: JiraAdapter, fake_jira: FakeJira):
    unassigned = adapter.list_tasks(TaskQuery(project_id="ALPHA", unassigned=True), PageRequest(limit=50))
    assert unassigned.items and all(t.assignee is None for t in unassigned.items)
    beta = adapter.list_tasks(TaskQuery(assignee=fake_jira.other.account_id), PageRequest(limit=50))
    assert [t.id for t in beta.items] == ["BETA-1"]


def test_asking_only_for_unknown_categories_matches_nothing(adapter: JiraAdapter, fake_jira: FakeJira):
    page = adapter.list_tasks(TaskQuery(categories=frozenset({StatusCategory.UNKNOWN})), PageRequest())
    assert page.items == [] and not search_bodies(fake_jira)


def test_a_query_without_filters_is_still_bounded(adapter: JiraAdapter, fake_jira: FakeJira):
    page = adapter.list_tasks(TaskQuery(), PageRequest(limit=100))
    assert {t.id for t in page.items} == set(fake_jira.issues)


def test_cross_project_lists_still_carry_story_points(adapter: JiraAdapter, fake_jira: FakeJira):
    adapter.get_task("BETA-1")  # learns the sprint field, but no board that estimates in points
    page = adapter.list_tasks(TaskQuery(assignee=ME), PageRequest(limit=50))
    card = next(t for t in page.items if t.title == "Pay with card")
    assert card.story_points == 5
    first, second = search_bodies(fake_jira)
    assert STORY_POINTS_FIELD not in first["fields"]
    assert second["fields"] == [STORY_POINTS_FIELD] and second["jql"].startswith("key in (")


def test_a_write_is_reconciled_into_the_next_search(adapter: JiraAdapter, fake_jira: FakeJira):
    created = adapter.create_task("ALPHA", TaskDraft(title="Fresh"))
    adapter.list_tasks(TaskQuery(project_id="ALPHA"), PageRequest(limit=5))
    assert search_bodies(fake_jira)[-1]["reconcileIssues"] == [int(created.extra["issue_id"])]


# --- tasks ---------------------------------------------------------------------------------------------


def test_a_task_reads_every_field(adapter: JiraAdapter, fake_jira: FakeJira):
    task = adapter.get_task("ALPHA-4")
    assert task.title == "Carried over"
    assert task.estimate_hours == 4
    assert task.story_points == 2
    assert task.sprint_ref == f"{SLUG}:2"  # the active sprint, not the closed one it came from
    assert task.extra["sprint_refs"] == [f"{SLUG}:1", f"{SLUG}:2"]
    assert task.created_at is not None and task.created_at.tzinfo is not None
    assert task.created_at.utcoffset().total_seconds() == 0
    assert task.url == f"{fake_jira.base_url}/browse/ALPHA-4"
    child = adapter.get_task("ALPHA-2")
    assert child.epic_ref == f"{SLUG}:ALPHA-1" and child.parent_ref is None


def test_create_with_points_sprint_estimate_and_labels(adapter: JiraAdapter, fake_jira: FakeJira):
    priorities = adapter.list_priorities("ALPHA")
    task = adapter.create_task(
        "ALPHA",
        TaskDraft(
            title="Checkout button",
            description="# Goal\n\nA *big* button.",
            type="Story",
            priority=priorities[1],
            story_points=8,
            sprint_id="2",
            estimate_hours=1.5,
            labels=("ui", "checkout"),
        ),
    )
    assert (task.type, task.story_points, task.sprint_ref, task.estimate_hours) == (
        "Story",
        8,
        f"{SLUG}:2",
        1.5,
    )
    assert task.labels == ["ui", "checkout"] and task.priority.name == "High"
    assert task.description == "# Goal\n\nA *big* button."
    create = next(
        r.json() for r in fake_jira.requests if r.method == "POST" and r.path == "/rest/api/3/issue"
    )
    assert create["fields"][STORY_POINTS_FIELD] == 8 and create["fields"][SPRINT_FIELD] == 2
    assert create["fields"]["timetracking"] == {"originalEstimate": "90m"}


def test_a_child_of_a_standard_issue_is_a_sub_task(adapter: JiraAdapter):
    sub = adapter.create_task("ALPHA", TaskDraft(title="Write tests", parent_id="ALPHA-4"))
    assert sub.type == "Subtask" and sub.parent_ref == f"{SLUG}:ALPHA-4" and sub.epic_ref is None


def test_refusals_keep_jira_words_and_fields(adapter: JiraAdapter):
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.create_task("ALPHA", TaskDraft(title="  "))
    assert caught.value.field_errors == {"summary": "You must specify a summary of the issue."}
    assert "summary: You must specify a summary" in str(caught.value)
    with pytest.raises(errors.InvalidInput, match="no issue type 'Saga'"):
        adapter.create_task("ALPHA", TaskDraft(title="x", type="Saga"))
    with pytest.raises(errors.InvalidInput, match="one parent"):
        adapter.create_task("ALPHA", TaskDraft(title="x", parent_id="ALPHA-4", epic_id="ALPHA-1"))


def test_update_moves_sprints_and_epics(adapter: JiraAdapter, fake_jira: FakeJira):
    (key,) = [fake_jira.add_issue("ALPHA", "Movable").key]
    moved = adapter.update_task(key, TaskChanges(sprint_id="3", epic_id="ALPHA-1", story_points=13))
    assert (moved.sprint_ref, moved.epic_ref, moved.story_points) == (f"{SLUG}:3", f"{SLUG}:ALPHA-1", 13)
    back = adapter.update_task(key, TaskChanges(sprint_id=None, epic_id=None))
    assert back.sprint_ref is None and back.epic_ref is None
    edit = [
        r.json() for r in fake_jira.requests if r.method == "PUT" and r.path == f"/rest/api/3/issue/{key}"
    ]
    assert edit[-1] == {"fields": {"parent": {}}}
    assert any(r.path == "/rest/agile/1.0/backlog/issue" for r in fake_jira.requests)


def test_a_closed_sprint_takes_no_issues(adapter: JiraAdapter):
    with pytest.raises(errors.InvalidInput, match="closed sprint"):
        adapter.update_task("ALPHA-4", TaskChanges(sprint_id="1"))


def test_status_goes_only_where_the_workflow_leads(adapter: JiraAdapter, fake_jira: FakeJira):
    assert {s.name for s in adapter.available_statuses("ALPHA-3")} == {"In Progress"}  # ALPHA-3 is done
    to_do = next(s for s in adapter.list_statuses("ALPHA") if s.name == "To Do")
    with pytest.raises(errors.InvalidInput, match="no transition") as caught:
        adapter.set_task_status("ALPHA-3", to_do)
    assert caught.value.field_errors == {"status": "reachable now: In Progress"}


def test_a_transition_the_workflow_overrides_is_reported(adapter: JiraAdapter, fake_jira: FakeJira):
    fake_jira.post_functions["31"] = IN_PROGRESS  # a post function reopens what was closed
    done = next(s for s in adapter.available_statuses("ALPHA-4") if s.category == StatusCategory.DONE)
    with pytest.raises(errors.Conflict, match="now in 'In Progress'"):
        adapter.set_task_status("ALPHA-4", done)


def test_done_at_falls_back_to_the_category_change(adapter: JiraAdapter, fake_jira: FakeJira):
    fake_jira.done_sets_resolution = False
    done = next(s for s in adapter.available_statuses("ALPHA-4") if s.id == DONE)
    task = adapter.set_task_status("ALPHA-4", done)
    assert task.done_at is not None
    assert task.done_at == fake_jira.issues["ALPHA-4"].category_changed


def test_comments_page_in_order(adapter: JiraAdapter):
    for n in range(3):
        adapter.add_comment("ALPHA-2", f"Note {n}")
    first = adapter.list_comments("ALPHA-2", PageRequest(limit=2))
    second = adapter.list_comments("ALPHA-2", PageRequest(limit=2, cursor=first.next_cursor))
    assert [c.body for c in first.items + second.items] == ["Note 0", "Note 1", "Note 2"]
    assert second.next_cursor is None and first.total == 3
    assert first.items[0].author.name == "Ana Silva"
    assert "focusedCommentId=" in first.items[0].url


# --- sprints and epics -------------------------------------------------------------------------------


def test_sprints_page_by_board_and_filter_by_state(adapter: JiraAdapter):
    seen = []
    cursor = None
    while True:
        page = adapter.list_sprints("ALPHA", None, PageRequest(limit=1, cursor=cursor))
        seen.extend((s.name, s.state) for s in page.items)
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == [
        ("ALPHA Sprint 1", SprintState.CLOSED),
        ("ALPHA Sprint 2", SprintState.ACTIVE),
        ("ALPHA Sprint 3", SprintState.FUTURE),
    ]
    closed = adapter.list_sprints("ALPHA", SprintState.CLOSED, PageRequest()).items
    assert [s.id for s in closed] == ["1"] and closed[0].completed_at is not None
    assert adapter.list_sprints("BETA", None, PageRequest()).items == []  # a kanban project


def test_a_sprint_knows_its_project_and_dates(adapter: JiraAdapter):
    sprint = adapter.get_sprint("2")
    assert sprint.project_ref == f"{SLUG}:ALPHA"
    assert sprint.start == datetime(2025, 12, 29, 9, 0, tzinfo=UTC)
    assert sprint.goal == "Checkout" and "rapidView=1" in sprint.url


def test_sprint_tasks_carry_what_a_burndown_needs(adapter: JiraAdapter, fake_jira: FakeJira):
    tasks = {t.id: t for t in adapter.sprint_tasks("2")}
    assert set(tasks) == {"ALPHA-2", "ALPHA-3", "ALPHA-4"}
    assert {k: t.story_points for k, t in tasks.items()} == {"ALPHA-2": 5, "ALPHA-3": 3, "ALPHA-4": 2}
    assert tasks["ALPHA-3"].done_at == datetime(2026, 1, 2, 15, 30, tzinfo=UTC)
    assert tasks["ALPHA-2"].done_at is None
    closed = adapter.sprint_tasks("1")
    # ALPHA-4 moved on to sprint 2, yet in sprint 1's burndown it counts as sprint 1's.
    assert {t.id: t.sprint_ref for t in closed} == {"ALPHA-4": f"{SLUG}:1", "ALPHA-5": f"{SLUG}:1"}
    fields_asked = [
        r.arg("fields") for r in fake_jira.requests if r.path.endswith("/issue") and r.method == "GET"
    ]
    assert all(STORY_POINTS_FIELD in f and "resolutiondate" in f for f in fields_asked)


def test_epics(adapter: JiraAdapter):
    (epic,) = adapter.list_epics("ALPHA", PageRequest()).items
    assert (epic.id, epic.title) == ("ALPHA-1", "Checkout revamp")
    assert epic.status.category == StatusCategory.IN_PROGRESS
    with pytest.raises(errors.NotFound, match="not an epic"):
        adapter.get_epic("ALPHA-2")


def test_story_points_need_a_board_that_estimates_in_them(adapter: JiraAdapter):
    with pytest.raises(errors.NotSupported, match="story points"):
        adapter.create_task("BETA", TaskDraft(title="x", story_points=3))


def test_due_dates_round_trip(adapter: JiraAdapter):
    task = adapter.update_task("BETA-1", TaskChanges(due=date(2026, 2, 28)))
    assert task.due == date(2026, 2, 28)


# --- metadata costs once ---------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def requests_made(fake: FakeJira, call) -> list[str]:
    before = len(fake.requests)
    call()
    return [f"{r.method} {r.path}" for r in fake.requests[before:]]


def test_site_metadata_is_read_once_per_connection_and_then_every_read_is_one_request(fake_jira: FakeJira):
    clock = Clock()
    cache = MetadataCache(ttl=300, clock=clock)
    adapter = make_jira_adapter(fake_jira, metadata=cache)
    cold = requests_made(fake_jira, lambda: adapter.get_task("ALPHA-2"))
    # The issue (every navigable field, with schemas: they name the sprint field), then the
    # configuration of its sprint's board (the story-point field, and the board's project).
    assert cold == ["GET /rest/api/3/issue/ALPHA-2", "GET /rest/agile/1.0/board/1/configuration"]
    assert requests_made(fake_jira, lambda: adapter.get_task("ALPHA-2")) == ["GET /rest/api/3/issue/ALPHA-2"]
    # Another adapter of the same connection (the worker keeps several, the portal builds one a request).
    other = make_jira_adapter(fake_jira, metadata=cache)
    task = other.get_task("ALPHA-3")
    assert task.story_points == 3 and task.sprint_ref == f"{SLUG}:2"
    for call in (
        lambda: other.get_task("ALPHA-3"),
        lambda: other.list_tasks(TaskQuery(project_id="ALPHA"), PageRequest(limit=5)),
        lambda: other.list_tasks(TaskQuery(epic_id="ALPHA-1"), PageRequest(limit=5)),
        lambda: other.get_project("ALPHA"),  # asks JIRA afresh, and keeps the project's issue types
    ):
        assert len(requests_made(fake_jira, call)) == 1
    other.current_user()
    assert requests_made(fake_jira, other.current_user) == []
    created = requests_made(
        fake_jira, lambda: other.create_task("ALPHA", TaskDraft(title="Warm", story_points=2, sprint_id="2"))
    )
    assert [r.split()[0] for r in created] == ["POST", "GET"]  # the write, then its read-back
    other.close()
    # A while later the site is asked again, in case an administrator changed it.
    clock.now += 301
    assert len(requests_made(fake_jira, lambda: adapter.get_task("ALPHA-2"))) == 2
    adapter.close()


def test_an_edited_connection_reads_the_site_afresh(fake_jira: FakeJira):
    cache = MetadataCache()
    adapter = make_jira_adapter(fake_jira, metadata=cache)
    adapter.get_task("ALPHA-2")
    email, token = fake_jira.credentials()
    edited = JiraAdapter(
        ConnectionConfig(
            slug=SLUG, base_url=fake_jira.base_url, token=token, username=email, options={"note": "edited"}
        ),
        TEST_POLICY,
        metadata=cache,
    )
    assert len(requests_made(fake_jira, lambda: edited.get_task("ALPHA-2"))) == 2
    assert len(requests_made(fake_jira, lambda: edited.get_task("ALPHA-2"))) == 1
    edited.close()
    adapter.close()


def test_a_board_reconfigured_in_jira_is_seen_after_the_ttl(fake_jira: FakeJira):
    clock = Clock()
    adapter = make_jira_adapter(fake_jira, metadata=MetadataCache(ttl=300, clock=clock))
    assert adapter.get_task("ALPHA-3").story_points == 3
    fake_jira.boards[1].estimation_field = DECOY_STORY_POINTS_FIELD
    assert adapter.get_task("ALPHA-3").story_points == 3  # within the TTL: the cached field
    clock.now += 301
    assert adapter.get_task("ALPHA-3").story_points is None  # the decoy field holds nothing
    adapter.close()


@pytest.mark.parametrize(
    ("call", "cold_requests"),
    [
        (lambda a: a.list_tasks(TaskQuery(project_id="ALPHA"), PageRequest(limit=10)), 2),
        (lambda a: a.list_tasks(TaskQuery(sprint_id="2"), PageRequest(limit=10)), 2),
        (
            lambda a: a.list_tasks(TaskQuery(sprint_id="3"), PageRequest(limit=10)),
            1,
        ),  # empty: no board needed
    ],
)
def test_a_cold_list_costs_at_most_two_requests_and_a_warm_one_one(fake_jira: FakeJira, call, cold_requests):
    cache = MetadataCache()
    adapter = make_jira_adapter(fake_jira, metadata=cache)
    cold = requests_made(fake_jira, lambda: call(adapter))
    assert len(cold) == cold_requests, cold
    assert "GET /rest/api/3/field" not in cold
    other = make_jira_adapter(fake_jira, metadata=cache)
    assert requests_made(fake_jira, lambda: call(other)) == ["POST /rest/api/3/search/jql"]
    listed = call(other).items
    assert all(t.story_points is not None for t in listed if t.title in ("Pay with card", "Cart totals"))
    adapter.close()
    other.close()


def test_a_cold_read_of_an_issue_in_no_sprint_asks_for_the_projects_boards(fake_jira: FakeJira):
    adapter = make_jira_adapter(fake_jira, metadata=MetadataCache())
    key = fake_jira.add_issue("ALPHA", "Never planned", points=8).key
    cold = requests_made(fake_jira, lambda: adapter.get_task(key))
    assert cold == [
        f"GET /rest/api/3/issue/{key}",
        "GET /rest/agile/1.0/board",
        "GET /rest/agile/1.0/board/1/configuration",
    ]
    assert adapter.get_task(key).story_points == 8
    assert len(requests_made(fake_jira, lambda: adapter.get_task("ALPHA-2"))) == 1  # board 1 is known now
    adapter.close()


def test_sprint_work_metadata_is_asked_once(fake_jira: FakeJira):
    cache = MetadataCache()
    first = make_jira_adapter(fake_jira, metadata=cache)
    second = make_jira_adapter(fake_jira, metadata=cache)
    for call, cold, warm in (
        (lambda a: a.list_link_types(), ["GET /rest/api/3/issueLinkType"], []),
        (
            lambda a: a.list_fields("ALPHA"),
            ["GET /rest/api/3/project/ALPHA", "GET /rest/api/3/issue/createmeta/ALPHA/issuetypes/10001"],
            [],
        ),
        (
            lambda a: a.task_history("ALPHA-2", PageRequest()),
            ["GET /rest/api/3/issue/ALPHA-2/changelog", "GET /rest/api/3/field"],
            ["GET /rest/api/3/issue/ALPHA-2/changelog"],
        ),
    ):
        assert requests_made(fake_jira, lambda call=call: call(first)) == cold
        assert requests_made(fake_jira, lambda call=call: call(second)) == warm
    first.close()
    second.close()


def test_a_board_this_account_may_not_see_costs_the_points_not_the_task(fake_jira: FakeJira):
    adapter = make_jira_adapter(fake_jira, metadata=MetadataCache())
    fake_jira.fail_next(403, path=r"/board/1/configuration$", count=5)
    task = adapter.get_task("ALPHA-2")
    assert task.title == "Pay with card" and task.sprint_ref == f"{SLUG}:2"
    assert task.story_points is None
    # The refusal is remembered with the site's metadata: the next read asks JIRA for the issue only.
    assert requests_made(fake_jira, lambda: adapter.get_task("ALPHA-2")) == ["GET /rest/api/3/issue/ALPHA-2"]
    adapter.close()
