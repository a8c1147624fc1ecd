"""The sprint-work half of the fake OpenProject: versions written, relations, time entries, custom
fields, the work-package create form and journal details as OpenProject renders them.

`SprintWorkFake` is mixed into `FakeOpenProject`; it keeps its state beside the fake's own and
registers its routes from `register_work_routes()`. What it reproduces, because the adapter
depends on it:
- Versions: POST /versions and PATCH /versions/{id} validate the name (unique in the project),
  the dates (the end not before the start) and the status (open, locked, closed). Sprints stay
  read-only, as OpenProject 17.3 serves them.
- Relations are stored in their canonical direction (relates, blocks, duplicates, precedes,
  includes, requires): a reverse type ("blocked") swaps from and to. Only one relation may join
  two work packages (409), none joins one to itself (422). A single relation embeds both ends.
- Time entries belong to a work package (`entity`) and a user; hours are an ISO 8601 duration.
- Custom fields are `customFieldN`: plain values as properties, options and users as links,
  long text as a formattable; the create and update forms list them in their schema with the
  options allowed.
- Journal details come as OpenProject writes them: raw text ("Subject changed from A to B")
  and HTML (`<strong>Subject</strong> changed from <i>A</i> to <i>B</i>`).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from .base import FakeRequest, FakeResponse, HttpError, json_response

# Canonical relation type -> (its reverse, the name OpenProject shows for it).
RELATION_TYPES = {
    "relates": ("relates", "related to"),
    "blocks": ("blocked", "blocks"),
    "duplicates": ("duplicated", "duplicates"),
    "precedes": ("follows", "precedes"),
    "includes": ("partof", "includes"),
    "requires": ("required", "requires"),
}
REVERSE_TYPES = {reverse: canonical for canonical, (reverse, _name) in RELATION_TYPES.items()}
VERSION_STATUSES = ("open", "locked", "closed")
DURATION = re.compile(r"^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$")

# Custom field format -> (schema type, single value kept as a link?).
FORMATS = {
    "list": ("CustomOption", True),
    "user": ("User", True),
    "string": ("String", False),
    "text": ("Formattable", False),
    "int": ("Integer", False),
    "float": ("Float", False),
    "date": ("Date", False),
    "bool": ("Boolean", False),
}


@dataclass
class FakeDetail:
    """One changed attribute in a journal: how OpenProject's journal formatter renders it."""

    label: str
    old: str | None = None
    new: str | None = None
    diff: bool = False  # long text: "changed (Details)", with a link to the diff

    def raw(self) -> str:
        if self.diff:
            return f"{self.label} changed (Details)"
        if self.new is None:
            return f"{self.label} deleted ({self.old})"
        if self.old is None:
            return f"{self.label} set to {self.new}"
        return f"{self.label} changed from {self.old} to {self.new}"

    def html(self, journal_id: int) -> str:
        label = f"<strong>{html.escape(self.label)}</strong>"
        if self.diff:
            return f'{label} changed (<a href="/journals/{journal_id}/diff/description">Details</a>)'
        old = f"<i>{html.escape(self.old)}</i>" if self.old is not None else None
        new = f"<i>{html.escape(self.new)}</i>" if self.new is not None else None
        if new is None:
            return f"{label} deleted (<strike>{old}</strike>)"
        if old is None:
            return f"{label} set to {new}"
        return f"{label} changed from {old} to {new}"


@dataclass
class FakeVersion:
    id: int
    name: str
    project_id: int
    status: str  # open, locked, closed
    start: date | None
    end: date | None
    description: str = ""


@dataclass
class FakeCustomField:
    id: int
    name: str
    format: str  # a key of FORMATS
    options: dict[int, str] = field(default_factory=dict)
    multi: bool = False
    projects: tuple[int, ...] = (1,)
    required: bool = False

    @property
    def key(self) -> str:
        return f"customField{self.id}"

    @property
    def is_link(self) -> bool:
        return FORMATS[self.format][1]


@dataclass
class FakeRelation:
    id: int
    from_id: int
    to_id: int
    type: str  # canonical
    description: str | None = None


@dataclass
class FakeTimeEntry:
    id: int
    work_package_id: int
    project_id: int
    user_id: int
    hours: str
    spent_on: date
    comment: str
    created_at: datetime


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _error(status: int, identifier: str, message: str, attribute: str | None = None) -> HttpError:
    body: dict[str, Any] = {
        "_type": "Error",
        "errorIdentifier": f"urn:openproject-org:api:v3:errors:{identifier}",
        "message": message,
    }
    if attribute:
        body["_embedded"] = {"details": {"attribute": attribute}}
    return HttpError(status, body)


class SprintWorkFake:
    """Mixin for FakeOpenProject (which provides the users, projects, work packages and helpers)."""

    def init_sprint_work(self) -> None:
        self.custom_fields = {
            1: FakeCustomField(1, "Risk", "list", {21: "Low", 22: "Medium", 23: "High"}),
            2: FakeCustomField(2, "Platforms", "list", {24: "Web", 25: "iOS", 26: "Android"}, multi=True),
            3: FakeCustomField(3, "Customer", "string", projects=(1, 2)),
            4: FakeCustomField(4, "Reviewer", "user"),
            5: FakeCustomField(5, "Release notes", "text"),
        }
        self.relations: dict[int, FakeRelation] = {}
        self.time_entries: dict[int, FakeTimeEntry] = {}
        self._next_relation = 1
        self._next_time_entry = 1
        self._next_version = max(self.versions, default=0) + 1

    def register_work_routes(self) -> None:
        r = self.route
        r("POST", "/api/v3/versions", self.create_version)
        r("PATCH", "/api/v3/versions/{id}", self.update_version)
        r("POST", "/api/v3/projects/{id}/work_packages/form", self.create_form)
        if self.has_workspaces:
            r("POST", "/api/v3/workspaces/{id}/work_packages/form", self.create_form)
        r("GET", "/api/v3/relations", self.list_relations)
        r("DELETE", "/api/v3/relations/{id}", self.delete_relation)
        r("POST", "/api/v3/work_packages/{id}/relations", self.create_relation)
        r("GET", "/api/v3/time_entries", self.list_time_entries)
        r("POST", "/api/v3/time_entries", self.create_time_entry)

    # --- behind the adapter's back -----------------------------------------------------------

    def retitle(self, wp_id: int, subject: str, user_id: int = 2) -> None:
        """Another user renames the work package (a journal records it)."""
        with self._lock:
            wp = self.work_packages[wp_id]
            detail = FakeDetail("Subject", wp.subject, subject)
            wp.subject = subject
            wp.lock_version += 1
            wp.updated_at = datetime.now(UTC)
            self._journal(wp, user_id, at=wp.updated_at, details=[detail])

    def add_relation(self, from_id: int, to_id: int, kind: str = "blocks") -> int:
        """Relate two work packages directly in the state (behind the adapter's back); returns the relation id."""
        with self._lock:
            relation = FakeRelation(self._next_relation, from_id, to_id, kind)
            self._next_relation += 1
            self.relations[relation.id] = relation
            return relation.id

    def custom_value_names(self, wp_id: int, cf_id: int) -> Any:
        """The work package's value of a custom field as people read it (option names, user names)."""
        cf = self.custom_fields[cf_id]
        value = self.work_packages[wp_id].custom_values.get(cf_id)
        if value is None or value == []:
            return None
        if cf.format == "list":
            return [cf.options[v] for v in value] if cf.multi else cf.options[value]
        if cf.format == "user":
            return self.users[value].name
        return value

    def logged_hours(self, wp_id: int) -> float:
        total = 0.0
        for entry in self.time_entries.values():
            if entry.work_package_id == wp_id:
                hours, minutes, seconds = DURATION.match(entry.hours).groups()  # type: ignore[union-attr]
                total += float(hours or 0) + float(minutes or 0) / 60 + float(seconds or 0) / 3600
        return total

    # --- custom fields ------------------------------------------------------------------------

    def project_custom_fields(self, project_id: int) -> list[FakeCustomField]:
        return [cf for cf in self.custom_fields.values() if project_id in cf.projects]

    def custom_field_values_json(self, wp: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """A work package's custom values: (properties, links)."""
        properties: dict[str, Any] = {}
        links: dict[str, Any] = {}
        for cf in self.project_custom_fields(wp.project_id):
            value = wp.custom_values.get(cf.id)
            if cf.format == "list":
                if cf.multi:
                    links[cf.key] = [self._option_link(cf, v) for v in value or []]
                else:
                    links[cf.key] = self._option_link(cf, value) if value is not None else {"href": None}
            elif cf.format == "user":
                user = self.users.get(value) if value is not None else None
                links[cf.key] = (
                    {"href": f"/api/v3/users/{user.id}", "title": user.name} if user else {"href": None}
                )
            elif cf.format == "text":
                properties[cf.key] = self._formattable(value or "")
            else:
                properties[cf.key] = value
        return properties, links

    @staticmethod
    def _formattable(raw: str) -> dict[str, str]:
        return {"format": "markdown", "raw": raw, "html": f"<p>{html.escape(raw)}</p>" if raw else ""}

    @staticmethod
    def _option_link(cf: FakeCustomField, option_id: int) -> dict[str, Any]:
        return {"href": f"/api/v3/custom_options/{option_id}", "title": cf.options[option_id]}

    def custom_field_schema(self, cf: FakeCustomField) -> dict[str, Any]:
        kind, is_link = FORMATS[cf.format]
        prop: dict[str, Any] = {
            "type": f"[]{kind}" if cf.multi else kind,
            "name": cf.name,
            "required": cf.required,
            "hasDefault": False,
            "writable": True,
            "options": {},
        }
        if is_link:
            prop["location"] = "_links"
        if cf.format == "list":
            prop["_links"] = {"allowedValues": [self._option_link(cf, o) for o in cf.options]}
            prop["_embedded"] = {
                "allowedValues": [
                    {
                        "_type": "CustomOption",
                        "id": option_id,
                        "value": name,
                        "_links": {"self": self._option_link(cf, option_id)},
                    }
                    for option_id, name in cf.options.items()
                ]
            }
        elif cf.format == "user":
            prop["_links"] = {"allowedValues": {"href": "/api/v3/principals?filters=[]"}}
        return prop

    def apply_custom_fields(
        self, wp: Any, body: dict[str, Any]
    ) -> tuple[dict[int, Any], list[tuple[str, str]], list[FakeDetail]]:
        """Custom values in a write: (new values by field id, (attribute, message) errors, journal details)."""
        links = body.get("_links") or {}
        values: dict[int, Any] = {}
        problems: list[tuple[str, str]] = []
        details: list[FakeDetail] = []
        project = self.projects[wp.project_id]
        for cf in self.project_custom_fields(wp.project_id):
            where = links if cf.is_link else body
            if cf.key not in where:
                continue
            given = where[cf.key]
            try:
                value = self._custom_value(cf, given, project)
            except ValueError as exc:
                problems.append((cf.key, str(exc)))
                continue
            old = wp.custom_values.get(cf.id)
            values[cf.id] = value
            if old != value:
                details.append(FakeDetail(cf.name, self._shown(cf, old), self._shown(cf, value)))
        return values, problems, details

    def _custom_value(self, cf: FakeCustomField, given: Any, project: Any) -> Any:
        invalid = f"{cf.name} is not set to one of the allowed values."
        if cf.format == "list":
            hrefs = [item.get("href") for item in given] if cf.multi and isinstance(given, list) else None
            if cf.multi:
                if hrefs is None:
                    raise ValueError(invalid)
                ids = [self._id_from(href, "custom_options") for href in hrefs]
                if any(i not in cf.options for i in ids):
                    raise ValueError(invalid)
                return ids
            href = given.get("href") if isinstance(given, dict) else None
            if href is None:
                return None
            option_id = self._id_from(href, "custom_options")
            if option_id not in cf.options:
                raise ValueError(invalid)
            return option_id
        if cf.format == "user":
            href = given.get("href") if isinstance(given, dict) else None
            if href is None:
                return None
            user_id = self._id_from(href, "users")
            if user_id not in project.members:
                raise ValueError(invalid)
            return user_id
        if given is None:
            return None
        if cf.format == "text":
            raw = given.get("raw") if isinstance(given, dict) else None
            if not isinstance(raw, str):
                raise ValueError(f"{cf.name} is not a formattable text.")
            return raw or None
        checks = {
            "string": lambda v: isinstance(v, str),
            "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "bool": lambda v: isinstance(v, bool),
            "date": lambda v: isinstance(v, str) and bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)),
        }
        if not checks[cf.format](given):
            raise ValueError(f"{cf.name} is not a valid {cf.format}.")
        return given

    def _shown(self, cf: FakeCustomField, value: Any) -> str | None:
        if value is None or value == []:
            return None
        if cf.format == "list":
            return ", ".join(cf.options[v] for v in value) if cf.multi else cf.options[value]
        if cf.format == "user":
            return self.users[value].name
        return str(value)

    # --- forms and schemas ---------------------------------------------------------------------

    def schema_json(self, project: Any, type_id: int, allowed_statuses: list[Any]) -> dict[str, Any]:
        """The work-package schema of a project and type, custom fields included."""

        def prop(kind: str, name: str, *, required: bool = False, writable: bool = True) -> dict[str, Any]:
            return {
                "type": kind,
                "name": name,
                "required": required,
                "hasDefault": False,
                "writable": writable,
            }

        schema: dict[str, Any] = {
            "_type": "Schema",
            "_dependencies": [],
            "lockVersion": prop("Integer", "Lock Version", writable=False),
            "id": prop("Integer", "ID", writable=False),
            "subject": prop("String", "Subject", required=True),
            "description": prop("Formattable", "Description"),
            "startDate": prop("Date", "Start date"),
            "dueDate": prop("Date", "Finish date"),
            "estimatedTime": prop("Duration", "Work"),
            "storyPoints": prop("Integer", "Story points"),
            "createdAt": prop("DateTime", "Created on", writable=False),
            "updatedAt": prop("DateTime", "Updated on", writable=False),
            "author": {**prop("User", "Author", writable=False), "location": "_links"},
            "project": {**prop("Project", "Project", required=True), "location": "_links"},
            "parent": {**prop("WorkPackage", "Parent"), "location": "_links"},
            "assignee": {**prop("User", "Assignee"), "location": "_links"},
            "type": {
                **prop("Type", "Type", required=True),
                "location": "_links",
                "_links": {
                    "allowedValues": [
                        self._link("types", t, self.types[t]) for t in project_types(self, project)
                    ]
                },
            },
            "status": {
                **prop("Status", "Status", required=True),
                "hasDefault": True,
                "location": "_links",
                "_links": {"allowedValues": [self._link("statuses", s.id, s.name) for s in allowed_statuses]},
                "_embedded": {"allowedValues": [self.status_json(s) for s in allowed_statuses]},
            },
            "priority": {
                **prop("Priority", "Priority", required=True),
                "location": "_links",
                "_links": {
                    "allowedValues": [self._link("priorities", p, n) for p, n in self.priorities.items()]
                },
            },
            "version": {**prop("Version", "Version"), "location": "_links"},
        }
        if self.has_sprints:
            schema["sprint"] = {**prop("Sprint", "Sprint"), "location": "_links"}
        for cf in self.project_custom_fields(project.id):
            schema[cf.key] = self.custom_field_schema(cf)
        schema["_links"] = {}
        return schema

    def create_form(self, request: FakeRequest, id: str) -> FakeResponse:  # noqa: A002
        project = self._project(request, id)
        body = self._body(request)
        href = ((body.get("_links") or {}).get("type") or {}).get("href")
        type_id = self._id_from(href, "types") if href else project_types(self, project)[0]
        errors: dict[str, Any] = {}
        if type_id not in project_types(self, project):
            errors["type"] = {
                "_type": "Error",
                "errorIdentifier": "urn:openproject-org:api:v3:errors:PropertyConstraintViolation",
                "message": "Type is not set to one of the allowed values.",
                "_embedded": {"details": {"attribute": "type"}},
            }
            type_id = project_types(self, project)[0]
        default_status = next(s for s in self.statuses.values() if s.is_default)
        base = f"/api/v3/projects/{project.id}/work_packages"
        form = {
            "_type": "Form",
            "_embedded": {
                "payload": {
                    "subject": body.get("subject") or "",
                    "description": self._formattable(""),
                    "_links": {
                        "type": self._link("types", type_id, self.types[type_id]),
                        "status": self._link("statuses", default_status.id, default_status.name),
                    },
                },
                "schema": self.schema_json(project, type_id, [default_status]),
                "validationErrors": errors,
            },
            "_links": {
                "self": {"href": f"{base}/form", "method": "post"},
                "validate": {"href": f"{base}/form", "method": "post"},
                "previewMarkup": {"href": "/api/v3/render/markdown", "method": "post"},
            },
        }
        return json_response(form)

    # --- versions --------------------------------------------------------------------------------

    def _version_changes(self, body: dict[str, Any], current: Any | None, viewer: int) -> dict[str, Any]:
        """Validate a version write against the version it changes (None when creating)."""
        changes: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        if current is None:
            href = ((body.get("_links") or {}).get("definingProject") or {}).get("href")
            match = re.fullmatch(r"/api/v3/(?:projects|workspaces)/([^/]+)", str(href or ""))
            project = next(
                (
                    p
                    for p in self.projects.values()
                    if match and match.group(1) in (str(p.id), p.identifier) and viewer in p.members
                ),
                None,
            )
            if project is None:
                raise _error(422, "PropertyConstraintViolation", "Project can't be blank.", "definingProject")
            changes["project_id"] = project.id
        project_id = changes.get("project_id", current.project_id if current else None)
        if "name" in body or current is None:
            name = body.get("name")
            if not isinstance(name, str) or not name.strip():
                problems.append(("name", "Name can't be blank."))
            elif any(
                v.project_id == project_id and v.name == name and v is not current
                for v in self.versions.values()
            ):
                problems.append(("name", "Name has already been taken."))
            else:
                changes["name"] = name
        for key, attr in (("startDate", "start"), ("endDate", "end")):
            if key in body:
                try:
                    changes[attr] = date.fromisoformat(body[key]) if body[key] is not None else None
                except (TypeError, ValueError):
                    problems.append((key, f"{key} is not a valid date."))
        if "description" in body:
            raw = body["description"].get("raw") if isinstance(body["description"], dict) else None
            changes["description"] = raw or ""
        if "status" in body:
            if body["status"] not in VERSION_STATUSES:
                problems.append(("status", "Status is not set to one of the allowed values."))
            else:
                changes["status"] = body["status"]
        start = changes.get("start", current.start if current else None)
        end = changes.get("end", current.end if current else None)
        if start and end and end < start:
            problems.append(("endDate", "Finish date must be greater than or equal to start date."))
        if problems:
            self._reject(problems)
        return changes

    def create_version(self, request: FakeRequest) -> FakeResponse:
        body = self._body(request)
        changes = self._version_changes(body, None, self._user_id(request) or 0)
        with self._lock:
            version_id = self._next_version
            self._next_version += 1
            version = FakeVersion(
                version_id,
                changes["name"],
                changes["project_id"],
                changes.get("status", "open"),
                changes.get("start"),
                changes.get("end"),
                changes.get("description", ""),
            )
            self.versions[version_id] = version
        return json_response(self.version_json(version), status=201)

    def update_version(self, request: FakeRequest, id: str) -> FakeResponse:  # noqa: A002
        version = self.versions.get(int(id)) if id.isdigit() else None
        if version is None:
            raise _error(404, "NotFound", "The requested resource could not be found.")
        changes = self._version_changes(self._body(request), version, self._user_id(request) or 0)
        with self._lock:
            for attr, value in changes.items():
                setattr(version, attr, value)
        return json_response(self.version_json(version))

    # --- relations -------------------------------------------------------------------------------

    def relation_json(self, relation: FakeRelation, *, embed: bool = False) -> dict[str, Any]:
        reverse, name = RELATION_TYPES[relation.type]
        path = f"/api/v3/relations/{relation.id}"
        source, target = self.work_packages[relation.from_id], self.work_packages[relation.to_id]
        body: dict[str, Any] = {
            "_type": "Relation",
            "id": relation.id,
            "name": name,
            "type": relation.type,
            "reverseType": reverse,
            "description": relation.description,
            "lag": 0 if relation.type == "precedes" else None,
            "_links": {
                "self": {"href": path},
                "updateImmediately": {"href": path, "method": "patch"},
                "delete": {"href": path, "method": "delete", "title": "Remove relation"},
                "from": {"href": f"/api/v3/work_packages/{source.id}", "title": source.subject},
                "to": {"href": f"/api/v3/work_packages/{target.id}", "title": target.subject},
            },
        }
        if embed:
            body["_embedded"] = {"from": self.work_package_json(source), "to": self.work_package_json(target)}
        return body

    def relations_of(self, wp_id: int) -> list[FakeRelation]:
        return [r for r in self.relations.values() if wp_id in (r.from_id, r.to_id)]

    def relations_collection(self, wp_id: int) -> dict[str, Any]:
        elements = [self.relation_json(r) for r in self.relations_of(wp_id)]
        return {
            "_type": "Collection",
            "total": len(elements),
            "count": len(elements),
            "_embedded": {"elements": elements},
            "_links": {"self": {"href": f"/api/v3/work_packages/{wp_id}/relations"}},
        }

    def create_relation(self, request: FakeRequest, id: str) -> FakeResponse:  # noqa: A002
        source = self._work_package(id)
        body = self._body(request)
        kind = body.get("type")
        if kind not in RELATION_TYPES and kind not in REVERSE_TYPES:
            raise _error(
                422, "PropertyConstraintViolation", "Type is not set to one of the allowed values.", "type"
            )
        target_id = self._id_from(((body.get("_links") or {}).get("to") or {}).get("href"), "work_packages")
        viewer = self._user_id(request)
        target = self.work_packages.get(target_id) if target_id is not None else None
        if target is None or viewer not in self.projects[target.project_id].members:
            raise _error(422, "PropertyConstraintViolation", "Related work package is invalid.", "to")
        if target.id == source.id:
            raise _error(422, "PropertyConstraintViolation", "Work package can't be related to itself.", "to")
        from_id, to_id = source.id, target.id
        if kind in REVERSE_TYPES:  # stored in the canonical direction
            kind, from_id, to_id = REVERSE_TYPES[kind], to_id, from_id
        with self._lock:
            if any({r.from_id, r.to_id} == {from_id, to_id} for r in self.relations.values()):
                raise _error(
                    409,
                    "UpdateConflict",
                    "Couldn't update the resource because of conflicting modifications.",
                )
            relation = FakeRelation(self._next_relation, from_id, to_id, kind, body.get("description"))
            self._next_relation += 1
            self.relations[relation.id] = relation
        return json_response(self.relation_json(relation, embed=True), status=201)

    def list_relations(self, request: FakeRequest) -> FakeResponse:
        relations = sorted(self.relations.values(), key=lambda r: r.id)
        viewer = self._user_id(request)
        relations = [
            r
            for r in relations
            if viewer in self.projects[self.work_packages[r.from_id].project_id].members
            and viewer in self.projects[self.work_packages[r.to_id].project_id].members
        ]
        for name, operator, values in self._filters(request, {"id", "from", "to", "involved", "type"}) or []:
            if operator != "=":
                raise _error(
                    400, "InvalidQuery", f"The operator {operator} is not valid for the filter {name}."
                )
            if name == "type":
                if any(v not in RELATION_TYPES for v in values):
                    raise _error(400, "InvalidQuery", "Filters Type filter has invalid values.")
                relations = [r for r in relations if r.type in values]
                continue
            wanted = {int(v) for v in values if v.isdigit()}
            relations = [r for r in relations if _relation_ids(r, name) & wanted]
        return json_response(self._paged(request, relations, self.relation_json))

    def delete_relation(self, request: FakeRequest, id: str) -> FakeResponse:  # noqa: A002
        with self._lock:
            if not id.isdigit() or self.relations.pop(int(id), None) is None:
                raise _error(404, "NotFound", "The specified relation does not exist.")
        return FakeResponse(204)

    # --- time entries -----------------------------------------------------------------------------

    def time_entry_json(self, entry: FakeTimeEntry) -> dict[str, Any]:
        path = f"/api/v3/time_entries/{entry.id}"
        wp = self.work_packages.get(entry.work_package_id)
        project = self.projects[entry.project_id]
        user = self.users[entry.user_id]
        return {
            "_type": "TimeEntry",
            "id": entry.id,
            "comment": {
                "format": "plain",
                "raw": entry.comment,
                "html": f"<p>{html.escape(entry.comment)}</p>" if entry.comment else "",
            },
            "spentOn": entry.spent_on.isoformat(),
            "hours": entry.hours,
            "ongoing": False,
            "createdAt": stamp(entry.created_at),
            "updatedAt": stamp(entry.created_at),
            "_links": {
                "self": {"href": path},
                "updateImmediately": {"href": path, "method": "patch"},
                "update": {"href": f"{path}/form", "method": "post"},
                "delete": {"href": path, "method": "delete"},
                "schema": {"href": "/api/v3/time_entries/schema"},
                "project": {"href": f"/api/v3/projects/{project.id}", "title": project.name},
                "entity": {
                    "href": f"/api/v3/work_packages/{entry.work_package_id}",
                    "title": wp.subject if wp else None,
                },
                "user": {"href": f"/api/v3/users/{user.id}", "title": user.name},
                "activity": {"href": "/api/v3/time_entries/activities/1", "title": "Development"},
            },
        }

    def create_time_entry(self, request: FakeRequest) -> FakeResponse:
        body = self._body(request)
        viewer = self._user_id(request) or 0
        problems: list[tuple[str, str]] = []
        hours = body.get("hours")
        match = DURATION.match(hours) if isinstance(hours, str) else None
        if match is None or hours == "PT":
            problems.append(("hours", "Hours is not a valid duration."))
        elif not sum(float(part or 0) for part in match.groups()) > 0:
            problems.append(("hours", "Hours must be greater than 0."))
        wp_id = self._id_from(((body.get("_links") or {}).get("entity") or {}).get("href"), "work_packages")
        wp = self.work_packages.get(wp_id) if wp_id is not None else None
        if wp is None or viewer not in self.projects[wp.project_id].members:
            problems.append(("entity", "Work package is invalid."))
        try:
            spent_on = (
                date.fromisoformat(body["spentOn"]) if body.get("spentOn") else datetime.now(UTC).date()
            )
        except (TypeError, ValueError):
            problems.append(("spentOn", "Date is not a valid date."))
            spent_on = datetime.now(UTC).date()
        comment = body.get("comment") if isinstance(body.get("comment"), dict) else {}
        if problems:
            self._reject(problems)
        with self._lock:
            entry = FakeTimeEntry(
                id=self._next_time_entry,
                work_package_id=wp.id,
                project_id=wp.project_id,
                user_id=viewer,
                hours=hours,
                spent_on=spent_on,
                comment=comment.get("raw") or "",
                created_at=datetime.now(UTC),
            )
            self._next_time_entry += 1
            self.time_entries[entry.id] = entry
        return json_response(self.time_entry_json(entry), status=201)

    def list_time_entries(self, request: FakeRequest) -> FakeResponse:
        viewer = self._user_id(request) or 0
        entries = [e for e in self.time_entries.values() if viewer in self.projects[e.project_id].members]
        allowed = {"entity_type", "entity_id", "user_id", "project_id", "spent_on"}
        for name, operator, values in self._filters(request, allowed) or []:
            if name == "spent_on":
                if operator != "<>d":
                    raise _error(400, "InvalidQuery", f"The operator {operator} is not valid for spent_on.")
                since, until = (values + ["", ""])[:2]
                entries = [
                    e
                    for e in entries
                    if (not since or e.spent_on >= date.fromisoformat(since))
                    and (not until or e.spent_on <= date.fromisoformat(until))
                ]
                continue
            if operator != "=":
                raise _error(400, "InvalidQuery", f"The operator {operator} is not valid for {name}.")
            if name == "entity_type":
                entries = entries if "WorkPackage" in values else []
                continue
            wanted = {str(viewer) if v == "me" else v for v in values}
            attr = {"entity_id": "work_package_id", "user_id": "user_id", "project_id": "project_id"}[name]
            entries = [e for e in entries if str(getattr(e, attr)) in wanted]
        entries = self._sort(
            request,
            sorted(entries, key=lambda e: e.id),
            {"id": lambda e: e.id, "spent_on": lambda e: e.spent_on, "created_at": lambda e: e.created_at},
        )
        return json_response(self._paged(request, entries, self.time_entry_json))


def _relation_ids(relation: FakeRelation, filter_name: str) -> set[int]:
    """The ids a relations filter compares with its values."""
    return {
        "id": {relation.id},
        "from": {relation.from_id},
        "to": {relation.to_id},
        "involved": {relation.from_id, relation.to_id},
    }[filter_name]


def project_types(fake: Any, project: Any) -> list[int]:
    return fake.project_types[project.id]
