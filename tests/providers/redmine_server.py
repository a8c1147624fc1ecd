"""A real Redmine for the Redmine adapter's tests, and the data the tests work on.

`redmine` (session scope) uses REDMINE_URL and REDMINE_API_KEY (an
administrator's key) when both are set; otherwise it starts the locally
installed Redmine through scripts/redmine-test-server.sh on a free port and
stops it at the end. It skips only when Redmine is not installed.

`redmine_world` (session scope) creates, through Redmine's own API and with
names unique to the run, two projects (the main one enables the "Size" custom
field), a developer who is a member of the main one, and a version holding two
issues; it deletes them afterwards. What the API can't create (the "Size" list
field, the versions' "Start date" field and the "Titles with Native" saved query)
scripts/redmine-test-server.sh adds to the server.

`RedmineProbe` reads Redmine's own state as the administrator, to check what the
adapter wrote without reading it back through the adapter.

Import both fixtures into the test module that uses them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "redmine-test-server.sh"
NOT_INSTALLED = "Redmine is not installed: run scripts/redmine-test-server.sh"
SIZE_FIELD = "Size"  # an issue custom field of the list format: Small, Medium, Large
START_FIELD = "Start date"  # a date custom field of versions
NATIVE_QUERY = "Titles with Native"  # a public saved query: any status, subject contains "Native"
MISSING_FIXTURE = (
    "Redmine at {url} has no {what}: run scripts/redmine-test-server.sh start (it adds what the tests "
    "need and the REST API can't create)"
)


@dataclass(frozen=True)
class RedmineServer:
    url: str
    api_key: str = field(repr=False)  # an administrator's


class RedmineAdmin:
    """Test setup through Redmine's REST API as the administrator (behind the adapter's back)."""

    def __init__(self, server: RedmineServer):
        self.url = server.url.rstrip("/")
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers["X-Redmine-API-Key"] = server.api_key

    def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        response = self.session.request(method, f"{self.url}/{path}", json=body, timeout=30)
        assert response.status_code == expect, (
            f"{method} {path}: {response.status_code} {response.text[:300]}"
        )
        return response.json() if response.content else None

    def create_issue(self, project_id: str, subject: str, **fields: Any) -> str:
        body = self.call(
            "POST", "issues.json", {"issue": {"project_id": project_id, "subject": subject, **fields}}, 201
        )
        return str(body["issue"]["id"])

    def role_id(self, name: str) -> int:
        roles = self.call("GET", "roles.json")["roles"]
        return next(role["id"] for role in roles if role["name"] == name)

    def custom_field_id(self, name: str, customized_type: str) -> int:
        for raw in self.call("GET", "custom_fields.json")["custom_fields"]:
            if raw["name"] == name and raw["customized_type"] == customized_type:
                return raw["id"]
        pytest.fail(MISSING_FIXTURE.format(url=self.url, what=f"{customized_type} custom field {name!r}"))

    def saved_query_id(self, name: str) -> int:
        for raw in self.call("GET", "queries.json?limit=100")["queries"]:
            if raw["name"] == name and raw["is_public"]:
                return raw["id"]
        pytest.fail(MISSING_FIXTURE.format(url=self.url, what=f"public saved query {name!r}"))

    def close(self) -> None:
        self.session.close()


@dataclass
class RedmineWorld:
    """What redmine_world made: native ids, and a developer's key for workflow tests."""

    run: str
    project_id: str
    project_identifier: str
    other_project_id: str
    developer_id: str
    developer_name: str
    developer_key: str = field(repr=False)
    sprint_id: str
    closed_sprint_id: str
    sprint_task_ids: list[str]
    size_field_id: str  # our id of the "Size" field: cf_<id>
    native_query_id: str


class RedmineProbe:
    """Redmine's own state, read (and, for history, changed) as the administrator."""

    def __init__(self, admin: RedmineAdmin):
        self.admin = admin

    def _issue(self, task_id: str) -> dict[str, Any]:
        return self.admin.call("GET", f"issues/{task_id}.json")["issue"]

    def sprint_of(self, task_id: str) -> str | None:
        version = self._issue(task_id).get("fixed_version")
        return str(version["id"]) if version else None

    def sprint(self, sprint_id: str) -> dict[str, Any]:
        version = self.admin.call("GET", f"versions/{sprint_id}.json")["version"]
        start = next(
            (f.get("value") for f in version.get("custom_fields", []) if f["name"] == START_FIELD), None
        )
        if version["status"] == "closed":
            state = "closed"
        elif start and date.fromisoformat(start) > datetime.now(UTC).date():
            state = "future"
        else:
            state = "active"
        return {"name": version["name"], "state": state, "goal": version.get("description") or None}

    def linked(self, task_id: str) -> set[str]:
        relations = self.admin.call("GET", f"issues/{task_id}/relations.json")["relations"]
        return {str(r["issue_to_id"] if str(r["issue_id"]) == task_id else r["issue_id"]) for r in relations}

    def logged_hours(self, task_id: str) -> float:
        entries = self.admin.call("GET", f"time_entries.json?issue_id={task_id}&limit=100")["time_entries"]
        return sum(float(entry["hours"]) for entry in entries)

    def field_value(self, task_id: str, field_id: str) -> Any:
        number = int(field_id.removeprefix("cf_"))
        for raw in self._issue(task_id).get("custom_fields", []):
            if raw["id"] == number:
                return raw.get("value") or None
        return None

    def retitle(self, task_id: str, title: str) -> None:
        self.admin.call("PUT", f"issues/{task_id}.json", {"issue": {"subject": title}}, 204)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _redmine_installed() -> bool:
    return subprocess.run(["bash", str(SCRIPT), "installed"], check=False).returncode == 0


@pytest.fixture(scope="session")
def redmine() -> Iterator[RedmineServer]:
    url, key = os.environ.get("REDMINE_URL"), os.environ.get("REDMINE_API_KEY")
    if url and key:
        yield RedmineServer(url, key)
        return
    if not _redmine_installed():
        if os.environ.get("REDMINE_REQUIRED"):
            pytest.fail(
                "REDMINE_REQUIRED is set but Redmine is not installed: run scripts/redmine-test-server.sh"
            )
        pytest.skip(NOT_INSTALLED)
    port = _free_port()
    with tempfile.TemporaryDirectory() as workdir:
        env_file = Path(workdir) / "redmine.env"
        started = subprocess.run(
            ["bash", str(SCRIPT), "start", "--port", str(port), "--out", str(env_file)],
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert started.returncode == 0, f"the Redmine test server did not start:\n{started.stderr[-2000:]}"
        values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    try:
        yield RedmineServer(values["REDMINE_URL"], values["REDMINE_API_KEY"])
    finally:
        subprocess.run(
            ["bash", str(SCRIPT), "stop", "--port", str(port)], check=True, capture_output=True, timeout=60
        )


@pytest.fixture(scope="session")
def redmine_admin(redmine: RedmineServer) -> Iterator[RedmineAdmin]:
    admin = RedmineAdmin(redmine)
    yield admin
    admin.close()


@pytest.fixture(scope="session")
def redmine_world(redmine_admin: RedmineAdmin) -> Iterator[RedmineWorld]:
    admin = redmine_admin
    run = uuid.uuid4().hex[:8]
    created_projects: list[str] = []
    created_users: list[str] = []
    size_field_id = admin.custom_field_id(SIZE_FIELD, "issue")
    admin.custom_field_id(START_FIELD, "version")
    native_query_id = admin.saved_query_id(NATIVE_QUERY)
    try:
        project = admin.call(
            "POST",
            "projects.json",
            {
                "project": {
                    "name": f"Contract {run}",
                    "identifier": f"contract-{run}",
                    "issue_custom_field_ids": [size_field_id],
                }
            },
            201,
        )["project"]
        created_projects.append(str(project["id"]))
        other = admin.call(
            "POST",
            "projects.json",
            {"project": {"name": f"Contract other {run}", "identifier": f"other-{run}"}},
            201,
        )["project"]
        created_projects.append(str(other["id"]))

        developer = admin.call(
            "POST",
            "users.json",
            {
                "user": {
                    "login": f"dev-{run}",
                    "firstname": "Dana",
                    "lastname": f"Dev{run}",
                    "mail": f"dev-{run}@example.com",
                    "password": f"pw-{uuid.uuid4().hex}",
                }
            },
            201,
        )["user"]
        created_users.append(str(developer["id"]))
        admin.call(
            "POST",
            f"projects/{project['id']}/memberships.json",
            {"membership": {"user_id": developer["id"], "role_ids": [admin.role_id("Developer")]}},
            201,
        )
        developer_key = admin.call("GET", f"users/{developer['id']}.json")["user"]["api_key"]

        sprint = admin.call(
            "POST", f"projects/{project['id']}/versions.json", {"version": {"name": f"Sprint {run}"}}, 201
        )["version"]
        closed = admin.call(
            "POST",
            f"projects/{project['id']}/versions.json",
            {"version": {"name": f"Done sprint {run}", "status": "closed"}},
            201,
        )["version"]
        sprint_task_ids = [
            admin.create_issue(str(project["id"]), f"Sprint work {n}", fixed_version_id=sprint["id"])
            for n in (1, 2)
        ]
        yield RedmineWorld(
            run=run,
            project_id=str(project["id"]),
            project_identifier=project["identifier"],
            other_project_id=str(other["id"]),
            developer_id=str(developer["id"]),
            developer_name=f"Dana Dev{run}",
            developer_key=developer_key,
            sprint_id=str(sprint["id"]),
            closed_sprint_id=str(closed["id"]),
            sprint_task_ids=sprint_task_ids,
            size_field_id=f"cf_{size_field_id}",
            native_query_id=str(native_query_id),
        )
    finally:
        # Deleting a project deletes its issues and versions too.
        for project_id in created_projects:
            admin.call("DELETE", f"projects/{project_id}.json", expect=204)
        for user_id in created_users:
            admin.call("DELETE", f"users/{user_id}.json", expect=204)
