"""What a model sees: cursors in the text, read-only keys told why, argument suggestions, and an
unexpected failure in a fan-out logged and named rather than swallowed."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from mcp_worker.connections import fan_out
from mcp_worker.tools import build_registry
from mcp_worker.tools.context import failure_of
from portal.core.providers import errors

from . import worlds
from .harness import in_process_client
from .test_tools import call, call_error

pytestmark = pytest.mark.anyio
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def local(app, make_user):
    ana = make_user("ana@example.com", "Ana Silva")
    bo = make_user("bo@example.com", "Bo Berg")
    return ana, worlds.local_world(app, ana, bo)


async def test_a_model_that_sees_only_the_text_can_page(in_process_worker, local, make_key):
    ana, world = local
    seeded = set(world.seed(3, "Paging"))
    key = make_key(ana)
    seen: list[str] = []
    cursor = None
    async with in_process_client(in_process_worker, key) as client:
        for _ in range(10):
            arguments = {"project": world.project_ref, "text": "Paging", "limit": 1}
            result = await client.call_tool("list_tasks", arguments | ({"cursor": cursor} if cursor else {}))
            text = result.content[0].text
            seen += re.findall(r"^(local:WEB-\d+) ", text, re.MULTILINE)
            found = re.search(r'\(more: next_cursor="([^"]+)"; pass it as cursor', text)
            assert (found.group(1) if found else None) == result.structured_content.get("next_cursor")
            if not found:
                break
            cursor = found.group(1)  # taken from the text alone
    assert sorted(seen) == sorted(seeded)


async def test_a_read_only_key_is_told_why_a_write_tool_is_refused(in_process_worker, local, make_key):
    ana, world = local
    key = make_key(ana, name="viewer", read_only=True)
    async with in_process_client(in_process_worker, key) as client:
        message = await call_error(client, "create_task", project=world.project_ref, title="x")
        assert message == (
            "This key is read-only: create_task needs a read-write key (create one in the portal under MCP keys: "
            "http://127.0.0.1:5000/keys)."
        )
        assert "no tool named" not in message
        # A name that is no tool at all is still "no tool", with the nearest visible one suggested.
        message = await call_error(client, "list_task", project=world.project_ref)
        assert message.startswith("There is no tool named 'list_task'. Did you mean list_tasks?")


async def test_unknown_arguments_get_a_suggestion_or_the_list_of_arguments(
    in_process_worker, local, make_key
):
    ana, world = local
    (task,) = world.seed(1, "Suggest")
    async with in_process_client(in_process_worker, make_key(ana)) as client:
        message = await call_error(client, "update_task", task=task, points=3)
        assert "points: is not an argument of this tool (did you mean story_points?)" in message
        message = await call_error(client, "create_task", project=world.project_ref, title="x", estimate=2)
        assert "did you mean estimate_hours?" in message
        message = await call_error(client, "get_task", task=task, colour="red")
        assert "colour: is not an argument of this tool. Its arguments are: " in message
        assert "include_comments" in message
        assert (await call(client, "update_task", task=task, story_points=3))["task"]["story_points"] == 3


def test_the_readme_tool_table_uses_the_schemas_argument_names():
    rows = {}
    text = README.read_text()
    table = text[text.index("| tool | arguments | what it does |") :].split("\n\n", 1)[0]
    for line in table.splitlines():
        match = re.match(r"\| `(\w+)` \|([^|]*)\| [^|]+ \|$", line)
        if match:
            named = re.findall(r"(\*\*)?`(\w+)`", match.group(2))
            rows[match.group(1)] = {name: bool(bold) for bold, name in named}
    registry = build_registry()
    assert set(rows) == {spec.name for spec in registry.specs}
    for spec in registry.specs:
        schema = spec.mcp_tool.input_schema
        expected = {name: name in schema.get("required", []) for name in schema.get("properties", {})}
        assert rows[spec.name] == expected, spec.name


class Broken(Exception):
    pass


async def test_an_unexpected_failure_in_a_fan_out_is_logged_with_its_traceback_and_named(caplog):
    class View:
        def __init__(self, slug):
            self.slug = slug

    async def work(view):
        if view.slug == "acme-jira":
            raise Broken("a bug in parsing")
        if view.slug == "ops-redmine":
            raise errors.Unavailable("Redmine had a server error (503)")
        return ["ok"]

    views = [View("local"), View("acme-jira"), View("ops-redmine")]
    with caplog.at_level(logging.ERROR, logger="mcp_worker.connections"):
        results, failures = await fan_out(views, work, time_limit=5)
    assert results == {"local": ["ok"]} and set(failures) == {"acme-jira", "ops-redmine"}
    logged = [r for r in caplog.records if r.name == "mcp_worker.connections"]
    assert len(logged) == 1  # the vendor's 503 is an expected failure, reported but not a bug
    assert "acme-jira" in logged[0].getMessage() and logged[0].exc_info[0] is Broken
    assert "raise Broken" in caplog.text  # the traceback, not only the message

    error_class, message = failure_of("acme-jira", failures["acme-jira"], call=None)
    assert error_class == "internal_error"
    assert message.startswith("acme-jira failed because of an unexpected error on the server (Broken)")
    assert "has been logged" in message
