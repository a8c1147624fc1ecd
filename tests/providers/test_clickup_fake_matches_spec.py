"""The ClickUp fake answers in the shapes ClickUp's own OpenAPI document describes.

The adapter is driven through every operation it uses; every response the fake
logged is then validated against `clickup-api-v2.json`, with the document's
known errors corrected by the named functions below (see tests/specs/README.md).
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

import pytest

from portal.core.providers import errors
from portal.core.providers.base import (
    BACKLOG,
    ME,
    ConnectionConfig,
    PageRequest,
    SprintChanges,
    SprintDraft,
    SprintState,
    Status,
    StatusCategory,
    TaskChanges,
    TaskDraft,
    TaskQuery,
    WorklogDraft,
    WorklogQuery,
)
from portal.core.providers.clickup import ClickUpAdapter
from portal.core.providers.clickup.links import DEPENDENCY, TASK_LINK
from tests.contract.suite import TEST_POLICY
from tests.fakes.clickup import TOKEN, ClickUpFake
from tests.fakes.openapi import SpecValidator, pointer

SPEC = "clickup-api-v2.json"
GET_TASK_SCHEMA = pointer(
    "paths", "/v2/task/{task_id}", "get", "responses", "200", "content", "application/json", "schema"
)


def _response_schema(
    document: dict[str, Any], template: str, method: str, status: str = "200"
) -> dict[str, Any]:
    return document["paths"][template][method]["responses"][status]["content"]["application/json"]["schema"]


def _list_item_schema(document: dict[str, Any]) -> dict[str, Any]:
    """The List object schema that folderless lists define and GetLists references."""
    return _response_schema(document, "/v2/space/{space_id}/list", "get")["properties"]["lists"]["items"]


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


# --- corrections named in tests/specs/README.md ----------------------------------------------------


def get_folders_folders_is_an_array(document: dict[str, Any]) -> None:
    """GetFolders types `folders` as one object; its example and the API return an array of them."""
    properties = _response_schema(document, "/v2/space/{space_id}/folder", "get")["properties"]
    properties["folders"] = {"type": "array", "items": properties["folders"]}


def task_bodies_use_get_task_schema(document: dict[str, Any]) -> None:
    """GetTasks, CreateTask, UpdateTask, GetFilteredTeamTasks, GetViewTasks and the task in AddTaskLink's
    and DeleteTaskLink's answers mistype users, tags and nullable fields; GetTask's schema matches their
    examples, so task bodies are validated against it."""
    task = {"$ref": GET_TASK_SCHEMA}
    _response_schema(document, "/v2/list/{list_id}/task", "get")["properties"]["tasks"]["items"] = task
    _response_schema(document, "/v2/team/{team_Id}/task", "get")["properties"]["tasks"]["items"] = task
    _response_schema(document, "/v2/view/{view_id}/task", "get")["properties"]["tasks"]["items"] = task
    for method in ("post", "delete"):
        _response_schema(document, "/v2/task/{task_id}/link/{links_to}", method)["properties"]["task"] = task
    for template, method in (("/v2/list/{list_id}/task", "post"), ("/v2/task/{task_id}", "put")):
        document["paths"][template][method]["responses"]["200"]["content"]["application/json"]["schema"] = (
            dict(task)
        )


def list_status_and_priority_one_of_read_as_any_of(document: dict[str, Any]) -> None:
    """A List's `status` and `priority` are a oneOf with an empty `{}` branch, which matches every value
    alongside the real branch and so rejects everything; read as anyOf."""
    properties = _list_item_schema(document)["properties"]
    for name in ("status", "priority"):
        properties[name]["anyOf"] = properties[name].pop("oneOf")


def comment_assignee_and_assigned_by_nullable(document: dict[str, Any]) -> None:
    """A comment nobody was assigned has null `assignee` and `assigned_by`."""
    comment = _response_schema(document, "/v2/task/{task_id}/comment", "get")["properties"]["comments"][
        "items"
    ]
    for name in ("assignee", "assigned_by"):
        comment["properties"][name] = _nullable(comment["properties"][name])


CLICKUP_ERROR_SCHEMA = {
    "type": "object",
    "required": ["err", "ECODE"],
    "properties": {"err": {"type": "string"}, "ECODE": {"type": "string"}},
}
"""ClickUp documents no error responses; it answers errors as {"err": "...", "ECODE": "..."}."""


# --- further errors in the document, found by the same validation ---------------------------------------


def get_task_priority_nullable(document: dict[str, Any]) -> None:
    """GetTask marks `priority` with OpenAPI 3.0's `nullable: true`, which a 3.1 (JSON Schema 2020-12)
    document ignores; a task without a priority has `"priority": null`."""
    properties = _response_schema(document, "/v2/task/{task_id}", "get")["properties"]
    priority = properties["priority"]
    priority.pop("nullable", None)
    properties["priority"] = _nullable(priority)


def folder_lists_are_list_objects(document: dict[str, Any]) -> None:
    """GetFolders types a folder's `lists` as strings; the API embeds List objects there (without the
    `content`, `folder` and `space` that the standalone List objects carry)."""
    embedded = copy.deepcopy(_list_item_schema(document))
    embedded["required"] = [
        name for name in embedded["required"] if name not in ("content", "folder", "space")
    ]
    folder = _response_schema(document, "/v2/space/{space_id}/folder", "get")["properties"]["folders"]
    folder["items"]["properties"]["lists"] = {"type": "array", "items": embedded}


LIST_WRITES = (("/v2/folder/{folder_id}/list", "post"), ("/v2/list/{list_id}", "put"))
"""CreateList and UpdateList, which answer with the List."""


def list_task_count_is_a_number(document: dict[str, Any]) -> None:
    """A List's `task_count` is typed as a string; GetList's own example and the API give a number
    (in GetList, GetFolders, the folderless lists, CreateList and UpdateList alike)."""
    list_schemas = [
        _list_item_schema(document),
        _response_schema(document, "/v2/list/{list_id}", "get"),
        _response_schema(document, "/v2/space/{space_id}/folder", "get")["properties"]["folders"]["items"][
            "properties"
        ]["lists"]["items"],
    ]
    list_schemas += [_response_schema(document, *written) for written in LIST_WRITES]
    for schema in list_schemas:
        schema["properties"]["task_count"] = {"type": ["integer", "null"]}


def get_list_unset_fields_are_null(document: dict[str, Any]) -> None:
    """GetList, CreateList and UpdateList type `status`, `priority`, `due_date` (and CreateList an
    `assignee` object) as always set; a List without them has null, as the same List object in the
    folderless-lists schema allows."""
    properties = _response_schema(document, "/v2/list/{list_id}", "get")["properties"]
    for name in ("status", "priority", "due_date"):
        properties[name] = _nullable(properties[name])
    for written in LIST_WRITES:
        properties = _response_schema(document, *written)["properties"]
        for name in ("due_date", "assignee"):
            properties[name] = _nullable(properties[name])


def space_color_and_avatar_nullable(document: dict[str, Any]) -> None:
    """GetSpaces types a Space's `color` and `avatar` as strings; its own example has `"color": null`,
    and a Space without an avatar has `"avatar": null`."""
    space = _response_schema(document, "/v2/team/{team_id}/space", "get")["properties"]["spaces"]["items"]
    for name in ("color", "avatar"):
        space["properties"][name] = _nullable(space["properties"][name])


def delete_task_answers_no_content(document: dict[str, Any]) -> None:
    """DeleteTask is documented as 204 with an object body; a 204 carries no body at all."""
    document["paths"]["/v2/task/{task_id}"]["delete"]["responses"]["204"]["content"]["application/json"][
        "schema"
    ] = {"type": "null"}


def time_entry_task_custom_id_nullable(document: dict[str, Any]) -> None:
    """A time entry's `task.custom_id` is typed as a string; a task without a custom id has null there,
    as on the task itself (GetTask's `custom_id`)."""
    entry = _response_schema(document, "/v2/team/{team_Id}/time_entries", "get")["properties"]["data"][
        "items"
    ]
    task = entry["properties"]["task"]
    task["properties"]["custom_id"] = _nullable(task["properties"]["custom_id"])


CORRECTIONS = (
    get_folders_folders_is_an_array,
    task_bodies_use_get_task_schema,
    list_status_and_priority_one_of_read_as_any_of,
    comment_assignee_and_assigned_by_nullable,
    get_task_priority_nullable,
    folder_lists_are_list_objects,
    list_task_count_is_a_number,
    get_list_unset_fields_are_null,
    space_color_and_avatar_nullable,
    delete_task_answers_no_content,
    time_entry_task_custom_id_nullable,
)

# Corrections that patch what another one builds, left out together with it.
DEPENDENT_CORRECTIONS = {
    get_folders_folders_is_an_array: (folder_lists_are_list_objects, list_task_count_is_a_number),
    folder_lists_are_list_objects: (list_task_count_is_a_number,),
}

EXPECTED_OPERATIONS = {
    ("GET", "/v2/user", 200),
    ("GET", "/v2/team", 200),
    ("GET", "/v2/team/{team_id}/space", 200),
    ("GET", "/v2/space/{space_id}/folder", 200),
    ("GET", "/v2/space/{space_id}/list", 200),
    ("GET", "/v2/list/{list_id}", 200),
    ("GET", "/v2/list/{list_id}/member", 200),
    ("GET", "/v2/list/{list_id}/task", 200),
    ("POST", "/v2/list/{list_id}/task", 200),
    ("POST", "/v2/list/{list_id}/task/{task_id}", 200),
    ("DELETE", "/v2/list/{list_id}/task/{task_id}", 200),
    ("GET", "/v2/task/{task_id}", 200),
    ("PUT", "/v2/task/{task_id}", 200),
    ("DELETE", "/v2/task/{task_id}", 204),
    ("GET", "/v2/team/{team_Id}/task", 200),
    ("GET", "/v2/task/{task_id}/comment", 200),
    ("POST", "/v2/task/{task_id}/comment", 200),
    # error bodies
    ("GET", "/v2/user", 401),
    ("GET", "/v2/team/{team_id}/space", 401),
    ("GET", "/v2/task/{task_id}", 404),
    ("GET", "/v2/task/{task_id}", 429),
    ("GET", "/v2/task/{task_id}", 503),
    ("POST", "/v2/list/{list_id}/task", 400),
    ("PUT", "/v2/task/{task_id}", 400),
    # sprint work
    ("POST", "/v2/folder/{folder_id}/list", 200),
    ("PUT", "/v2/list/{list_id}", 200),
    ("DELETE", "/v2/list/{list_id}", 200),
    ("POST", "/v2/task/{task_id}/dependency", 200),
    ("DELETE", "/v2/task/{task_id}/dependency", 200),
    ("POST", "/v2/task/{task_id}/link/{links_to}", 200),
    ("DELETE", "/v2/task/{task_id}/link/{links_to}", 200),
    ("GET", "/v2/team/{team_Id}/time_entries", 200),
    ("POST", "/v2/team/{team_Id}/time_entries", 200),
    ("GET", "/v2/list/{list_id}/field", 200),
    ("POST", "/v2/task/{task_id}/field/{field_id}", 200),
    ("DELETE", "/v2/task/{task_id}/field/{field_id}", 200),
    ("GET", "/v2/view/{view_id}/task", 200),
    ("GET", "/v2/view/{view_id}/task", 404),
    ("POST", "/v2/task/{task_id}/field/{field_id}", 400),
}


def drive_every_operation(fake: ClickUpFake) -> None:
    """Use every adapter operation, successes and failures, against the fake."""

    def adapter_for(token: str = TOKEN, team_id: str | None = None) -> ClickUpAdapter:
        options = {"team_id": team_id} if team_id else {}
        return ClickUpAdapter(ConnectionConfig("cu", fake.base_url, token, options=options), TEST_POLICY)

    adapter = adapter_for(team_id=fake.team.id)
    try:
        adapter.check()
        adapter.current_user()
        adapter.list_projects(PageRequest(limit=2))
        adapter.get_project(fake.ios.id)
        statuses = adapter.list_statuses(fake.backlog.id)
        adapter.list_priorities()
        adapter.list_users(fake.backlog.id)
        adapter.list_users()
        # Tasks with no priority, with each priority, with points and estimates, closed and done.
        adapter.list_tasks(TaskQuery(project_id=fake.backlog.id, assignee=ME), PageRequest(limit=50))
        adapter.list_tasks(TaskQuery(), PageRequest(limit=50))
        task = adapter.create_task(
            fake.backlog.id,
            TaskDraft(
                title="Spec check",
                description="**bold**",
                assignee_id=str(fake.other.id),
                due=date.today() + timedelta(days=2),
                estimate_hours=2,
                story_points=3,
                labels=("spec",),
                sprint_id=fake.current_sprint.id,
            ),
        )
        adapter.available_statuses(task.id)
        adapter.update_task(task.id, TaskChanges(title="Spec checked", due=None, sprint_id=None))
        adapter.assign_task(task.id, None)
        adapter.set_task_status(task.id, next(s for s in statuses if s.category == StatusCategory.DONE))
        adapter.add_comment(task.id, "A *comment*")
        adapter.list_comments(task.id, PageRequest(limit=5))
        sprints = adapter.list_sprints(fake.backlog.id, None, PageRequest(limit=10)).items
        adapter.get_sprint(sprints[0].id)
        for sprint in sprints:
            adapter.sprint_tasks(sprint.id)
        adapter.delete_task(task.id)

        with pytest.raises(errors.NotFound):
            adapter.get_task(task.id)
        with pytest.raises(errors.InvalidInput):
            adapter.create_task(fake.backlog.id, TaskDraft(title=""))
        existing = next(t.id for t in fake.tasks.values() if not t.deleted)
        nowhere = Status(ref="cu:nowhere", id="nowhere", name="no such status", category=StatusCategory.TODO)
        with pytest.raises(errors.InvalidInput):
            adapter.set_task_status(existing, nowhere)
        fake.fail_next(429, path=r"/task/", headers=fake.rate_limit_headers(reset_in=60))
        with pytest.raises(errors.RateLimited):
            adapter.get_task(existing)
        fake.fail_next(503, path=r"/task/")
        adapter.get_task(existing)
        with pytest.raises(errors.AuthenticationFailed):
            adapter_for(token="pk_wrong").check()
        stranger = fake.add_team("Elsewhere", [fake.other.id])
        with pytest.raises(errors.PermissionDenied):
            adapter_for(team_id=stranger.id).list_projects(PageRequest())
        drive_sprint_work(fake, adapter)
    finally:
        adapter.close()


def drive_sprint_work(fake: ClickUpFake, adapter: ClickUpAdapter) -> None:
    """The sprint-work operations: sprints, moves, links, time, fields, views."""
    today = date.today()
    sprint = adapter.create_sprint(
        fake.backlog.id,
        SprintDraft(name="Spec sprint", start=today + timedelta(days=1), end=today + timedelta(days=14)),
    )
    adapter.update_sprint(sprint.id, SprintChanges(name="Spec sprint 2", goal="Ship the spec"))
    planned = fake.add_task(fake.backlog, "Spec planned", priority=2, assignee_ids=[fake.me.id])
    planned.tags.append("spec")
    adapter.move_to_sprint([planned.id], sprint.id)
    adapter.update_sprint(sprint.id, SprintChanges(state=SprintState.ACTIVE))
    adapter.update_sprint(sprint.id, SprintChanges(state=SprintState.CLOSED, move_open_to=BACKLOG))
    fake.keeps_list_start_dates = False
    with pytest.raises(errors.NotSupported):
        adapter.create_sprint(fake.backlog.id, SprintDraft(name="Undated", start=today, end=today))
    fake.keeps_list_start_dates = True

    blocker = fake.add_task(fake.backlog, "Spec blocker", priority=1, assignee_ids=[fake.other.id])
    dependency = adapter.link_tasks(planned.id, blocker.id, DEPENDENCY, outward=False)
    link = adapter.link_tasks(planned.id, blocker.id, TASK_LINK)
    adapter.list_links(planned.id)
    adapter.list_tasks(TaskQuery(project_id=fake.backlog.id, blocked=True), PageRequest(limit=50))
    adapter.unlink_tasks(dependency.id)
    adapter.unlink_tasks(link.id)

    adapter.log_work(planned.id, WorklogDraft(hours=1.25, comment="Spec *time*"))
    adapter.list_worklogs(planned.id, PageRequest())
    adapter.search_worklogs(WorklogQuery(user_id=ME, since=today, until=today), PageRequest())

    fields = {f.name: f for f in adapter.list_fields(fake.backlog.id)}
    created = adapter.create_task(
        fake.backlog.id,
        TaskDraft(
            title="Spec fields",
            fields={
                fields["Severity"].id: "High",
                fields["Components"].id: ["API", "Web"],
                fields["Reviewer"].id: [str(fake.other.id)],
                fields["Customer"].id: "Acme",
                fields["Effort"].id: 3,
                fields["Released on"].id: today,
            },
        ),
    )
    adapter.update_task(
        created.id,
        TaskChanges(
            fields={fields["Severity"].id: "Low", fields["Reviewer"].id: None, fields["Effort"].id: 5}
        ),
    )
    fake.fail_next(400, path=r"/field/", method="POST")
    with pytest.raises(errors.InvalidInput):
        adapter.update_task(created.id, TaskChanges(fields={fields["Customer"].id: "Refused"}))

    view = fake.add_view(fake.backlog, "Spec view", "Spec")
    adapter.list_tasks(TaskQuery(native_query=view.id), PageRequest(limit=50))
    with pytest.raises(errors.NotFound):
        adapter.list_tasks(TaskQuery(native_query="6-0-404"), PageRequest())


@pytest.fixture
def driven_fake():
    fake = ClickUpFake(page_size=2, comment_page_size=25)
    fake.start()
    try:
        drive_every_operation(fake)
        yield fake
    finally:
        fake.stop()


def test_every_fake_response_matches_the_clickup_document(driven_fake):
    validator = SpecValidator(SPEC, corrections=CORRECTIONS)
    logged = driven_fake.responses
    own_schemas = {
        (r.method, r.path_template, r.status): CLICKUP_ERROR_SCHEMA for r in logged if r.status >= 400
    }
    outcome = validator.check(logged, own_schemas=own_schemas)
    assert outcome.failures == []
    assert outcome.exempt == []
    assert set(outcome.checked) == EXPECTED_OPERATIONS


def test_each_correction_is_needed(driven_fake):
    """Without any one correction, what the fake (and ClickUp) answers fails validation."""
    logged = driven_fake.responses
    own_schemas = {
        (r.method, r.path_template, r.status): CLICKUP_ERROR_SCHEMA for r in logged if r.status >= 400
    }
    for correction in CORRECTIONS:
        left_out = {correction, *DEPENDENT_CORRECTIONS.get(correction, ())}
        outcome = SpecValidator(SPEC, corrections=[c for c in CORRECTIONS if c not in left_out]).check(
            logged, own_schemas=own_schemas
        )
        assert outcome.failures, f"{correction.__name__} is not needed"
    without_error_schema = SpecValidator(SPEC, corrections=CORRECTIONS).check(logged)
    assert without_error_schema.exempt, "ClickUp's error answers are undocumented"
