"""The sprint-work tools through the real worker and the official MCP client, on the fake JIRA and the real
Redmine: each write is checked in the vendor's own state (the fake's store, Redmine's REST API as the
administrator), never by reading it back through our tools."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from portal.core.toolsets import TOOLSETS
from tests.fakes.jira import FakeJira
from tests.fakes.jira_work import TEAM_FIELD
from tests.providers.redmine_server import (  # noqa: F401 - fixtures
    RedmineAdmin,
    RedmineProbe,
    RedmineWorld,
    redmine,
    redmine_admin,
    redmine_world,
)

from . import worlds
from .harness import mcp_client
from .test_tools import call, call_error, unique

pytestmark = pytest.mark.anyio

WRITE_TOOLS = {
    "create_sprint": {"project": "x:1", "name": "S"},
    "update_sprint": {"sprint": "x:1", "name": "S"},
    "move_to_sprint": {"tasks": ["x:1"], "sprint": "backlog"},
    "link_tasks": {"task": "x:1", "other": "x:2", "kind": "blocks"},
    "unlink_tasks": {"link": "x:1"},
    "log_work": {"task": "x:1", "hours": 1},
    "bulk_create_tasks": {"items": [{"project": "x:1", "title": "T"}]},
    "bulk_update_tasks": {"items": [{"task": "x:1", "title": "T"}]},
}


async def call_with(client, tool: str, arguments: dict[str, Any]) -> dict:
    """call() for arguments that clash with its own parameter names (a sprint's `name`)."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, f"{tool} failed: {result.content[0].text}"
    return result.structured_content


def native(ref: str) -> str:
    return ref.partition(":")[2]


class JiraState:
    """What the fake JIRA holds."""

    def __init__(self, fake: FakeJira):
        self.fake = fake

    def sprint(self, ref: str) -> dict[str, Any]:
        sprint = self.fake.sprints[int(native(ref))]
        return {"name": sprint.name, "state": sprint.state, "goal": sprint.goal or None}

    def sprint_of(self, task: str) -> str | None:
        current = self.fake.current_sprint_of(native(task))
        return None if current is None else str(current)

    def linked(self, task: str) -> set[str]:
        return self.fake.linked_keys(native(task))

    def logged_hours(self, task: str) -> float:
        return sum(w.seconds for w in self.fake.worklogs.get(native(task), [])) / 3600

    def option_field(self, task: str) -> str | None:
        value = self.fake.issues[native(task)].custom.get(TEAM_FIELD)
        return value["value"] if value else None

    def task_count(self) -> int:
        return len(self.fake.issues)

    def titles(self) -> set[str]:
        return {issue.summary for issue in self.fake.issues.values()}

    def title_of(self, task: str) -> str:
        return self.fake.issues[native(task)].summary


class RedmineState:
    """What the real Redmine holds, read as its administrator."""

    def __init__(self, admin: RedmineAdmin, world: RedmineWorld):
        self.admin = admin
        self.probe = RedmineProbe(admin)
        self.world = world

    def sprint(self, ref: str) -> dict[str, Any]:
        return self.probe.sprint(native(ref))

    def sprint_of(self, task: str) -> str | None:
        return self.probe.sprint_of(native(task))

    def linked(self, task: str) -> set[str]:
        return self.probe.linked(native(task))

    def logged_hours(self, task: str) -> float:
        return self.probe.logged_hours(native(task))

    def option_field(self, task: str) -> str | None:
        return self.probe.field_value(native(task), self.world.size_field_id)

    def _issues(self) -> list[dict[str, Any]]:
        found, offset = [], 0
        while True:
            page = self.admin.call(
                "GET", f"issues.json?project_id={self.world.project_id}&status_id=*&limit=100&offset={offset}"
            )
            found += page["issues"]
            offset += 100
            if offset >= page["total_count"]:
                return found

    def task_count(self) -> int:
        return len(self._issues())

    def titles(self) -> set[str]:
        return {issue["subject"] for issue in self._issues()}

    def title_of(self, task: str) -> str:
        return self.admin.call("GET", f"issues/{native(task)}.json")["issue"]["subject"]


@dataclass
class Setting:
    world: worlds.ToolWorld
    state: Any
    option_field: str  # the name of a single-choice custom field of the project
    options: tuple[str, ...]


@pytest.fixture(params=["jira", "redmine"])
def setting(request, app, people) -> Setting:
    ana = people[0]
    if request.param == "jira":
        fake = request.getfixturevalue("jira_fake")
        return Setting(
            worlds.jira_world(app, ana, fake), JiraState(fake), "Team", ("Payments", "Search", "Platform")
        )
    admin = request.getfixturevalue("redmine_admin")
    redmine_world_ = request.getfixturevalue("redmine_world")
    world = worlds.redmine_world(app, ana, request.getfixturevalue("redmine"), admin, redmine_world_)
    return Setting(world, RedmineState(admin, redmine_world_), "Size", ("Small", "Medium", "Large"))


@pytest.fixture
def key(people, make_key) -> str:
    return make_key(people[0], name="laptop", toolsets=list(TOOLSETS))  # bulk included


async def test_plan_start_and_close_a_sprint(worker, setting, key):
    world, state = setting.world, setting.state
    tasks = world.seed(3, unique("Planned"))
    start = date.today() + timedelta(days=1)
    async with mcp_client(worker.url, key) as client:
        made = await call_with(
            client,
            "create_sprint",
            {
                "project": world.project_ref,
                "name": unique("Next sprint "),
                "start": start.isoformat(),
                "end": (start + timedelta(days=13)).isoformat(),
                "goal": "Checkout that never fails",
            },
        )
        sprint = made["sprint"]["ref"]
        assert state.sprint(sprint)["name"] == made["sprint"]["name"]
        assert state.sprint(sprint)["goal"] == "Checkout that never fails"

        moved = await call(client, "move_to_sprint", tasks=[*tasks, f"{world.slug}:999999"], sprint=sprint)
        assert [r["moved"] for r in moved["results"]] == [True, True, True, False]
        assert moved["moved"] == 3 and moved["failed"] == 1
        assert moved["results"][3]["task"] == f"{world.slug}:999999" and moved["results"][3]["error"]
        assert [state.sprint_of(t) for t in tasks] == [native(sprint)] * 3

        renamed = await call_with(
            client, "update_sprint", {"sprint": sprint, "name": "Renamed sprint", "goal": None}
        )
        assert renamed["sprint"]["name"] == "Renamed sprint"
        assert state.sprint(sprint)["name"] == "Renamed sprint" and state.sprint(sprint)["goal"] is None

        if world.provider == "jira":
            started = await call(client, "update_sprint", sprint=sprint, state="active")
            assert started["sprint"]["state"] == "active" and state.sprint(sprint)["state"] == "active"
        else:
            message = await call_error(client, "update_sprint", sprint=sprint, state="active")
            assert "Redmine versions can't be started" in message and "start to today" in message

        await call(client, "move_to_sprint", tasks=[tasks[0]], sprint="backlog")
        assert state.sprint_of(tasks[0]) is None

        closed = await call(client, "update_sprint", sprint=sprint, state="closed", move_open_to="backlog")
        assert closed["sprint"]["state"] == "closed" and state.sprint(sprint)["state"] == "closed"
        assert [state.sprint_of(t) for t in tasks[1:]] == [None, None]

        message = await call_error(client, "update_sprint", sprint=world.sprint_ref, move_open_to="backlog")
        assert "move_open_to is only for closing a sprint" in message
        message = await call_error(
            client, "move_to_sprint", tasks=[f"{world.slug}:{n}" for n in range(51)], sprint="backlog"
        )
        assert "at most 50" in message


async def test_link_see_filter_and_unlink(worker, setting, key):
    world, state = setting.world, setting.state
    blocked, blocker, related = world.seed(3, unique("Linked"))
    async with mcp_client(worker.url, key) as client:
        made = await call(client, "link_tasks", task=blocked, other=blocker, kind="is blocked by")
        link = made["link"]
        assert link["kind"] == "is blocked by" and link["other"] == blocker
        assert state.linked(blocked) == {native(blocker)}
        await call(client, "link_tasks", task=blocked, other=related, kind="Relates To")
        assert state.linked(blocked) == {native(blocker), native(related)}

        detail = await call(client, "get_task", task=blocked, include=["links", "worklogs"])
        kinds = {(x["kind"], x["other"]) for x in detail["links"]}
        assert kinds == {("is blocked by", blocker), ("relates to", related)}
        assert detail["worklogs"] == []

        found = await call(client, "list_tasks", project=world.project_ref, blocked=True, limit=100)
        refs = {t["ref"] for t in found["tasks"]}
        assert blocked in refs and blocker not in refs and related not in refs

        message = await call_error(client, "link_tasks", task=blocked, other=related, kind="haunts")
        assert "'haunts' is not a kind of link" in message and "blocks" in message
        message = await call_error(client, "link_tasks", task=blocked, other=blocked, kind="blocks")
        assert "can't be linked to itself" in message

        removed = await call(client, "unlink_tasks", link=link["ref"])
        assert removed["removed"] is True
        assert state.linked(blocked) == {native(related)}


async def test_log_work_list_it_and_read_history(worker, setting, key):
    world, state = setting.world, setting.state
    (task,) = world.seed(1, unique("Logged"))
    day = date.today() - timedelta(days=1)
    async with mcp_client(worker.url, key) as client:
        logged = await call(
            client,
            "log_work",
            task=task,
            duration="1h30m",
            started=day.isoformat(),
            comment="Paired on **it**",
        )
        assert logged["worklog"]["hours"] == 1.5
        await call(client, "log_work", task=task, hours=0.25)
        assert state.logged_hours(task) == pytest.approx(1.75)

        on_task = await call(client, "list_worklogs", task=task)
        assert sorted(w["hours"] for w in on_task["worklogs"]) == [0.25, 1.5]
        assert on_task["total_hours"] == pytest.approx(1.75)

        mine = await call(
            client, "list_worklogs", person="me", project=world.project_ref, since=day.isoformat(), limit=100
        )
        assert {w["task"] for w in mine["worklogs"]} >= {task}

        for bad, expected in (
            ("1h30", "is not a duration"),
            ("2x", "is not a duration"),
            ("30m1h", "not a duration"),
        ):
            message = await call_error(client, "log_work", task=task, duration=bad)
            assert expected in message
        message = await call_error(client, "log_work", task=task, duration="25h")
        assert "at most 24 hours" in message
        message = await call_error(client, "log_work", task=task, hours=1, duration="1h")
        assert "either hours" in message
        assert state.logged_hours(task) == pytest.approx(1.75)

        await call(client, "update_task", task=task, title="Renamed while logging")
        history = await call(client, "get_task_history", task=task)
        titles = [c for c in history["changes"] if c["field"].lower() in ("summary", "subject", "title")]
        assert titles and titles[-1]["new"] == "Renamed while logging"


async def test_custom_fields_are_checked_before_any_write(worker, setting, key):
    world, state = setting.world, setting.state
    name, options = setting.option_field, setting.options
    async with mcp_client(worker.url, key) as client:
        listed = await call(client, "list_fields", project=world.project_ref)
        field = next(f for f in listed["fields"] if f["name"] == name)
        assert field["type"] == "option" and set(options) <= set(field["allowed"]) and field["settable"]

        title = unique("With field ")
        created = await call(
            client,
            "create_task",
            project=world.project_ref,
            title=title,
            fields={name.upper(): options[1].lower()},
        )
        task = created["task"]["ref"]
        assert state.option_field(task) == options[1]

        await call(client, "update_task", task=task, fields={name: options[2]})
        assert state.option_field(task) == options[2]

        before = state.task_count()
        message = await call_error(
            client, "create_task", project=world.project_ref, title=unique("Never"), fields={"Colour": "red"}
        )
        assert "'Colour' is not a field" in message and name in message
        message = await call_error(
            client, "create_task", project=world.project_ref, title=unique("Never"), fields={name: "Huge"}
        )
        assert "'Huge' is not one of" in message and all(o in message for o in options)
        message = await call_error(client, "update_task", task=task, fields={name: "Huge"})
        assert "Nothing was written" in message
        assert state.task_count() == before and state.option_field(task) == options[2]


async def test_bulk_writes_are_all_checked_first_then_reported_per_item(worker, setting, key):
    world, state = setting.world, setting.state
    prefix = unique("Bulk ")
    async with mcp_client(worker.url, key) as client:
        before = state.task_count()
        too_many = [{"project": world.project_ref, "title": f"{prefix}{n}"} for n in range(51)]
        message = await call_error(client, "bulk_create_tasks", items=too_many)
        assert "at most 50" in message

        one_bad = [
            {"project": world.project_ref, "title": f"{prefix}a"},
            {"project": world.project_ref, "title": f"{prefix}b", "assignee": "nobody-like-this@example.com"},
            {"project": world.project_ref, "title": f"{prefix}c", "fields": {"Colour": "red"}},
        ]
        message = await call_error(client, "bulk_create_tasks", items=one_bad)
        assert message.startswith("Nothing was written: 2 of 3 items are invalid")
        assert "item 1:" in message and "item 2:" in message and "item 0:" not in message
        assert state.task_count() == before

        items = [{"project": world.project_ref, "title": f"{prefix}{n}"} for n in range(5)]
        made = await call(client, "bulk_create_tasks", items=items)
        assert made["written"] == 5 and made["failed"] == 0
        refs = [r["task"]["ref"] for r in made["results"]]
        assert [r["index"] for r in made["results"]] == list(range(5))
        assert {f"{prefix}{n}" for n in range(5)} <= state.titles() and state.task_count() == before + 5

        changes = [{"task": ref, "title": f"{prefix}renamed {n}"} for n, ref in enumerate(refs[:3])]
        changes.append({"task": f"{world.slug}:999999", "title": "Ghost"})
        updated = await call(client, "bulk_update_tasks", items=changes[:3])
        assert updated["written"] == 3
        assert [state.title_of(ref) for ref in refs[:3]] == [f"{prefix}renamed {n}" for n in range(3)]

        message = await call_error(client, "bulk_update_tasks", items=[changes[0], changes[0]])
        assert "both change" in message


async def test_read_only_keys_are_refused_every_sprint_work_write(worker, people, make_key):
    read_only = make_key(people[0], name="viewer", read_only=True, toolsets=list(TOOLSETS))
    async with mcp_client(worker.url, read_only) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert {"list_worklogs", "get_task_history", "list_fields"} <= names
        assert not names & set(WRITE_TOOLS)
        for tool, arguments in WRITE_TOOLS.items():
            result = await client.call_tool(tool, arguments)
            message = result.content[0].text
            assert result.is_error and message.startswith(
                f"This key is read-only: {tool} needs a read-write key"
            ), message


async def test_what_a_vendor_lacks_is_said_with_what_to_use(worker, app, people, key, clickup_fake):
    world = worlds.clickup_world(app, people[0], clickup_fake)
    (task,) = world.seed(1, unique("History"))
    async with mcp_client(worker.url, key) as client:
        message = await call_error(client, "get_task_history", task=task)
        assert message.startswith("cu (ClickUp) does not support this: ClickUp does not support reading")
        assert "Open the task in ClickUp" in message


async def test_native_queries_pass_through_and_stand_alone(worker, app, people, key, jira_fake):
    world = worlds.jira_world(app, people[0], jira_fake)
    (task,) = world.seed(1, unique("Native"))
    async with mcp_client(worker.url, key) as client:
        found = await call(
            client, "list_tasks", connection=world.slug, native_query=f"key = {native(task)} ORDER BY key"
        )
        assert [t["ref"] for t in found["tasks"]] == [task]
        jql = [r.json().get("jql") for r in jira_fake.requests if r.path == "/rest/api/3/search/jql"]
        assert jql[-1] == f"key = {native(task)} ORDER BY key"

        message = await call_error(
            client, "list_tasks", connection=world.slug, native_query="project = ALPHA", text="cart"
        )
        assert "put text into it" in message
        message = await call_error(client, "list_tasks", connection="local", native_query="anything")
        assert "The built-in tracker has no query language" in message


async def test_a_redmine_saved_query_runs_as_redmine_keeps_it(worker, app, people, key, request):
    saved = request.getfixturevalue("redmine_world")
    world = worlds.redmine_world(
        app, people[0], request.getfixturevalue("redmine"), request.getfixturevalue("redmine_admin"), saved
    )
    (task,) = world.seed(1, unique("Native query "))  # the saved query keeps subjects containing "Native"
    (other,) = world.seed(1, unique("Plain "))
    async with mcp_client(worker.url, key) as client:
        refs, cursor = set(), None
        for _ in range(50):  # the query spans every project of the shared server: read it whole
            arguments = {"connection": world.slug, "native_query": saved.native_query_id, "limit": 100}
            found = await call(client, "list_tasks", **arguments, **({"cursor": cursor} if cursor else {}))
            refs |= {t["ref"] for t in found["tasks"]}
            cursor = found.get("next_cursor")
            if not cursor:
                break
        assert task in refs and other not in refs
