"""The fake OpenProject answers in the shapes OpenProject's own API document describes.

The adapter is driven through every operation it uses, on a current server, on one
with workspaces but no sprints, and on one before OpenProject 17 (projects instead of
workspaces, versions instead of sprints); every response the fake logged is then validated against
`openproject-api-v3.json`, with the corrections the specs README names.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from portal.core.providers import errors
from portal.core.providers.base import (
    ME,
    ConnectionConfig,
    PageRequest,
    SprintState,
    StatusCategory,
    TaskChanges,
    TaskDraft,
    TaskQuery,
)
from portal.core.providers.openproject import OpenProjectAdapter
from tests.contract.suite import TEST_POLICY
from tests.fakes import openproject as fake_op
from tests.fakes.openapi import SpecValidator, pointer
from tests.fakes.openproject import FakeOpenProject

SPEC = "openproject-api-v3.json"
CREATE_PATHS = ("/api/v3/workspaces/{id}/work_packages", "/api/v3/projects/{id}/work_packages")

# Operations whose documented response carries no schema: a 204 without a body, and the
# comment POST, documented as "201 Created" with no content (the server returns the activity).
EXPECTED_EXEMPT = [
    ("DELETE", "/api/v3/work_packages/{id}", 204),
    ("POST", "/api/v3/work_packages/{id}/activities", 201),
]


def create_answers_201(validator: SpecValidator) -> dict[tuple[str, str, int], str]:
    """Named correction: work-package create is documented as 200; the server answers 201 Created."""
    return {
        ("POST", path, 201): pointer(
            "paths", path, "post", "responses", "200", "content", "application/hal+json", "schema"
        )
        for path in CREATE_PATHS
    }


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
    adapter.delete_task(task.id)
    assert statuses
    adapter.close()


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
    outcome = validator.check(fake.responses, overrides=create_answers_201(validator))
    assert outcome.failures == []
    assert sorted(set(outcome.exempt)) == EXPECTED_EXEMPT
    # The failures the adapter translates were checked too, not only the happy paths.
    create = CREATE_PATHS[0] if fake.has_workspaces else CREATE_PATHS[1]
    assert {
        ("POST", create, 422),
        ("GET", "/api/v3/work_packages/{id}", 404),
        ("PATCH", "/api/v3/work_packages/{id}", 409),
        ("PATCH", "/api/v3/work_packages/{id}", 422),
    } <= set(outcome.checked)


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
