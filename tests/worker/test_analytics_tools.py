"""sprint_health and cycle_time through the real worker, checked against numbers worked out by hand:
on the JIRA fake (which keeps history and links), on the built-in tracker (which keeps neither), and on
a real Redmine (history in journals, sprints as versions, hours as the unit)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from portal.core.services.sprint_health import simulate
from tests.fakes.jira import DONE, IN_PROGRESS
from tests.providers.redmine_server import redmine, redmine_admin, redmine_world  # noqa: F401 - fixtures

from . import worlds
from .harness import mcp_client
from .test_tools import call

pytestmark = pytest.mark.anyio


@pytest.fixture
def ana(make_user) -> int:
    return make_user("ana@example.com", "Ana Silva")


def jira_sprints(fake) -> dict[str, str]:
    """Sprint 1 closed two weeks ago, sprint 2 running from two days ago to two days ahead."""
    now = datetime.now(UTC)
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    day = timedelta(days=1)
    s1, s2 = fake.sprints[1], fake.sprints[2]
    s1.start, s1.end = today - 14 * day + timedelta(hours=9), today - 10 * day + timedelta(hours=17)
    s1.completed = s1.end
    s2.start, s2.end = today - 2 * day + timedelta(hours=9), today + 2 * day + timedelta(hours=17)
    # Sprint 1's throughput: 4 points on its first day, 4 on its third, nothing on the other three.
    for offset in (14, 12):
        done = fake.add_issue("ALPHA", f"Shipped {offset}", sprints=[1], points=4, status=DONE)
        done.resolved = today - offset * day + timedelta(hours=10)
    issues = {i.summary: i for i in fake.issues.values()}
    pay = issues["Pay with card"]
    pay.status = IN_PROGRESS
    # Moved into sprint 2 yesterday (added), and taken out of it yesterday (removed).
    late = fake.add_issue("ALPHA", "Late addition", points=1)
    dropped = fake.add_issue("ALPHA", "Dropped", sprints=[2], points=8)
    fake._clock = today - day + timedelta(hours=11)
    with fake.changing(late, fake.me.account_id):
        late.sprints = [2]
        late.updated = fake.tick()
    with fake.changing(dropped, fake.me.account_id):
        dropped.sprints = []
        dropped.updated = fake.tick()
    blocker = fake.add_issue("ALPHA", "Payment provider contract")
    return {"pay": pay.key, "blocker": blocker.key, "late": late.key, "dropped": dropped.key}


async def test_sprint_health_on_jira_against_hand_computed_numbers(worker, app, ana, make_key, jira_fake):
    worlds.jira_world(app, ana, jira_fake)
    keys = jira_sprints(jira_fake)
    async with mcp_client(worker.url, make_key(ana)) as client:
        await call(
            client,
            "link_tasks",
            task=f"acme-jira:{keys['pay']}",
            other=f"acme-jira:{keys['blocker']}",
            kind="is blocked by",
        )
        # Untouched for five days while in progress: stale.
        jira_fake.issues[keys["pay"]].updated = datetime.now(UTC) - timedelta(days=5)
        health = await call(client, "sprint_health", sprint="acme-jira:2", seed=5)
    assert health["unit"] == "story_points"
    # Now: Pay with card 5 + Cart totals 3 (done) + Carried over 2 + Late addition 1.
    assert health["scope_now"] == 11
    assert [t["key"] for t in health["added"]] == [keys["late"]]
    assert [t["key"] for t in health["removed"]] == [keys["dropped"]]
    assert health["scope_at_start"] == 18  # 11 - 1 added + 8 removed
    assert (health["done"], health["remaining"], health["done_tasks"], health["open_tasks"]) == (3, 8, 1, 3)
    assert health["previous_sprint"] == "ALPHA Sprint 1"
    assert [t["title"] for t in health["carried_over"]] == ["Carried over"]
    assert [(b["task"]["key"], b["blocked_by"]) for b in health["blocked"]] == [
        (keys["pay"], [f"acme-jira:{keys['blocker']}"])
    ]
    assert [t["key"] for t in health["stale"]] == [keys["pay"]]
    assert sorted(t["title"] for t in health["unassigned"]) == ["Carried over", "Late addition"]
    forecast = health["forecast"]
    assert forecast["sample"] == [4, 0, 4, 0, 0] and forecast["sample_sprints"] == ["ALPHA Sprint 1"]
    assert (forecast["days_left"], forecast["remaining"], forecast["seed"]) == (3, 8, 5)
    # Two fours in three days drawn from [4, 0, 4, 0, 0]: 3 * 0.4^2 * 0.6 + 0.4^3 = 0.352.
    assert forecast["probability"] == pytest.approx(0.352, abs=0.02)
    assert forecast["probability"] == simulate([4, 0, 4, 0, 0], 3, 8, seed=5)
    assert "Monte Carlo" in forecast["method"] and "Seed 5" in forecast["method"]


async def test_sprint_health_on_the_built_in_tracker(worker, app, ana, make_key):
    world = worlds.local_world(app, ana, ana)
    async with mcp_client(worker.url, make_key(ana)) as client:
        result = await client.call_tool("sprint_health", {"sprint": world.sprint_ref})
    assert not result.is_error, result.content[0].text
    health = result.structured_content
    # Sprint 7 started two days ago; its two tasks of 2 points, to do and unassigned, were created
    # after that (so both were added: nothing was in it at the start); no closed sprint to forecast from.
    assert (health["scope_now"], health["done"], health["remaining"]) == (4, 0, 4)
    assert health["scope_at_start"] == 0 and len(health["added"]) == 2 and health["removed"] == []
    assert len(health["unassigned"]) == 2 and health["stale"] == [] and health["blocked"] == []
    assert health["forecast"]["probability"] is None
    assert not any("does not support" in n for n in health["notes"])


def jira_flow(fake) -> dict[str, str]:
    """Three ALPHA issues whose lead and cycle times are worked out by hand (days of November 2026)."""
    from tests.fakes.jira import TODO

    def at(day: int, hour: int = 0) -> datetime:
        return datetime(2026, 11, day, hour, tzinfo=UTC)

    def set_clock(moment: datetime) -> None:
        fake._clock = moment - timedelta(minutes=1)  # tick() moves a minute on

    def move(issue, status: str, moment: datetime) -> None:
        set_clock(moment)
        with fake.changing(issue, fake.me.account_id):
            issue.status = status
            issue.updated = fake.tick()
            issue.resolved = moment if status == DONE else None

    set_clock(at(2))
    t1 = fake.add_issue("ALPHA", "Flow one", points=1)
    set_clock(at(2))
    t2 = fake.add_issue("ALPHA", "Flow two", points=1)
    set_clock(at(4))
    t3 = fake.add_issue("ALPHA", "Flow three", points=1)
    move(t1, IN_PROGRESS, at(3))
    move(t1, DONE, at(5))  # lead 3 days, cycle 2
    move(t2, IN_PROGRESS, at(2, 12))
    move(t2, DONE, at(7, 12))  # lead 5.5, cycle 5
    move(t3, TODO, at(4, 6))
    move(t3, DONE, at(5))  # lead 1, never in progress
    return {"t1": t1.key, "t2": t2.key, "t3": t3.key}


async def test_cycle_time_on_jira_against_hand_computed_numbers(worker, app, ana, make_key, jira_fake):
    worlds.jira_world(app, ana, jira_fake)
    keys = jira_flow(jira_fake)
    async with mcp_client(worker.url, make_key(ana)) as client:
        result = await call(
            client, "cycle_time", project="acme-jira:ALPHA", since="2026-11-01", until="2026-11-30"
        )
    assert result["count"] == 3 and result["without_start"] == 1
    assert result["lead_days"] == {"p50": 3, "p85": 5.5, "p95": 5.5}
    assert result["cycle_days"] == {"p50": 2, "p85": 5, "p95": 5}
    assert [t["task"]["key"] for t in result["slowest"]] == [keys["t2"], keys["t1"], keys["t3"]]


async def test_cycle_time_on_openproject_against_hand_computed_numbers(
    worker, app, ana, make_key, openproject_fake
):
    """The same three flows as on JIRA, read from OpenProject's activities (journals of status names)."""
    from tests.fakes import openproject as op

    worlds.openproject_world(app, ana, openproject_fake)

    def at(day: int, hour: int = 0) -> datetime:
        return datetime(2026, 11, day, hour, tzinfo=UTC)

    def flow(subject: str, created: datetime, *moves: tuple[int, datetime]) -> int:
        wp = openproject_fake.add_work_package(1, subject, created_at=created, updated_at=created)
        for status, moment in moves:
            openproject_fake.record_status_change(wp, status, at=moment)
        return wp

    t1 = flow("Flow one", at(2), (op.IN_PROGRESS, at(3)), (op.CLOSED, at(5)))  # lead 3 days, cycle 2
    t2 = flow("Flow two", at(2), (op.IN_PROGRESS, at(2, 12)), (op.CLOSED, at(7, 12)))  # lead 5.5, cycle 5
    t3 = flow("Flow three", at(4), (op.CLOSED, at(5)))  # lead 1, never in progress
    async with mcp_client(worker.url, make_key(ana)) as client:
        result = await call(client, "cycle_time", project="op:1", since="2026-11-01", until="2026-11-30")
    assert result["count"] == 3 and result["without_start"] == 1
    assert result["lead_days"] == {"p50": 3, "p85": 5.5, "p95": 5.5}
    assert result["cycle_days"] == {"p50": 2, "p85": 5, "p95": 5}
    assert [t["task"]["ref"] for t in result["slowest"]] == [f"op:{t2}", f"op:{t1}", f"op:{t3}"]


async def test_cycle_time_on_the_built_in_tracker(worker, app, ana, make_key):
    worlds.local_world(app, ana, ana)
    async with mcp_client(worker.url, make_key(ana)) as client:
        done = await call(client, "list_tasks", project="local:WEB", limit=1)
        await call(client, "set_task_status", task=done["tasks"][0]["ref"], status="Done")
        result = await call(client, "cycle_time", project="local:WEB")
        both = await client.call_tool("cycle_time", {})
    # One task, created and done within moments, never in progress: a lead time of 0 days, no cycle time.
    assert result["count"] == 1 and result["without_start"] == 1
    assert result["lead_days"] == {"p50": 0, "p85": 0, "p95": 0}
    assert result["cycle_days"] == {"p50": None, "p85": None, "p95": None}
    assert both.is_error and "Give either project or sprint." in both.content[0].text


async def test_changes_since_across_connections_newest_first(worker, app, ana, make_key, jira_fake):
    from portal.core.db import Database
    from portal.core.tracker import service as tracker
    from portal.extensions import db

    worlds.jira_world(app, ana, jira_fake)
    worlds.local_world(app, ana, ana)
    since = datetime.now(UTC) - timedelta(minutes=1)
    # JIRA: an issue of Ben's moved to In Progress and assigned to Ana, after `since`.
    issue = next(i for i in jira_fake.issues.values() if i.summary == "Rotate certificates")
    jira_fake._clock = datetime.now(UTC)
    with jira_fake.changing(issue, jira_fake.other.account_id):
        issue.status = IN_PROGRESS
        issue.assignee = jira_fake.me.account_id
        issue.updated = jira_fake.tick()
    # The tracker: a new task, commented on.
    with app.app_context():
        database = Database.from_engine(db.engine)
    with database.session() as session:
        project = tracker.get_project(session, "WEB")
        task = tracker.create_task(session, project, title="Fresh task", actor_id=ana)
        tracker.add_comment(session, task, body="First look done.", author_id=ana)
        fresh = f"local:{task.key}"
    async with mcp_client(worker.url, make_key(ana)) as client:
        result = await call(client, "changes_since", since=since.isoformat())
        only_local = await call(client, "changes_since", since=since.isoformat(), connections=["local"])
    seen = [(c["task"]["ref"], c["kind"]) for c in result["changes"]]
    assert (f"acme-jira:{issue.key}", "moved") in seen
    assert (f"acme-jira:{issue.key}", "assigned to me") in seen
    assert (fresh, "created") in seen and (fresh, "commented") in seen
    moments = [c["at"] for c in result["changes"]]
    assert moments == sorted(moments, reverse=True)
    assert {c["task"]["ref"].split(":")[0] for c in only_local["changes"]} == {"local"}
    assert not any("does not support" in n for n in result["notes"])


async def test_sprint_health_and_cycle_time_on_a_real_redmine(
    worker,
    app,
    ana,
    make_key,
    redmine,  # noqa: F811 - the fixtures imported above
    redmine_admin,  # noqa: F811
    redmine_world,  # noqa: F811
):
    worlds.add_connection(app, ana, provider="redmine", slug="rm", url=redmine.url, token=redmine.api_key)
    due = (date.today() + timedelta(days=7)).isoformat()
    version = redmine_admin.call(
        "POST",
        f"projects/{redmine_world.project_id}/versions.json",
        {"version": {"name": f"Health {uuid.uuid4().hex[:6]}", "effective_date": due}},
        201,
    )["version"]
    sprint = f"rm:{version['id']}"
    first, second = (
        redmine_admin.create_issue(
            redmine_world.project_id, f"Health work {n}", fixed_version_id=version["id"], estimated_hours=3
        )
        for n in range(2)
    )
    async with mcp_client(worker.url, make_key(ana)) as client:
        await call(client, "set_task_status", task=f"rm:{first}", status="In Progress")
        await call(client, "set_task_status", task=f"rm:{first}", status="Closed")
        health = await call(client, "sprint_health", sprint=sprint, seed=1)
        times = await call(client, "cycle_time", sprint=sprint)
    # Two tasks of 3 estimated hours (no story points in Redmine), one taken to Closed.
    assert health["unit"] == "hours"
    assert (health["scope_now"], health["done"], health["remaining"]) == (6, 3, 3)
    assert (health["done_tasks"], health["open_tasks"]) == (1, 1)
    assert [t["ref"] for t in health["unassigned"]] == [f"rm:{second}"]  # open and unassigned
    assert "measured in estimated hours" in " ".join(health["notes"])
    # The closed task went through In Progress, read back from its journal by status name: it has a
    # cycle time as well as a lead time, both of moments.
    assert times["count"] == 1 and times["without_start"] == 0
    assert 0 <= times["cycle_days"]["p50"] <= times["lead_days"]["p50"] < 0.01
    assert [t["task"]["ref"] for t in times["slowest"]] == [f"rm:{first}"]
