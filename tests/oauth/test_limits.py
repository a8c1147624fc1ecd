"""The limits a user chose (some connections only, read-only) hold for every tool, for an OAuth grant and
for an MCP key alike: a tool, a ref, a fan-out or list_connections never reaches a connection outside them,
and a ref to one is "not found", worded exactly as for a connection of another user."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from portal.core.models import OAuthClient
from portal.core.oauth import grants as grant_service
from portal.core.oauth.grants import Consent, canonical_resource
from portal.extensions import db
from tests.fakes.jira import TODO
from tests.worker import worlds
from tests.worker.harness import mcp_client

from .flow import REDIRECT_URI

pytestmark = pytest.mark.anyio


def grant_token(
    app, user_id: int, resource: str, *, read_only: bool, connection_ids: list[int] | None
) -> str:
    """An access token for a grant given with these choices (as the consent page and the token endpoint do)."""
    with app.app_context():
        client = OAuthClient(
            client_id="pmc_" + secrets.token_urlsafe(8),
            kind="preregistered",
            client_name="Limits client",
            redirect_uris=[REDIRECT_URI],
            grant_types=["authorization_code"],
            token_endpoint_auth_method="none",
        )
        db.session.add(client)
        db.session.flush()
        raw = secrets.token_urlsafe(32)
        grant_service.issue_code(
            db.session,
            raw,
            client=client,
            user_id=user_id,
            redirect_uri=REDIRECT_URI,
            resource=canonical_resource(resource),
            code_challenge="c" * 43,
            code_challenge_method="S256",
            consent=Consent(read_only=read_only, connection_ids=connection_ids, grant_days=1),
        )
        code = grant_service.find_code(db.session, raw, client)
        issued = grant_service.redeem_code(db.session, code, with_refresh_token=False)
        db.session.commit()
        return issued.access_token


@pytest.fixture
def setup(app, people, jira_fake):
    ana, bo = people
    local = worlds.local_world(app, ana, bo)
    jira = worlds.jira_world(app, ana, jira_fake)
    return local, jira


def credential(kind: str, app, stack, user_id: int, make_key, *, read_only: bool, connection_ids) -> str:
    if kind == "grant":
        return grant_token(app, user_id, stack.worker.url, read_only=read_only, connection_ids=connection_ids)
    return make_key(
        user_id, name=f"limited {secrets.token_hex(3)}", read_only=read_only, connection_ids=connection_ids
    )


def jira_calls(jira: worlds.ToolWorld, task: str) -> list[tuple[str, dict[str, Any]]]:
    """Every tool that takes a connection or a ref, aimed at the JIRA connection."""
    project = jira.project_ref
    return [
        ("get_current_user", {"connection": "acme-jira"}),
        ("list_projects", {"connection": "acme-jira"}),
        ("get_project", {"project": project}),
        ("list_statuses", {"project": project}),
        ("list_users", {"project": project}),
        ("list_tasks", {"project": project}),
        ("get_task", {"task": task}),
        ("list_comments", {"task": task}),
        ("list_sprints", {"project": project}),
        ("get_sprint", {"sprint": jira.sprint_ref}),
        ("list_epics", {"project": project}),
        ("get_epic", {"epic": jira.epic_ref}),
        ("burndown", {"sprint": jira.sprint_ref}),
        ("velocity", {"project": project}),
        ("create_task", {"project": project, "title": "should not exist"}),
        ("update_task", {"task": task, "description": "changed"}),
        ("set_task_status", {"task": task, "status": "Done"}),
        ("assign_task", {"task": task, "assignee": "me"}),
        ("add_comment", {"task": task, "body": "should not exist"}),
        ("delete_task", {"task": task}),
    ]


@pytest.mark.parametrize("kind", ["grant", "key"])
async def test_a_connection_outside_the_limit_is_invisible_to_every_tool(
    stack, app, people, setup, make_key, jira_fake, kind
):
    ana, bo = people
    local, jira = setup
    mine = jira.seed(1, "jira task", assign_to_me=True)[0]
    local.seed(1, "local task", assign_to_me=True)
    token = credential(kind, app, stack, ana, make_key, read_only=False, connection_ids=[0])
    other_user = make_key(bo, name="bo key")
    async with (
        mcp_client(stack.worker.url, token, form="bearer") as client,
        mcp_client(stack.worker.url, other_user) as bo_client,
    ):
        listed = (await client.call_tool("list_connections", {})).structured_content
        assert [c["slug"] for c in listed["connections"]] == ["local"]
        me = (await client.call_tool("whoami", {})).structured_content
        assert me["allowed_connections"] == ["local"] and me["connection_count"] == 1
        assert me["signed_in_with"] == ("oauth" if kind == "grant" else "key")
        # Fan-out tools ask only the allowed connections (JIRA is not even a failure).
        for name, arguments in (
            ("list_projects", {}),
            ("list_my_tasks", {}),
            ("search_tasks", {"text": "task"}),
        ):
            result = await client.call_tool(name, arguments)
            assert not result.is_error, result.content
            content = result.structured_content
            items = content.get("projects") or content.get("tasks") or []
            assert items and all(item["ref"].startswith("local:") for item in items), (name, content)
            assert not content.get("failures"), (name, content)
        # Every tool aimed at JIRA: "not found", worded exactly as for another user's connection.
        for name, arguments in jira_calls(jira, mine):
            result = await client.call_tool(name, arguments)
            assert result.is_error, (name, result.structured_content)
            text = result.content[0].text
            assert "There is no connection 'acme-jira' among yours" in text, (name, text)
            foreign = (await bo_client.call_tool(name, arguments)).content[0].text
            assert text == foreign, (name, text, foreign)
    # Nothing reached JIRA: the task is there, unchanged and uncommented.
    issue = jira_fake.issues[mine.split(":")[1]]
    assert issue.summary == "jira task 0" and issue.description is None and not issue.comments
    assert issue.assignee == jira_fake.me.account_id and issue.status == TODO


@pytest.mark.parametrize("kind", ["grant", "key"])
async def test_read_only_sees_and_calls_no_write_tool(stack, app, people, setup, make_key, kind):
    ana, _ = people
    local, _jira = setup
    task = local.seed(1, "local task")[0]
    token = credential(kind, app, stack, ana, make_key, read_only=True, connection_ids=None)
    async with mcp_client(stack.worker.url, token, form="bearer") as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names and not names & {
            "create_task",
            "update_task",
            "delete_task",
            "add_comment",
            "assign_task",
        }
        refused = await client.call_tool("delete_task", {"task": task})
        # Told plainly why, so the model can tell its user what to change.
        expected = (
            "This sign-in is read-only: delete_task needs write access"
            if kind == "grant"
            else "This key is read-only: delete_task needs a read-write key"
        )
        assert refused.is_error and refused.content[0].text.startswith(expected), refused.content[0].text
        got = await client.call_tool("get_task", {"task": task})
        assert not got.is_error
        listed = (await client.call_tool("list_connections", {})).structured_content
        assert {c["slug"] for c in listed["connections"]} == {"local", "acme-jira"}


async def test_a_limit_to_jira_hides_the_built_in_tracker(stack, app, people, setup, make_key):
    ana, _ = people
    local, jira = setup
    local_task = local.seed(1, "local task")[0]
    with app.app_context():
        from sqlalchemy import select

        from portal.core.models import ProviderConnection

        jira_id = db.session.scalar(
            select(ProviderConnection.id).where(ProviderConnection.slug == "acme-jira")
        )
    token = grant_token(app, ana, stack.worker.url, read_only=False, connection_ids=[jira_id])
    async with mcp_client(stack.worker.url, token, form="bearer") as client:
        listed = (await client.call_tool("list_connections", {})).structured_content
        assert [c["slug"] for c in listed["connections"]] == ["acme-jira"]
        refused = await client.call_tool("get_task", {"task": local_task})
        assert refused.is_error and "There is no connection 'local' among yours" in refused.content[0].text
        # With one connection left, a bare id means that one.
        projects = (await client.call_tool("list_projects", {})).structured_content["projects"]
        assert projects and all(p["ref"].startswith("acme-jira:") for p in projects)
