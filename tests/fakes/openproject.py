"""A stateful in-memory fake of OpenProject's API v3 (HAL+JSON), for the endpoints the adapter uses.

What it reproduces, because the adapter depends on it:
- Basic auth with the user `apikey` and an API token as the password; 401 otherwise.
- HAL collections (`_type: Collection`, `total`, `count`, `pageSize`, `offset`, `_links`,
  `_embedded.elements`) with `offset` as a 1-based page number.
- `filters` and `sortBy` as JSON in the query string; unknown filters are a 400. A
  work-package list without `filters` shows open work packages only.
- `lockVersion` on PATCH (409 UpdateConflict when missing or stale), a workflow between
  statuses exposed through the work-package form, and activities (journals) written for
  every change, with "Status changed from A to B" details.
- Error bodies `{"_type": "Error", "errorIdentifier": "urn:openproject-org:api:v3:errors:...",
  "message": ..., "_embedded": {"details": {"attribute": ...}}}`, and MultipleErrors.
- `workspaces=False` serves an older server (no /api/v3/workspaces paths); `sprints=False`
  one without sprints, where versions are the only way to plan work.
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from .base import FakeRequest, FakeResponse, FakeVendor, HttpError, json_response
from .openproject_work import FakeDetail, FakeVersion, SprintWorkFake, stamp

TOKEN = "3f9c2a7e5b1d48c6a0e2f4b6d8c0a2e4f6b8d0c2a4e6f8b0d2c4a6e8f0b2d4c6"
OTHER_TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
ERROR_URN = "urn:openproject-org:api:v3:errors:"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 1000
SEED_TIME = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# Status ids, as an administrator might have them after edits (not 1..n).
NEW, IN_PROGRESS, CLOSED, REJECTED, PARKED = 1, 7, 12, 14, 15
LOW, NORMAL, HIGH, IMMEDIATE = 7, 8, 9, 10
TASK_TYPE, MILESTONE_TYPE, EPIC_TYPE, STORY_TYPE, BUG_TYPE = 1, 2, 3, 4, 5

# Which status may follow which (OpenProject's workflow, collapsed over roles and types).
WORKFLOW = {
    NEW: {IN_PROGRESS, CLOSED, REJECTED, PARKED},
    IN_PROGRESS: {NEW, CLOSED, PARKED},
    CLOSED: {IN_PROGRESS},
    REJECTED: {NEW},
    PARKED: {NEW, IN_PROGRESS},
}

SPRINT_STATUS_URN = "urn:openproject-org:api:v3:sprints:status:"
DURATION = re.compile(
    r"^P(?:\d+(?:\.\d+)?D)?(?:T(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?$"
)


def formattable(raw: str, fmt: str = "markdown") -> dict[str, str]:
    return {"format": fmt, "raw": raw, "html": f"<p>{html.escape(raw)}</p>" if raw else ""}


def memberships_href(filter_name: str, native_id: int) -> str:
    filters = json.dumps([{filter_name: {"operator": "=", "values": [str(native_id)]}}])
    return f"/api/v3/memberships?{urlencode({'filters': filters})}"


def op_error(identifier: str, message: str, attribute: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"_type": "Error", "errorIdentifier": ERROR_URN + identifier, "message": message}
    if attribute:
        body["_embedded"] = {"details": {"attribute": attribute}}
    return body


def raise_error(status: int, identifier: str, message: str, attribute: str | None = None) -> None:
    raise HttpError(status, op_error(identifier, message, attribute))


@dataclass
class FakeUser:
    id: int
    login: str
    first_name: str
    last_name: str
    email: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class FakeProject:
    id: int
    identifier: str
    name: str
    description: str
    members: list[int]


@dataclass
class FakeStatus:
    id: int
    name: str
    is_closed: bool
    is_default: bool
    position: int


@dataclass
class FakeSprint:
    id: int
    name: str
    project_id: int
    status: str  # in_planning, active, completed
    start: date
    finish: date


@dataclass
class FakeJournal:
    id: int
    version: int
    user_id: int
    created_at: datetime
    comment: str = ""
    details: list[FakeDetail] = field(default_factory=list)


@dataclass
class FakeWorkPackage:
    id: int
    project_id: int
    subject: str
    author_id: int
    created_at: datetime
    updated_at: datetime
    description: str = ""
    type_id: int = TASK_TYPE
    status_id: int = NEW
    priority_id: int = NORMAL
    assignee_id: int | None = None
    parent_id: int | None = None
    sprint_id: int | None = None
    version_id: int | None = None
    due_date: str | None = None
    start_date: str | None = None
    estimated_time: str | None = None
    story_points: int | None = None
    lock_version: int = 0
    journals: list[FakeJournal] = field(default_factory=list)
    custom_values: dict[int, Any] = field(
        default_factory=dict
    )  # custom field id -> option id(s), user id, value


class FakeOpenProject(SprintWorkFake, FakeVendor):
    vendor = "OpenProject"

    def __init__(self, *, workspaces: bool = True, sprints: bool = True):
        super().__init__()
        self.has_workspaces = workspaces
        self.has_sprints = sprints
        self.tokens = {TOKEN: 1, OTHER_TOKEN: 2}
        self.users = {
            1: FakeUser(1, "ana", "Ana", "Silva", "ana@example.com"),
            2: FakeUser(2, "ben", "Ben", "Okafor", "ben@example.com"),
            3: FakeUser(3, "carla", "Carla", "Reyes", "carla@example.com"),
        }
        self.projects = {
            1: FakeProject(1, "demo-project", "Demo project", "Where the **demo** happens.", [1, 2]),
            2: FakeProject(2, "operations", "Operations", "", [1, 3]),
            3: FakeProject(3, "website", "Website relaunch", "", [1]),
        }
        self.statuses = {
            NEW: FakeStatus(NEW, "New", False, True, 1),
            IN_PROGRESS: FakeStatus(IN_PROGRESS, "In progress", False, False, 2),
            PARKED: FakeStatus(PARKED, "Parked", False, False, 3),
            CLOSED: FakeStatus(CLOSED, "Closed", True, False, 4),
            REJECTED: FakeStatus(REJECTED, "Rejected", True, False, 5),
        }
        self.priorities = {LOW: "Low", NORMAL: "Normal", HIGH: "High", IMMEDIATE: "Immediate"}
        self.types = {
            TASK_TYPE: "Task",
            MILESTONE_TYPE: "Milestone",
            EPIC_TYPE: "Epic",
            STORY_TYPE: "User story",
            BUG_TYPE: "Bug",
        }
        self.project_types = {
            1: [TASK_TYPE, EPIC_TYPE, STORY_TYPE, BUG_TYPE],
            2: [TASK_TYPE, BUG_TYPE],
            3: [TASK_TYPE],
        }
        today = datetime.now(UTC).date()
        self.sprints = {
            1: FakeSprint(
                1, "Sprint 1", 1, "completed", today - timedelta(days=21), today - timedelta(days=8)
            ),
            2: FakeSprint(2, "Sprint 2", 1, "active", today - timedelta(days=7), today + timedelta(days=6)),
            3: FakeSprint(
                3, "Sprint 3", 1, "in_planning", today + timedelta(days=7), today + timedelta(days=20)
            ),
            4: FakeSprint(
                4, "Ops sprint", 2, "active", today - timedelta(days=3), today + timedelta(days=10)
            ),
        }
        self.versions = {
            1: FakeVersion(1, "1.0", 1, "closed", today - timedelta(days=60), today - timedelta(days=30)),
            2: FakeVersion(2, "1.1", 1, "open", today - timedelta(days=7), today + timedelta(days=6)),
            3: FakeVersion(3, "2.0", 1, "open", today + timedelta(days=30), today + timedelta(days=60)),
        }
        self.work_packages: dict[int, FakeWorkPackage] = {}
        # Work package id -> how many more reads are followed by someone else's edit.
        self.edits_after_read: dict[int, int] = {}
        self._next_wp = 1
        self._next_journal = 1
        self.init_sprint_work()
        self._seed_work_packages()
        self._register_routes()
        self.register_work_routes()

    # --- seeding ---------------------------------------------------------------------

    def _seed_work_packages(self) -> None:
        self.epic_id = self.add_work_package(1, "Checkout redesign", type_id=EPIC_TYPE, status_id=IN_PROGRESS)
        done = self.add_work_package(
            1,
            "Payment form validation",
            parent_id=self.epic_id,
            sprint_id=2,
            version_id=2,
            story_points=3,
            estimated_time="PT5H30M",
            assignee_id=1,
        )
        self.record_status_change(done, IN_PROGRESS, at=SEED_TIME + timedelta(days=1))
        self.record_status_change(done, CLOSED, at=SEED_TIME + timedelta(days=2, hours=6))
        self.done_in_sprint_id = done
        self.add_work_package(
            1,
            "Order summary page",
            parent_id=self.epic_id,
            sprint_id=2,
            version_id=2,
            story_points=5,
            assignee_id=2,
        )
        self.add_work_package(
            1, "Fix rounding in totals", type_id=BUG_TYPE, sprint_id=2, version_id=2, story_points=2
        )
        self.add_work_package(2, "Ops runbook", sprint_id=4)

    def add_work_package(self, project_id: int, subject: str, **fields: Any) -> int:
        """Create a work package directly in the state (behind the adapter's back); returns its id."""
        with self._lock:
            wp_id = self._next_wp
            self._next_wp += 1
            wp = FakeWorkPackage(
                id=wp_id,
                project_id=project_id,
                subject=subject,
                author_id=fields.pop("author_id", 1),
                created_at=fields.pop("created_at", SEED_TIME),
                updated_at=fields.pop("updated_at", SEED_TIME),
                **fields,
            )
            self.work_packages[wp_id] = wp
            self._journal(wp, wp.author_id, at=wp.created_at)
            return wp_id

    def edit_after_next_reads(self, wp_id: int, count: int = 1) -> None:
        """Let another user save the work package right after each of the next `count` reads of it."""
        with self._lock:
            self.edits_after_read[wp_id] = count

    def record_status_change(self, wp_id: int, status_id: int, *, at: datetime, user_id: int = 1) -> None:
        with self._lock:
            wp = self.work_packages[wp_id]
            old = self.statuses[wp.status_id].name
            wp.status_id = status_id
            wp.lock_version += 1
            wp.updated_at = at
            self._journal(
                wp, user_id, at=at, details=[FakeDetail("Status", old, self.statuses[status_id].name)]
            )

    def _journal(
        self,
        wp: FakeWorkPackage,
        user_id: int,
        *,
        at: datetime,
        comment: str = "",
        details: list[FakeDetail] | None = None,
    ) -> FakeJournal:
        journal = FakeJournal(
            id=self._next_journal,
            version=len(wp.journals) + 1,
            user_id=user_id,
            created_at=at,
            comment=comment,
            details=list(details or []),
        )
        self._next_journal += 1
        wp.journals.append(journal)
        return journal

    # --- the vendor's conventions ---------------------------------------------------------

    def authenticate(self, request: FakeRequest) -> bool:
        return self._user_id(request) is not None

    def _user_id(self, request: FakeRequest) -> int | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return self.tokens.get(password) if user == "apikey" else None

    def error_body(self, status: int, message: str) -> Any:
        identifier = {
            400: "InvalidQuery",
            401: "Unauthenticated",
            403: "MissingPermission",
            404: "NotFound",
            409: "UpdateConflict",
            422: "PropertyConstraintViolation",
            429: "TooManyRequests",
        }.get(status, "InternalServerError")
        if status == 401:
            message = "You did not provide the correct credentials."
        return op_error(identifier, message)

    def rate_limit_headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}

    # --- routes ------------------------------------------------------------------------

    def _register_routes(self) -> None:
        r = self.route
        r("GET", "/api/v3/users/{id}", self.get_user)
        r("GET", "/api/v3/principals", self.list_principals)
        r("GET", "/api/v3/statuses", self.list_statuses)
        r("GET", "/api/v3/priorities", self.list_priorities)
        r("GET", "/api/v3/projects", self.list_projects)
        r("GET", "/api/v3/projects/{id}", self.get_project)
        r("GET", "/api/v3/projects/{id}/types", self.project_types_collection)
        r("GET", "/api/v3/projects/{id}/available_assignees", self.available_assignees)
        r("GET", "/api/v3/projects/{id}/work_packages", self.project_work_packages)
        r("POST", "/api/v3/projects/{id}/work_packages", self.create_work_package)
        r("GET", "/api/v3/projects/{id}/versions", self.project_versions)
        r("GET", "/api/v3/versions/{id}", self.get_version)
        if self.has_workspaces:
            r("GET", "/api/v3/workspaces", self.list_projects)
            r("GET", "/api/v3/workspaces/{id}/types", self.project_types_collection)
            r("GET", "/api/v3/workspaces/{id}/available_assignees", self.available_assignees)
            r("GET", "/api/v3/workspaces/{id}/work_packages", self.project_work_packages)
            r("POST", "/api/v3/workspaces/{id}/work_packages", self.create_work_package)
            r("GET", "/api/v3/workspaces/{id}/versions", self.project_versions)
        if self.has_sprints:
            r("GET", "/api/v3/sprints", self.list_sprints)
            r("GET", "/api/v3/sprints/{id}", self.get_sprint)
            r("GET", "/api/v3/projects/{id}/sprints", self.project_sprints)
        r("GET", "/api/v3/work_packages", self.all_work_packages)
        r("GET", "/api/v3/work_packages/{id}", self.get_work_package)
        r("PATCH", "/api/v3/work_packages/{id}", self.update_work_package)
        r("DELETE", "/api/v3/work_packages/{id}", self.delete_work_package)
        r("POST", "/api/v3/work_packages/{id}/form", self.work_package_form)
        r("GET", "/api/v3/work_packages/{id}/activities", self.list_activities)
        r("POST", "/api/v3/work_packages/{id}/activities", self.add_activity)

    # --- representations ---------------------------------------------------------------

    def user_json(self, user: FakeUser, *, viewer_id: int) -> dict[str, Any]:
        body: dict[str, Any] = {
            "_type": "User",
            "id": user.id,
            "name": user.name,
            "login": user.login,
            "firstName": user.first_name,
            "lastName": user.last_name,
            "admin": False,
            "avatar": "",
            "status": "active",
            "language": "en",
            "createdAt": stamp(SEED_TIME),
            "updatedAt": stamp(SEED_TIME),
            "_links": {
                "self": {"href": f"/api/v3/users/{user.id}", "title": user.name},
                "memberships": {"href": memberships_href("principal", user.id)},
                "showUser": {"href": f"/users/{user.id}", "type": "text/html"},
            },
        }
        if user.id == viewer_id:  # OpenProject hides other people's addresses by default
            body["email"] = user.email
        return body

    def project_json(self, project: FakeProject) -> dict[str, Any]:
        base = f"/api/v3/projects/{project.id}"
        return {
            "_type": "Project",
            "id": project.id,
            "identifier": project.identifier,
            "name": project.name,
            "active": True,
            "public": False,
            "description": formattable(project.description),
            "statusExplanation": formattable(""),
            "createdAt": stamp(SEED_TIME),
            "updatedAt": stamp(SEED_TIME),
            "_links": {
                "self": {"href": base, "title": project.name},
                "createWorkPackage": {"href": f"{base}/work_packages/form", "method": "post"},
                "createWorkPackageImmediately": {"href": f"{base}/work_packages", "method": "post"},
                "categories": {"href": f"{base}/categories"},
                "types": {"href": f"{base}/types"},
                "versions": {"href": f"{base}/versions"},
                "memberships": {"href": memberships_href("project", project.id)},
                "workPackages": {"href": f"{base}/work_packages"},
                "parent": {"href": None},
                "status": {"href": None},
                "ancestors": [],
            },
        }

    def status_json(self, status: FakeStatus) -> dict[str, Any]:
        return {
            "_type": "Status",
            "id": status.id,
            "name": status.name,
            "isClosed": status.is_closed,
            "color": "#1A67A3",
            "isDefault": status.is_default,
            "isReadonly": False,
            "excludedFromTotals": False,
            "defaultDoneRatio": 100 if status.is_closed else 0,
            "position": status.position,
            "_links": {"self": {"href": f"/api/v3/statuses/{status.id}", "title": status.name}},
        }

    def priority_json(self, priority_id: int) -> dict[str, Any]:
        name = self.priorities[priority_id]
        return {
            "_type": "Priority",
            "id": priority_id,
            "name": name,
            "position": list(self.priorities).index(priority_id) + 1,
            "isDefault": priority_id == NORMAL,
            "isActive": True,
            "_links": {"self": {"href": f"/api/v3/priorities/{priority_id}", "title": name}},
        }

    def type_json(self, type_id: int) -> dict[str, Any]:
        name = self.types[type_id]
        return {
            "_type": "Type",
            "id": type_id,
            "name": name,
            "color": "#35C53F",
            "position": type_id,
            "isDefault": type_id == TASK_TYPE,
            "isMilestone": type_id == MILESTONE_TYPE,
            "createdAt": stamp(SEED_TIME),
            "updatedAt": stamp(SEED_TIME),
            "_links": {"self": {"href": f"/api/v3/types/{type_id}", "title": name}},
        }

    def sprint_json(self, sprint: FakeSprint) -> dict[str, Any]:
        project = self.projects[sprint.project_id]
        return {
            "_type": "Sprint",
            "id": sprint.id,
            "name": sprint.name,
            "description": formattable(""),
            "startDate": sprint.start.isoformat(),
            "finishDate": sprint.finish.isoformat(),
            "createdAt": stamp(SEED_TIME),
            "updatedAt": stamp(SEED_TIME),
            "_links": {
                "self": {"href": f"/api/v3/sprints/{sprint.id}", "title": sprint.name},
                "definingWorkspace": {"href": f"/api/v3/projects/{project.id}", "title": project.name},
                "status": {
                    "href": SPRINT_STATUS_URN + sprint.status,
                    "title": sprint.status.replace("_", " "),
                },
            },
        }

    def version_json(self, version: FakeVersion) -> dict[str, Any]:
        project = self.projects[version.project_id]
        return {
            "_type": "Version",
            "id": version.id,
            "name": version.name,
            "description": formattable(version.description, "plain"),
            "startDate": version.start.isoformat() if version.start else None,
            "endDate": version.end.isoformat() if version.end else None,
            "status": version.status,
            "sharing": "none",
            "createdAt": stamp(SEED_TIME),
            "updatedAt": stamp(SEED_TIME),
            "_links": {
                "self": {"href": f"/api/v3/versions/{version.id}", "title": version.name},
                "schema": {"href": "/api/v3/versions/schema"},
                "definingProject": {"href": f"/api/v3/projects/{project.id}", "title": project.name},
                "availableInProjects": {"href": f"/api/v3/versions/{version.id}/projects"},
            },
        }

    def _link(self, kind: str, native_id: int | None, title: str | None) -> dict[str, Any]:
        if native_id is None:
            return {"href": None}
        return {"href": f"/api/v3/{kind}/{native_id}", "title": title}

    def _ancestors(self, wp: FakeWorkPackage) -> list[FakeWorkPackage]:
        chain = []
        parent_id = wp.parent_id
        while parent_id is not None and parent_id in self.work_packages:
            parent = self.work_packages[parent_id]
            chain.insert(0, parent)
            parent_id = parent.parent_id
        return chain

    def work_package_json(self, wp: FakeWorkPackage, *, embed: bool = False) -> dict[str, Any]:
        """A work package; `embed` adds what OpenProject embeds in a single one (status, type, parent, relations)."""
        path = f"/api/v3/work_packages/{wp.id}"
        project = self.projects[wp.project_id]
        parent = self.work_packages.get(wp.parent_id) if wp.parent_id else None
        assignee = self.users.get(wp.assignee_id) if wp.assignee_id else None
        author = self.users[wp.author_id]
        version = self.versions.get(wp.version_id) if wp.version_id else None
        children = [child for child in self.work_packages.values() if child.parent_id == wp.id]
        links: dict[str, Any] = {
            "self": {"href": path, "title": wp.subject},
            "update": {"href": f"{path}/form", "method": "post"},
            "updateImmediately": {"href": path, "method": "patch"},
            "delete": {"href": path, "method": "delete"},
            "schema": {"href": f"/api/v3/work_packages/schemas/{wp.project_id}-{wp.type_id}"},
            "addComment": {"href": f"{path}/activities", "method": "post", "title": "Add comment"},
            "activities": {"href": f"{path}/activities"},
            "ancestors": [self._link("work_packages", a.id, a.subject) for a in self._ancestors(wp)],
            "children": [self._link("work_packages", c.id, c.subject) for c in children],
            "author": self._link("users", author.id, author.name),
            "assignee": self._link(
                "users", assignee.id if assignee else None, assignee.name if assignee else None
            ),
            "responsible": {"href": None},
            "priority": self._link("priorities", wp.priority_id, self.priorities[wp.priority_id]),
            "project": self._link("projects", project.id, project.name),
            "status": self._link("statuses", wp.status_id, self.statuses[wp.status_id].name),
            "type": self._link("types", wp.type_id, self.types[wp.type_id]),
            "parent": self._link(
                "work_packages", parent.id if parent else None, parent.subject if parent else None
            ),
            "version": self._link(
                "versions", version.id if version else None, version.name if version else None
            ),
        }
        if self.has_sprints:
            sprint = self.sprints.get(wp.sprint_id) if wp.sprint_id else None
            links["sprint"] = self._link(
                "sprints", sprint.id if sprint else None, sprint.name if sprint else None
            )
        body: dict[str, Any] = {
            "_type": "WorkPackage",
            "id": wp.id,
            "lockVersion": wp.lock_version,
            "subject": wp.subject,
            "description": formattable(wp.description),
            "scheduleManually": False,
            "readonly": False,
            "startDate": wp.start_date,
            "dueDate": wp.due_date,
            "derivedStartDate": None,
            "derivedDueDate": None,
            "duration": None,
            "estimatedTime": wp.estimated_time,
            "derivedEstimatedTime": None,
            "ignoreNonWorkingDays": False,
            "spentTime": "PT0S",
            "storyPoints": wp.story_points,
            "percentageDone": None,
            "derivedPercentageDone": None,
            "createdAt": stamp(wp.created_at),
            "updatedAt": stamp(wp.updated_at),
            "_links": links,
        }
        properties, custom_links = self.custom_field_values_json(wp)
        body.update(properties)
        links.update(custom_links)
        if embed:
            body["_embedded"] = {
                "status": self.status_json(self.statuses[wp.status_id]),
                "type": self.type_json(wp.type_id),
                "priority": self.priority_json(wp.priority_id),
                "relations": self.relations_collection(wp.id),
            }
            if parent is not None:
                body["_embedded"]["parent"] = self.work_package_json(parent)
        return body

    def activity_json(self, wp: FakeWorkPackage, journal: FakeJournal) -> dict[str, Any]:
        user = self.users[journal.user_id]
        return {
            "_type": "Activity::Comment" if journal.comment else "Activity",
            "id": journal.id,
            "version": journal.version,
            "comment": formattable(journal.comment),
            "details": [
                {"format": "custom", "raw": detail.raw(), "html": detail.html(journal.id)}
                for detail in journal.details
            ],
            "internal": False,
            "createdAt": stamp(journal.created_at),
            "updatedAt": stamp(journal.created_at),
            "_links": {
                "self": {"href": f"/api/v3/activity/{journal.id}"},
                "workPackage": {"href": f"/api/v3/work_packages/{wp.id}", "title": wp.subject},
                "user": {"href": f"/api/v3/users/{user.id}", "title": user.name},
            },
        }

    # --- collections -------------------------------------------------------------------

    def _collection(self, request: FakeRequest, elements: list[Any]) -> dict[str, Any]:
        """A plain (unpaged) HAL collection."""
        return {
            "_type": "Collection",
            "total": len(elements),
            "count": len(elements),
            "_embedded": {"elements": elements},
            "_links": {"self": {"href": request.path}},
        }

    def _paged(self, request: FakeRequest, items: list[Any], render: Any) -> dict[str, Any]:
        """An offset-paginated HAL collection: `offset` is a 1-based page number."""
        offset = self._int_param(request, "offset", 1)
        size = min(self._int_param(request, "pageSize", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
        if offset < 1 or size < 0:
            raise_error(400, "InvalidQuery", "Offset must be a page number of 1 or more; pageSize 0 or more.")
        page = items[(offset - 1) * size : offset * size]

        def href(page_number: Any, page_size: Any) -> str:
            query = {k: v[0] for k, v in request.query.items() if k not in ("offset", "pageSize")}
            query.update(offset=page_number, pageSize=page_size)
            return f"{request.path}?{urlencode(query)}"

        links: dict[str, Any] = {
            "self": {"href": href(offset, size)},
            "jumpTo": {"href": href("{offset}", size), "templated": True},
            "changeSize": {"href": href(offset, "{size}"), "templated": True},
        }
        if offset > 1:
            links["previousByOffset"] = {"href": href(offset - 1, size)}
        if offset * size < len(items):
            links["nextByOffset"] = {"href": href(offset + 1, size)}
        return {
            "_type": "Collection",
            "total": len(items),
            "count": len(page),
            "pageSize": size,
            "offset": offset,
            "_embedded": {"elements": [render(item) for item in page]},
            "_links": links,
        }

    def _int_param(self, request: FakeRequest, name: str, default: int) -> int:
        value = request.arg(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise_error(400, "InvalidQuery", f"{name} must be an integer.")
        raise AssertionError("unreachable")

    def _filters(self, request: FakeRequest, allowed: set[str]) -> list[tuple[str, str, Any]] | None:
        """The `filters` parameter as (name, operator, values); None when it was not sent."""
        text = request.arg("filters")
        if text is None:
            return None
        try:
            parsed = json.loads(text)
        except ValueError:
            raise_error(400, "InvalidQuery", "Filters is not valid JSON.")
        if not isinstance(parsed, list):
            raise_error(400, "InvalidQuery", "Filters must be a JSON array.")
        filters = []
        for entry in parsed:
            if not isinstance(entry, dict) or len(entry) != 1:
                raise_error(400, "InvalidQuery", "Each filter is an object with one key.")
            ((name, spec),) = entry.items()
            if name not in allowed:
                raise_error(400, "InvalidQuery", f"Filters {name} filter does not exist.")
            if not isinstance(spec, dict) or "operator" not in spec:
                raise_error(400, "InvalidQuery", f"Filter {name} needs an operator.")
            values = spec.get("values")
            if values is not None and not (
                isinstance(values, list) and all(isinstance(v, str) for v in values)
            ):
                raise_error(400, "InvalidQuery", f"Filter {name}: values must be a list of strings.")
            filters.append((name, spec["operator"], values or []))
        return filters

    def _sort(self, request: FakeRequest, items: list[Any], keys: dict[str, Any]) -> list[Any]:
        text = request.arg("sortBy")
        if text is None:
            return items
        try:
            criteria = json.loads(text)
        except ValueError:
            raise_error(400, "InvalidQuery", "sortBy is not valid JSON.")
        for name, direction in reversed(criteria):
            if name not in keys or direction not in ("asc", "desc"):
                raise_error(400, "InvalidQuery", f"Sort by {name} {direction} is not supported.")
            key = keys[name]
            present = [item for item in items if key(item) is not None]
            missing = [item for item in items if key(item) is None]
            items = sorted(present, key=key, reverse=direction == "desc") + missing
        return items

    # --- users, statuses, priorities, types ----------------------------------------------------

    def get_user(self, request: FakeRequest, id: str) -> FakeResponse:  # noqa: A002 - the spec's name
        viewer = self._user_id(request) or 0
        user = self.users.get(viewer if id == "me" else int(id) if id.isdigit() else 0)
        if user is None:
            raise_error(
                404,
                "NotFound",
                "The specified user does not exist or you do not have permission to view them.",
            )
        return json_response(self.user_json(user, viewer_id=viewer))

    def list_principals(self, request: FakeRequest) -> FakeResponse:
        filters = self._filters(request, {"type", "member", "status"}) or []
        users = list(self.users.values())
        for name, operator, values in filters:
            if name == "type" and operator == "=" and "User" not in values:
                users = []
        viewer = self._user_id(request) or 0
        return json_response(self._paged(request, users, lambda u: self.user_json(u, viewer_id=viewer)))

    def list_statuses(self, request: FakeRequest) -> FakeResponse:
        ordered = sorted(self.statuses.values(), key=lambda s: s.position)
        return json_response(self._collection(request, [self.status_json(s) for s in ordered]))

    def list_priorities(self, request: FakeRequest) -> FakeResponse:
        return json_response(self._collection(request, [self.priority_json(p) for p in self.priorities]))

    # --- projects ----------------------------------------------------------------------

    def _project(self, request: FakeRequest, project_id: str) -> FakeProject:
        viewer = self._user_id(request)
        for project in self.projects.values():
            if str(project.id) == project_id or project.identifier == project_id:
                if viewer in project.members:
                    return project
        raise_error(404, "NotFound", "The specified project does not exist.")
        raise AssertionError("unreachable")

    def list_projects(self, request: FakeRequest) -> FakeResponse:
        viewer = self._user_id(request)
        projects = [p for p in self.projects.values() if viewer in p.members]
        for name, operator, values in self._filters(request, {"name_and_identifier", "id", "active"}) or []:
            if name == "name_and_identifier" and operator == "~":
                needle = values[0].lower() if values else ""
                projects = [p for p in projects if needle in p.name.lower() or needle in p.identifier.lower()]
            elif name == "id" and operator == "=":
                projects = [p for p in projects if str(p.id) in values]
            elif name != "active":
                raise_error(400, "InvalidQuery", f"Operator {operator} is not supported for {name}.")
        projects = self._sort(request, projects, {"id": lambda p: p.id, "name": lambda p: p.name.lower()})
        return json_response(self._paged(request, projects, self.project_json))

    def get_project(self, request: FakeRequest, id: str) -> FakeResponse:  # noqa: A002
        return json_response(self.project_json(self._project(request, id)))

    def project_types_collection(self, request: FakeRequest, id: str) -> FakeResponse:  # noqa: A002
        project = self._project(request, id)
        types = [self.type_json(t) for t in self.project_types[project.id]]
        return json_response(self._collection(request, types))

    def available_assignees(self, request: FakeRequest, id: str) -> FakeResponse:  # noqa: A002
        project = self._project(request, id)
        viewer = self._user_id(request) or 0
        users = [self.user_json(self.users[m], viewer_id=viewer) for m in project.members]
        return json_response(self._collection(request, users))

    # --- sprints and versions ------------------------------------------------------------

    def list_sprints(self, request: FakeRequest) -> FakeResponse:
        self._filters(request, {"definingWorkspace"})
        return json_response(self._paged(request, list(self.sprints.values()), self.sprint_json))

    def project_sprints(self, request: FakeRequest, id: str) -> FakeResponse:  # noqa: A002
        project = self._project(request, id)
        self._filters(request, set())
        sprints = [s for s in self.sprints.values() if s.project_id == project.id]
        return json_response(self._paged(request, sprints, self.sprint_json))

    def get_sprint(self, request: FakeRequest, id: str) -> FakeResponse:  # noqa: A002
        sprint = self.sprints.get(int(id)) if id.isdigit() else None
        if sprint is None:
            raise_error(404, "NotFound", "The requested resource could not be found.")
        return json_response(self.sprint_json(sprint))

    def project_versions(self, request: FakeRequest, id: str) -> FakeResponse:  # noqa: A002
        project = self._project(request, id)
        versions = [self.version_json(v) for v in self.versions.values() if v.project_id == project.id]
        return json_response(self._collection(request, versions))

    def get_version(self, request: FakeRequest, id: str) -> FakeResponse:  # noqa: A002
        version = self.versions.get(int(id)) if id.isdigit() else None
        if version is None:
            raise_error(404, "NotFound", "The requested resource could not be found.")
        return json_response(self.version_json(version))

    # --- work packages -------------------------------------------------------------------

    WORK_PACKAGE_FILTERS = frozenset(
        {
            "status",
            "assignee",
            "search",
            "subjectOrId",
            "subject",
            "sprint",
            "version",
            "parent",
            "type",
            "id",
        }
        | {"updatedAt"}
    )

    def _work_package(self, id: str) -> FakeWorkPackage:  # noqa: A002
        wp = self.work_packages.get(int(id)) if id.isdigit() else None
        if wp is None:
            raise_error(404, "NotFound", "The specified work package does not exist.")
        return wp

    def _matches(self, wp: FakeWorkPackage, name: str, operator: str, values: list[str], viewer: int) -> bool:
        status = self.statuses[wp.status_id]
        if name == "status":
            return {
                "o": lambda: not status.is_closed,
                "c": lambda: status.is_closed,
                "=": lambda: str(wp.status_id) in values,
                "!": lambda: str(wp.status_id) not in values,
            }[operator]()
        if name == "updatedAt":
            return self._matches_time(wp.updated_at, operator, values)
        if name in ("search", "subjectOrId", "subject"):
            needle = values[0].lower() if values else ""
            haystack = wp.subject.lower()
            if name == "search":
                haystack += " " + wp.description.lower()
            return needle in haystack or (name != "subject" and needle == str(wp.id))
        field_value = {
            "assignee": wp.assignee_id,
            "sprint": wp.sprint_id,
            "version": wp.version_id,
            "parent": wp.parent_id,
            "type": wp.type_id,
            "id": wp.id,
        }[name]
        wanted = {str(viewer) if value == "me" else value for value in values}
        return {
            "=": lambda: field_value is not None and str(field_value) in wanted,
            "!": lambda: field_value is None or str(field_value) not in wanted,
            "*": lambda: field_value is not None,
            "!*": lambda: field_value is None,
        }[operator]()

    def _matches_time(self, moment: datetime, operator: str, values: list[str]) -> bool:
        if operator == ">t-":
            return moment >= datetime.now(UTC) - timedelta(days=int(values[0]))
        start, end = (values + ["", ""])[:2]
        after = datetime.fromisoformat(start.replace("Z", "+00:00")) if start else None
        before = datetime.fromisoformat(end.replace("Z", "+00:00")) if end else None
        return (after is None or moment >= after) and (before is None or moment <= before)

    def _list_work_packages(self, request: FakeRequest, project: FakeProject | None) -> FakeResponse:
        viewer = self._user_id(request) or 0
        # Without sprints there is no sprint filter (OpenProject answers 400 for a filter it lacks).
        known = self.WORK_PACKAGE_FILTERS if self.has_sprints else self.WORK_PACKAGE_FILTERS - {"sprint"}
        filters = self._filters(request, set(known))
        if filters is None:  # OpenProject's default query: open work packages only
            filters = [("status", "o", [])]
        operators = {
            "status": {"o", "c", "=", "!"},
            "updatedAt": {"<>d", ">t-"},
            "search": {"**"},
            "subjectOrId": {"**"},
            "subject": {"~"},
        }
        for name, operator, _values in filters:
            if operator not in operators.get(name, {"=", "!", "*", "!*"}):
                raise_error(
                    400, "InvalidQuery", f"The operator {operator} is not valid for the filter {name}."
                )
        visible = [
            wp
            for wp in self.work_packages.values()
            if viewer in self.projects[wp.project_id].members
            and (project is None or wp.project_id == project.id)
        ]
        found = [wp for wp in visible if all(self._matches(wp, *f, viewer) for f in filters)]
        found = self._sort(
            request,
            sorted(found, key=lambda wp: wp.id),
            {
                "id": lambda wp: wp.id,
                "updatedAt": lambda wp: wp.updated_at,
                "createdAt": lambda wp: wp.created_at,
                "dueDate": lambda wp: wp.due_date,
                "priority": lambda wp: list(self.priorities).index(wp.priority_id),
                "subject": lambda wp: wp.subject.lower(),
            },
        )
        return json_response(self._paged(request, found, self.work_package_json))

    def project_work_packages(self, request: FakeRequest, id: str) -> FakeResponse:  # noqa: A002
        return self._list_work_packages(request, self._project(request, id))

    def all_work_packages(self, request: FakeRequest) -> FakeResponse:
        return self._list_work_packages(request, None)

    def get_work_package(self, request: FakeRequest, id: str) -> FakeResponse:  # noqa: A002
        wp = self._work_package(id)
        with self._lock:
            response = json_response(self.work_package_json(wp, embed=True))
            if self.edits_after_read.get(wp.id):
                self.edits_after_read[wp.id] -= 1
                wp.lock_version += 1  # another user's save: what the reader holds is now stale
                wp.updated_at = datetime.now(UTC)
                self._journal(wp, 2, at=wp.updated_at, details=[FakeDetail("Description", diff=True)])
        return response

    def _apply(
        self, wp: FakeWorkPackage, body: dict[str, Any], *, creating: bool
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Validate `body` against `wp`; returns the new field values and (attribute, message) errors."""
        changes: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        project = self.projects[wp.project_id]
        if "subject" in body or creating:
            subject = body.get("subject")
            if not isinstance(subject, str) or not subject.strip():
                problems.append(("subject", "Subject can't be blank."))
            else:
                changes["subject"] = subject
        if "description" in body:
            raw = (body["description"] or {}).get("raw") if isinstance(body["description"], dict) else None
            changes["description"] = raw or ""
        for key, attr in (("dueDate", "due_date"), ("startDate", "start_date")):
            if key in body:
                try:
                    changes[attr] = (
                        date.fromisoformat(body[key]).isoformat() if body[key] is not None else None
                    )
                except (TypeError, ValueError):
                    problems.append((key, f"{key} is not a valid date."))
        if "estimatedTime" in body:
            value = body["estimatedTime"]
            if value is not None and (not isinstance(value, str) or not DURATION.match(value)):
                problems.append(("estimatedTime", "Work is not a valid duration."))
            else:
                changes["estimated_time"] = value
        if "storyPoints" in body:
            value = body["storyPoints"]
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                problems.append(("storyPoints", "Story points is not a number."))
            else:
                changes["story_points"] = value
        links = body.get("_links") or {}
        for name, resolve in (
            ("status", self._resolve_status),
            ("assignee", self._resolve_assignee),
            ("priority", self._resolve_priority),
            ("type", self._resolve_type),
            ("parent", self._resolve_parent),
            ("sprint", self._resolve_sprint),
            ("version", self._resolve_version),
        ):
            if name not in links or (name == "sprint" and not self.has_sprints):
                continue  # OpenProject ignores links it doesn't know
            href = (links[name] or {}).get("href")
            attr, value, problem = resolve(wp, project, href)
            if problem:
                problems.append((name, problem))
            else:
                changes[attr] = value
        return changes, problems

    def _id_from(self, href: Any, kind: str) -> int | None:
        match = re.fullmatch(rf"/api/v3/{kind}/(\d+)", str(href or ""))
        return int(match.group(1)) if match else None

    def _resolve_status(
        self, wp: FakeWorkPackage, project: FakeProject, href: Any
    ) -> tuple[str, Any, str | None]:
        status_id = self._id_from(href, "statuses")
        if status_id not in self.statuses:
            return "status_id", None, "Status can't be blank."
        if status_id != wp.status_id and status_id not in WORKFLOW[wp.status_id]:
            return (
                "status_id",
                None,
                (
                    "Status is invalid because no valid transition exists from old to new status for the current "
                    "user's roles."
                ),
            )
        return "status_id", status_id, None

    def _resolve_assignee(
        self, wp: FakeWorkPackage, project: FakeProject, href: Any
    ) -> tuple[str, Any, str | None]:
        if href is None:
            return "assignee_id", None, None
        user_id = self._id_from(href, "users")
        if user_id not in project.members:
            return "assignee_id", None, "Assignee is not set to one of the allowed values."
        return "assignee_id", user_id, None

    def _resolve_priority(
        self, wp: FakeWorkPackage, project: FakeProject, href: Any
    ) -> tuple[str, Any, str | None]:
        priority_id = self._id_from(href, "priorities")
        if priority_id not in self.priorities:
            return "priority_id", None, "Priority can't be blank."
        return "priority_id", priority_id, None

    def _resolve_type(
        self, wp: FakeWorkPackage, project: FakeProject, href: Any
    ) -> tuple[str, Any, str | None]:
        type_id = self._id_from(href, "types")
        if type_id not in self.project_types[project.id]:
            return "type_id", None, "Type is not set to one of the allowed values."
        return "type_id", type_id, None

    def _resolve_parent(
        self, wp: FakeWorkPackage, project: FakeProject, href: Any
    ) -> tuple[str, Any, str | None]:
        if href is None:
            return "parent_id", None, None
        parent_id = self._id_from(href, "work_packages")
        if parent_id not in self.work_packages or parent_id == wp.id:
            return "parent_id", None, "Parent is invalid."
        return "parent_id", parent_id, None

    def _resolve_sprint(
        self, wp: FakeWorkPackage, project: FakeProject, href: Any
    ) -> tuple[str, Any, str | None]:
        if href is None:
            return "sprint_id", None, None
        sprint_id = self._id_from(href, "sprints")
        if sprint_id not in self.sprints or self.sprints[sprint_id].project_id != project.id:
            return "sprint_id", None, "Sprint is not set to one of the allowed values."
        return "sprint_id", sprint_id, None

    def _resolve_version(
        self, wp: FakeWorkPackage, project: FakeProject, href: Any
    ) -> tuple[str, Any, str | None]:
        if href is None:
            return "version_id", None, None
        version_id = self._id_from(href, "versions")
        version = self.versions.get(version_id) if version_id is not None else None
        assignable = version is not None and version.project_id == project.id and version.status == "open"
        if not assignable and version_id != wp.version_id:  # only open versions of the project take new work
            return "version_id", None, "Version is not set to one of the allowed values."
        return "version_id", version_id, None

    @staticmethod
    def _reject(problems: list[tuple[str, str]]) -> None:
        if len(problems) == 1:
            attribute, message = problems[0]
            raise HttpError(422, op_error("PropertyConstraintViolation", message, attribute))
        raise HttpError(
            422,
            {
                "_type": "Error",
                "errorIdentifier": ERROR_URN + "MultipleErrors",
                "message": "Multiple field constraints have been violated.",
                "_embedded": {
                    "errors": [op_error("PropertyConstraintViolation", m, a) for a, m in problems],
                },
            },
        )

    def _body(self, request: FakeRequest) -> dict[str, Any]:
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise HttpError(
                415, op_error("TypeNotSupported", "Expected CONTENT-TYPE to be application/json.")
            )
        try:
            body = request.json()
        except ValueError:
            raise_error(400, "InvalidRequestBody", "The request body was not a single JSON object.")
        if not isinstance(body, dict):
            raise_error(400, "InvalidRequestBody", "The request body was not a single JSON object.")
        return body

    def create_work_package(self, request: FakeRequest, id: str) -> FakeResponse:  # noqa: A002
        project = self._project(request, id)
        body = self._body(request)
        viewer = self._user_id(request) or 0
        now = datetime.now(UTC)
        draft = FakeWorkPackage(
            id=0, project_id=project.id, subject="", author_id=viewer, created_at=now, updated_at=now
        )
        changes, problems = self._apply(draft, body, creating=True)
        custom, custom_problems, _details = self.apply_custom_fields(draft, body)
        if problems or custom_problems:
            self._reject(problems + custom_problems)
        wp_id = self.add_work_package(
            project.id, changes.pop("subject"), author_id=viewer, created_at=now, updated_at=now
        )
        wp = self.work_packages[wp_id]
        for attr, value in changes.items():
            setattr(wp, attr, value)
        wp.custom_values.update(custom)
        return json_response(self.work_package_json(wp, embed=True), status=201)

    def update_work_package(self, request: FakeRequest, id: str) -> FakeResponse:  # noqa: A002
        wp = self._work_package(id)
        body = self._body(request)
        if body.get("lockVersion") != wp.lock_version:
            raise_error(
                409,
                "UpdateConflict",
                "Your changes could not be saved, because the work package was changed since you've seen it "
                "the last time.",
            )
        changes, problems = self._apply(wp, body, creating=False)
        custom, custom_problems, custom_details = self.apply_custom_fields(wp, body)
        if problems or custom_problems:
            self._reject(problems + custom_problems)
        details = self._describe_changes(wp, changes) + custom_details
        with self._lock:
            for attr, value in changes.items():
                setattr(wp, attr, value)
            wp.custom_values.update(custom)
            if details:
                wp.lock_version += 1
                wp.updated_at = datetime.now(UTC)
                self._journal(wp, self._user_id(request) or 0, at=wp.updated_at, details=details)
        return json_response(self.work_package_json(wp, embed=True))

    def _describe_changes(self, wp: FakeWorkPackage, changes: dict[str, Any]) -> list[FakeDetail]:
        names = {
            "status_id": ("Status", lambda v: self.statuses[v].name),
            "assignee_id": ("Assignee", lambda v: self.users[v].name),
            "priority_id": ("Priority", lambda v: self.priorities[v]),
            "type_id": ("Type", lambda v: self.types[v]),
            "parent_id": ("Parent", lambda v: f"#{v}"),
            "sprint_id": ("Sprint", lambda v: self.sprints[v].name),
            "version_id": ("Version", lambda v: self.versions[v].name),
            "subject": ("Subject", str),
            "description": ("Description", lambda v: "(text)"),
            "due_date": ("Finish date", str),
            "start_date": ("Start date", str),
            "estimated_time": ("Work", str),
            "story_points": ("Story points", str),
        }
        details = []
        for attr, new in changes.items():
            old = getattr(wp, attr)
            if old == new:
                continue
            label, show = names[attr]
            if attr == "description":
                details.append(FakeDetail(label, diff=True))
            else:
                details.append(
                    FakeDetail(
                        label, show(old) if old is not None else None, show(new) if new is not None else None
                    )
                )
        return details

    def delete_work_package(self, request: FakeRequest, id: str) -> FakeResponse:  # noqa: A002
        wp = self._work_package(id)
        with self._lock:
            doomed = [wp.id]
            while doomed:  # OpenProject deletes the descendants with their ancestor
                current = doomed.pop()
                self.work_packages.pop(current, None)
                doomed.extend(child.id for child in self.work_packages.values() if child.parent_id == current)
        return FakeResponse(204)

    def work_package_form(self, request: FakeRequest, id: str) -> FakeResponse:  # noqa: A002
        wp = self._work_package(id)
        body = self._body(request)
        if "lockVersion" in body and body["lockVersion"] != wp.lock_version:
            raise_error(
                409, "UpdateConflict", "The work package was changed since you've seen it the last time."
            )
        allowed = [self.statuses[s] for s in sorted({wp.status_id} | WORKFLOW[wp.status_id])]
        path = f"/api/v3/work_packages/{wp.id}"
        form = {
            "_type": "Form",
            "_embedded": {
                "payload": {
                    "subject": wp.subject,
                    "description": formattable(wp.description),
                    "dueDate": wp.due_date,
                    "_links": {
                        "status": self._link("statuses", wp.status_id, self.statuses[wp.status_id].name)
                    },
                },
                "schema": self.schema_json(self.projects[wp.project_id], wp.type_id, allowed),
                "validationErrors": {},
            },
            "_links": {
                "self": {"href": f"{path}/form", "method": "post"},
                "validate": {"href": f"{path}/form", "method": "post"},
                "previewMarkup": {"href": "/api/v3/render/markdown", "method": "post"},
            },
        }
        return json_response(form)

    # --- activities --------------------------------------------------------------------

    def list_activities(self, request: FakeRequest, id: str) -> FakeResponse:  # noqa: A002
        wp = self._work_package(id)
        return json_response(self._collection(request, [self.activity_json(wp, j) for j in wp.journals]))

    def add_activity(self, request: FakeRequest, id: str) -> FakeResponse:  # noqa: A002
        wp = self._work_package(id)
        body = self._body(request)
        comment = body.get("comment") if isinstance(body.get("comment"), dict) else {}
        raw = comment.get("raw") if isinstance(comment.get("raw"), str) else ""
        if not raw.strip():
            raise_error(422, "PropertyConstraintViolation", "Comment can't be blank.", "comment")
        with self._lock:
            journal = self._journal(wp, self._user_id(request) or 0, at=datetime.now(UTC), comment=raw)
        return json_response(self.activity_json(wp, journal), status=201)
