"""The ClickUp fake's sprint-work endpoints: List writes (sprints), dependencies and task links,
time entries, custom fields and views. Mixed into ClickUpFake, whose state and shapes they use.

- A sprint is a List of a sprint folder; CreateList/UpdateList keep `start_date` unless
  `keeps_list_start_dates` is switched off (as a ClickUp that ignores it would).
- Dependencies and task links are pairs of tasks, shown on both tasks' bodies.
- Time entries answer GET within `start_date`..`end_date` (default: the last 30 days), the
  caller's own unless an owner or admin names `assignee`s.
- Custom fields belong to a Space (every List in it has them); a task keeps values by field id
  (a drop-down's option id, labels' option ids, user ids, milliseconds, numbers, text).
- A view lists the tasks of a List whose names contain its `search` text (ClickUp's view search).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .base import FakeRequest, FakeResponse, HttpError, json_response

if TYPE_CHECKING:
    from .clickup import FakeList, FakeSpace, FakeTask

_uuids = itertools.count(1)


def fake_uuid() -> str:
    return f"0f0e{next(_uuids):04x}-41d3-4d28-bdbb-f3f0f2c62f8b"


@dataclass
class FakePair:
    """A dependency (first waits on second) or a task link (first linked to second)."""

    first: str
    second: str
    user_id: int
    date: int


@dataclass
class FakeTimeEntry:
    id: str
    task_id: str
    user_id: int
    start: int
    duration: int
    description: str
    billable: bool
    at: int


@dataclass
class FakeField:
    id: str
    name: str
    type: str
    space_id: str
    type_config: dict[str, Any] = field(default_factory=dict)
    required: bool = False
    date_created: int = 1_700_000_000_000


@dataclass
class FakeView:
    id: str
    name: str
    list_id: str
    search: str


class ClickUpWorkEndpoints:
    """State and handlers of the sprint-work endpoints; ClickUpFake provides the rest."""

    # Provided by ClickUpFake (declared for readers; set in its __init__).
    tasks: dict[str, FakeTask]
    lists: dict[str, FakeList]
    spaces: dict[str, FakeSpace]
    me_id: int

    def init_work(self) -> None:
        self.keeps_list_start_dates = True
        self.me_role = 1  # the token's user owns the Workspace; 3 makes them a member
        # A created time entry is answered as documented (the entry as sent) with its id; False leaves
        # the id out, exactly as the document's example does.
        self.time_entry_answer_has_id = True
        self.dependencies: list[FakePair] = []
        self.task_links: list[FakePair] = []
        self.time_entries: list[FakeTimeEntry] = []
        self.fields: dict[str, FakeField] = {}
        self.views: dict[str, FakeView] = {}

    def work_routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("POST", "/v2/folder/{folder_id}/list", self.create_list),
            ("PUT", "/v2/list/{list_id}", self.update_list),
            ("DELETE", "/v2/list/{list_id}", self.delete_list),
            ("POST", "/v2/task/{task_id}/dependency", self.add_dependency),
            ("DELETE", "/v2/task/{task_id}/dependency", self.delete_dependency),
            ("POST", "/v2/task/{task_id}/link/{links_to}", self.add_task_link),
            ("DELETE", "/v2/task/{task_id}/link/{links_to}", self.delete_task_link),
            ("GET", "/v2/team/{team_Id}/time_entries", self.get_time_entries),
            ("POST", "/v2/team/{team_Id}/time_entries", self.create_time_entry),
            ("GET", "/v2/list/{list_id}/field", self.get_list_fields),
            ("POST", "/v2/task/{task_id}/field/{field_id}", self.set_field_value),
            ("DELETE", "/v2/task/{task_id}/field/{field_id}", self.remove_field_value),
            ("GET", "/v2/view/{view_id}/task", self.get_view_tasks),
        ]

    # --- seeding -----------------------------------------------------------------------------
    def add_field(
        self, space: FakeSpace, name: str, kind: str, options: list[str] | None = None, **config: Any
    ) -> FakeField:
        type_config = dict(config)
        if options is not None:
            key = "label" if kind == "labels" else "name"
            type_config["options"] = [
                {"id": fake_uuid(), key: option, "color": "#7b68ee", "orderindex": index}
                for index, option in enumerate(options)
            ]
        fake_field = FakeField(
            id=fake_uuid(), name=name, type=kind, space_id=space.id, type_config=type_config
        )
        self.fields[fake_field.id] = fake_field
        return fake_field

    def add_view(self, fake_list: FakeList, name: str, search: str) -> FakeView:
        view = FakeView(
            id=f"6-{fake_list.id}-{len(self.views) + 1}", name=name, list_id=fake_list.id, search=search
        )
        self.views[view.id] = view
        return view

    def add_time_entry(
        self, task: FakeTask, hours: float, start: int, user_id: int | None = None, description: str = ""
    ) -> FakeTimeEntry:
        entry = FakeTimeEntry(
            id=str(4_000_000_000_000_000_000 + len(self.time_entries) + 1),
            task_id=task.id,
            user_id=user_id or self.me_id,
            start=start,
            duration=round(hours * 3_600_000),
            description=description,
            billable=False,
            at=self.now(),
        )
        self.time_entries.append(entry)
        return entry

    # --- what probes read ---------------------------------------------------------------------
    def linked_ids(self, task_id: str) -> set[str]:
        ids = set()
        for pair in [*self.dependencies, *self.task_links]:
            if task_id in (pair.first, pair.second):
                ids.add(pair.second if pair.first == task_id else pair.first)
        return ids

    def logged_hours(self, task_id: str) -> float:
        return sum(e.duration for e in self.time_entries if e.task_id == task_id) / 3_600_000

    def field_display(self, task_id: str, field_id: str) -> Any:
        """A task's custom field value as a person reads it: option names, else the stored value."""
        value = self.tasks[task_id].custom_values.get(field_id)
        options = {
            o["id"]: o.get("name") or o.get("label")
            for o in self.fields[field_id].type_config.get("options", [])
        }
        if isinstance(value, list):
            return [options.get(item, item) for item in value]
        return options.get(value, value) if isinstance(value, str) else value

    # --- shapes on task bodies -------------------------------------------------------------------
    def relationships_json(self, task: FakeTask) -> dict[str, Any]:
        team_id = self.spaces[self.lists[task.list_id].space_id].team_id
        dependencies = [
            {
                "task_id": pair.first,
                "depends_on": pair.second,
                "type": 1 if pair.first == task.id else 0,
                "date_created": str(pair.date),
                "userid": str(pair.user_id),
                "workspace_id": team_id,
                "chain_id": None,
            }
            for pair in self.dependencies
            if task.id in (pair.first, pair.second)
        ]
        links = [
            {
                "task_id": pair.first,
                "link_id": pair.second,
                "date_created": str(pair.date),
                "userid": str(pair.user_id),
            }
            for pair in self.task_links
            if task.id in (pair.first, pair.second)
        ]
        return {"dependencies": dependencies, "linked_tasks": links}

    def _field_json(self, fake_field: FakeField) -> dict[str, Any]:
        return {
            "id": fake_field.id,
            "name": fake_field.name,
            "type": fake_field.type,
            "type_config": fake_field.type_config,
            "date_created": str(fake_field.date_created),
            "hide_from_guests": False,
            "required": fake_field.required,
        }

    def fields_of(self, fake_list: FakeList) -> list[FakeField]:
        return [f for f in self.fields.values() if f.space_id == fake_list.space_id]

    def custom_fields_json(self, task: FakeTask) -> list[dict[str, Any]]:
        shown = []
        for fake_field in self.fields_of(self.lists[task.list_id]):
            body = self._field_json(fake_field)
            if fake_field.id in task.custom_values:
                body["value"] = self._value_json(fake_field, task.custom_values[fake_field.id])
            shown.append(body)
        return shown

    def _value_json(self, fake_field: FakeField, value: Any) -> Any:
        """A stored value as GetTask shows it: a drop-down by its option's orderindex, people as users."""
        if fake_field.type == "drop_down":
            options = fake_field.type_config.get("options", [])
            return next(o["orderindex"] for o in options if o["id"] == value)
        if fake_field.type == "users":
            return [self.user_json(self.users[uid]) for uid in value]
        if fake_field.type in ("number", "date", "currency"):
            return str(value)
        return value

    # --- custom fields -----------------------------------------------------------------------------
    def get_list_fields(self, request: FakeRequest, list_id: str) -> FakeResponse:
        fake_list = self._require_list(list_id)
        return json_response({"fields": [self._field_json(f) for f in self.fields_of(fake_list)]})

    def _stored_value(self, fake_field: FakeField, value: Any, *, on_task: list[int] | None = None) -> Any:
        """A written value as kept, or a 400 like ClickUp's for one the field does not take."""
        kind = fake_field.type
        option_ids = [o["id"] for o in fake_field.type_config.get("options", [])]
        if kind == "drop_down" and value in option_ids:
            return value
        if kind == "labels" and isinstance(value, list) and all(v in option_ids for v in value):
            return list(value)
        if kind == "users":
            if isinstance(value, dict) and on_task is not None:
                kept = [uid for uid in on_task if uid not in (value.get("rem") or [])]
                return kept + [uid for uid in value.get("add") or [] if uid not in kept and uid in self.users]
            if isinstance(value, list) and all(uid in self.users for uid in value):
                return list(value)
        if (
            kind in ("number", "currency", "date")
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ):
            return value
        if kind == "checkbox" and isinstance(value, bool):
            return value
        if kind in ("short_text", "text", "url", "email", "phone") and isinstance(value, str):
            return value
        raise self._invalid("Value is not valid for this field", "FIELD_008")

    def apply_create_fields(self, task: FakeTask, fake_list: FakeList, custom: list[Any]) -> None:
        known = {f.id: f for f in self.fields_of(fake_list)}
        for item in custom:
            if not isinstance(item, dict) or item.get("id") not in known:
                raise self._invalid("Custom field is not on this List", "FIELD_033")
            if item.get("value") is not None:
                task.custom_values[item["id"]] = self._stored_value(known[item["id"]], item["value"])

    def set_field_value(self, request: FakeRequest, task_id: str, field_id: str) -> FakeResponse:
        task = self._require_task(task_id)
        fake_field = self.fields.get(field_id)
        if fake_field is None or fake_field not in self.fields_of(self.lists[task.list_id]):
            raise self._invalid("Custom field is not on this task's List", "FIELD_033")
        body = request.json() or {}
        if "value" not in body:
            raise self._invalid("Value is required", "FIELD_004")
        current = task.custom_values.get(field_id) if fake_field.type == "users" else None
        task.custom_values[field_id] = self._stored_value(
            fake_field, body["value"], on_task=list(current or [])
        )
        task.date_updated = self.now()
        return json_response({})

    def remove_field_value(self, request: FakeRequest, task_id: str, field_id: str) -> FakeResponse:
        task = self._require_task(task_id)
        task.custom_values.pop(field_id, None)
        task.date_updated = self.now()
        return json_response({})

    # --- sprint lists ------------------------------------------------------------------------------
    def _list_write(self, fake_list: FakeList, body: dict[str, Any]) -> None:
        if "name" in body:
            if not isinstance(body["name"], str) or not body["name"].strip():
                raise self._invalid("List name invalid", "SUBCAT_010")
            fake_list.name = body["name"]
        if "content" in body:
            fake_list.content = str(body["content"] or "")
        if "markdown_content" in body:
            fake_list.content = str(body["markdown_content"] or "")
        if "due_date" in body:
            fake_list.due_date = int(body["due_date"]) if body["due_date"] is not None else None
        if "start_date" in body and self.keeps_list_start_dates:
            fake_list.start_date = int(body["start_date"]) if body["start_date"] is not None else None

    def create_list(self, request: FakeRequest, folder_id: str) -> FakeResponse:
        folder = self.folders.get(folder_id)
        if folder is None:
            raise HttpError(404, self.error_body(404, "Folder not found", "ACCESS_084"))
        body = request.json() or {}
        if not isinstance(body.get("name"), str) or not body["name"].strip():
            raise self._invalid("List name invalid", "SUBCAT_010")
        fake_list = self.add_list(self.spaces[folder.space_id], body["name"], folder=folder)
        self._list_write(fake_list, body)
        return json_response(self.list_json(fake_list))

    def update_list(self, request: FakeRequest, list_id: str) -> FakeResponse:
        fake_list = self._require_list(list_id)
        body = request.json() or {}
        if "name" not in body:
            raise self._invalid("List name is required", "SUBCAT_010")
        self._list_write(fake_list, body)
        return json_response(self.list_json(fake_list))

    def delete_list(self, request: FakeRequest, list_id: str) -> FakeResponse:
        fake_list = self._require_list(list_id)
        del self.lists[fake_list.id]
        return json_response({})

    # --- dependencies and links ----------------------------------------------------------------
    def add_dependency(self, request: FakeRequest, task_id: str) -> FakeResponse:
        task = self._require_task(task_id)
        body = request.json() or {}
        if bool(body.get("depends_on")) == bool(body.get("dependency_of")):
            raise self._invalid("Give one of depends_on and dependency_of", "DEP_001")
        other = self._require_task(str(body.get("depends_on") or body.get("dependency_of")))
        waiting, blocker = (task.id, other.id) if body.get("depends_on") else (other.id, task.id)
        if waiting == blocker:
            raise self._invalid("A task can't depend on itself", "DEP_002")
        pairs = {(p.first, p.second) for p in self.dependencies}
        if (blocker, waiting) in pairs:
            raise self._invalid("Dependencies can't go in a circle", "DEP_003")
        if (waiting, blocker) not in pairs:
            self.dependencies.append(FakePair(waiting, blocker, self.me_id, self.now()))
        return json_response({})

    def delete_dependency(self, request: FakeRequest, task_id: str) -> FakeResponse:
        task = self._require_task(task_id)
        depends_on, dependency_of = request.arg("depends_on"), request.arg("dependency_of")
        if bool(depends_on) == bool(dependency_of):
            raise self._invalid("Give one of depends_on and dependency_of", "DEP_001")
        waiting, blocker = (task.id, depends_on) if depends_on else (dependency_of, task.id)
        self.dependencies = [p for p in self.dependencies if (p.first, p.second) != (waiting, blocker)]
        return json_response({})

    def add_task_link(self, request: FakeRequest, task_id: str, links_to: str) -> FakeResponse:
        task, other = self._require_task(task_id), self._require_task(links_to)
        if task.id == other.id:
            raise self._invalid("A task can't be linked to itself", "LINK_001")
        if not any({p.first, p.second} == {task.id, other.id} for p in self.task_links):
            self.task_links.append(FakePair(task.id, other.id, self.me_id, self.now()))
        return json_response({"task": self.task_json(task)})

    def delete_task_link(self, request: FakeRequest, task_id: str, links_to: str) -> FakeResponse:
        task = self._require_task(task_id)
        self.task_links = [p for p in self.task_links if {p.first, p.second} != {task.id, links_to}]
        return json_response({"task": self.task_json(task)})

    # --- time entries ----------------------------------------------------------------------------
    def _entry_json(self, entry: FakeTimeEntry) -> dict[str, Any]:
        task = self.tasks[entry.task_id]
        fake_list = self.lists[task.list_id]
        space = self.spaces[fake_list.space_id]
        folder = self._folder_ref(fake_list)
        status = next(s for s in self.statuses_of(fake_list) if s.name == task.status)
        return {
            "id": entry.id,
            "task": {
                "id": task.id,
                "custom_id": None,
                "name": task.name,
                "status": self._status_json(status),
                "custom_type": None,
            },
            "wid": space.team_id,
            "user": self.user_json(self.users[entry.user_id]),
            "billable": entry.billable,
            "start": str(entry.start),
            "end": str(entry.start + entry.duration),
            "duration": str(entry.duration),
            "description": entry.description,
            "tags": [],
            "source": "clickup",
            "at": str(entry.at),
            "task_location": {
                "list_id": int(fake_list.id),
                "folder_id": int(folder["id"]),
                "space_id": int(space.id),
                "list_name": fake_list.name,
                "folder_name": folder["name"],
                "space_name": space.name,
            },
            "task_tags": [],
            "task_url": f"https://app.clickup.com/t/{task.id}",
        }

    def get_time_entries(self, request: FakeRequest, team_Id: str) -> FakeResponse:  # noqa: N803 - the spec's name
        self._require_team(team_Id)
        now = self.now()
        start = int(request.arg("start_date") or now - 30 * 86_400_000)
        end = int(request.arg("end_date") or now)
        wanted = [int(uid) for uid in (request.arg("assignee") or str(self.me_id)).split(",") if uid]
        if wanted != [self.me_id] and self.me_role not in (1, 2):
            raise HttpError(
                401, self.error_body(401, "Only owners and admins may see others' time", "TIMEENTRY_023")
            )
        task_id, list_id = request.arg("task_id"), request.arg("list_id")
        entries = [
            e
            for e in self.time_entries
            if start <= e.start <= end
            and e.user_id in wanted
            and (not task_id or e.task_id == task_id)
            and (not list_id or self.tasks[e.task_id].list_id == list_id)
            and not self.tasks[e.task_id].deleted
        ]
        entries.sort(key=lambda e: e.start, reverse=True)  # ClickUp answers newest first
        return json_response({"data": [self._entry_json(e) for e in entries]})

    def create_time_entry(self, request: FakeRequest, team_Id: str) -> FakeResponse:  # noqa: N803
        self._require_team(team_Id)
        body = request.json() or {}
        if not isinstance(body.get("start"), int) or not isinstance(body.get("duration"), int):
            raise self._invalid("Start and duration are required", "TIMEENTRY_001")
        if body["duration"] <= 0:
            raise self._invalid("Duration must be positive", "TIMEENTRY_002")
        task = self._require_task(str(body.get("tid")))
        entry = self.add_time_entry(
            task, body["duration"] / 3_600_000, body["start"], description=str(body.get("description") or "")
        )
        entry.billable = bool(body.get("billable"))
        answer = {
            "description": entry.description,
            "tags": [],
            "start": entry.start,
            "billable": entry.billable,
            "duration": entry.duration,
            "assignee": entry.user_id,
            "tid": task.id,
        }
        if self.time_entry_answer_has_id:
            answer["id"] = entry.id  # not in the document's example, which names no entry
        return json_response(answer)

    # --- views -------------------------------------------------------------------------------------
    def get_view_tasks(self, request: FakeRequest, view_id: str) -> FakeResponse:
        view = self.views.get(view_id)
        if view is None:
            raise HttpError(404, self.error_body(404, "View not found", "VIEW_001"))
        needle = view.search.lower()
        candidates = [
            t
            for t in self.tasks.values()
            if not t.deleted and view.list_id in (t.list_id, *t.other_list_ids) and needle in t.name.lower()
        ]
        candidates.sort(key=lambda t: (t.date_created, t.id))
        page = int(request.arg("page", "0") or 0)
        start = page * self.page_size
        chunk = candidates[start : start + self.page_size]
        return json_response(
            {
                "tasks": [self.task_json(t, markdown=True) for t in chunk],
                "last_page": start + self.page_size >= len(candidates),
            }
        )
