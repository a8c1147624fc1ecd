"""The fake JIRA's sprint work: sprint writes, issue links, worklogs, the changelog and create metadata.

Mixed into FakeJira (tests/fakes/jira.py), whose state (issues, sprints, users, fields) it
works on. Every change an issue goes through is recorded in its changelog by diffing the
issue's tracked fields before and after (`changing(issue, author)`), as JIRA records each
changed field of an edit, a transition, an assignment or a sprint move as one history item.

Link direction follows JIRA's model: a link has a source and a destination; the source reads
the type's outward phrase ("ALPHA-1 blocks ALPHA-2"), the destination its inward phrase. On
the source's `issuelinks` the other issue is the `outwardIssue`; on the destination's, the
`inwardIssue`. `POST /issueLink` names the source `inwardIssue` and the destination
`outwardIssue` (JIRA's naming; `GET /issueLink/{id}` answers the same way).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .base import FakeRequest, FakeResponse, json_response

if TYPE_CHECKING:
    from .jira import FakeIssue, FakeJira

TEAM_FIELD = "customfield_10040"  # a single-choice custom field on ALPHA's create and edit screens
TEAM_OPTIONS = {"10100": "Payments", "10101": "Search", "10102": "Platform"}

# id -> (name, inward, outward): JIRA Cloud's default link types.
LINK_TYPES = {
    "10000": ("Blocks", "is blocked by", "blocks"),
    "10001": ("Cloners", "is cloned by", "clones"),
    "10002": ("Duplicate", "is duplicated by", "duplicates"),
    "10003": ("Relates", "relates to", "relates to"),
}


@dataclass
class FakeLink:
    id: str
    type_id: str
    source: str  # issue key that reads the outward phrase
    destination: str


@dataclass
class FakeWorklog:
    id: str
    author: str
    seconds: int
    started: datetime
    created: datetime
    comment: dict[str, Any] | None = None


@dataclass
class FakeHistory:
    id: str
    author: str
    created: datetime
    items: list[dict[str, Any]] = field(default_factory=list)


def parse_jira_time(value: Any) -> datetime | None:
    """JIRA's `2026-01-05T10:00:00.000+0000` (the only form its worklog `started` accepts)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return None


class JiraWorkFake:
    """Sprint-work state and routes of the fake JIRA (a mixin of FakeJira)."""

    def _seed_work(self: FakeJira) -> None:
        self._link_ids = itertools.count(20000)
        self.links: dict[str, FakeLink] = {}
        self.worklogs: dict[str, list[FakeWorklog]] = {}  # issue key -> worklogs
        self.history: dict[str, list[FakeHistory]] = {}  # issue key -> changelog, oldest first
        self.next_sprint_id = 100

    def _routes_work(self: FakeJira) -> None:
        self.route("GET", "/rest/api/3/issueLinkType", self.get_link_types)
        self.route("POST", "/rest/api/3/issueLink", self.create_link)
        self.route("DELETE", "/rest/api/3/issueLink/{linkId}", self.delete_link)
        self.route("GET", "/rest/api/3/issue/{issueIdOrKey}/worklog", self.get_worklogs)
        self.route("POST", "/rest/api/3/issue/{issueIdOrKey}/worklog", self.add_worklog)
        self.route("GET", "/rest/api/3/issue/{issueIdOrKey}/changelog", self.get_changelog)
        self.route(
            "GET", "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}", self.create_meta
        )
        self.route("POST", "/rest/agile/1.0/sprint", self.create_sprint)
        self.route("POST", "/rest/agile/1.0/sprint/{sprintId}", self.update_sprint)

    # --- history ---------------------------------------------------------------------------
    def tracked(self: FakeJira, issue: FakeIssue) -> dict[str, dict[str, Any]]:
        """The fields whose changes JIRA records, as changelog item halves (id and display string)."""
        from .jira import SPRINT_FIELD, STATUSES, STORY_POINTS_FIELD, adf_text

        def item(name: str, kind: str, value: Any, text: Any) -> dict[str, Any]:
            shown = None if text in (None, "", []) else str(text)
            return {
                "field": name,
                "fieldtype": kind,
                "id": None if value in (None, "") else str(value),
                "text": shown,
            }

        sprint_ids = [str(s) for s in issue.sprints]
        sprint_names = [self.sprints[s].name for s in issue.sprints]
        team = issue.custom.get(TEAM_FIELD)
        points = issue.custom.get(STORY_POINTS_FIELD)
        return {
            "summary": item("summary", "jira", None, issue.summary),
            "description": item("description", "jira", None, adf_text(issue.description) or None),
            "status": item("status", "jira", issue.status, STATUSES[issue.status][0]),
            "assignee": item(
                "assignee",
                "jira",
                issue.assignee,
                self.users[issue.assignee].name if issue.assignee else None,
            ),
            "priority": item("priority", "jira", issue.priority, self._priority_name(issue.priority)),
            "duedate": item("duedate", "jira", issue.due, issue.due.isoformat() if issue.due else None),
            "labels": item("labels", "jira", None, " ".join(issue.labels)),
            "timeoriginalestimate": item(
                "timeoriginalestimate", "jira", issue.original_estimate, issue.original_estimate
            ),
            "parent": item("IssueParentAssociation", "jira", issue.parent, issue.parent),
            SPRINT_FIELD: item("Sprint", "custom", ", ".join(sprint_ids), ", ".join(sprint_names)),
            STORY_POINTS_FIELD: item("Story Points", "custom", None, points),
            TEAM_FIELD: item("Team", "custom", (team or {}).get("id"), (team or {}).get("value")),
        }

    def _priority_name(self, priority_id: str | None) -> str | None:
        from .jira import PRIORITIES

        return next((name for pid, name, _ in PRIORITIES if pid == priority_id), None)

    @contextmanager
    def changing(self: FakeJira, issue: FakeIssue, author: str) -> Iterator[None]:
        """Record what the block changes on `issue` as one changelog entry by `author`."""
        before = self.tracked(issue)
        yield
        after = self.tracked(issue)
        items = [
            {
                "field": after[field_id]["field"],
                "fieldtype": after[field_id]["fieldtype"],
                "fieldId": field_id,
                "from": before[field_id]["id"],
                "fromString": before[field_id]["text"],
                "to": after[field_id]["id"],
                "toString": after[field_id]["text"],
            }
            for field_id in after
            if (before[field_id]["id"], before[field_id]["text"])
            != (after[field_id]["id"], after[field_id]["text"])
        ]
        if items:
            entries = self.history.setdefault(issue.key, [])
            entries.append(FakeHistory(str(next(self._ids)), author, issue.updated, items))

    def retitle(self: FakeJira, key: str, title: str, author: str | None = None) -> None:
        """Rename an issue as a person would in JIRA's own UI (another user, by default)."""
        with self._lock:
            issue = self.issues[key]
            with self.changing(issue, author or self.other.account_id):
                issue.summary = title
                issue.updated = self.tick()

    def get_changelog(self: FakeJira, request: FakeRequest, issueIdOrKey: str) -> FakeResponse:
        issue = self.find_issue(issueIdOrKey)
        start = self.int_arg(request, "startAt", 0)
        limit = self.int_arg(request, "maxResults", 100, maximum=100)
        entries = self.history.get(issue.key, [])
        page = entries[start : start + limit]
        return json_response(
            {
                "self": self.link(
                    f"/rest/api/3/issue/{issue.key}/changelog?startAt={start}&maxResults={limit}"
                ),
                "startAt": start,
                "maxResults": limit,
                "total": len(entries),
                "isLast": start + limit >= len(entries),
                "values": [
                    {
                        "id": entry.id,
                        "author": self.user_json(self.users[entry.author], details=True),
                        "created": self._time(entry.created),
                        "items": entry.items,
                    }
                    for entry in page
                ],
            }
        )

    @staticmethod
    def _time(moment: datetime) -> str:
        from .jira import jira_time

        return jira_time(moment)

    # --- links -----------------------------------------------------------------------------
    def link_type_json(self: FakeJira, type_id: str) -> dict[str, Any]:
        name, inward, outward = LINK_TYPES[type_id]
        return {
            "id": type_id,
            "name": name,
            "inward": inward,
            "outward": outward,
            "self": self.link(f"/rest/api/3/issueLinkType/{type_id}"),
        }

    def linked_issue_json(self: FakeJira, key: str) -> dict[str, Any]:
        other = self.issues[key]
        return {
            "id": other.id,
            "key": other.key,
            "self": self.link(f"/rest/api/3/issue/{other.id}"),
            "fields": {
                "summary": other.summary,
                "status": self.status_json(other.status),
                "priority": self.priority_json(other.priority) if other.priority else None,
                "issuetype": self.issue_type_json(other.type_id),
            },
        }

    def issue_links_json(self: FakeJira, issue: FakeIssue) -> list[dict[str, Any]]:
        """The `issuelinks` field: each link once, naming the other issue on the side it stands."""
        entries = []
        for link in self.links.values():
            if issue.key not in (link.source, link.destination):
                continue
            body: dict[str, Any] = {
                "id": link.id,
                "self": self.link(f"/rest/api/3/issueLink/{link.id}"),
                "type": self.link_type_json(link.type_id),
            }
            if link.source == issue.key:
                body["outwardIssue"] = self.linked_issue_json(link.destination)
            else:
                body["inwardIssue"] = self.linked_issue_json(link.source)
            entries.append(body)
        return entries

    def get_link_types(self: FakeJira, request: FakeRequest) -> FakeResponse:
        return json_response({"issueLinkTypes": [self.link_type_json(type_id) for type_id in LINK_TYPES]})

    def create_link(self: FakeJira, request: FakeRequest) -> FakeResponse:
        body = self.body(request)
        if not isinstance(body, dict):
            raise self.fail(400, "The request body must be an object.")
        wanted = body.get("type") or {}
        type_id = next(
            (
                tid
                for tid, (name, _, _) in LINK_TYPES.items()
                if wanted.get("id") == tid or str(wanted.get("name", "")).lower() == name.lower()
            ),
            None,
        )
        if type_id is None:
            raise self.fail(404, f"No issue link type with name '{wanted.get('name')}' found.")
        ends = []
        for side in ("inwardIssue", "outwardIssue"):
            ref = body.get(side) or {}
            ends.append(self.find_issue(str(ref.get("key") or ref.get("id") or "")))
        source, destination = ends
        if source.key == destination.key:
            raise self.fail(400, "You cannot link an issue to itself.")
        with self._lock:
            exists = any(
                (link.type_id, link.source, link.destination) == (type_id, source.key, destination.key)
                for link in self.links.values()
            )
            if not exists:  # JIRA answers 201 for a link that exists, and keeps one
                link = FakeLink(str(next(self._link_ids)), type_id, source.key, destination.key)
                self.links[link.id] = link
        return FakeResponse(201)

    def delete_link(self: FakeJira, request: FakeRequest, linkId: str) -> FakeResponse:
        with self._lock:
            if linkId not in self.links:
                raise self.fail(404, "No issue link with id '" + linkId + "' exists.")
            del self.links[linkId]
        return FakeResponse(204)

    # --- worklogs ----------------------------------------------------------------------------
    def worklog_json(self: FakeJira, issue: FakeIssue, worklog: FakeWorklog) -> dict[str, Any]:
        from .jira import format_duration

        author = self.user_json(self.users[worklog.author], details=True)
        body: dict[str, Any] = {
            "self": self.link(f"/rest/api/3/issue/{issue.id}/worklog/{worklog.id}"),
            "author": author,
            "updateAuthor": author,
            "created": self._time(worklog.created),
            "updated": self._time(worklog.created),
            "started": self._time(worklog.started),
            "timeSpent": format_duration(worklog.seconds),
            "timeSpentSeconds": worklog.seconds,
            "id": worklog.id,
            "issueId": issue.id,
        }
        if worklog.comment is not None:
            body["comment"] = worklog.comment
        return body

    def get_worklogs(self: FakeJira, request: FakeRequest, issueIdOrKey: str) -> FakeResponse:
        issue = self.find_issue(issueIdOrKey)
        start = self.int_arg(request, "startAt", 0)
        limit = self.int_arg(request, "maxResults", 5000, maximum=5000)
        after = self.int_arg(request, "startedAfter", 0)
        before = request.arg("startedBefore")
        chosen = [
            w
            for w in sorted(self.worklogs.get(issue.key, []), key=lambda w: (w.started, w.id))
            if w.started.timestamp() * 1000 >= after
            and (before is None or w.started.timestamp() * 1000 <= self.int_arg(request, "startedBefore", 0))
        ]
        page = chosen[start : start + limit]
        return json_response(
            {
                "startAt": start,
                "maxResults": limit,
                "total": len(chosen),
                "worklogs": [self.worklog_json(issue, w) for w in page],
            }
        )

    def add_worklog(self: FakeJira, request: FakeRequest, issueIdOrKey: str) -> FakeResponse:
        from .jira import adf_problem, parse_duration

        issue = self.find_issue(issueIdOrKey)
        body = self.body(request)
        if not isinstance(body, dict):
            raise self.fail(400, "The request body must be an object.")
        seconds = body.get("timeSpentSeconds")
        if seconds is None:
            seconds = parse_duration(body.get("timeSpent"))
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 60:
            raise self.fail(400, timeLogged="You must indicate the time spent working (at least a minute).")
        started = datetime.now(UTC)
        if "started" in body:
            started = parse_jira_time(body["started"])
            if started is None:
                raise self.fail(
                    400, started="Could not parse the date started: use 2026-01-05T10:00:00.000+0000."
                )
        comment = body.get("comment")
        if comment is not None and adf_problem(comment):
            raise self.fail(400, comment=adf_problem(comment))
        with self._lock:
            worklog = FakeWorklog(
                str(next(self._ids)), self.account(request).account_id, seconds, started, self.tick(), comment
            )
            self.worklogs.setdefault(issue.key, []).append(worklog)
        return json_response(self.worklog_json(issue, worklog), 201)

    # --- create metadata ----------------------------------------------------------------------
    def create_meta(
        self: FakeJira, request: FakeRequest, projectIdOrKey: str, issueTypeId: str
    ) -> FakeResponse:
        from .jira import ISSUE_TYPES, SPRINT_FIELD, STORY_POINTS_FIELD

        project = self.find_project(projectIdOrKey)
        if issueTypeId not in ISSUE_TYPES:
            raise self.fail(400, f"Issue type with id '{issueTypeId}' does not exist in project {project}.")
        on_screen = [
            "summary",
            "issuetype",
            "description",
            "priority",
            "assignee",
            "duedate",
            "labels",
            "timetracking",
            "parent",
            SPRINT_FIELD,
            STORY_POINTS_FIELD,
        ]
        if project == "ALPHA":
            on_screen.append(TEAM_FIELD)
        by_id = {f["id"]: f for f in self.fields}
        metas = []
        for field_id in on_screen:
            known = by_id[field_id]
            meta: dict[str, Any] = {
                "fieldId": field_id,
                "key": field_id,
                "name": known["name"],
                "required": field_id in ("summary", "issuetype"),
                "schema": known["schema"],
                "operations": ["set"] if field_id != "labels" else ["add", "set", "remove"],
                "hasDefaultValue": field_id == "priority",
            }
            if field_id == TEAM_FIELD:
                meta["allowedValues"] = [
                    {"self": self.link(f"/rest/api/3/customFieldOption/{oid}"), "value": value, "id": oid}
                    for oid, value in TEAM_OPTIONS.items()
                ]
            metas.append(meta)
        start = self.int_arg(request, "startAt", 0)
        limit = self.int_arg(request, "maxResults", 50, maximum=200)
        return json_response(
            {
                "startAt": start,
                "maxResults": limit,
                "total": len(metas),
                "fields": metas[start : start + limit],
            }
        )

    def team_value(self, value: Any) -> tuple[dict[str, str] | None, str | None]:
        """A Team field value as written ({"value": name} or {"id": id}, None clears): (stored, problem)."""
        if value is None:
            return None, None
        if isinstance(value, dict):
            for oid, name in TEAM_OPTIONS.items():
                if value.get("id") == oid or value.get("value") == name:
                    return {"id": oid, "value": name, "self": f"/rest/api/3/customFieldOption/{oid}"}, None
        return None, f"Option value '{value}' is not valid for the field Team."

    # --- sprints -------------------------------------------------------------------------------
    def create_sprint(self: FakeJira, request: FakeRequest) -> FakeResponse:
        from .jira import FakeSprint

        body = self.body(request)
        if not isinstance(body, dict):
            raise self.fail(400, "The request body must be an object.")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise self.fail(400, name="The sprint name can't be empty.")
        if len(name) > 255:
            raise self.fail(400, name="The sprint name must be shorter than 255 characters.")
        board_id = body.get("originBoardId")
        board = self.find_board(str(board_id)) if isinstance(board_id, int) else None
        if board is None:
            raise self.fail(400, originBoardId="A board id is required.")
        if board.type != "scrum":
            raise self.fail(400, "The board does not support sprints")
        start, end = self._sprint_dates(body, None, None)
        with self._lock:
            sprint = FakeSprint(
                self.next_sprint_id, name, "future", board.id, body.get("goal") or "", start, end
            )
            sprint.created = self.tick()
            self.next_sprint_id += 1
            self.sprints[sprint.id] = sprint
        return json_response(self.sprint_json(sprint), 201)

    def _sprint_dates(
        self: FakeJira, body: dict[str, Any], start: datetime | None, end: datetime | None
    ) -> tuple[datetime | None, datetime | None]:
        for name in ("startDate", "endDate"):
            if name in body and body[name] is not None:
                moment = _parse_sprint_date(body[name])
                if moment is None:
                    raise self.fail(400, **{name: f"Invalid date format: {body[name]}"})
                if name == "startDate":
                    start = moment
                else:
                    end = moment
        if start and end and end < start:
            raise self.fail(400, endDate="The sprint end date must be after the start date.")
        return start, end

    def update_sprint(self: FakeJira, request: FakeRequest, sprintId: str) -> FakeResponse:
        from .jira import DONE

        sprint = self.find_sprint(sprintId)
        body = self.body(request)
        if not isinstance(body, dict):
            raise self.fail(400, "The request body must be an object.")
        if sprint.state == "closed" and set(body) - {"name", "goal"}:
            raise self.fail(400, "A closed sprint can't be changed, other than its name and goal.")
        if "name" in body and (not isinstance(body["name"], str) or not body["name"].strip()):
            raise self.fail(400, name="The sprint name can't be empty.")
        start, end = self._sprint_dates(body, sprint.start, sprint.end)
        state = body.get("state", sprint.state)
        if state not in ("future", "active", "closed"):
            raise self.fail(400, state=f"Unknown sprint state '{state}'.")
        if state != sprint.state:
            allowed = {("future", "active"), ("active", "closed")}
            if (sprint.state, state) not in allowed:
                raise self.fail(400, f"A {sprint.state} sprint can't become {state}.")
            if state == "active" and not (start and end):
                raise self.fail(400, "A sprint needs a start and an end date before it starts.")
        with self._lock:
            sprint.name = body.get("name", sprint.name)
            if "goal" in body:
                sprint.goal = body["goal"] or ""
            sprint.start, sprint.end = start, end
            if state == "closed" and sprint.state == "active":
                sprint.completed = self.tick()
                # JIRA moves the open issues of a closed sprint to the backlog; they keep the
                # closed sprint in their sprint field as the one they were in.
                for issue in self.issues.values():
                    if sprint.id in issue.sprints and issue.status != DONE:
                        with self.changing(issue, self.account(request).account_id):
                            issue.sprints = [s for s in issue.sprints if self.sprints[s].state == "closed"]
                            issue.sprints.append(sprint.id)
                            issue.updated = self.tick()
            sprint.state = state
        return json_response(self.sprint_json(sprint))

    # --- what the probe reads -------------------------------------------------------------------
    def current_sprint_of(self: FakeJira, key: str) -> int | None:
        """The sprint JIRA's board shows the issue in: an open sprint, a closed one for a done issue, else none."""
        from .jira import DONE

        issue = self.issues[key]
        open_sprints = [s for s in issue.sprints if self.sprints[s].state != "closed"]
        if open_sprints:
            return open_sprints[-1]
        if issue.status == DONE and issue.sprints:
            return issue.sprints[-1]
        return None

    def linked_keys(self, key: str) -> set[str]:
        return {
            link.destination if link.source == key else link.source
            for link in self.links.values()
            if key in (link.source, link.destination)
        }


def _parse_sprint_date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    for layout in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(value.replace("Z", "+0000"), layout).astimezone(UTC)
        except ValueError:
            continue
    return None
