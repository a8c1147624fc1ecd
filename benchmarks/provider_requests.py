"""Provider requests per adapter call, cold and warm, against the vendor fakes.

Cold: a fresh metadata cache and a fresh adapter, as right after the worker
starts. Warm: the same call again from another adapter of the same connection,
with the connection's metadata (fields, boards, statuses, hierarchy) cached.

Redmine has no fake: with REDMINE_URL and REDMINE_API_KEY (an administrator's key)
set, it is measured against that server, in a project made for the run and deleted
after (scripts/redmine-test-server.sh starts one and prints both).

    .venv/bin/python benchmarks/provider_requests.py
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fakes live with the tests

from portal.core.providers.base import (  # noqa: E402
    ME,
    ConnectionConfig,
    LinkKind,
    PageRequest,
    SprintDraft,
    StatusCategory,
    TaskChanges,
    TaskQuery,
    WorklogDraft,
    WorklogQuery,
)
from portal.core.providers.clickup import ClickUpAdapter  # noqa: E402
from portal.core.providers.http import HttpPolicy  # noqa: E402
from portal.core.providers.jira import JiraAdapter  # noqa: E402
from portal.core.providers.metadata import MetadataCache  # noqa: E402
from portal.core.providers.openproject import OpenProjectAdapter  # noqa: E402
from portal.core.providers.redmine import RedmineAdapter  # noqa: E402
from tests.fakes import clickup as fake_clickup  # noqa: E402
from tests.fakes import clickup_work as fake_clickup_work  # noqa: E402
from tests.fakes import openproject as fake_openproject  # noqa: E402
from tests.fakes.jira import FakeJira  # noqa: E402
from tests.providers.redmine_server import RedmineAdmin, RedmineServer  # noqa: E402

POLICY = HttpPolicy(allowed_hosts=("127.0.0.1",))
Call = Callable[[Any], object]


def jira() -> tuple[Any, Callable[[], ConnectionConfig], type, dict[str, Call]]:
    fake = FakeJira()
    fake.start()
    email, token = fake.credentials()
    calls: dict[str, Call] = {
        "get_task": lambda a: a.get_task("ALPHA-2"),
        "list_tasks (project)": lambda a: a.list_tasks(TaskQuery(project_id="ALPHA"), PageRequest(limit=10)),
        "list_tasks (sprint)": lambda a: a.list_tasks(TaskQuery(sprint_id="2"), PageRequest(limit=10)),
        "list_statuses": lambda a: a.list_statuses("ALPHA"),
        "list_sprints": lambda a: a.list_sprints("ALPHA", None, PageRequest(limit=10)),
        "current_user": lambda a: a.current_user(),
        "list_tasks (blocked)": lambda a: a.list_tasks(
            TaskQuery(project_id="ALPHA", blocked=True), PageRequest(limit=10)
        ),
        "list_tasks (JQL)": lambda a: a.list_tasks(
            TaskQuery(native_query="project = ALPHA ORDER BY key ASC"), PageRequest(limit=10)
        ),
        "list_link_types": lambda a: a.list_link_types(),
        "list_links": lambda a: a.list_links("ALPHA-2"),
        "list_worklogs": lambda a: a.list_worklogs("ALPHA-2", PageRequest(limit=10)),
        "task_history": lambda a: a.task_history("ALPHA-2", PageRequest(limit=10)),
        "list_fields": lambda a: a.list_fields("ALPHA"),
    }
    return fake, lambda: ConnectionConfig("jira", fake.base_url, token, username=email), JiraAdapter, calls


def openproject() -> tuple[Any, Callable[[], ConnectionConfig], type, dict[str, Call]]:
    fake = fake_openproject.FakeOpenProject()
    fake.start()
    child = str(fake.done_in_sprint_id)
    blocker = fake.add_work_package(1, "Blocker")
    fake.add_relation(blocker, int(child), "blocks")
    fake.add_relation(blocker, fake.add_work_package(1, "Blocked"), "blocks")
    native = '[{"subject": {"operator": "~", "values": ["Blocked"]}}]'
    today = date.today()

    def fresh() -> str:  # a work package made in the fake's state, not through a request
        return str(fake.add_work_package(1, "Fresh"))

    def blocks(a: Any) -> Any:
        return next(t for t in a.list_link_types() if t.kind == LinkKind.BLOCKS)

    calls: dict[str, Call] = {
        "get_task": lambda a: a.get_task(child),
        "list_tasks (project)": lambda a: a.list_tasks(TaskQuery(project_id="1"), PageRequest(limit=10)),
        "list_tasks (sprint)": lambda a: a.list_tasks(TaskQuery(sprint_id="2"), PageRequest(limit=10)),
        "list_tasks (blocked)": lambda a: a.list_tasks(
            TaskQuery(project_id="1", blocked=True), PageRequest(limit=10)
        ),
        "list_tasks (native)": lambda a: a.list_tasks(TaskQuery(native_query=native), PageRequest(limit=10)),
        "list_statuses": lambda a: a.list_statuses("1"),
        "list_sprints": lambda a: a.list_sprints("1", None, PageRequest(limit=10)),
        "current_user": lambda a: a.current_user(),
        "move_to_sprint (1)": lambda a: a.move_to_sprint([fresh()], "3"),
        "list_link_types": lambda a: a.list_link_types(),
        "list_links": lambda a: a.list_links(child),
        "link_tasks": lambda a: a.link_tasks(fresh(), child, blocks(a)),
        "log_work": lambda a: a.log_work(child, WorklogDraft(hours=1)),
        "list_worklogs": lambda a: a.list_worklogs(child, PageRequest(limit=10)),
        "search_worklogs": lambda a: a.search_worklogs(WorklogQuery(ME, today, today, "1"), PageRequest()),
        "task_history": lambda a: a.task_history(child, PageRequest(limit=10)),
        "list_fields": lambda a: a.list_fields("1"),
        "update_task (field)": lambda a: a.update_task(child, TaskChanges(fields={"customField1": "High"})),
    }

    def config() -> ConnectionConfig:
        return ConnectionConfig("op", fake.base_url, fake_openproject.TOKEN)

    return fake, config, OpenProjectAdapter, calls


def clickup() -> tuple[Any, Callable[[], ConnectionConfig], type, dict[str, Call]]:
    fake = fake_clickup.ClickUpFake()
    fake.start()
    task = fake.add_task(fake.backlog, "Measured")
    # A task planned into the current sprint, due in a week, waiting on another: the most metadata a read needs.
    planned = fake.add_task(fake.ios, "Measured in a sprint", due_date=fake.now() + fake_clickup.days(7))
    planned.other_list_ids.append(fake.current_sprint.id)
    blocker = fake.add_task(fake.backlog, "Measured blocker")
    fake.dependencies.append(fake_clickup_work.FakePair(planned.id, blocker.id, fake.me_id, fake.now()))
    fake.add_time_entry(planned, 1.5, fake.now() - 3_600_000)
    view = fake.add_view(fake.backlog, "Measured view", "Measured")
    backlog, sprint, ios = fake.backlog.id, fake.current_sprint.id, fake.ios.id
    today = date.today()
    calls: dict[str, Call] = {
        "get_task": lambda a: a.get_task(task.id),
        "get_task (in a sprint, due)": lambda a: a.get_task(planned.id),
        "list_tasks (project)": lambda a: a.list_tasks(TaskQuery(project_id=backlog), PageRequest(limit=10)),
        "list_tasks (sprint)": lambda a: a.list_tasks(TaskQuery(sprint_id=sprint), PageRequest(limit=10)),
        "list_tasks (blocked)": lambda a: a.list_tasks(
            TaskQuery(project_id=ios, blocked=True), PageRequest(limit=10)
        ),
        "list_tasks (native_query)": lambda a: a.list_tasks(
            TaskQuery(native_query=view.id), PageRequest(limit=10)
        ),
        "list_statuses": lambda a: a.list_statuses(backlog),
        "list_sprints": lambda a: a.list_sprints(backlog, None, PageRequest(limit=10)),
        "current_user": lambda a: a.current_user(),
        "list_link_types": lambda a: a.list_link_types(),
        "list_links": lambda a: a.list_links(planned.id),
        "list_fields": lambda a: a.list_fields(backlog),
        "list_worklogs": lambda a: a.list_worklogs(planned.id, PageRequest(limit=10)),
        "search_worklogs": lambda a: a.search_worklogs(
            WorklogQuery(user_id=ME, since=today - timedelta(days=7), until=today), PageRequest(limit=10)
        ),
        "create_sprint": lambda a: a.create_sprint(backlog, SprintDraft(name="Measured sprint")),
        "move_to_sprint (1 task)": lambda a: a.move_to_sprint([task.id], sprint),
        "log_work": lambda a: a.log_work(planned.id, WorklogDraft(hours=0.5)),
    }

    def config() -> ConnectionConfig:
        return ConnectionConfig("cu", fake.base_url, fake_clickup.TOKEN, options={"team_id": fake.team.id})

    return fake, config, ClickUpAdapter, calls


class RedmineProject:
    """A project on a real Redmine, made for the run: a version with two issues, a relation,
    logged time and a change in each issue's history. `requests` counts what adapters send."""

    def __init__(self, url: str, key: str):
        self.admin = RedmineAdmin(RedmineServer(url, key))
        run = uuid.uuid4().hex[:8]
        project = self.admin.call(
            "POST", "projects.json", {"project": {"name": f"Bench {run}", "identifier": f"bench-{run}"}}, 201
        )["project"]
        self.project_id = str(project["id"])
        version = {"version": {"name": f"Sprint {run}"}}
        made = self.admin.call("POST", f"projects/{self.project_id}/versions.json", version, 201)
        self.sprint_id = str(made["version"]["id"])
        self.task_ids = [
            self.admin.create_issue(self.project_id, f"Measured {n}", fixed_version_id=int(self.sprint_id))
            for n in (1, 2)
        ]
        first, second = self.task_ids
        relation = {"relation": {"issue_to_id": int(second), "relation_type": "blocks"}}
        self.admin.call("POST", f"issues/{first}/relations.json", relation, 201)
        self.admin.call(
            "PUT", f"issues/{first}.json", {"issue": {"status_id": 2, "subject": "Measured one"}}, 204
        )
        entry = {"time_entry": {"issue_id": int(first), "hours": 1, "activity_id": self.activity()}}
        self.admin.call("POST", "time_entries.json", entry, 201)
        self.requests: list[str] = []

    def activity(self) -> int:
        activities = self.admin.call("GET", "enumerations/time_entry_activities.json")[
            "time_entry_activities"
        ]
        return next((a["id"] for a in activities if a.get("is_default")), activities[0]["id"])

    def count(self, adapter: Any) -> None:
        adapter.http.session.hooks["response"].append(
            lambda response, *a, **k: self.requests.append(response.url)
        )

    def stop(self) -> None:
        self.admin.call("DELETE", f"projects/{self.project_id}.json", expect=204)
        self.admin.close()


def redmine() -> tuple[Any, Callable[[], ConnectionConfig], type, dict[str, Call]] | None:
    url, key = os.environ.get("REDMINE_URL"), os.environ.get("REDMINE_API_KEY")
    if not (url and key):
        return None
    world = RedmineProject(url, key)
    task, project, sprint = world.task_ids[0], world.project_id, world.sprint_id
    open_only = frozenset({StatusCategory.TODO, StatusCategory.IN_PROGRESS})
    calls: dict[str, Call] = {
        "get_task": lambda a: a.get_task(task),
        "list_tasks (project)": lambda a: a.list_tasks(TaskQuery(project_id=project), PageRequest(limit=10)),
        "list_tasks (sprint)": lambda a: a.list_tasks(TaskQuery(sprint_id=sprint), PageRequest(limit=10)),
        "list_tasks (open)": lambda a: a.list_tasks(
            TaskQuery(project_id=project, categories=open_only), PageRequest(limit=10)
        ),
        "list_tasks (blocked)": lambda a: a.list_tasks(
            TaskQuery(project_id=project, blocked=True), PageRequest()
        ),
        "list_tasks (native)": lambda a: a.list_tasks(
            TaskQuery(native_query=f"project_id={project}&status_id=*"), PageRequest(limit=10)
        ),
        "list_statuses": lambda a: a.list_statuses(project),
        "list_sprints": lambda a: a.list_sprints(project, None, PageRequest(limit=10)),
        "current_user": lambda a: a.current_user(),
        "list_link_types": lambda a: a.list_link_types(),
        "list_links": lambda a: a.list_links(task),
        "list_worklogs": lambda a: a.list_worklogs(task, PageRequest()),
        "task_history": lambda a: a.task_history(task, PageRequest()),
        "list_fields": lambda a: a.list_fields(project),
    }
    return world, lambda: ConnectionConfig("rm", url, key), RedmineAdapter, calls


def requests_for(fake: Any, adapter: Any, call: Call) -> int:
    if isinstance(fake, RedmineProject):
        fake.count(adapter)
    before = len(fake.requests)
    call(adapter)
    return len(fake.requests) - before


def main() -> None:
    print(f"{'vendor':<12} {'call':<28} {'cold':>5} {'warm':>5}")
    for name, setup in (
        ("JIRA", jira),
        ("OpenProject", openproject),
        ("ClickUp", clickup),
        ("Redmine", redmine),
    ):
        made = setup()
        if made is None:
            print(f"{name:<12} (set REDMINE_URL and REDMINE_API_KEY to measure it against a real server)")
            continue
        fake, config, adapter_class, calls = made
        try:
            for label, call in calls.items():
                cache = MetadataCache()
                first = adapter_class(config(), POLICY, metadata=cache)
                cold = requests_for(fake, first, call)
                second = adapter_class(config(), POLICY, metadata=cache)
                warm = requests_for(fake, second, call)
                print(f"{name:<12} {label:<28} {cold:>5} {warm:>5}")
                first.close()
                second.close()
        finally:
            fake.stop()


if __name__ == "__main__":
    main()
