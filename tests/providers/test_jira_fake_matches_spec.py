"""The fake JIRA answers in the shapes Atlassian publishes.

The adapter is driven through every operation it uses (the contract flows and
the JIRA-specific ones), then every response the fake logged is validated
against `jira-platform-v3.json` or `jira-software-agile-1.0.json`, with the
named corrections from tests/specs/README.md. Error bodies, which the documents
leave undescribed, are validated against JIRA's observed error shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from portal.core.providers import errors
from portal.core.providers.base import (
    BACKLOG,
    ME,
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
from portal.core.providers.metadata import MetadataCache
from tests.fakes.base import LoggedResponse
from tests.fakes.jira import FakeJira
from tests.fakes.openapi import SpecValidator, pointer
from tests.providers.test_jira_contract import make_jira_adapter

PLATFORM_SPEC = "jira-platform-v3.json"
AGILE_SPEC = "jira-software-agile-1.0.json"
AGILE_PREFIX = "/rest/agile/1.0/"

# JIRA's error body, as every endpoint answers it (the documents describe it only on a few).
JIRA_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["errorMessages", "errors"],
    "properties": {
        "errorMessages": {"type": "array", "items": {"type": "string"}},
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": False,
}


# --- named corrections (tests/specs/README.md) ---------------------------------------------------


def agile_sprint_page_is_a_page_of_sprint_beans(document: dict[str, Any]) -> None:
    """Agile `GET /board/{boardId}/sprint` documents no schema; it answers a page of SprintBean.

    The README's correction names SprintBean for sprint responses; the board's
    sprint list wraps them in the usual Agile page, which this adds as a schema.
    """
    document["components"]["schemas"]["PageOfSprintBeans"] = {
        "type": "object",
        "properties": {
            "maxResults": {"type": "integer"},
            "startAt": {"type": "integer"},
            "total": {"type": "integer"},
            "isLast": {"type": "boolean"},
            "values": {"type": "array", "items": {"$ref": "#/components/schemas/SprintBean"}},
        },
        "additionalProperties": False,
    }


def agile_board_configuration_location_as_in_example(document: dict[str, Any]) -> None:
    """The board configuration's `location` schema lists `type` and `projectKeyOrId` only, while
    the document's own example (and the API) answer `type`, `key`, `id`, `self` and `name`."""
    schema = document["paths"]["/rest/agile/1.0/board/{boardId}/configuration"]["get"]["responses"]["200"][
        "content"
    ]["application/json"]["schema"]
    schema["properties"]["location"]["properties"].update(
        {
            "key": {"type": "string"},
            "id": {"type": "string"},
            "self": {"type": "string"},
            "name": {"type": "string"},
        }
    )


def platform_change_details_are_null_when_empty(document: dict[str, Any]) -> None:
    """A changelog item's `from`, `to`, `fromString` and `toString` are typed as strings, while the
    document's own changelog example (and the API) answer null for a field that had, or has, no value."""
    properties = document["components"]["schemas"]["ChangeDetails"]["properties"]
    for name in ("from", "to", "fromString", "toString"):
        properties[name]["nullable"] = True


SPRINT_BEAN = pointer("components", "schemas", "SprintBean")
SEARCH_RESULTS = pointer("components", "schemas", "SearchResults")
AGILE_OVERRIDES = {
    ("GET", "/rest/agile/1.0/sprint/{sprintId}", 200): SPRINT_BEAN,
    ("POST", "/rest/agile/1.0/sprint", 201): SPRINT_BEAN,
    ("POST", "/rest/agile/1.0/sprint/{sprintId}", 200): SPRINT_BEAN,
    ("GET", "/rest/agile/1.0/sprint/{sprintId}/issue", 200): SEARCH_RESULTS,
    ("GET", "/rest/agile/1.0/board/{boardId}/sprint", 200): pointer(
        "components", "schemas", "PageOfSprintBeans"
    ),
}

# Operations whose documented response has no schema (204s documented without content); a new
# one must be looked at. The other 204s (issue edit, assign, transition) document an empty schema.
EXPECTED_EXEMPT = {
    ("DELETE", "/rest/api/3/issue/{issueIdOrKey}", 204),
    ("POST", "/rest/agile/1.0/sprint/{sprintId}/issue", 204),
    ("POST", "/rest/agile/1.0/backlog/issue", 204),
    ("DELETE", "/rest/api/3/issueLink/{linkId}", 204),
}


def drive_every_operation(fake: FakeJira) -> None:
    """Call every adapter operation, successes and refusals, so the fake logs each response shape."""
    adapter = make_jira_adapter(fake)
    adapter.check()
    projects = adapter.list_projects(PageRequest(limit=1))
    adapter.list_projects(PageRequest(limit=1, cursor=projects.next_cursor), text="a")
    adapter.get_project("ALPHA")
    statuses = adapter.list_statuses("ALPHA")
    priorities = adapter.list_priorities("ALPHA")
    adapter.list_users("ALPHA")
    adapter.list_users(text="ben")
    adapter.list_users()
    created = adapter.create_task(
        "ALPHA",
        TaskDraft(
            title="Spec: everything",
            description="**Bold** and `code`",
            priority=priorities[0],
            assignee_id=fake.other.account_id,
            due=date.today() + timedelta(days=3),
            estimate_hours=2.5,
            story_points=3,
            sprint_id=str(fake.active_sprint),
            labels=("spec",),
        ),
    )
    child = adapter.create_task("ALPHA", TaskDraft(title="Spec: child", epic_id=fake.epic_key))
    subtask = adapter.create_task("ALPHA", TaskDraft(title="Spec: sub-task", parent_id=created.id))
    adapter.update_task(child.id, TaskChanges(title="Spec: renamed", story_points=8, sprint_id="3", due=None))
    adapter.update_task(child.id, TaskChanges(sprint_id=None, epic_id=None))
    page = adapter.list_tasks(TaskQuery(project_id="ALPHA", assignee=ME, text="Spec"), PageRequest(limit=1))
    adapter.list_tasks(
        TaskQuery(project_id="ALPHA", assignee=ME, text="Spec"), PageRequest(limit=1, cursor=page.next_cursor)
    )
    adapter.list_tasks(
        TaskQuery(
            categories=frozenset({StatusCategory.TODO}),
            statuses=tuple(statuses),
            assignee=fake.other.account_id,
        ),
        PageRequest(limit=5),
    )
    adapter.list_tasks(TaskQuery(sprint_id=str(fake.active_sprint)), PageRequest(limit=50))
    adapter.list_tasks(TaskQuery(epic_id=fake.epic_key), PageRequest(limit=50))
    adapter.get_task(created.id)
    targets = adapter.available_statuses(created.id)
    adapter.set_task_status(created.id, next(s for s in targets if s.category == StatusCategory.DONE))
    adapter.assign_task(created.id, None)
    adapter.add_comment(created.id, "- one\n- two")
    adapter.list_comments(created.id, PageRequest(limit=10))
    sprints = adapter.list_sprints("ALPHA", SprintState.ACTIVE, PageRequest(limit=5))
    adapter.get_sprint(sprints.items[0].id)
    fresh = make_jira_adapter(fake, metadata=MetadataCache())  # knows no board: asks for the sprint's
    assert fresh.get_sprint(sprints.items[0].id).project_ref is not None
    fresh.close()
    adapter.sprint_tasks(sprints.items[0].id)
    adapter.list_epics("ALPHA", PageRequest(limit=5))
    adapter.get_epic(fake.epic_key)
    adapter.delete_task(subtask.id)
    drive_sprint_work(fake, adapter)
    # Refusals, so error bodies are logged too.
    for call in (
        lambda: adapter.get_task("ALPHA-9999"),
        lambda: adapter.create_task("ALPHA", TaskDraft(title="")),
        lambda: adapter.get_project("NOPE"),
        lambda: adapter.get_sprint("999"),
        lambda: adapter.update_task(created.id, TaskChanges(sprint_id="1")),
        lambda: adapter.unlink_tasks("999999"),
        lambda: adapter.log_work("ALPHA-9999", WorklogDraft(hours=1)),
        lambda: adapter.task_history("ALPHA-9999", PageRequest()),
        lambda: adapter.list_fields("ALPHA", "Nope"),
        lambda: adapter.create_sprint("ALPHA", SprintDraft(name="x" * 300)),
        lambda: adapter.update_sprint("1", SprintChanges(state=SprintState.ACTIVE)),
    ):
        with pytest.raises(errors.ProviderError):
            call()
    adapter.close()


def drive_sprint_work(fake: FakeJira, adapter: Any) -> None:
    """Every sprint-work operation: sprint writes, moves, links, worklogs, history, fields, JQL."""
    start = date.today()
    sprint = adapter.create_sprint(
        "ALPHA", SprintDraft(name="Spec sprint", start=start, end=start + timedelta(days=13), goal="Specs")
    )
    adapter.update_sprint(sprint.id, SprintChanges(name="Spec sprint 2", goal=None))
    first, second = (fake.add_issue("ALPHA", f"Spec work {n}").key for n in (1, 2))
    adapter.move_to_sprint([first, "ALPHA-9999", second], sprint.id)
    adapter.move_to_sprint([second], BACKLOG)
    adapter.update_sprint(sprint.id, SprintChanges(state=SprintState.ACTIVE))
    adapter.update_sprint(sprint.id, SprintChanges(state=SprintState.CLOSED, move_open_to=BACKLOG))
    types = adapter.list_link_types()
    blocks = next(t for t in types if t.kind == LinkKind.BLOCKS)
    link = adapter.link_tasks(first, second, blocks, outward=False)
    adapter.list_links(second)
    adapter.list_tasks(TaskQuery(project_id="ALPHA", blocked=True), PageRequest(limit=10))
    adapter.list_tasks(TaskQuery(native_query="project = ALPHA ORDER BY key ASC"), PageRequest(limit=2))
    adapter.unlink_tasks(link.id)
    adapter.log_work(first, WorklogDraft(hours=1.25, comment="Paired on **it**"))
    adapter.list_worklogs(first, PageRequest(limit=5))
    adapter.search_worklogs(
        WorklogQuery(
            user_id=ME, since=start - timedelta(days=1), until=start + timedelta(days=1), project_id="ALPHA"
        ),
        PageRequest(limit=5),
    )
    fake.retitle(first, "Spec work renamed")
    adapter.task_history(first, PageRequest(limit=1))
    fields = adapter.list_fields("ALPHA")
    team = next(f for f in fields if f.name == "Team")
    adapter.update_task(first, TaskChanges(fields={team.id: team.allowed[0]}))


@pytest.fixture(scope="module")
def logged_responses() -> Iterator[list[LoggedResponse]]:
    fake = FakeJira()
    fake.start()
    try:
        drive_every_operation(fake)
        yield list(fake.responses)
    finally:
        fake.stop()


def outcome_for(spec: str, responses: list[LoggedResponse], **kwargs: Any):
    corrections = [
        agile_sprint_page_is_a_page_of_sprint_beans,
        agile_board_configuration_location_as_in_example,
    ]
    if spec == PLATFORM_SPEC:
        corrections = [platform_change_details_are_null_when_empty]
    validator = SpecValidator(spec, corrections=corrections)
    errors_schemas = {
        (r.method, r.path_template, r.status): JIRA_ERROR_SCHEMA for r in responses if r.status >= 400
    }
    return validator.check(responses, own_schemas=errors_schemas, **kwargs)


def test_platform_responses_match_the_published_document(logged_responses):
    platform = [r for r in logged_responses if not r.path_template.startswith(AGILE_PREFIX)]
    outcome = outcome_for(PLATFORM_SPEC, platform)
    assert not outcome.failures, "\n".join(outcome.failures)
    checked = {key[:2] for key in outcome.checked}
    for operation in (
        ("GET", "/rest/api/3/myself"),
        ("GET", "/rest/api/3/project/search"),
        ("GET", "/rest/api/3/project/{projectIdOrKey}"),
        ("GET", "/rest/api/3/project/{projectIdOrKey}/statuses"),
        ("GET", "/rest/api/3/priority/search"),
        ("GET", "/rest/api/3/user/assignable/search"),
        ("GET", "/rest/api/3/user/search"),
        ("GET", "/rest/api/3/users/search"),
        ("GET", "/rest/api/3/field"),
        ("POST", "/rest/api/3/search/jql"),
        ("POST", "/rest/api/3/issue"),
        ("GET", "/rest/api/3/issue/{issueIdOrKey}"),
        ("GET", "/rest/api/3/issue/{issueIdOrKey}/transitions"),
        ("GET", "/rest/api/3/issue/{issueIdOrKey}/comment"),
        ("POST", "/rest/api/3/issue/{issueIdOrKey}/comment"),
        ("GET", "/rest/api/3/issueLinkType"),
        ("GET", "/rest/api/3/issue/{issueIdOrKey}/worklog"),
        ("POST", "/rest/api/3/issue/{issueIdOrKey}/worklog"),
        ("GET", "/rest/api/3/issue/{issueIdOrKey}/changelog"),
        ("GET", "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}"),
    ):
        assert operation in checked, f"{operation} was not exercised"


def test_agile_responses_match_the_published_document(logged_responses):
    agile = [r for r in logged_responses if r.path_template.startswith(AGILE_PREFIX)]
    outcome = outcome_for(AGILE_SPEC, agile, overrides=AGILE_OVERRIDES)
    assert not outcome.failures, "\n".join(outcome.failures)
    checked = {key[:2] for key in outcome.checked}
    for operation in (
        ("GET", "/rest/agile/1.0/board"),
        ("GET", "/rest/agile/1.0/board/{boardId}"),
        ("GET", "/rest/agile/1.0/board/{boardId}/configuration"),
        ("GET", "/rest/agile/1.0/board/{boardId}/sprint"),
        ("GET", "/rest/agile/1.0/sprint/{sprintId}"),
        ("GET", "/rest/agile/1.0/sprint/{sprintId}/issue"),
        ("POST", "/rest/agile/1.0/sprint"),
        ("POST", "/rest/agile/1.0/sprint/{sprintId}"),
    ):
        assert operation in checked, f"{operation} was not exercised"


def test_exactly_the_expected_operations_are_exempt(logged_responses):
    platform = [r for r in logged_responses if not r.path_template.startswith(AGILE_PREFIX)]
    agile = [r for r in logged_responses if r.path_template.startswith(AGILE_PREFIX)]
    exempt = set(outcome_for(PLATFORM_SPEC, platform).exempt)
    exempt |= set(outcome_for(AGILE_SPEC, agile, overrides=AGILE_OVERRIDES).exempt)
    assert exempt == EXPECTED_EXEMPT


def test_error_bodies_were_checked(logged_responses):
    statuses = {(r.path_template, r.status) for r in logged_responses if r.status >= 400}
    assert ("/rest/api/3/issue/{issueIdOrKey}", 404) in statuses
    assert ("/rest/api/3/issue", 400) in statuses
    assert ("/rest/agile/1.0/sprint/{sprintId}", 404) in statuses
    outcome = outcome_for(
        PLATFORM_SPEC,
        [r for r in logged_responses if r.status >= 400 and not r.path_template.startswith(AGILE_PREFIX)],
    )
    assert outcome.checked and not outcome.failures


def test_a_wrong_shape_is_caught():
    """The validator is not a rubber stamp: a sprint with a string id fails."""
    bad = LoggedResponse(
        "GET", "/rest/agile/1.0/sprint/{sprintId}", 200, "application/json", {"id": "7", "name": "x"}
    )
    outcome = outcome_for(AGILE_SPEC, [bad], overrides=AGILE_OVERRIDES)
    assert outcome.failures
    error = LoggedResponse("GET", "/rest/api/3/myself", 401, "application/json", {"message": "no"})
    assert outcome_for(PLATFORM_SPEC, [error]).failures


def test_the_changelog_correction_is_needed(logged_responses):
    """Without its named correction the document rejects the changelog JIRA answers (null for no value)."""
    changelog = [r for r in logged_responses if r.path_template.endswith("/changelog") and r.status == 200]
    assert changelog
    bare = SpecValidator(PLATFORM_SPEC).check(changelog)
    assert any("None is not of type 'string'" in failure for failure in bare.failures)
    assert not outcome_for(PLATFORM_SPEC, changelog).failures
