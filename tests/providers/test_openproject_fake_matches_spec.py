"""The fake OpenProject answers in the shapes OpenProject's own API document describes.

The adapter is driven through every operation it uses, on a current server, on one
with workspaces but no sprints, and on one before OpenProject 17 (projects instead of
workspaces, versions instead of sprints); every response the fake logged is then validated against
`openproject-api-v3.json`, with the corrections the specs README names.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from portal.core.providers import errors
from portal.core.providers.base import (
    BACKLOG,
    ME,
    ConnectionConfig,
    LinkKind,
    PageRequest,
    SprintChanges,
    SprintDraft,
    SprintState,
    StatusCategory,
    TaskChanges,
    TaskDraft,
    TaskQuery,
    WorklogDraft,
    WorklogQuery,
)
from portal.core.providers.openproject import OpenProjectAdapter
from tests.contract.suite import TEST_POLICY
from tests.fakes import openproject as fake_op
from tests.fakes.openapi import SpecValidator, pointer
from tests.fakes.openproject import FakeOpenProject
from tests.fakes.openproject_work import FakeRelation, FakeTimeEntry

SPEC = "openproject-api-v3.json"
CREATE_PATHS = ("/api/v3/workspaces/{id}/work_packages", "/api/v3/projects/{id}/work_packages")

# Operations whose documented response carries no schema: 204s without a body, and the
# comment POST, documented as "201 Created" with no content (the server returns the activity).
EXPECTED_EXEMPT = [
    ("DELETE", "/api/v3/relations/{id}", 204),
    ("DELETE", "/api/v3/work_packages/{id}", 204),
    ("POST", "/api/v3/work_packages/{id}/activities", 201),
]
VERSION_WRITES = (("POST", "/api/v3/versions"), ("PATCH", "/api/v3/versions/{id}"))


def create_answers_201(validator: SpecValidator) -> dict[tuple[str, str, int], str]:
    """Named correction: work-package create is documented as 200; the server answers 201 Created."""
    return {
        ("POST", path, 201): pointer(
            "paths", path, "post", "responses", "200", "content", "application/hal+json", "schema"
        )
        for path in CREATE_PATHS
    }


def version_refusals_are_errors(validator: SpecValidator) -> dict[tuple[str, str, int], str]:
    """Named correction: version writes document their 422 without a body; the server answers an Error."""
    return {
        (method, path, 422): pointer("components", "schemas", "ErrorResponse")
        for method, path in VERSION_WRITES
    }


def corrections(validator: SpecValidator) -> dict[tuple[str, str, int], str]:
    return {**create_answers_201(validator), **version_refusals_are_errors(validator)}


def drive_every_operation(fake: FakeOpenProject) -> None:
    """Call everything the adapter does, including the failures it translates."""
    adapter = OpenProjectAdapter(
        ConnectionConfig(slug="op", base_url=fake.base_url, token=fake_op.TOKEN), TEST_POLICY
    )
    adapter.check()
    adapter.list_projects(PageRequest(limit=1))
    adapter.list_projects(PageRequest(), text="demo")
    adapter.get_project("1")
    with pytest.raises(errors.NotFound):
        adapter.get_project("4242")
    statuses = adapter.list_statuses("1")
    priorities = adapter.list_priorities("1")
    adapter.list_users("1")
    adapter.list_users()
    high = next(p for p in priorities if p.name == "High")
    task = adapter.create_task(
        "1",
        TaskDraft(
            title="Spec check",
            description="With **markdown**.",
            type="Task",
            priority=high,
            assignee_id="2",
            due=date.today() + timedelta(days=3),
            estimate_hours=2.5,
            story_points=3,
            epic_id=str(fake.epic_id),
            sprint_id="2",
        ),
    )
    with pytest.raises(errors.InvalidInput):
        adapter.create_task("1", TaskDraft(title=""))
    adapter.get_task(task.id)
    with pytest.raises(errors.NotFound):
        adapter.get_task("999999")
    adapter.list_tasks(
        TaskQuery(project_id="1", assignee=ME, categories=frozenset({StatusCategory.TODO}), text="Spec"),
        PageRequest(limit=2),
    )
    adapter.list_tasks(TaskQuery(sprint_id="2"), PageRequest())
    adapter.list_tasks(TaskQuery(epic_id=str(fake.epic_id)), PageRequest())
    adapter.update_task(task.id, TaskChanges(title="Spec check, renamed", due=None))
    with pytest.raises(errors.InvalidInput):
        adapter.update_task(task.id, TaskChanges(title=" ", priority=None))
    fake.edit_after_next_reads(int(task.id), count=1)  # a real 409, then a retry that succeeds
    adapter.update_task(task.id, TaskChanges(description="Changed *again*."))
    fake.edit_after_next_reads(int(task.id), count=2)
    with pytest.raises(errors.Conflict):
        adapter.update_task(task.id, TaskChanges(title="Lost"))
    done = next(s for s in adapter.available_statuses(task.id) if s.category == StatusCategory.DONE)
    adapter.set_task_status(task.id, done)
    adapter.assign_task(task.id, None)
    adapter.add_comment(task.id, "A *comment*.")
    adapter.list_comments(task.id, PageRequest())
    sprint = adapter.list_sprints("1", SprintState.ACTIVE, PageRequest()).items[0]
    adapter.get_sprint(sprint.id)
    adapter.sprint_tasks(sprint.id)
    adapter.list_epics("1", PageRequest())
    adapter.get_epic(str(fake.epic_id))
    drive_sprint_work(fake, adapter, task.id)
    adapter.delete_task(task.id)
    assert statuses
    adapter.close()


def drive_sprint_work(fake: FakeOpenProject, adapter: OpenProjectAdapter, task_id: str) -> None:
    """The sprint-work operations, with the failures they translate."""
    other = str(fake.add_work_package(1, "Spec check, the other end"))
    # Sprints: versions are written where they stand in; OpenProject 17.3's sprints are read-only.
    if fake.has_sprints:
        with pytest.raises(errors.NotSupported):
            adapter.create_sprint("1", SprintDraft(name="Spec sprint"))
        sprint_id = "3"
    else:
        start = date.today() + timedelta(days=7)
        sprint_id = adapter.create_sprint("1", SprintDraft(name="Spec sprint", start=start, goal="Ship")).id
        with pytest.raises(errors.InvalidInput):  # the name is taken
            adapter.create_sprint("1", SprintDraft(name="Spec sprint"))
        adapter.update_sprint(sprint_id, SprintChanges(name="Spec sprint, renamed", state=SprintState.ACTIVE))
    adapter.move_to_sprint([other, "999999"], sprint_id)
    if not fake.has_sprints:
        adapter.update_sprint(sprint_id, SprintChanges(state=SprintState.CLOSED, move_open_to=BACKLOG))
    # Links.
    blocks = next(t for t in adapter.list_link_types() if t.kind == LinkKind.BLOCKS)
    link = adapter.link_tasks(other, task_id, blocks, outward=False)
    with pytest.raises(errors.Conflict):
        adapter.link_tasks(task_id, other, blocks)
    with pytest.raises(errors.NotFound):
        adapter.link_tasks(task_id, "999999", blocks)
    adapter.list_links(other)
    adapter.list_tasks(TaskQuery(project_id="1", blocked=True), PageRequest())
    adapter.unlink_tasks(link.id)
    with pytest.raises(errors.NotFound):
        adapter.unlink_tasks(link.id)
    # Logged work.
    adapter.log_work(other, WorklogDraft(hours=1.25, comment="Spec *work*"))
    with pytest.raises(errors.NotFound):
        adapter.log_work("999999", WorklogDraft(hours=1))
    adapter.list_worklogs(other, PageRequest())
    adapter.search_worklogs(
        WorklogQuery(user_id=ME, since=date.today(), until=date.today(), project_id="1"), PageRequest()
    )
    # History, fields and native queries.
    fake.retitle(int(other), "Spec check, renamed elsewhere")
    adapter.task_history(other, PageRequest())
    fields = adapter.list_fields("1", "Bug")
    risk = next(f for f in fields if f.name == "Risk")
    adapter.update_task(other, TaskChanges(fields={risk.id: risk.allowed[0]}))
    with pytest.raises(errors.InvalidInput):
        adapter.list_tasks(
            TaskQuery(native_query='[{"nonsense": {"operator": "=", "values": ["1"]}}]'), PageRequest()
        )
    adapter.list_tasks(
        TaskQuery(native_query='[{"status": {"operator": "o", "values": null}}]'), PageRequest()
    )


SERVERS = {
    "openproject-17": {},
    "workspaces-without-sprints": {"sprints": False},
    "before-17": {"workspaces": False, "sprints": False},
}


@pytest.fixture(scope="module")
def driven_fakes() -> Iterator[dict[str, FakeOpenProject]]:
    fakes = {name: FakeOpenProject(**options) for name, options in SERVERS.items()}
    try:
        for fake in fakes.values():
            fake.start()
            drive_every_operation(fake)
        yield fakes
    finally:
        for fake in fakes.values():
            fake.stop()


@pytest.mark.parametrize("server", list(SERVERS))
def test_every_logged_response_matches_the_published_document(driven_fakes, server):
    fake = driven_fakes[server]
    validator = SpecValidator(SPEC)
    outcome = validator.check(fake.responses, overrides=corrections(validator))
    assert outcome.failures == []
    assert sorted(set(outcome.exempt)) == EXPECTED_EXEMPT
    # The failures the adapter translates were checked too, not only the happy paths.
    create = CREATE_PATHS[0] if fake.has_workspaces else CREATE_PATHS[1]
    assert {
        ("POST", create, 422),
        ("GET", "/api/v3/work_packages/{id}", 404),
        ("PATCH", "/api/v3/work_packages/{id}", 409),
        ("PATCH", "/api/v3/work_packages/{id}", 422),
        ("POST", "/api/v3/work_packages/{id}/relations", 409),
        ("POST", "/api/v3/work_packages/{id}/relations", 422),
        ("DELETE", "/api/v3/relations/{id}", 404),
        ("POST", "/api/v3/time_entries", 422),
    } <= set(outcome.checked)
    if not fake.has_sprints:  # versions are written where they stand in for sprints
        assert {("POST", "/api/v3/versions", 201), ("POST", "/api/v3/versions", 422)} <= set(outcome.checked)


def test_every_route_the_fakes_serve_was_exercised(driven_fakes):
    served: set[tuple[str, str]] = set()
    answered: set[tuple[str, str]] = set()
    for fake in driven_fakes.values():
        served |= {(method, template) for method, _pattern, template, _handler in fake._routes}
        answered |= {(logged.method, logged.path_template) for logged in fake.responses}
    assert served == answered


def test_the_create_correction_is_needed():
    """Without the correction, a 201 create has no documented schema at all."""
    validator = SpecValidator(SPEC)
    for path in CREATE_PATHS:
        assert validator.response_schema_pointer("POST", path, 201) is None
        assert validator.response_schema_pointer("POST", path, 200) is not None


def test_the_version_refusal_correction_is_needed():
    """Without it, a refused version write would not be checked at all."""
    validator = SpecValidator(SPEC)
    for method, path in VERSION_WRITES:
        assert validator.response_schema_pointer(method, path, 422) is None


def test_the_validator_rejects_a_fake_that_lies():
    """A work package without its required links fails, so the check above means something."""
    fake = FakeOpenProject()
    body = fake.work_package_json(fake.work_packages[fake.epic_id])
    del body["_links"]["status"]
    body["storyPoints"] = "three"
    validator = SpecValidator(SPEC)
    schema = validator.response_schema_pointer("GET", "/api/v3/work_packages/{id}", 200)
    problems = validator.validate_body(schema, body)
    assert any("status" in p for p in problems) and any("storyPoints" in p for p in problems)


def test_the_validator_rejects_a_time_entry_or_relation_that_lies():
    """The new answers are held to the document too: a time entry needs its links, a relation its type."""
    fake = FakeOpenProject()
    entry = FakeTimeEntry(1, fake.epic_id, 1, 1, "PT1H", date.today(), "", datetime.now(UTC))
    body = fake.time_entry_json(entry)
    del body["_links"]["entity"]
    body["hours"] = 1.5
    validator = SpecValidator(SPEC)
    schema = validator.response_schema_pointer("POST", "/api/v3/time_entries", 201)
    problems = validator.validate_body(schema, body)
    assert any("entity" in p for p in problems) and any("hours" in p for p in problems)
    relation = fake.relation_json(FakeRelation(1, fake.epic_id, fake.done_in_sprint_id, "blocks"))
    relation["type"] = "clones"
    schema = validator.response_schema_pointer("POST", "/api/v3/work_packages/{id}/relations", 201)
    assert any("type" in p for p in validator.validate_body(schema, relation))
