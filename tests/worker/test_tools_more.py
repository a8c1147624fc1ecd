"""Analytics from a known history, fan-out with broken connections, and the tools/list snapshot."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from portal.core.db import Database
from portal.core.tracker import service as tracker
from portal.extensions import db
from tests.fakes.clickup import ClickUpFake

from . import worlds
from .harness import in_process_client, mcp_client
from .test_tools import call

pytestmark = pytest.mark.anyio
SNAPSHOT = Path(__file__).with_name("tools_snapshot.json")


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def ana(make_user) -> int:
    return make_user("ana@example.com", "Ana Silva")


def build_history(app, user_id: int) -> dict[str, int]:
    """Two closed sprints whose numbers are worked out by hand in the test."""
    with app.app_context():
        database = Database.from_engine(db.engine)
    with database.session() as session:
        project = tracker.create_project(session, key="VEL", name="Velocity", actor_id=user_id, at=at(2, 1))
        statuses = {s.category: s for s in tracker.project_statuses(session, project)}
        done = statuses["done"]
        dates = {
            "Sprint 0": (date(2026, 2, 16), date(2026, 2, 20)),
            "Sprint 1": (date(2026, 3, 2), date(2026, 3, 6)),
        }
        earlier, sprint = (
            tracker.create_sprint(
                session, project, name=name, start_date=start, end_date=end, state="active", at=at(2, 1)
            )
            for name, (start, end) in dates.items()
        )

        def work(title, points, sprint_row, done_on=None):
            task = tracker.create_task(
                session,
                project,
                title=title,
                story_points=points,
                sprint_id=sprint_row.id,
                actor_id=user_id,
                at=at(2, 1),
            )
            if done_on:
                tracker.set_task_status(session, task, done, actor_id=user_id, at=done_on)

        work("X", 4, earlier, done_on=at(2, 18))
        work("A", 5, sprint, done_on=at(3, 3))
        work("B", 3, sprint, done_on=at(3, 5))
        work("C", 2, sprint)
        for row, closed_on in ((earlier, at(2, 20, 18)), (sprint, at(3, 6, 18))):
            start, end = dates[row.name]
            tracker.update_sprint(
                session,
                row,
                name=row.name,
                goal=None,
                start_date=start,
                end_date=end,
                state="closed",
                at=closed_on,
            )
        return {"sprint": sprint.id}


async def test_burndown_and_velocity_from_the_trackers_history(in_process_worker, app, ana, make_key):
    ids = build_history(app, ana)
    key = make_key(ana)
    async with in_process_client(in_process_worker, key) as client:
        chart = await call(client, "burndown", sprint=f"local:{ids['sprint']}")
        assert chart["unit"] == "story_points" and chart["total"] == 10
        assert [p["date"] for p in chart["points"]] == [f"2026-03-0{d}" for d in range(2, 7)]
        assert [p["remaining"] for p in chart["points"]] == [10, 5, 5, 2, 2]
        assert [p["ideal"] for p in chart["points"]] == [10, 7.5, 5, 2.5, 0]
        assert chart["done_count"] == 2 and chart["task_count"] == 3

        velocity = await call(client, "velocity", project="local:VEL", sprints=2)
        rows = [(r["sprint"]["name"], r["committed"], r["completed"]) for r in velocity["sprints"]]
        assert rows == [("Sprint 0", 4, 4), ("Sprint 1", 10, 8)]
        assert velocity["average_completed"] == 6 and velocity["unit"] == "story_points"


async def test_fan_out_returns_what_it_got_and_why_the_rest_failed(in_process_worker, app, ana, make_key):
    world = worlds.local_world(app, ana, ana)
    (mine,) = world.seed(1, "Fan-out", assign_to_me=True)
    dead = ClickUpFake()
    dead.start()
    worlds.add_connection(
        app,
        ana,
        provider="clickup",
        slug="gone",
        url=dead.base_url,
        token=dead.token,
        options={"team_id": dead.team.id},
    )
    dead.stop()  # the connection now points at a closed port
    slow = ClickUpFake()
    slow.start()
    try:
        worlds.add_connection(
            app,
            ana,
            provider="clickup",
            slug="slow",
            url=slow.base_url,
            token=slow.token,
            options={"team_id": slow.team.id},
        )
        key = make_key(ana)
        async with in_process_client(in_process_worker, key) as client:
            slow.fail_next(401, count=5)
            result = await call(client, "list_my_tasks")
            assert mine in {t["ref"] for t in result["tasks"]}
            failures = {f["connection"]: f for f in result["failures"]}
            assert set(failures) == {"gone", "slow"}
            assert failures["gone"]["error_class"] == "unreachable"
            assert "gone" in failures["gone"]["message"]
            assert failures["slow"]["error_class"] == "authentication_failed"
            assert "slow rejected the stored token" in failures["slow"]["message"]

            checked = await call(client, "list_connections", check=True)
            states = {c["slug"]: c for c in checked["connections"]}
            assert states["gone"]["state"] == "failing" and "Unreachable" in states["gone"]["last_check"]
            assert states["local"]["state"] == "active"
    finally:
        slow.stop()


async def test_tools_list_matches_the_committed_snapshot(worker, ana, make_key):
    async with mcp_client(worker.url, make_key(ana)) as client:
        tools = (await client.list_tools()).tools
    listing = [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]
    assert len(listing) < 40, "some clients show no more than 40 tools"
    if os.environ.get("UPDATE_TOOLS_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(listing, indent=2, sort_keys=True) + "\n")
    assert listing == json.loads(SNAPSHOT.read_text()), (
        "What clients see changed. If that is deliberate, run UPDATE_TOOLS_SNAPSHOT=1 pytest "
        "tests/worker/test_tools_more.py and commit tests/worker/tools_snapshot.json."
    )
    for tool in listing:
        annotations = tool["annotations"]
        assert tool["description"] and tool["outputSchema"]["type"] == "object"
        assert annotations["readOnlyHint"] == tool["name"].startswith(
            (
                "list_",
                "get_",
                "search_",
                "whoami",
                "burndown",
                "velocity",
                "sprint_health",
                "cycle_time",
                "changes_since",
            )
        )
        assert annotations["destructiveHint"] == (tool["name"] in ("delete_task", "unlink_tasks"))


async def test_a_cursor_works_only_for_the_tool_that_issued_it(in_process_worker, app, ana, make_key):
    world = worlds.local_world(app, ana, ana)
    world.seed(3, "Cursor")
    async with in_process_client(in_process_worker, make_key(ana)) as client:
        page = await call(client, "list_tasks", project="local:WEB", limit=1)
        cursor = page["next_cursor"]
        assert cursor
        second = await call(client, "list_tasks", project="local:WEB", limit=1, cursor=cursor)
        assert second["tasks"][0]["ref"] != page["tasks"][0]["ref"]
        for tool, arguments in (
            ("list_sprints", {"project": "local:WEB", "cursor": cursor}),
            ("list_my_tasks", {"cursor": cursor}),
            ("search_tasks", {"text": "x", "cursor": "not-a-cursor"}),
        ):
            result = await client.call_tool(tool, arguments)
            assert result.is_error and f"doesn't belong to {tool}" in result.content[0].text
