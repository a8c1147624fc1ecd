"""No result overflows MCP_MAX_RESULT_TOKENS, and all of a huge task can still be read by paging.

A task with a 1 MB description and 600 comments (one of them long), on the built-in tracker and on
the ClickUp fake: every tool that touches it answers under the ceiling, and the description, every
comment and the long comment's whole body are read back exactly by following the markers and cursors.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from portal.core.db import Database
from portal.core.models import TrackerComment, TrackerTask
from portal.core.tracker import service as tracker
from portal.extensions import db
from tests.fakes.clickup import ClickUpFake

from . import worlds
from .harness import mcp_client

pytestmark = pytest.mark.anyio

CEILING_CHARS = 20_000 * 4  # the default MCP_MAX_RESULT_TOKENS, 4 characters a token
COMMENTS = 600
START = datetime(2026, 6, 1, 9, tzinfo=UTC)


def huge_description() -> str:
    """About 1 MB of Markdown: numbered paragraphs of sentences, so every cut can be checked."""
    paragraphs = []
    n = 0
    while sum(len(p) + 2 for p in paragraphs) < 1_000_000:
        sentences = " ".join(f"Sentence {n}.{i} says what step {n} needs." for i in range(12))
        paragraphs.append(f"## Step {n}\n{sentences}")
        n += 1
    return "\n\n".join(paragraphs)


def comment_body(i: int) -> str:
    if i == 300:
        return "The long one. " + " ".join(f"Point {k} of the long comment." for k in range(6000))
    return f"Comment number {i}: " + "a remark that takes a little room. " * 8


@pytest.fixture
def ana(make_user) -> int:
    return make_user("ana@example.com", "Ana Silva")


def local_task(app, ana: int) -> tuple[str, str]:
    world = worlds.local_world(app, ana, ana)
    with app.app_context():
        database = Database.from_engine(db.engine)
    description = huge_description()
    with database.session() as session:
        project = tracker.get_project(session, "WEB")
        task = tracker.create_task(session, project, title="Huge task", assignee_id=ana, actor_id=ana)
        # Longer than the tracker's form allows: as a task imported from elsewhere would be.
        session.get(TrackerTask, task.id).description = description
        session.add_all(
            TrackerComment(
                task_id=task.id, author_id=ana, body=comment_body(i), created_at=START + timedelta(minutes=i)
            )
            for i in range(COMMENTS)
        )
        key = task.key
    assert world.project_ref == "local:WEB"
    return f"local:{key}", description


def size(result) -> int:
    text = "".join(part.text for part in result.content)
    return len(text) + len(json.dumps(result.structured_content, separators=(",", ":")))


async def fitting(client, name: str, **arguments) -> dict:
    result = await client.call_tool(name, arguments)
    assert not result.is_error, result.content[0].text
    assert size(result) <= CEILING_CHARS, f"{name} {arguments} is {size(result)} characters"
    return result.structured_content


def read_on(text: str, argument: str) -> tuple[str, int | None]:
    """The text before a cut's marker, and the offset the marker says to read on from."""
    found = re.search(r"\n\[… [\d,]+ more characters left out, of [\d,]+\. (.*)\]$", text)
    if not found:
        return text, None
    offset = re.search(rf"{argument}=(\d+)", found.group(1))
    assert offset, found.group(1)
    return text[: found.start()], int(offset.group(1))


async def every_tool_fits_and_all_can_be_read(client, ref: str, description: str, project: str) -> None:
    # The description, read whole by following the markers.
    got = await fitting(client, "get_task", task=ref)
    pieces, offset, calls = [], 0, 0
    while True:
        text, offset = read_on(got["task"]["description"], "description_offset")
        pieces.append(text)
        if offset is None:
            break
        calls += 1
        got = await fitting(client, "get_task", task=ref, description_offset=offset)
    assert "".join(pieces) == description
    assert calls >= 1_000_000 // CEILING_CHARS  # it did need paging

    summary = await fitting(client, "get_task", task=ref, detail="summary")
    assert len(summary["task"]["description"]) < 1000

    # Every comment, newest first, page by page.
    seen: list[str] = []
    cursor = None
    while True:
        arguments = {"comments_cursor": cursor} if cursor else {"include_comments": True}
        page = await fitting(client, "get_task", task=ref, comments_limit=50, **arguments)
        assert page["comment_count"] == COMMENTS
        seen += [c["body"] for c in page["comments"]]
        cursor = page["next_comments_cursor"]
        if not cursor:
            break
    assert len(seen) == COMMENTS
    numbers = [
        int(re.match(r"(?:Comment number )?(\d+)", b).group(1)) if "number" in b else 300 for b in seen
    ]
    assert numbers == list(range(COMMENTS - 1, -1, -1))  # newest first, none missing

    # The long comment: cut in lists, whole when read alone by following its markers.
    listed = await fitting(client, "list_comments", task=ref, limit=100)
    assert all(len(c["body"]) < 1000 for c in listed["comments"])
    long_id = None
    cursor = None
    while long_id is None:
        page = await fitting(
            client,
            "list_comments",
            task=ref,
            limit=100,
            detail="full",
            **({"cursor": cursor} if cursor else {}),
        )
        for c in page["comments"]:
            if c["body"].startswith("The long one."):
                long_id = re.search(r"comment='([^']+)'", c["body"]).group(1)
        cursor = page.get("next_cursor")
        assert long_id or cursor
    parts, offset = [], 0
    while offset is not None:
        page = await fitting(client, "list_comments", task=ref, comment=long_id, offset=offset)
        text, offset = read_on(page["comments"][0]["body"], "offset")
        parts.append(text)
    assert "".join(parts).strip() == comment_body(300).strip()

    # The other tools that show the task.
    for name, arguments in (
        ("list_tasks", {"project": project, "detail": "full"}),
        ("list_my_tasks", {"detail": "full"}),
        ("search_tasks", {"text": "Huge task", "detail": "full"}),
        ("update_task", {"task": ref, "story_points": 5}),
    ):
        await fitting(client, name, **arguments)


async def test_a_huge_task_on_the_built_in_tracker(worker, app, ana, make_key):
    ref, description = local_task(app, ana)
    async with mcp_client(worker.url, make_key(ana)) as client:
        await every_tool_fits_and_all_can_be_read(client, ref, description, "local:WEB")


async def test_a_huge_task_on_a_fake_clickup(worker, app, ana, make_key):
    fake = ClickUpFake()
    fake.start()
    try:
        world = worlds.clickup_world(app, ana, fake)
        description = huge_description()
        task = fake.add_task(fake.backlog, "Huge task", markdown=description, assignee_ids=[fake.me.id])
        base = int(START.timestamp() * 1000)
        for i in range(COMMENTS):
            fake.add_comment(task, comment_body(i), date=base + i * 60_000)
        async with mcp_client(worker.url, make_key(ana)) as client:
            await every_tool_fits_and_all_can_be_read(client, f"cu:{task.id}", description, world.project_ref)
    finally:
        fake.stop()


async def test_a_lower_ceiling_is_kept_by_cutting_what_a_tool_returned(
    app, ana, make_key, worker_env, tmp_path
):
    from .harness import start_worker

    world = worlds.local_world(app, ana, ana)
    world.seed(100, "A task whose title is long enough to take some room in a listing of many tasks")
    small = start_worker({**worker_env, "MCP_MAX_RESULT_TOKENS": "2000"}, tmp_path / "worker.log")
    try:
        async with mcp_client(small.url, make_key(ana)) as client:
            result = await client.call_tool("list_tasks", {"project": "local:WEB", "limit": 100})
    finally:
        small.stop()
    assert not result.is_error
    assert size(result) <= 2000 * 4
    tasks = result.structured_content["tasks"]
    assert 0 < len(tasks) < 100
    assert "items were left out to stay under the size limit" in result.content[0].text
