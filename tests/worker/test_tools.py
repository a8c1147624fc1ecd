"""Every tool over every provider, through the worker's server and the official MCP client (in memory).

Each provider gets a world (tests/worker/worlds.py): the test user's connection to the vendor's fake (the
real Redmine for Redmine), with a project, another person, a sprint and an epic where the vendor has them.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from portal.core.keys import hash_key
from portal.core.models import AuditEvent, McpApiKey
from portal.extensions import db
from tests.providers.redmine_server import redmine, redmine_admin, redmine_world  # noqa: F401 - fixtures

from . import worlds
from .harness import in_process_client

pytestmark = pytest.mark.anyio

PROVIDERS = ["local", "jira", "openproject", "clickup", "redmine"]


async def call(client, name: str, **arguments: Any) -> dict:
    result = await client.call_tool(name, arguments)
    assert not result.is_error, f"{name} failed: {result.content[0].text}"
    assert result.content and result.content[0].text
    return result.structured_content


async def call_error(client, name: str, **arguments: Any) -> str:
    result = await client.call_tool(name, arguments)
    assert result.is_error, f"{name} should have failed: {result.structured_content}"
    return result.content[0].text


@pytest.fixture(params=PROVIDERS)
def world(request, app, people) -> worlds.ToolWorld:
    ana, bo = people
    if request.param == "local":
        return worlds.local_world(app, ana, bo)
    if request.param == "clickup":
        return worlds.clickup_world(app, ana, request.getfixturevalue("clickup_fake"))
    if request.param == "jira":
        return worlds.jira_world(app, ana, request.getfixturevalue("jira_fake"))
    if request.param == "openproject":
        return worlds.openproject_world(app, ana, request.getfixturevalue("openproject_fake"))
    if request.param == "redmine":
        server = request.getfixturevalue("redmine")
        return worlds.redmine_world(
            app,
            ana,
            server,
            request.getfixturevalue("redmine_admin"),
            request.getfixturevalue("redmine_world"),
        )
    raise AssertionError(request.param)


@pytest.fixture
def key(people, make_key) -> str:
    return make_key(people[0], name="laptop")


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


async def test_connections_projects_and_people(in_process_worker, world, key):
    async with in_process_client(in_process_worker, key) as client:
        listed = await call(client, "list_connections")
        slugs = {c["slug"]: c for c in listed["connections"]}
        assert "local" in slugs and world.slug in slugs
        assert slugs[world.slug]["state"] == "active"

        me = await call(client, "get_current_user", connection=world.slug)
        assert me["connection"] == world.slug and me["user"]["ref"].startswith(f"{world.slug}:")

        # Pages of one project first; then, paging shown, larger pages: a real server may hold many projects.
        pages, cursor = [], None
        for _ in range(100):
            limit = 1 if len(pages) < 3 else 50
            arguments = {"connection": world.slug, "limit": limit} | ({"cursor": cursor} if cursor else {})
            page = await call(client, "list_projects", **arguments)
            pages.append(page["projects"])
            cursor = page.get("next_cursor")
            if not cursor:
                break
        refs = [p["ref"] for page in pages for p in page]
        assert len(pages) >= 2 and len(refs) == len(set(refs)), "paged through more than one page, no repeats"
        assert world.project_ref in refs

        project = await call(client, "get_project", project=world.project_ref)
        assert project["project"]["ref"] == world.project_ref

        statuses = await call(client, "list_statuses", project=world.project_ref)
        assert {"done"} <= {s["category"] for s in statuses["statuses"]}

        users = await call(client, "list_users", project=world.project_ref)
        assert world.other_name in [u["name"] for u in users["people"]]


async def test_a_task_from_creation_to_deletion(in_process_worker, world, key):
    title = unique("Lifecycle ")
    async with in_process_client(in_process_worker, key) as client:
        created = await call(
            client,
            "create_task",
            project=world.project_ref,
            title=title,
            description="Steps:\n\n1. Open **checkout**\n2. Pay with `card`",
            priority="high",
            assignee="me",
            due="2030-01-15",
        )
        ref = created["task"]["ref"]
        assert ref.startswith(f"{world.slug}:") and created["task"]["title"] == title

        detail = await call(client, "get_task", task=ref, include_transitions=True)
        task = detail["task"]
        assert "**checkout**" in task["description"] and "`card`" in task["description"]
        assert task["due"] == "2030-01-15" and task["assignee"]
        assert task["priority"] and task["status_category"] != "done"
        done = next(s["name"] for s in detail["available_statuses"] if s["category"] == "done")

        updated = await call(client, "update_task", task=ref, title=title + " (renamed)", due=None)
        assert updated["task"]["title"] == title + " (renamed)" and updated["task"]["due"] is None

        moved = await call(client, "set_task_status", task=ref, status=done.upper())
        assert moved["task"]["status"] == done and moved["task"]["status_category"] == "done"
        again = await call(client, "set_task_status", task=ref, status=done)  # idempotent, as annotated
        assert again["message"] == f"{ref} is already {done}."

        assigned = await call(client, "assign_task", task=ref, assignee=world.other_name)
        assert assigned["task"]["assignee"] == world.other_name
        unassigned = await call(client, "assign_task", task=ref, assignee=None)
        assert unassigned["task"]["assignee"] is None

        await call(client, "add_comment", task=ref, body="Ship it after **review**.")
        comments = await call(client, "list_comments", task=ref)
        assert any("**review**" in c["body"] for c in comments["comments"])
        with_comments = await call(client, "get_task", task=ref, include_comments=True)
        assert any("**review**" in c["body"] for c in with_comments["comments"])

        if world.supports_delete:
            deleted = await call(client, "delete_task", task=ref)
            assert deleted == {"ref": ref, "deleted": True}
            assert "not found" in (await call_error(client, "get_task", task=ref)).lower()


async def test_list_tasks_pages_and_filters(in_process_worker, world, key):
    prefix = unique("Paging")
    seeded = set(world.seed(5, prefix))
    mine = set(world.seed(1, prefix + "mine", assign_to_me=True))
    async with in_process_client(in_process_worker, key) as client:
        found, cursor, pages = [], None, 0
        while True:
            arguments = {"project": world.project_ref, "text": prefix, "limit": 2} | (
                {"cursor": cursor} if cursor else {}
            )
            page = await call(client, "list_tasks", **arguments)
            pages += 1
            found += [t["ref"] for t in page["tasks"]]
            assert len(page["tasks"]) <= 2
            for summary in page["tasks"]:  # summaries only: no descriptions in lists
                assert set(summary) <= {
                    "ref",
                    "key",
                    "title",
                    "status",
                    "status_category",
                    "assignee",
                    "priority",
                    "due",
                    "url",
                }
            cursor = page.get("next_cursor")
            if not cursor or pages > 20:
                break
        assert pages >= 3 and len(found) == len(set(found))
        assert seeded | mine <= set(found)

        assigned = await call(client, "list_tasks", project=world.project_ref, assignee="me", text=prefix)
        assert {t["ref"] for t in assigned["tasks"]} == mine

        open_tasks = await call(
            client, "list_tasks", project=world.project_ref, status_category="open", text=prefix
        )
        assert all(t["status_category"] in ("todo", "in_progress") for t in open_tasks["tasks"])

        mine_everywhere = await call(client, "list_my_tasks", limit=100)
        assert mine <= {t["ref"] for t in mine_everywhere["tasks"]}
        assert mine_everywhere["failures"] == []

        searched = await call(client, "search_tasks", text=prefix + "mine")
        assert mine <= {t["ref"] for t in searched["tasks"]}


async def test_sprints_epics_burndown_and_velocity(in_process_worker, world, key):
    async with in_process_client(in_process_worker, key) as client:
        if world.sprint_ref is None:
            assert "does not support" in await call_error(client, "list_sprints", project=world.project_ref)
        else:
            sprints = await call(client, "list_sprints", project=world.project_ref)
            assert world.sprint_ref in [s["ref"] for s in sprints["sprints"]]
            sprint = await call(client, "get_sprint", sprint=world.sprint_ref, include_tasks=True)
            assert sprint["sprint"]["ref"] == world.sprint_ref and sprint["tasks"]
            chart = await call(client, "burndown", sprint=world.sprint_ref)
            assert chart["unit"] in ("story_points", "hours", "tasks") and chart["points"]
            assert chart["points"][0]["ideal"] == chart["total"]
            result = await client.call_tool("velocity", {"project": world.project_ref})
            if result.is_error:  # a world without closed sprints says so
                assert "no closed sprints" in result.content[0].text
            else:
                velocity = result.structured_content
                assert velocity["sprints"] and velocity["unit"] in ("story_points", "hours", "tasks")
                assert all(r["completed"] <= r["committed"] for r in velocity["sprints"])
        if world.epic_ref is None:
            assert "does not support" in await call_error(client, "list_epics", project=world.project_ref)
        else:
            epics = await call(client, "list_epics", project=world.project_ref)
            assert world.epic_ref in [e["ref"] for e in epics["epics"]]
            epic = await call(client, "get_epic", epic=world.epic_ref)
            assert epic["epic"]["ref"] == world.epic_ref and epic["tasks"]


async def test_errors_name_the_problem_and_the_valid_choices(in_process_worker, world, key):
    (task,) = world.seed(1, unique("Errors"))
    native = task.partition(":")[2]
    async with in_process_client(in_process_worker, key) as client:
        if world.slug == "local":
            # The built-in tracker is this user's only connection: a bare id is enough.
            assert (await call(client, "get_task", task=native))["task"]["ref"] == task
        else:
            message = await call_error(client, "get_task", task=native)
            assert "ambiguous" in message and "local" in message and world.slug in message
        message = await call_error(client, "get_task", task=f"nosuch:{native}")
        assert "no connection 'nosuch'" in message and world.slug in message
        message = await call_error(client, "set_task_status", task=task, status="Teleported")
        assert "not a status" in message and "Valid:" in message
        message = await call_error(client, "assign_task", task=task, assignee="Nobody McNoname")
        assert "Choose one of" in message and world.other_name in message
        message = await call_error(client, "list_tasks", project=world.project_ref, limit=500)
        assert "limit" in message
        message = await call_error(client, "create_task", project=world.project_ref, title="x", colour="red")
        assert "colour" in message and "not an argument" in message
        if world.fault is not None:
            world.fault(401, count=1)
            message = await call_error(client, "get_task", task=task)
            assert (
                f"{world.slug} rejected the stored token: update it at" in message
                and "/connections" in message
            )
            world.fault(429, count=10, headers=world.extra["long_rate_limit"])
            message = await call_error(client, "get_task", task=task)
            assert "rate limiting" in message and "retry after" in message


async def test_read_only_keys_see_and_call_no_write_tool(in_process_worker, world, people, make_key):
    read_only = make_key(people[0], name="viewer", read_only=True)
    async with in_process_client(in_process_worker, read_only) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert {"list_tasks", "get_task", "burndown", "whoami"} <= names
        assert not names & {
            "create_task",
            "update_task",
            "set_task_status",
            "assign_task",
            "delete_task",
            "add_comment",
        }
        message = await call_error(client, "create_task", project=world.project_ref, title="Sneaky")
        assert message.startswith("This key is read-only: create_task needs a read-write key")


async def test_users_reach_only_their_own_connections(in_process_worker, world, people, make_key, app):
    (task,) = world.seed(1, unique("Private"))
    bo_key = make_key(people[1], name="bo")
    async with in_process_client(in_process_worker, bo_key) as client:
        if world.slug != "local":
            message = await call_error(client, "get_task", task=task)
            assert f"no connection '{world.slug}'" in message
            connections = await call(client, "list_connections")
            assert [c["slug"] for c in connections["connections"]] == ["local"]
        mine = await call(client, "list_my_tasks")
        assert task not in {t["ref"] for t in mine["tasks"]}


async def test_every_call_is_audited(in_process_worker, world, key, app):
    (task,) = world.seed(1, unique("Audit"))
    async with in_process_client(in_process_worker, key) as client:
        await call(client, "get_task", task=task)
        await call_error(client, "get_task", task=f"{world.slug}:does-not-exist-42")
    await in_process_worker.usage.flush()  # the recorder writes in batches; this writes what it holds
    with app.app_context():
        key_id = db.session.scalar(select(McpApiKey.id).where(McpApiKey.key_hash == hash_key(key)))
        rows = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.kind == "tool_call", AuditEvent.tool == "get_task", AuditEvent.key_id == key_id)
            .order_by(AuditEvent.id)
        ).all()
    assert len(rows) == 2
    ok, failed = rows
    assert ok.ok and ok.target == task and ok.error_class is None
    assert not failed.ok and failed.error_class in ("not_found", "invalid_input")
    if world.slug != "local":
        assert ok.connection_id is not None
    assert ok.duration_ms is not None and ok.key_id is not None
