"""The portal's charts and dashboard show what the tools return: one core service, no second computation.

The tools are called on the worker's server with the official client (in memory); the pages are read from the
portal on the same database.
"""

from __future__ import annotations

import re
from html import unescape

import pytest

from portal.core.services.my_tasks import merge_task_pages, share_per_connection
from tests.conftest import PASSWORD, AuthActions
from tests.fakes.clickup import ClickUpFake

from . import worlds
from .harness import in_process_client
from .test_tools import call
from .test_tools_more import build_history

pytestmark = pytest.mark.anyio


@pytest.fixture
def ana(make_user) -> int:
    return make_user("ana@example.com", "Ana Silva")


@pytest.fixture
def browser(app, ana):
    client = app.test_client()
    AuthActions(client, app).login("ana@example.com", PASSWORD)
    return client


def table_after(html: str, caption: str) -> list[list[str]]:
    """The body rows of the table whose caption starts with `caption`, as cell texts."""
    start = html.index(caption)
    body = html[html.index("<tbody>", start) : html.index("</tbody>", start)]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [
        [
            unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in rows
    ]


def shown(value) -> str:
    if value is None:
        return "—"
    return str(int(value)) if value == int(value) else str(value)


async def test_sprint_pages_draw_the_numbers_of_the_burndown_and_velocity_tools(
    in_process_worker, app, ana, make_key, browser
):
    ids = build_history(app, ana)
    async with in_process_client(in_process_worker, make_key(ana)) as client:
        burndown = await call(client, "burndown", sprint=f"local:{ids['sprint']}")
        velocity = await call(client, "velocity", project="local:VEL")
    expected_burndown = [[p["date"], shown(p["remaining"]), shown(p["ideal"])] for p in burndown["points"]]
    for url in (f"/sprints/{ids['sprint']}", f"/sprints/local/{ids['sprint']}"):
        page = browser.get(url)
        assert page.status_code == 200, url
        html = page.get_data(as_text=True)
        rows = table_after(html, "Work left at the end of each day")
        assert [row[:3] for row in rows] == expected_burndown, url
        assert '<svg class="chart line-chart"' in html and 'role="img"' in html
        # The chart's text alternative says where the sprint ended.
        assert (
            f"{shown(burndown['points'][-1]['remaining'])} left on {burndown['points'][-1]['date']}"
            in unescape(html)
        )
    expected_velocity = [
        [r["sprint"]["name"], shown(r["committed"]), shown(r["completed"])] for r in velocity["sprints"]
    ]
    for url in ("/projects/VEL/sprints", f"/sprints/local/{ids['sprint']}"):
        html = browser.get(url).get_data(as_text=True)
        assert table_after(html, "Committed and completed work per closed sprint") == expected_velocity, url
        assert f"Average completed: {shown(velocity['average_completed'])} story points" in html


async def test_the_dashboard_lists_the_tasks_of_list_my_tasks_and_names_the_failing_connections(
    in_process_worker, app, ana, make_key, browser
):
    world = worlds.local_world(app, ana, ana)
    world.seed(3, "Mine", assign_to_me=True)
    world.seed(2, "Not mine")
    live = ClickUpFake()
    live.start()
    dead = ClickUpFake()
    dead.start()
    try:
        for slug, fake in (("cu", live), ("gone", dead)):
            worlds.add_connection(
                app,
                ana,
                provider="clickup",
                slug=slug,
                url=fake.base_url,
                token=fake.token,
                options={"team_id": fake.team.id},
            )
        live.add_task(live.backlog, "Vendor task of mine", assignee_ids=[live.me.id])
        dead.stop()  # this connection now points at a closed port
        async with in_process_client(in_process_worker, make_key(ana)) as client:
            tool = await call(client, "list_my_tasks", limit=20)
        html = unescape(browser.get("/").get_data(as_text=True))
    finally:
        live.stop()
    section = html[html.index('id="tasks-heading"') : html.index('id="sprints-heading"')]
    shown_keys = re.findall(r'<span class="muted">([^<]+)</span> ', section)
    assert shown_keys == [t["key"] for t in tool["tasks"]]
    assert "Vendor task of mine" in section and "Not mine" not in section
    (failure,) = tool["failures"]
    assert failure["connection"] == "gone"
    assert 'role="alert">gone' in section and "gone" not in "".join(shown_keys)


def test_the_merge_orders_by_last_update_and_keeps_each_connections_cursor():
    from datetime import UTC, datetime

    from portal.core.providers.base import Page, Task

    def task(ref, day):
        return Task(
            ref=ref, id=ref, key=ref, title=ref, url="", updated_at=datetime(2026, 3, day, tzinfo=UTC)
        )

    pages = {"a": Page([task("a1", 1), task("a2", 5)], next_cursor="2"), "b": Page([task("b1", 3)])}
    tasks, following = merge_task_pages(["a", "b", "c"], pages)
    assert [t.ref for t in tasks] == ["a2", "b1", "a1"] and following == {"a": "2"}
    assert share_per_connection(25, 2) == 13 and share_per_connection(25, 0) == 25
