"""A stateful in-memory fake of JIRA Cloud: the REST v3 and Agile 1.0 endpoints the adapter uses.

Responses follow JIRA's shapes (checked against the published OpenAPI documents by
test_jira_fake_matches_spec.py), errors follow JIRA's `{"errorMessages": [...],
"errors": {field: message}}`, requests need Basic auth with an account email and
its API token, and a 429 carries `Retry-After`.

Seeded state: two projects (ALPHA, a scrum project with a board whose estimation
uses a story-point custom field, a closed, an active and a future sprint, an epic
with a child; BETA, with a kanban board), a workflow To Do <-> In Progress <-> Done,
three people and an app account.

The JQL understood is the subset the adapter writes: clauses joined by AND, the
operators = != ~ >= <= > < in, is EMPTY, currentUser(), and ORDER BY.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .base import FakeRequest, FakeResponse, FakeVendor, HttpError, json_response
from .jira_work import LINK_TYPES, TEAM_FIELD, JiraWorkFake

SITE_ZONE = ZoneInfo("Europe/Berlin")  # JIRA writes timestamps in the site's zone, with its offset
SPRINT_FIELD = "customfield_10020"
STORY_POINTS_FIELD = "customfield_10031"  # what ALPHA's scrum board estimates in
DECOY_STORY_POINTS_FIELD = "customfield_10016"  # a look-alike that is on no screen
RANK_FIELD_ID = 10019
HOURS_PER_DAY = 8
DAYS_PER_WEEK = 5

STATUS_CATEGORIES = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}
TODO, IN_PROGRESS, DONE = "10000", "10001", "10002"
STATUSES = {TODO: ("To Do", "new"), IN_PROGRESS: ("In Progress", "indeterminate"), DONE: ("Done", "done")}
# The workflow: transition id -> (name, the statuses it leaves from, target status).
# To Do -> In Progress -> Done and back; a done issue reopens to In Progress only.
TRANSITIONS = {
    "11": ("Start progress", (TODO,), IN_PROGRESS),
    "21": ("Stop progress", (IN_PROGRESS,), TODO),
    "31": ("Done", (TODO, IN_PROGRESS), DONE),
    "41": ("Reopen", (DONE,), IN_PROGRESS),
}
PRIORITIES = [
    ("1", "Highest", "#d04437"),
    ("2", "High", "#f15C75"),
    ("3", "Medium", "#f79232"),
    ("4", "Low", "#707070"),
    ("5", "Lowest", "#999999"),
]
DEFAULT_PRIORITY = "3"
ISSUE_TYPES = {
    "10001": ("Task", 0, False),
    "10002": ("Story", 0, False),
    "10003": ("Bug", 0, False),
    "10004": ("Epic", 1, False),
    "10005": ("Subtask", -1, True),
}


def jira_time(moment: datetime) -> str:
    """JIRA's timestamp format: `2026-01-05T10:00:00.000+0100`."""
    local = moment.astimezone(SITE_ZONE)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + local.strftime("%z")


def format_duration(seconds: int) -> str:
    """Seconds in JIRA's notation with 8-hour days and 5-day weeks: `1w 2d 3h 30m`."""
    minutes = seconds // 60
    parts = []
    for unit, size in (
        ("w", 60 * HOURS_PER_DAY * DAYS_PER_WEEK),
        ("d", 60 * HOURS_PER_DAY),
        ("h", 60),
        ("m", 1),
    ):
        if minutes >= size:
            parts.append(f"{minutes // size}{unit}")
            minutes %= size
    return " ".join(parts) or "0m"


def parse_duration(text: Any) -> int | None:
    """JIRA duration text (`2h 30m`, `90m`, `1d`) as seconds; None when it is not one."""
    if not isinstance(text, str) or not text.strip():
        return None
    total = 0
    sizes = {"w": 3600 * HOURS_PER_DAY * DAYS_PER_WEEK, "d": 3600 * HOURS_PER_DAY, "h": 3600, "m": 60}
    for part in text.split():
        match = re.fullmatch(r"(\d+(?:\.\d+)?)([wdhm])", part)
        if match is None:
            return None
        total += int(float(match.group(1)) * sizes[match.group(2)])
    return total


def adf_text(node: Any) -> str:
    """The plain text of an ADF node, for text search."""
    if isinstance(node, dict):
        own = node.get("text") if isinstance(node.get("text"), str) else ""
        return own + " ".join(adf_text(child) for child in node.get("content") or [])
    return ""


def adf_problem(node: Any, top: bool = True) -> str | None:
    """Why `node` is not an ADF document JIRA would store, or None."""
    if top:
        if not isinstance(node, dict) or node.get("type") != "doc" or node.get("version") != 1:
            return "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
    if not isinstance(node, dict) or not isinstance(node.get("type"), str):
        return "Every ADF node needs a type."
    if node["type"] == "text" and (not isinstance(node.get("text"), str) or not node["text"]):
        return "ADF text nodes must hold non-empty text."
    content = node.get("content", [])
    if not isinstance(content, list):
        return "ADF content must be a list."
    for child in content:
        problem = adf_problem(child, top=False)
        if problem:
            return problem
    return None


def adf_paragraph(text: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


@dataclass
class FakeUser:
    account_id: str
    name: str
    email: str | None
    token: str | None = None
    account_type: str = "atlassian"
    active: bool = True
    time_zone: str = "Europe/Berlin"


@dataclass
class FakeSprint:
    id: int
    name: str
    state: str
    board_id: int
    goal: str = ""
    start: datetime | None = None
    end: datetime | None = None
    completed: datetime | None = None
    created: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))


@dataclass
class FakeBoard:
    id: int
    name: str
    type: str
    project_key: str
    estimation_field: str | None = None


@dataclass
class FakeComment:
    id: str
    author: str
    body: dict[str, Any]
    created: datetime
    updated: datetime


@dataclass
class FakeIssue:
    id: str
    key: str
    project: str
    summary: str
    type_id: str
    status: str
    reporter: str
    created: datetime
    updated: datetime
    description: dict[str, Any] | None = None
    priority: str | None = DEFAULT_PRIORITY
    assignee: str | None = None
    due: date | None = None
    resolved: datetime | None = None
    category_changed: datetime | None = None
    labels: list[str] = field(default_factory=list)
    original_estimate: int | None = None
    parent: str | None = None
    sprints: list[int] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    comments: list[FakeComment] = field(default_factory=list)


class FakeJira(JiraWorkFake, FakeVendor):
    vendor = "jira"

    def __init__(self) -> None:
        super().__init__()
        self.fields = self._field_list()
        self._seed()
        self._routes_v3()
        self._routes_agile()
        self._routes_work()

    def reset(self) -> None:
        """Back to the seeded state with no faults and empty logs, keeping the server running."""
        with self._lock:
            self.clear_faults()
            self.requests.clear()
            self.responses.clear()
            self._seed()

    # --- seed --------------------------------------------------------------------------
    def _seed(self) -> None:
        self._ids = itertools.count(10100)
        self._clock = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
        self._counters: dict[str, int] = {}
        self.users: dict[str, FakeUser] = {}
        self.projects: dict[str, dict[str, Any]] = {}
        self.issues: dict[str, FakeIssue] = {}
        self.boards: dict[int, FakeBoard] = {}
        self.sprints: dict[int, FakeSprint] = {}
        # Workflow knobs: whether Done sets a resolution, and post functions that move an
        # issue on to another status right after a transition (transition id -> status id).
        self.done_sets_resolution = True
        self.post_functions: dict[str, str] = {}
        self._seed_work()
        self.me = self.add_user(
            FakeUser(
                "712020:ana-0001", "Ana Silva", "ana@example.com", token="ana-api-token-0123456789abcdef"
            )
        )
        self.other = self.add_user(FakeUser("712020:ben-0002", "Ben Okafor", "ben@example.com"))
        self.add_user(FakeUser("712020:cho-0003", "Cho Park", None))  # email hidden by her privacy settings
        self.add_user(FakeUser("712020:old-0004", "Former Colleague", "old@example.com", active=False))
        self.add_user(FakeUser("557058:automation", "Automation for Jira", None, account_type="app"))
        self.projects["ALPHA"] = {
            "id": "10000",
            "key": "ALPHA",
            "name": "Alpha Shop",
            "description": "The web shop.",
        }
        self.projects["BETA"] = {"id": "10001", "key": "BETA", "name": "Beta Ops", "description": ""}
        self.boards[1] = FakeBoard(1, "ALPHA board", "scrum", "ALPHA", estimation_field=STORY_POINTS_FIELD)
        self.boards[2] = FakeBoard(2, "BETA board", "kanban", "BETA")
        day = timedelta(days=1)
        start = datetime(2025, 12, 15, 9, 0, tzinfo=UTC)
        self.sprints[1] = FakeSprint(
            1, "ALPHA Sprint 1", "closed", 1, "Ship the cart", start, start + 14 * day, start + 14 * day
        )
        self.sprints[2] = FakeSprint(
            2, "ALPHA Sprint 2", "active", 1, "Checkout", start + 14 * day, start + 28 * day
        )
        self.sprints[3] = FakeSprint(3, "ALPHA Sprint 3", "future", 1)
        epic = self.add_issue("ALPHA", "Checkout revamp", type_id="10004", status=IN_PROGRESS)
        self.epic_key = epic.key
        self.add_issue(
            "ALPHA",
            "Pay with card",
            type_id="10002",
            parent=epic.key,
            sprints=[2],
            points=5,
            assignee=self.me.account_id,
        )
        done = self.add_issue("ALPHA", "Cart totals", sprints=[2], points=3, status=DONE)
        done.resolved = datetime(2026, 1, 2, 15, 30, tzinfo=UTC)
        self.add_issue("ALPHA", "Carried over", sprints=[1, 2], points=2, estimate=4 * 3600)
        old = self.add_issue("ALPHA", "Old cart bug", type_id="10003", sprints=[1], points=1, status=DONE)
        old.resolved = datetime(2025, 12, 20, 10, 0, tzinfo=UTC)
        self.add_issue("BETA", "Rotate certificates", assignee=self.other.account_id)
        self.active_sprint = 2

    def add_user(self, user: FakeUser) -> FakeUser:
        self.users[user.account_id] = user
        return user

    def tick(self) -> datetime:
        self._clock += timedelta(minutes=1)
        return self._clock

    def add_issue(
        self,
        project: str,
        summary: str,
        *,
        type_id: str = "10001",
        status: str = TODO,
        assignee: str | None = None,
        parent: str | None = None,
        sprints: list[int] | None = None,
        points: float | None = None,
        estimate: int | None = None,
        description: str | None = None,
    ) -> FakeIssue:
        """Create an issue straight in the state (what people do in JIRA's own UI)."""
        with self._lock:
            self._counters[project] = self._counters.get(project, 0) + 1
            now = self.tick()
            issue = FakeIssue(
                id=str(next(self._ids)),
                key=f"{project}-{self._counters[project]}",
                project=project,
                summary=summary,
                type_id=type_id,
                status=status,
                reporter=self.me.account_id,
                created=now,
                updated=now,
                assignee=assignee,
                parent=parent,
                sprints=list(sprints or []),
                original_estimate=estimate,
                description=adf_paragraph(description) if description else None,
            )
            if points is not None:
                issue.custom[STORY_POINTS_FIELD] = points
            self.issues[issue.key] = issue
            return issue

    def _field_list(self) -> list[dict[str, Any]]:
        def system(field_id: str, name: str, kind: str, **schema: Any) -> dict[str, Any]:
            return {
                "id": field_id,
                "key": field_id,
                "name": name,
                "custom": False,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [field_id],
                "schema": {"type": kind, "system": field_id, **schema},
            }

        def custom(field_id: str, name: str, kind: str, custom_type: str, **schema: Any) -> dict[str, Any]:
            number = int(field_id.split("_")[1])
            return {
                "id": field_id,
                "key": field_id,
                "name": name,
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [f"cf[{number}]", name],
                "schema": {"type": kind, "custom": custom_type, "customId": number, **schema},
            }

        return [
            system("summary", "Summary", "string"),
            system("issuetype", "Issue Type", "issuetype"),
            system("description", "Description", "string"),
            system("status", "Status", "status"),
            system("priority", "Priority", "priority"),
            system("assignee", "Assignee", "user"),
            system("duedate", "Due date", "date"),
            system("labels", "Labels", "array", items="string"),
            system("timetracking", "Time tracking", "timetracking"),
            system("parent", "Parent", "issuelink"),
            custom(SPRINT_FIELD, "Sprint", "array", "com.pyxis.greenhopper.jira:gh-sprint", items="json"),
            custom(
                DECOY_STORY_POINTS_FIELD,
                "Story point estimate",
                "number",
                "com.pyxis.greenhopper.jira:jsw-story-points",
            ),
            custom(
                STORY_POINTS_FIELD,
                "Story Points",
                "number",
                "com.atlassian.jira.plugin.system.customfieldtypes:float",
            ),
            custom(TEAM_FIELD, "Team", "option", "com.atlassian.jira.plugin.system.customfieldtypes:select"),
            system("issuelinks", "Linked Issues", "array", items="issuelinks"),
        ]

    # --- vendor hooks --------------------------------------------------------------------
    def error_body(self, status: int, message: str) -> Any:
        return {"errorMessages": [message], "errors": {}}

    def rate_limit_headers(self) -> dict[str, str]:
        return {"Retry-After": "1", "X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0"}

    def authenticate(self, request: FakeRequest) -> bool:
        return self.caller(request) is not None

    def caller(self, request: FakeRequest) -> FakeUser | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            email, _, token = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        for user in self.users.values():
            if user.email == email and user.token and user.token == token:
                return user
        return None

    def account(self, request: FakeRequest) -> FakeUser:
        """The caller of a request that passed authentication."""
        user = self.caller(request)
        assert user is not None, "dispatch authenticates before routing"
        return user

    def credentials(self) -> tuple[str, str]:
        assert self.me.email and self.me.token
        return self.me.email, self.me.token

    # --- shapes --------------------------------------------------------------------------
    def link(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def avatars(self, kind: str, key: str) -> dict[str, str]:
        return {f"{n}x{n}": self.link(f"/{kind}avatar?size={n}&id={key}") for n in (16, 24, 32, 48)}

    def user_json(self, user: FakeUser, *, details: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "self": self.link(f"/rest/api/3/user?accountId={user.account_id}"),
            "accountId": user.account_id,
            "accountType": user.account_type,
            "avatarUrls": self.avatars("user", user.account_id),
            "displayName": user.name,
            "active": user.active,
            "timeZone": user.time_zone,
        }
        if user.email:
            body["emailAddress"] = user.email
        if not details:
            body["locale"] = "en_US"
        return body

    def status_json(self, status_id: str) -> dict[str, Any]:
        name, category = STATUSES[status_id]
        cat = STATUS_CATEGORIES[category]
        return {
            "self": self.link(f"/rest/api/3/status/{status_id}"),
            "description": "",
            "iconUrl": self.link("/images/icons/statuses/generic.png"),
            "name": name,
            "untranslatedName": name,
            "id": status_id,
            "statusCategory": {"self": self.link(f"/rest/api/3/statuscategory/{cat['id']}"), **cat},
        }

    def priority_json(self, priority_id: str, *, full: bool = False) -> dict[str, Any]:
        pid, name, color = next(p for p in PRIORITIES if p[0] == priority_id)
        body = {
            "self": self.link(f"/rest/api/3/priority/{pid}"),
            "iconUrl": self.link(f"/images/icons/priorities/{name.lower()}.svg"),
            "name": name,
            "id": pid,
        }
        if full:
            body.update(
                {
                    "statusColor": color,
                    "description": f"{name} priority",
                    "isDefault": pid == DEFAULT_PRIORITY,
                }
            )
        return body

    def issue_type_json(self, type_id: str) -> dict[str, Any]:
        name, level, subtask = ISSUE_TYPES[type_id]
        return {
            "self": self.link(f"/rest/api/3/issuetype/{type_id}"),
            "id": type_id,
            "description": f"A {name.lower()}.",
            "iconUrl": self.link(f"/rest/api/2/universal_avatar/view/type/issuetype/avatar/{type_id}"),
            "name": name,
            "subtask": subtask,
            "avatarId": int(type_id),
            "hierarchyLevel": level,
        }

    def project_ref_json(self, key: str) -> dict[str, Any]:
        project = self.projects[key]
        return {
            "self": self.link(f"/rest/api/3/project/{project['id']}"),
            "id": project["id"],
            "key": key,
            "name": project["name"],
            "projectTypeKey": "software",
            "simplified": False,
            "avatarUrls": self.avatars("project", project["id"]),
        }

    def project_json(self, key: str, *, full: bool, with_description: bool = True) -> dict[str, Any]:
        project = self.projects[key]
        body = {
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
            **self.project_ref_json(key),
            "style": "classic",
            "isPrivate": False,
            "properties": {},
        }
        if with_description:
            body["description"] = project["description"]
        if full:
            body.update(
                {
                    "lead": self.user_json(self.me),
                    "components": [],
                    "issueTypes": [self.issue_type_json(type_id) for type_id in ISSUE_TYPES],
                    "assigneeType": "UNASSIGNED",
                    "versions": [],
                    "roles": {},
                }
            )
        return body

    def sprint_json(self, sprint: FakeSprint) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": sprint.id,
            "self": self.link(f"/rest/agile/1.0/sprint/{sprint.id}"),
            "state": sprint.state,
            "name": sprint.name,
        }
        if sprint.start:
            body["startDate"] = sprint.start.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if sprint.end:
            body["endDate"] = sprint.end.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if sprint.completed:
            body["completeDate"] = sprint.completed.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        body["createdDate"] = sprint.created.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        body["originBoardId"] = sprint.board_id
        if sprint.goal:
            body["goal"] = sprint.goal
        return body

    def sprint_field_json(self, issue: FakeIssue) -> list[dict[str, Any]] | None:
        if not issue.sprints:
            return None
        entries = []
        for sprint_id in issue.sprints:
            sprint = self.sprints[sprint_id]
            entry = {
                "id": sprint.id,
                "name": sprint.name,
                "state": sprint.state,
                "boardId": sprint.board_id,
                "goal": sprint.goal,
            }
            for attr, name in (("start", "startDate"), ("end", "endDate"), ("completed", "completeDate")):
                moment = getattr(sprint, attr)
                if moment:
                    entry[name] = moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            entries.append(entry)
        return entries

    def issue_fields(self, issue: FakeIssue) -> dict[str, Any]:
        """Every field of an issue, as JIRA names and shapes them."""
        tracking: dict[str, Any] = {}
        if issue.original_estimate is not None:
            text = format_duration(issue.original_estimate)
            tracking = {
                "originalEstimate": text,
                "remainingEstimate": text,
                "originalEstimateSeconds": issue.original_estimate,
                "remainingEstimateSeconds": issue.original_estimate,
            }
        fields: dict[str, Any] = {
            "summary": issue.summary,
            "description": issue.description,
            "status": self.status_json(issue.status),
            "priority": self.priority_json(issue.priority) if issue.priority else None,
            "assignee": self.user_json(self.users[issue.assignee], details=True) if issue.assignee else None,
            "reporter": self.user_json(self.users[issue.reporter], details=True),
            "creator": self.user_json(self.users[issue.reporter], details=True),
            "project": self.project_ref_json(issue.project),
            "issuetype": self.issue_type_json(issue.type_id),
            "duedate": issue.due.isoformat() if issue.due else None,
            "created": jira_time(issue.created),
            "updated": jira_time(issue.updated),
            "resolutiondate": jira_time(issue.resolved) if issue.resolved else None,
            "statuscategorychangedate": jira_time(issue.category_changed or issue.created),
            "resolution": (
                {
                    "self": self.link("/rest/api/3/resolution/10000"),
                    "id": "10000",
                    "description": "Work is done.",
                    "name": "Done",
                }
                if issue.resolved
                else None
            ),
            "labels": list(issue.labels),
            "timetracking": tracking,
            "timeoriginalestimate": issue.original_estimate,
            SPRINT_FIELD: self.sprint_field_json(issue),
            STORY_POINTS_FIELD: issue.custom.get(STORY_POINTS_FIELD),
            DECOY_STORY_POINTS_FIELD: issue.custom.get(DECOY_STORY_POINTS_FIELD),
            TEAM_FIELD: self._team_json(issue),
            "issuelinks": self.issue_links_json(issue),
        }
        if issue.parent and issue.parent in self.issues:
            parent = self.issues[issue.parent]
            fields["parent"] = {
                "id": parent.id,
                "key": parent.key,
                "self": self.link(f"/rest/api/3/issue/{parent.id}"),
                "fields": {
                    "summary": parent.summary,
                    "status": self.status_json(parent.status),
                    "priority": self.priority_json(parent.priority) if parent.priority else None,
                    "issuetype": self.issue_type_json(parent.type_id),
                },
            }
        return fields

    def _team_json(self, issue: FakeIssue) -> dict[str, Any] | None:
        team = issue.custom.get(TEAM_FIELD)
        return {"self": self.link(team["self"]), "value": team["value"], "id": team["id"]} if team else None

    def issue_json(self, issue: FakeIssue, wanted: list[str] | None) -> dict[str, Any]:
        """An IssueBean with the fields JIRA would return for a `fields` parameter (None: all)."""
        every = self.issue_fields(issue)
        if wanted is None:
            chosen = every
        else:
            names = set()
            for name in wanted:
                if name in ("*all", "*navigable"):
                    names |= set(every)
                elif name.startswith("-"):
                    names.discard(name[1:])
                elif name not in ("id", "key"):
                    names.add(name)
            chosen = {name: every[name] for name in every if name in names}
        return {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": issue.id,
            "self": self.link(f"/rest/api/3/issue/{issue.id}"),
            "key": issue.key,
            "fields": chosen,
        }

    def comment_json(self, issue: FakeIssue, comment: FakeComment) -> dict[str, Any]:
        author = self.user_json(self.users[comment.author], details=True)
        return {
            "self": self.link(f"/rest/api/3/issue/{issue.id}/comment/{comment.id}"),
            "id": comment.id,
            "author": author,
            "body": comment.body,
            "updateAuthor": author,
            "created": jira_time(comment.created),
            "updated": jira_time(comment.updated),
            "jsdPublic": True,
        }

    def board_json(self, board: FakeBoard) -> dict[str, Any]:
        project = self.projects[board.project_key]
        return {
            "id": board.id,
            "self": self.link(f"/rest/agile/1.0/board/{board.id}"),
            "name": board.name,
            "type": board.type,
            "location": {
                "projectId": int(project["id"]),
                "displayName": f"{project['name']} ({board.project_key})",
                "projectName": project["name"],
                "projectKey": board.project_key,
                "projectTypeKey": "software",
                "avatarURI": self.link(f"/secure/projectavatar?size=small&pid={project['id']}"),
                "name": f"{project['name']} ({board.project_key})",
            },
        }

    # --- request helpers ------------------------------------------------------------------
    @staticmethod
    def fail(status: int, *messages: str, **field_errors: str) -> HttpError:
        return HttpError(status, {"errorMessages": list(messages), "errors": dict(field_errors)})

    def body(self, request: FakeRequest) -> Any:
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise HttpError(415, None)
        try:
            return request.json()
        except ValueError:
            raise self.fail(400, "Unexpected character in the request body: not JSON.") from None

    def int_arg(self, request: FakeRequest, name: str, default: int, *, maximum: int | None = None) -> int:
        value = request.arg(name)
        if value is None or value == "":
            return default
        if not re.fullmatch(r"\d+", value):
            raise self.fail(400, f"The '{name}' parameter must be a number.")
        number = int(value)
        return min(number, maximum) if maximum is not None else number

    def find_issue(self, id_or_key: str) -> FakeIssue:
        issue = self.issues.get(id_or_key.upper()) or next(
            (i for i in self.issues.values() if i.id == id_or_key), None
        )
        if issue is None:
            raise self.fail(404, "Issue does not exist or you do not have permission to see it.")
        return issue

    def find_project(self, id_or_key: str) -> str:
        for key, project in self.projects.items():
            if id_or_key.upper() == key or id_or_key == project["id"]:
                return key
        raise self.fail(404, f"No project could be found with key '{id_or_key}'.")

    def find_sprint(self, sprint_id: str) -> FakeSprint:
        sprint = self.sprints.get(int(sprint_id)) if sprint_id.isdigit() else None
        if sprint is None:
            raise self.fail(404, "Sprint does not exist or you do not have permission to view it.")
        return sprint

    def find_board(self, board_id: str) -> FakeBoard:
        board = self.boards.get(int(board_id)) if board_id.isdigit() else None
        if board is None:
            raise self.fail(
                404,
                "The requested board cannot be viewed because it either does not exist "
                "or you do not have permission to view it.",
            )
        return board

    # --- REST v3 --------------------------------------------------------------------------
    def _routes_v3(self) -> None:
        self.route("GET", "/rest/api/3/myself", self.get_myself)
        self.route("GET", "/rest/api/3/project/search", self.search_projects)
        self.route("GET", "/rest/api/3/project/{projectIdOrKey}", self.get_project)
        self.route("GET", "/rest/api/3/project/{projectIdOrKey}/statuses", self.get_project_statuses)
        self.route("GET", "/rest/api/3/priority/search", self.search_priorities)
        self.route("GET", "/rest/api/3/user/assignable/search", self.assignable_users)
        self.route("GET", "/rest/api/3/user/search", self.search_users)
        self.route("GET", "/rest/api/3/users/search", self.all_users)
        self.route("GET", "/rest/api/3/field", lambda request: json_response(self.fields))
        self.route("POST", "/rest/api/3/search/jql", self.search_jql)
        self.route("POST", "/rest/api/3/issue", self.create_issue)
        self.route("GET", "/rest/api/3/issue/{issueIdOrKey}", self.get_issue)
        self.route("PUT", "/rest/api/3/issue/{issueIdOrKey}", self.edit_issue)
        self.route("DELETE", "/rest/api/3/issue/{issueIdOrKey}", self.delete_issue)
        self.route("PUT", "/rest/api/3/issue/{issueIdOrKey}/assignee", self.assign_issue)
        self.route("GET", "/rest/api/3/issue/{issueIdOrKey}/transitions", self.get_transitions)
        self.route("POST", "/rest/api/3/issue/{issueIdOrKey}/transitions", self.do_transition)
        self.route("GET", "/rest/api/3/issue/{issueIdOrKey}/comment", self.get_comments)
        self.route("POST", "/rest/api/3/issue/{issueIdOrKey}/comment", self.add_comment)

    def get_myself(self, request: FakeRequest) -> FakeResponse:
        body = self.user_json(self.account(request))
        body["groups"] = {"size": 1, "items": []}
        body["applicationRoles"] = {"size": 1, "items": []}
        body["expand"] = "groups,applicationRoles"
        return json_response(body)

    def search_projects(self, request: FakeRequest) -> FakeResponse:
        start = self.int_arg(request, "startAt", 0)
        limit = self.int_arg(request, "maxResults", 50, maximum=100)
        query = (request.arg("query") or "").lower()
        keys = sorted(k for k, p in self.projects.items() if query in k.lower() or query in p["name"].lower())
        expand = (request.arg("expand") or "").split(",")
        page = keys[start : start + limit]
        last = start + limit >= len(keys)
        body: dict[str, Any] = {
            "self": self.link(f"/rest/api/3/project/search?startAt={start}&maxResults={limit}"),
            "maxResults": limit,
            "startAt": start,
            "total": len(keys),
            "isLast": last,
            "values": [
                self.project_json(key, full=False, with_description="description" in expand) for key in page
            ],
        }
        if not last:
            body["nextPage"] = self.link(
                f"/rest/api/3/project/search?startAt={start + limit}&maxResults={limit}"
            )
        return json_response(body)

    def get_project(self, request: FakeRequest, projectIdOrKey: str) -> FakeResponse:
        return json_response(self.project_json(self.find_project(projectIdOrKey), full=True))

    def get_project_statuses(self, request: FakeRequest, projectIdOrKey: str) -> FakeResponse:
        self.find_project(projectIdOrKey)  # every project here shares one workflow
        body = [
            {
                "self": self.link(f"/rest/api/3/issuetype/{type_id}"),
                "id": type_id,
                "name": name,
                "subtask": subtask,
                "statuses": [self.status_json(status_id) for status_id in STATUSES],
            }
            for type_id, (name, _, subtask) in ISSUE_TYPES.items()
        ]
        return json_response(body)

    def search_priorities(self, request: FakeRequest) -> FakeResponse:
        # Every project here uses the default priority scheme, so `projectId` narrows nothing.
        start = self.int_arg(request, "startAt", 0)
        limit = self.int_arg(request, "maxResults", 50, maximum=100)
        values = [self.priority_json(pid, full=True) for pid, _, _ in PRIORITIES]
        page = values[start : start + limit]
        return json_response(
            {
                "self": self.link(f"/rest/api/3/priority/search?startAt={start}&maxResults={limit}"),
                "maxResults": limit,
                "startAt": start,
                "total": len(values),
                "isLast": start + limit >= len(values),
                "values": page,
            }
        )

    def _users_matching(self, request: FakeRequest, users: list[FakeUser]) -> list[dict[str, Any]]:
        query = (request.arg("query") or "").lower()
        start = self.int_arg(request, "startAt", 0)
        limit = self.int_arg(request, "maxResults", 50, maximum=1000)
        matching = [u for u in users if query in u.name.lower() or query in (u.email or "").lower()]
        return [self.user_json(u) for u in matching[start : start + limit]]

    def assignable_users(self, request: FakeRequest) -> FakeResponse:
        project = request.arg("project")
        if not project and not request.arg("issueKey"):
            raise self.fail(400, "One of the following parameters must be provided: issueKey, project.")
        if project:
            self.find_project(project)
        return json_response(self._users_matching(request, [u for u in self.users.values() if u.active]))

    def search_users(self, request: FakeRequest) -> FakeResponse:
        if not request.arg("query") and not request.arg("accountId"):
            raise self.fail(400, "The query parameter 'query' or 'accountId' must be provided.")
        return json_response(self._users_matching(request, [u for u in self.users.values() if u.active]))

    def all_users(self, request: FakeRequest) -> FakeResponse:
        return json_response(self._users_matching(request, list(self.users.values())))

    # --- search ----------------------------------------------------------------------------
    def search_jql(self, request: FakeRequest) -> FakeResponse:
        body = self.body(request)
        allowed = {
            "jql",
            "nextPageToken",
            "maxResults",
            "fields",
            "expand",
            "properties",
            "fieldsByKeys",
            "failFast",
            "reconcileIssues",
        }
        unknown = set(body) - allowed if isinstance(body, dict) else {"<body>"}
        if unknown:
            raise self.fail(400, f"Unrecognized field(s): {', '.join(sorted(unknown))}.")
        limit = body.get("maxResults", 50)
        if not isinstance(limit, int) or not 1 <= limit <= 5000:
            raise self.fail(400, "The maxResults parameter must be between 1 and 5000.")
        reconcile = body.get("reconcileIssues", [])
        if (
            not isinstance(reconcile, list)
            or len(reconcile) > 50
            or not all(isinstance(i, int) for i in reconcile)
        ):
            raise self.fail(400, "reconcileIssues takes at most 50 issue ids.")
        fields = body.get("fields") or ["id"]
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise self.fail(400, "fields must be a list of field names.")
        jql = body.get("jql") or ""
        matches = JqlQuery.parse(jql, self).run(self, self.account(request))
        if fields != ["id"]:
            limit = min(limit, 100)  # JIRA pages shorter when fields are named
        start = 0
        token = body.get("nextPageToken")
        if token:
            start = self._read_page_token(token, jql)
        page = matches[start : start + limit]
        result: dict[str, Any] = {"issues": [self.issue_json(issue, fields) for issue in page]}
        if "schema" in str(body.get("expand") or "").split(","):
            result["schema"] = self.schema_of(result["issues"])
        if start + limit < len(matches):
            result["nextPageToken"] = self._page_token(start + limit, jql)
            result["isLast"] = False
        else:
            result["isLast"] = True
        return json_response(result)

    @staticmethod
    def _page_token(offset: int, jql: str) -> str:
        digest = hashlib.sha256(jql.encode()).hexdigest()[:12]
        return base64.urlsafe_b64encode(json.dumps({"o": offset, "q": digest}).encode()).decode()

    def _read_page_token(self, token: str, jql: str) -> int:
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode()))
            if data["q"] == hashlib.sha256(jql.encode()).hexdigest()[:12]:
                return int(data["o"])
        except (ValueError, KeyError, TypeError):
            pass
        raise self.fail(400, "The provided next page token is invalid or expired.")

    # --- issues ----------------------------------------------------------------------------
    def get_issue(self, request: FakeRequest, issueIdOrKey: str) -> FakeResponse:
        issue = self.find_issue(issueIdOrKey)
        wanted = [f for value in request.args("fields") for f in value.split(",") if f] or None
        body = self.issue_json(issue, wanted)
        if "schema" in (request.arg("expand") or "").split(","):
            body["schema"] = self.schema_of([body])
        return json_response(body)

    def schema_of(self, issues: list[dict[str, Any]]) -> dict[str, Any]:
        """`expand=schema`: the schema of each field the answer holds (of the fields the site lists)."""
        known = {f["id"]: f["schema"] for f in self.fields}
        present = {name for issue in issues for name in issue.get("fields", {})}
        return {name: known[name] for name in sorted(present) if name in known}

    def _apply_fields(self, issue: FakeIssue, fields: dict[str, Any], *, creating: bool) -> None:
        """Validate and apply `fields` as JIRA's create and edit screens would."""
        problems: dict[str, str] = {}
        changes: dict[str, Any] = {}
        for name, value in fields.items():
            if name in ("project", "issuetype") and creating:
                continue
            if name == "summary":
                if not isinstance(value, str) or not value.strip():
                    problems[name] = "You must specify a summary of the issue."
                elif len(value) > 255:
                    problems[name] = "Summary must be less than 255 characters."
                else:
                    changes[name] = value
            elif name == "description":
                problem = adf_problem(value) if value is not None else None
                if problem:
                    problems[name] = problem
                else:
                    changes[name] = value
            elif name == "priority":
                pid = None
                if isinstance(value, dict):
                    pid = value.get("id") or next(
                        (p[0] for p in PRIORITIES if p[1] == value.get("name")), None
                    )
                if value is not None and not any(p[0] == pid for p in PRIORITIES):
                    problems[name] = "Specify the Priority (id or name) in the string format"
                else:
                    changes[name] = pid
            elif name == "assignee":
                account = value.get("accountId") if isinstance(value, dict) else None
                if value is not None and (account not in self.users or not self.users[account].active):
                    problems[name] = f"User '{account}' cannot be assigned issues."
                else:
                    changes[name] = account
            elif name == "duedate":
                try:
                    changes[name] = date.fromisoformat(value) if value is not None else None
                except (TypeError, ValueError):
                    problems[name] = f"Error parsing date string: {value}"
            elif name == "labels":
                if not isinstance(value, list) or not all(
                    isinstance(v, str) and v and " " not in v for v in value
                ):
                    problems[name] = "A label can't contain spaces."
                else:
                    changes[name] = list(value)
            elif name == "timetracking":
                seconds = (
                    parse_duration((value or {}).get("originalEstimate")) if isinstance(value, dict) else None
                )
                if seconds is None:
                    problems[name] = "The original estimate specified is not valid."
                else:
                    changes[name] = seconds
            elif name == "parent":
                problem = self._parent_problem(issue, value)
                if problem:
                    problems[name] = problem
                else:
                    changes[name] = value.get("key") or self._key_of(value.get("id")) if value else None
            elif name == STORY_POINTS_FIELD:
                if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                    problems[name] = "Operation value must be a number"
                else:
                    changes[name] = value
            elif name == TEAM_FIELD and issue.project == "ALPHA":
                stored, problem = self.team_value(value)
                if problem:
                    problems[name] = problem
                else:
                    changes[name] = stored
            elif name == SPRINT_FIELD:
                if isinstance(value, bool) or not isinstance(value, int) or value not in self.sprints:
                    problems[name] = "Number value expected as the Sprint id."
                elif self.sprints[value].state == "closed":
                    problems[name] = "Issue can be assigned only to active or future sprints."
                else:
                    changes[name] = value
            else:
                problems[name] = (
                    f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
                )
        if problems:
            raise self.fail(400, **problems)
        for name, value in changes.items():
            if name == "summary":
                issue.summary = value
            elif name == "description":
                issue.description = value
            elif name == "priority":
                issue.priority = value
            elif name == "assignee":
                issue.assignee = value
            elif name == "duedate":
                issue.due = value
            elif name == "labels":
                issue.labels = value
            elif name == "timetracking":
                issue.original_estimate = value
            elif name == "parent":
                issue.parent = value
            elif name == SPRINT_FIELD:
                issue.sprints = [s for s in issue.sprints if self.sprints[s].state == "closed"] + [value]
            else:
                issue.custom[name] = value

    def _key_of(self, issue_id: Any) -> str | None:
        return next((i.key for i in self.issues.values() if i.id == str(issue_id)), None)

    def _parent_problem(self, issue: FakeIssue, value: Any) -> str | None:
        if value == {}:
            return None  # an empty parent object clears the parent
        if not isinstance(value, dict) or not (value.get("key") or value.get("id")):
            return "Could not find valid 'id' or 'key' in the parent object."
        key = value.get("key") or self._key_of(value.get("id"))
        parent = self.issues.get(str(key).upper()) if key else None
        if parent is None:
            return f"Issue '{value.get('key') or value.get('id')}' could not be found."
        if parent.key == issue.key:
            return "An issue can't be its own parent."
        child_level = ISSUE_TYPES[issue.type_id][1]
        if ISSUE_TYPES[parent.type_id][1] != child_level + 1:
            child_type, parent_type = ISSUE_TYPES[issue.type_id][0], ISSUE_TYPES[parent.type_id][0]
            return f"Issue type '{child_type}' can't have a parent of type '{parent_type}'."
        return None

    def create_issue(self, request: FakeRequest) -> FakeResponse:
        body = self.body(request)
        fields = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            raise self.fail(400, "Can not deserialize the request: 'fields' is required.")
        project_ref = fields.get("project") or {}
        key = next(
            (
                k
                for k, p in self.projects.items()
                if project_ref.get("key") == k or project_ref.get("id") == p["id"]
            ),
            None,
        )
        if key is None:
            raise self.fail(400, project="Specify a valid project ID or key")
        type_ref = fields.get("issuetype") or {}
        type_id = next(
            (
                t
                for t, (name, _, _) in ISSUE_TYPES.items()
                if type_ref.get("id") == t or type_ref.get("name") == name
            ),
            None,
        )
        if type_id is None:
            raise self.fail(400, issuetype="Specify an issue type")
        if ISSUE_TYPES[type_id][2] and not fields.get("parent"):
            raise self.fail(400, parent="Given parent issue does not belong to appropriate hierarchy.")
        if "summary" not in fields:
            raise self.fail(400, summary="You must specify a summary of the issue.")
        with self._lock:
            now = self.tick()
            draft = FakeIssue(
                id="0",
                key=f"{key}-?",
                project=key,
                summary="",
                type_id=type_id,
                status=TODO,
                reporter=self.account(request).account_id,
                created=now,
                updated=now,
            )
            self._apply_fields(draft, fields, creating=True)
            self._counters[key] = self._counters.get(key, 0) + 1
            draft.id = str(next(self._ids))
            draft.key = f"{key}-{self._counters[key]}"
            self.issues[draft.key] = draft
        return json_response(
            {"id": draft.id, "key": draft.key, "self": self.link(f"/rest/api/3/issue/{draft.id}")}, 201
        )

    def edit_issue(self, request: FakeRequest, issueIdOrKey: str) -> FakeResponse:
        issue = self.find_issue(issueIdOrKey)
        body = self.body(request)
        fields = body.get("fields", {}) if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            raise self.fail(400, "Can not deserialize the request: 'fields' must be an object.")
        for name in ("project", "issuetype"):
            if name in fields:
                raise self.fail(
                    400,
                    **{
                        name: f"Field '{name}' cannot be set. It is not on the appropriate screen, "
                        "or unknown."
                    },
                )
        with self._lock, self.changing(issue, self.account(request).account_id):
            self._apply_fields(issue, fields, creating=False)
            issue.updated = self.tick()
        return FakeResponse(204)

    def delete_issue(self, request: FakeRequest, issueIdOrKey: str) -> FakeResponse:
        issue = self.find_issue(issueIdOrKey)
        children = [i for i in self.issues.values() if i.parent == issue.key and ISSUE_TYPES[i.type_id][2]]
        if children and request.arg("deleteSubtasks") != "true":
            raise self.fail(
                400, f"The issue {issue.key} has subtasks; set deleteSubtasks to delete them too."
            )
        with self._lock:
            for child in children:
                del self.issues[child.key]
            del self.issues[issue.key]
            gone = {issue.key} | {child.key for child in children}
            for link_id in [i for i, link in self.links.items() if {link.source, link.destination} & gone]:
                del self.links[link_id]
        return FakeResponse(204)

    def assign_issue(self, request: FakeRequest, issueIdOrKey: str) -> FakeResponse:
        issue = self.find_issue(issueIdOrKey)
        body = self.body(request)
        if not isinstance(body, dict) or "accountId" not in body:
            raise self.fail(400, "accountId is required: an account id, or null to unassign.")
        account = body["accountId"]
        if account is not None and (account not in self.users or not self.users[account].active):
            raise self.fail(400, accountId=f"User '{account}' cannot be assigned issues.")
        with self._lock, self.changing(issue, self.account(request).account_id):
            issue.assignee = account
            issue.updated = self.tick()
        return FakeResponse(204)

    def _available_transitions(self, issue: FakeIssue) -> list[tuple[str, str, str]]:
        return [
            (tid, name, target)
            for tid, (name, sources, target) in TRANSITIONS.items()
            if issue.status in sources
        ]

    def get_transitions(self, request: FakeRequest, issueIdOrKey: str) -> FakeResponse:
        issue = self.find_issue(issueIdOrKey)
        transitions = [
            {
                "id": tid,
                "name": name,
                "to": self.status_json(target),
                "hasScreen": False,
                "isGlobal": True,
                "isInitial": False,
                "isAvailable": True,
                "isConditional": False,
                "looped": False,
            }
            for tid, name, target in self._available_transitions(issue)
        ]
        return json_response({"expand": "transitions", "transitions": transitions})

    def do_transition(self, request: FakeRequest, issueIdOrKey: str) -> FakeResponse:
        issue = self.find_issue(issueIdOrKey)
        body = self.body(request)
        wanted = str(((body or {}).get("transition") or {}).get("id", ""))
        match = next((t for t in self._available_transitions(issue) if t[0] == wanted), None)
        if match is None:
            raise self.fail(400, f"Transition id '{wanted}' is not valid for this issue.")
        with self._lock, self.changing(issue, self.account(request).account_id):
            before = STATUSES[issue.status][1]
            issue.status = self.post_functions.get(match[0], match[2])
            now = self.tick()
            category = STATUSES[issue.status][1]
            if category != before:
                issue.category_changed = now
            issue.resolved = now if category == "done" and self.done_sets_resolution else None
            issue.updated = now
        return FakeResponse(204)

    def get_comments(self, request: FakeRequest, issueIdOrKey: str) -> FakeResponse:
        issue = self.find_issue(issueIdOrKey)
        start = self.int_arg(request, "startAt", 0)
        limit = self.int_arg(request, "maxResults", 100, maximum=100)
        ordered = sorted(
            issue.comments, key=lambda c: c.created, reverse=request.arg("orderBy") == "-created"
        )
        page = ordered[start : start + limit]
        return json_response(
            {
                "comments": [self.comment_json(issue, c) for c in page],
                "maxResults": limit,
                "total": len(ordered),
                "startAt": start,
            }
        )

    def add_comment(self, request: FakeRequest, issueIdOrKey: str) -> FakeResponse:
        issue = self.find_issue(issueIdOrKey)
        body = self.body(request)
        problem = (
            adf_problem((body or {}).get("body"))
            if isinstance(body, dict)
            else "Comment body can not be empty!"
        )
        if problem:
            raise self.fail(400, body=problem)
        with self._lock:
            now = self.tick()
            comment = FakeComment(
                str(next(self._ids)), self.account(request).account_id, body["body"], now, now
            )
            issue.comments.append(comment)
        return json_response(self.comment_json(issue, comment), 201)

    # --- Agile 1.0 ---------------------------------------------------------------------------
    def _routes_agile(self) -> None:
        self.route("GET", "/rest/agile/1.0/board", self.list_boards)
        self.route("GET", "/rest/agile/1.0/board/{boardId}", self.get_board)
        self.route("GET", "/rest/agile/1.0/board/{boardId}/configuration", self.board_configuration)
        self.route("GET", "/rest/agile/1.0/board/{boardId}/sprint", self.board_sprints)
        self.route("GET", "/rest/agile/1.0/sprint/{sprintId}", self.get_sprint)
        self.route("GET", "/rest/agile/1.0/sprint/{sprintId}/issue", self.sprint_issues)
        self.route("POST", "/rest/agile/1.0/sprint/{sprintId}/issue", self.move_to_sprint)
        self.route("POST", "/rest/agile/1.0/backlog/issue", self.move_to_backlog)

    def list_boards(self, request: FakeRequest) -> FakeResponse:
        project = request.arg("projectKeyOrId")
        kinds = [k for k in (request.arg("type") or "").split(",") if k]
        boards = list(self.boards.values())
        if project:
            key = self.find_project(project)
            boards = [b for b in boards if b.project_key == key]
        if kinds:
            boards = [b for b in boards if b.type in kinds]
        start = self.int_arg(request, "startAt", 0)
        limit = self.int_arg(request, "maxResults", 50, maximum=50)
        page = boards[start : start + limit]
        return json_response(
            {
                "maxResults": limit,
                "startAt": start,
                "total": len(boards),
                "isLast": start + limit >= len(boards),
                "values": [self.board_json(b) for b in page],
            }
        )

    def get_board(self, request: FakeRequest, boardId: str) -> FakeResponse:
        return json_response(self.board_json(self.find_board(boardId)))

    def board_configuration(self, request: FakeRequest, boardId: str) -> FakeResponse:
        board = self.find_board(boardId)
        project = self.projects[board.project_key]
        body: dict[str, Any] = {
            "id": board.id,
            "name": board.name,
            "type": board.type,
            "self": self.link(f"/rest/agile/1.0/board/{board.id}/configuration"),
            "location": {
                "type": "project",
                "key": board.project_key,
                "id": project["id"],
                "self": self.link(f"/rest/api/3/project/{project['id']}"),
                "name": project["name"],
            },
            "filter": {
                "id": str(10000 + board.id),
                "self": self.link(f"/rest/api/3/filter/{10000 + board.id}"),
            },
            "subQuery": {"query": "resolution = EMPTY OR resolution changed AFTER -2w"},
            "columnConfig": {
                "columns": [
                    {"name": name, "statuses": [{"id": sid, "self": self.link(f"/rest/api/3/status/{sid}")}]}
                    for sid, (name, _) in STATUSES.items()
                ],
                "constraintType": "none",
            },
            "ranking": {"rankCustomFieldId": RANK_FIELD_ID},
        }
        if board.estimation_field:
            display = next(f["name"] for f in self.fields if f["id"] == board.estimation_field)
            body["estimation"] = {
                "type": "field",
                "field": {"fieldId": board.estimation_field, "displayName": display},
            }
        return json_response(body)

    def board_sprints(self, request: FakeRequest, boardId: str) -> FakeResponse:
        board = self.find_board(boardId)
        if board.type != "scrum":
            raise self.fail(400, "The board does not support sprints")
        states = [s for s in (request.arg("state") or "").split(",") if s]
        sprints = [s for s in sorted(self.sprints.values(), key=lambda s: s.id) if s.board_id == board.id]
        if states:
            sprints = [s for s in sprints if s.state in states]
        start = self.int_arg(request, "startAt", 0)
        limit = self.int_arg(request, "maxResults", 50, maximum=50)
        page = sprints[start : start + limit]
        return json_response(
            {
                "maxResults": limit,
                "startAt": start,
                "total": len(sprints),
                "isLast": start + limit >= len(sprints),
                "values": [self.sprint_json(s) for s in page],
            }
        )

    def get_sprint(self, request: FakeRequest, sprintId: str) -> FakeResponse:
        return json_response(self.sprint_json(self.find_sprint(sprintId)))

    def sprint_issues(self, request: FakeRequest, sprintId: str) -> FakeResponse:
        sprint = self.find_sprint(sprintId)
        start = self.int_arg(request, "startAt", 0)
        limit = self.int_arg(request, "maxResults", 50, maximum=100)
        wanted = [f for value in request.args("fields") for f in value.split(",") if f] or None
        issues = sorted((i for i in self.issues.values() if sprint.id in i.sprints), key=issue_order_key)
        page = issues[start : start + limit]
        return json_response(
            {
                "expand": "schema,names",
                "startAt": start,
                "maxResults": limit,
                "total": len(issues),
                "issues": [self.issue_json(i, wanted) for i in page],
            }
        )

    def _issue_list(self, request: FakeRequest) -> list[FakeIssue]:
        body = self.body(request)
        keys = body.get("issues") if isinstance(body, dict) else None
        if not isinstance(keys, list) or not keys or len(keys) > 50:
            raise self.fail(400, "Between 1 and 50 issues must be given.")
        return [self.find_issue(str(key)) for key in keys]

    def move_to_sprint(self, request: FakeRequest, sprintId: str) -> FakeResponse:
        sprint = self.find_sprint(sprintId)
        issues = self._issue_list(request)
        if sprint.state == "closed":
            raise self.fail(400, "Cannot move issues to a closed sprint.")
        with self._lock:
            for issue in issues:
                with self.changing(issue, self.account(request).account_id):
                    issue.sprints = [s for s in issue.sprints if self.sprints[s].state == "closed"] + [
                        sprint.id
                    ]
                    issue.updated = self.tick()
        return FakeResponse(204)

    def move_to_backlog(self, request: FakeRequest) -> FakeResponse:
        issues = self._issue_list(request)
        with self._lock:
            for issue in issues:
                with self.changing(issue, self.account(request).account_id):
                    issue.sprints = [s for s in issue.sprints if self.sprints[s].state == "closed"]
                    issue.updated = self.tick()
        return FakeResponse(204)


def issue_order_key(issue: FakeIssue) -> tuple[str, int]:
    """JIRA orders keys by project, then by number (ALPHA-10 after ALPHA-9)."""
    project, _, number = issue.key.rpartition("-")
    return project, int(number)


# --- a small JQL --------------------------------------------------------------------------------

_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<op>>=|<=|!=|!~|=|~|>|<)|(?P<punct>[(),])|(?P<word>[^\s(),=<>!~"]+))'
)
PRIORITY_RANK = {pid: n for n, (pid, _, _) in enumerate(PRIORITIES)}


@dataclass
class Clause:
    field: str
    op: str
    values: list[Any]


@dataclass
class JqlQuery:
    clauses: list[Clause]
    order: list[tuple[str, bool]]  # (field, descending)

    @classmethod
    def parse(cls, jql: str, fake: FakeJira) -> JqlQuery:
        try:
            tokens = cls._tokens(jql)
        except ValueError:
            raise fake.fail(400, "Error in the JQL Query: the query could not be parsed.") from None
        clauses: list[Clause] = []
        order: list[tuple[str, bool]] = []
        i = 0

        def error(message: str) -> HttpError:
            return fake.fail(400, f"Error in the JQL Query: {message}")

        def word(n: int) -> str | None:
            return tokens[n][1].lower() if n < len(tokens) and tokens[n][0] == "word" else None

        while i < len(tokens):
            if word(i) == "order" and word(i + 1) == "by":
                i += 2
                while i < len(tokens):
                    if tokens[i][0] != "word":
                        raise error(f"Expecting a field name but got '{tokens[i][1]}'.")
                    name = tokens[i][1].lower()
                    descending = False
                    i += 1
                    if word(i) in ("asc", "desc"):
                        descending = word(i) == "desc"
                        i += 1
                    order.append((name, descending))
                    if i < len(tokens) and tokens[i] == ("punct", ","):
                        i += 1
                        continue
                    break
                if i != len(tokens):
                    raise error(f"Unexpected '{tokens[i][1]}' after ORDER BY.")
                break
            if clauses:
                if word(i) != "and":
                    raise error(f"Expecting 'AND' but got '{tokens[i][1]}' (this fake understands AND only).")
                i += 1
            if i >= len(tokens) or tokens[i][0] != "word":
                raise error("Expecting a field name.")
            name = tokens[i][1].lower()
            i += 1
            if word(i) == "is":
                negate = word(i + 1) == "not"
                i += 2 if negate else 1
                if word(i) not in ("empty", "null"):
                    raise error("Expecting EMPTY or NULL after IS.")
                clauses.append(Clause(name, "is not empty" if negate else "is empty", []))
                i += 1
                continue
            if word(i) == "in":
                i += 1
                if i >= len(tokens) or tokens[i] != ("punct", "("):
                    raise error("Expecting '(' after IN.")
                i += 1
                values = []
                while i < len(tokens) and tokens[i] != ("punct", ")"):
                    if tokens[i] == ("punct", ","):
                        i += 1
                        continue
                    values.append(cls._value(tokens[i], error))
                    i += 1
                if i >= len(tokens):
                    raise error("Expecting ')' to close the IN list.")
                i += 1
                clauses.append(Clause(name, "in", values))
                continue
            if i >= len(tokens) or tokens[i][0] != "op":
                raise error(f"Expecting an operator after '{name}'.")
            op = tokens[i][1]
            i += 1
            if i >= len(tokens):
                raise error(f"Expecting a value after '{name} {op}'.")
            if tokens[i][0] == "word" and tokens[i + 1 : i + 3] == [("punct", "("), ("punct", ")")]:
                clauses.append(Clause(name, op, [("function", tokens[i][1].lower())]))
                i += 3
                continue
            clauses.append(Clause(name, op, [cls._value(tokens[i], error)]))
            i += 1
        if not clauses:
            raise fake.fail(
                400,
                "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.",
            )
        query = cls(clauses, order)
        query.check(fake, error)
        return query

    @staticmethod
    def _tokens(jql: str) -> list[tuple[str, str]]:
        tokens = []
        position = 0
        while position < len(jql):
            if jql[position:].strip() == "":
                break
            match = _TOKEN.match(jql, position)
            if match is None:
                raise ValueError(jql)
            kind = match.lastgroup
            assert kind is not None
            tokens.append((kind, match.group(kind)))
            position = match.end()
        return tokens

    @staticmethod
    def _value(token: tuple[str, str], error: Any) -> Any:
        kind, text = token
        if kind == "string":
            return re.sub(r"\\(.)", r"\1", text[1:-1])
        if kind == "word":
            return text
        raise error(f"Expecting a value but got '{text}'.")

    def check(self, fake: FakeJira, error: Any) -> None:
        known = {
            "project",
            "assignee",
            "status",
            "statuscategory",
            "text",
            "sprint",
            "parent",
            "issuetype",
            "type",
            "key",
            "issuekey",
            "updated",
            "created",
            "summary",
            "issuelinktype",
            "worklogauthor",
            "worklogdate",
        }
        for clause in self.clauses:
            if clause.field not in known:
                raise fake.fail(
                    400, f"Field '{clause.field}' does not exist or you do not have permission to view it."
                )
            if clause.field == "project":
                for value in clause.values:
                    if not any(
                        str(value).upper() == k or str(value) == p["id"] for k, p in fake.projects.items()
                    ):
                        raise fake.fail(400, f"The value '{value}' does not exist for the field 'project'.")
            if clause.field in ("updated", "created", "worklogdate"):
                for value in clause.values:
                    if parse_jql_date(value) is None:
                        raise error(f"Date value '{value}' for field '{clause.field}' is invalid.")
        for name, _ in self.order:
            if name not in ("updated", "created", "priority", "duedate", "key", "rank"):
                raise error(f"Not able to sort using field '{name}'.")

    def run(self, fake: FakeJira, caller: FakeUser) -> list[FakeIssue]:
        matches = [
            issue
            for issue in fake.issues.values()
            if all(self._holds(c, issue, fake, caller) for c in self.clauses)
        ]
        for name, descending in reversed(self.order or [("key", True)]):
            matches.sort(key=lambda issue, name=name: _sort_value(issue, name), reverse=descending)
        return matches

    @staticmethod
    def _holds(clause: Clause, issue: FakeIssue, fake: FakeJira, caller: FakeUser) -> bool:
        field_name, op, values = clause.field, clause.op, clause.values
        if field_name == "summary":
            needle = re.sub(r"\\(.)", r"\1", str(values[0])).lower().rstrip("*")
            return (needle in issue.summary.lower()) == (op == "~")
        if field_name == "worklogdate":
            bound = parse_jql_date(values[0], caller.time_zone)
            assert bound is not None
            days = {w.started.astimezone(bound.tzinfo).date() for w in fake.worklogs.get(issue.key, [])}
            checks = {
                ">=": lambda d: d >= bound.date(),
                ">": lambda d: d > bound.date(),
                "<=": lambda d: d <= bound.date(),
                "<": lambda d: d < bound.date(),
                "=": lambda d: d == bound.date(),
            }
            return op in checks and any(checks[op](day) for day in days)
        if field_name == "text":
            needle = re.sub(r"\\(.)", r"\1", str(values[0])).lower()
            haystack = " ".join(
                [issue.summary, adf_text(issue.description)] + [adf_text(c.body) for c in issue.comments]
            ).lower()
            return (needle in haystack) == (op == "~")
        if field_name in ("updated", "created"):
            moment = issue.updated if field_name == "updated" else issue.created
            bound = parse_jql_date(values[0], caller.time_zone)
            assert bound is not None
            return {
                ">=": moment >= bound,
                ">": moment > bound,
                "<=": moment <= bound,
                "<": moment < bound,
            }.get(op, False)
        actual = _field_values(issue, field_name, fake)
        if op in ("is empty", "is not empty"):
            return (not actual) == (op == "is empty")
        wanted: set[str] = set()
        for value in values:
            if value == ("function", "currentuser"):
                wanted.add(caller.account_id)
            else:
                wanted |= _aliases(field_name, str(value), fake)
        hit = bool(actual & wanted)
        return hit if op in ("=", "in") else not hit if op == "!=" else False


def _field_values(issue: FakeIssue, name: str, fake: FakeJira) -> set[str]:
    """What a JQL field holds for an issue, in canonical form."""
    if name == "project":
        return {issue.project}
    if name == "assignee":
        return {issue.assignee} if issue.assignee else set()
    if name == "status":
        return {issue.status}
    if name == "statuscategory":
        return {STATUSES[issue.status][1]}
    if name == "sprint":
        return {str(s) for s in issue.sprints}
    if name == "parent":
        return {issue.parent} if issue.parent else set()
    if name in ("issuetype", "type"):
        return {issue.type_id}
    if name in ("key", "issuekey"):
        return {issue.key}
    if name == "issuelinktype":
        phrases = set()
        for link in fake.links.values():
            type_name, inward, outward = LINK_TYPES[link.type_id]
            if link.source == issue.key:
                phrases |= {type_name.lower(), outward.lower()}
            if link.destination == issue.key:
                phrases |= {type_name.lower(), inward.lower()}
        return phrases
    if name == "worklogauthor":
        return {w.author for w in fake.worklogs.get(issue.key, [])}
    return set()


def _aliases(name: str, value: str, fake: FakeJira) -> set[str]:
    """A JQL value in the canonical form of _field_values (names, keys and ids all work)."""
    if name == "project":
        return {
            k for k, p in fake.projects.items() if value.upper() in (k, p["name"].upper()) or value == p["id"]
        }
    if name == "status":
        return {
            sid
            for sid, (status_name, _) in STATUSES.items()
            if value in (sid, status_name) or value.lower() == status_name.lower()
        }
    if name == "statuscategory":
        return {
            key
            for key, cat in STATUS_CATEGORIES.items()
            if value.lower() in (key, cat["name"].lower(), str(cat["id"]))
        }
    if name in ("issuetype", "type"):
        return {
            tid for tid, (type_name, _, _) in ISSUE_TYPES.items() if value.lower() in (tid, type_name.lower())
        }
    if name == "issuelinktype":
        return {value.lower()}
    if name in ("key", "issuekey", "parent"):
        issue = fake.issues.get(value.upper()) or next(
            (i for i in fake.issues.values() if i.id == value), None
        )
        return {issue.key} if issue else {value.upper()}
    return {value}


def parse_jql_date(value: Any, zone: str = "UTC") -> datetime | None:
    """A JQL date (`2026/01/05 09:30`, `2026-01-05`) in the searching user's zone."""
    for layout in ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d"):
        try:
            return datetime.strptime(str(value), layout).replace(tzinfo=ZoneInfo(zone))
        except ValueError:
            continue
    return None


def _sort_value(issue: FakeIssue, name: str) -> Any:
    if name == "updated":
        return issue.updated
    if name == "created":
        return issue.created
    if name == "priority":
        # JIRA sorts priority by its scheme order: DESC puts Highest first.
        return -PRIORITY_RANK.get(issue.priority or "", len(PRIORITIES))
    if name == "duedate":
        return issue.due or date.max
    return issue_order_key(issue)
