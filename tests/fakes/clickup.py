"""A stateful in-memory fake of the ClickUp API v2, for the ClickUp adapter's tests.

It serves exactly the endpoints the adapter calls, under `/api/v2/...` like
api.clickup.com, with ClickUp's response shapes:

- the personal token in `Authorization` with no `Bearer` prefix;
- errors as `{"err": "...", "ECODE": "..."}`;
- timestamps as strings of Unix milliseconds;
- task pages numbered from 0 with `last_page`, `page_size` tasks each (100 like
  ClickUp unless a test makes pages smaller to prove paging);
- comments newest first, `comment_page_size` (25) at a time, continued with
  `start` and `start_id` of the oldest comment seen;
- 429 answers with `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
  `X-RateLimit-Reset` (Unix seconds), which every answer carries.

Routes are registered with the spec's own path templates (`/v2/...`, relative to
the documented server `https://api.clickup.com/api`), so the response log names
the operation in `clickup-api-v2.json`.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from typing import Any

from .base import FakeRequest, FakeResponse, FakeVendor, HttpError, json_response
from .clickup_work import ClickUpWorkEndpoints

API_PREFIX = "/api"
TOKEN = "pk_81000001_Q8ZK3J5M2X7N4B6V1C9L0P3R5T7W9Y2A"
APP_URL = "https://app.clickup.com"

PRIORITY_NAMES = {
    1: ("urgent", "#f50000"),
    2: ("high", "#ffcc00"),
    3: ("normal", "#6fddff"),
    4: ("low", "#d8d8d8"),
}


def now_millis() -> int:
    return int(time.time() * 1000)


def days(n: float) -> int:
    """`n` days in milliseconds."""
    return int(n * 86_400_000)


@dataclass
class FakeUser:
    id: int
    username: str
    email: str
    color: str = "#7b68ee"
    timezone: str = "Europe/Berlin"

    @property
    def initials(self) -> str:
        return "".join(part[0] for part in self.username.split()[:2]).upper()

    @property
    def picture(self) -> str:
        return f"https://attachments.clickup.com/profilePictures/{self.id}_a1b.jpg"


@dataclass
class FakeStatus:
    id: str
    name: str
    type: str  # open, custom, done, closed
    color: str
    orderindex: int


@dataclass
class FakeTeam:
    id: str
    name: str
    member_ids: list[int]


@dataclass
class FakeSpace:
    id: str
    name: str
    team_id: str
    statuses: list[FakeStatus]
    sprints: bool = False
    points: bool = False
    hidden_folder_id: str = ""


@dataclass
class FakeFolder:
    id: str
    name: str
    space_id: str
    orderindex: int


@dataclass
class FakeList:
    id: str
    name: str
    space_id: str
    folder_id: str | None  # None: a folderless list (it lives in the space's hidden folder)
    orderindex: int
    content: str = ""
    start_date: int | None = None
    due_date: int | None = None
    statuses: list[FakeStatus] | None = None  # None: the space's statuses


@dataclass
class FakeComment:
    id: str
    task_id: str
    user_id: int
    text: str
    date: int


@dataclass
class FakeTask:
    id: str
    name: str
    list_id: str
    status: str
    creator_id: int
    date_created: int
    date_updated: int
    markdown: str = ""
    assignee_ids: list[int] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    parent: str | None = None
    priority: int | None = None
    due_date: int | None = None
    due_date_time: bool = False
    start_date: int | None = None
    points: float | None = None
    time_estimate: int | None = None
    date_done: int | None = None
    date_closed: int | None = None
    other_list_ids: list[str] = field(default_factory=list)  # Tasks in Multiple Lists
    custom_values: dict[str, Any] = field(default_factory=dict)  # by custom field id
    deleted: bool = False


def plain_text(markdown: str) -> str:
    """Roughly what ClickUp's `text_content` holds for a Markdown description."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    return re.sub(r"[*_`#>]", "", text)


class ClickUpFake(ClickUpWorkEndpoints, FakeVendor):
    vendor = "ClickUp"

    def __init__(self, token: str = TOKEN, page_size: int = 100, comment_page_size: int = 25) -> None:
        super().__init__()
        self.token = token
        self.page_size = page_size
        self.comment_page_size = comment_page_size
        self._ids = itertools.count(1)
        self.users: dict[int, FakeUser] = {}
        self.teams: dict[str, FakeTeam] = {}
        self.spaces: dict[str, FakeSpace] = {}
        self.folders: dict[str, FakeFolder] = {}
        self.lists: dict[str, FakeList] = {}
        self.tasks: dict[str, FakeTask] = {}
        self.comments: list[FakeComment] = []
        self.me_id = 0
        self.init_work()
        self._register_routes()
        self.seed()

    # --- seed data -------------------------------------------------------
    def seed(self) -> None:
        """One workspace, two members; a sprint space and a plain one."""
        me = self.add_user("Ana Silva", "ana@acme.example")
        other = self.add_user("Ben Okafor", "ben@acme.example", timezone="America/New_York")
        self.me_id = me.id
        self.me, self.other = me, other
        team = self.add_team("Acme", [me.id, other.id])
        self.team = team

        engineering = self.add_space(
            team,
            "Engineering",
            [
                ("to do", "open"),
                ("in progress", "custom"),
                ("review", "custom"),
                ("done", "done"),
                ("closed", "closed"),
            ],
            sprints=True,
            points=True,
        )
        self.engineering = engineering
        self.severity = self.add_field(engineering, "Severity", "drop_down", ["Low", "Medium", "High"])
        self.components = self.add_field(engineering, "Components", "labels", ["API", "Web", "Mobile"])
        self.reviewer = self.add_field(engineering, "Reviewer", "users", single_user=False)
        self.customer = self.add_field(engineering, "Customer", "short_text")
        self.effort = self.add_field(engineering, "Effort", "number", precision=1)
        self.released = self.add_field(engineering, "Released on", "date")
        self.score = self.add_field(engineering, "Score", "formula")
        self.backlog = self.add_list(engineering, "Backlog", content="Everything not yet planned")
        mobile = self.add_folder(engineering, "Mobile")
        self.ios = self.add_list(engineering, "iOS", folder=mobile)
        self.android = self.add_list(engineering, "Android", folder=mobile)

        sprint_folder = self.add_folder(engineering, "Sprint Folder")
        now = now_millis()
        self.finished_sprint = self.add_list(
            engineering, "Sprint 1", folder=sprint_folder, start_date=now - days(28), due_date=now - days(14)
        )
        self.current_sprint = self.add_list(
            engineering, "Sprint 2", folder=sprint_folder, start_date=now - days(7), due_date=now + days(7)
        )
        self.future_sprint = self.add_list(
            engineering, "Sprint 3", folder=sprint_folder, start_date=now + days(7), due_date=now + days(21)
        )
        for name, points in (("Login form", 3), ("Password reset", 5)):
            done_at = now - days(16)
            self.add_task(
                self.finished_sprint,
                name,
                status="done",
                assignee_ids=[me.id],
                points=points,
                time_estimate=4 * 3_600_000,
                date_done=done_at,
                created=now - days(30),
            )
        self.add_task(
            self.current_sprint, "Offline mode", status="in progress", assignee_ids=[other.id], points=8
        )
        self.add_task(self.current_sprint, "Crash on start", status="to do", priority=1, points=2)
        # A backlog task planned into the current sprint: it lives in both lists.
        planned = self.add_task(self.backlog, "Dark theme", status="to do", points=3, priority=3)
        planned.other_list_ids.append(self.current_sprint.id)

        marketing = self.add_space(team, "Marketing", [("open", "open"), ("complete", "closed")])
        self.marketing = marketing
        campaigns = self.add_folder(marketing, "Campaigns")
        self.launch = self.add_list(marketing, "Spring launch", folder=campaigns)
        self.ideas = self.add_list(marketing, "Ideas")
        self.add_task(
            self.launch, "Write the announcement", status="open", assignee_ids=[other.id], priority=2
        )

    def now(self) -> int:
        return now_millis()

    def next_id(self) -> str:
        """A numeric id like ClickUp's space, folder and list ids."""
        return str(901_200_000_000 + next(self._ids))

    def add_user(self, username: str, email: str, timezone: str = "Europe/Berlin") -> FakeUser:
        user = FakeUser(id=81_000_000 + next(self._ids), username=username, email=email, timezone=timezone)
        self.users[user.id] = user
        return user

    def add_team(self, name: str, member_ids: list[int]) -> FakeTeam:
        team = FakeTeam(id=str(9_012_000_000 + next(self._ids)), name=name, member_ids=list(member_ids))
        self.teams[team.id] = team
        return team

    def add_space(
        self,
        team: FakeTeam,
        name: str,
        statuses: list[tuple[str, str]],
        sprints: bool = False,
        points: bool = False,
    ) -> FakeSpace:
        space_id = self.next_id()
        colors = {"open": "#d3d3d3", "custom": "#4194f6", "done": "#6bc950", "closed": "#6bc950"}
        space = FakeSpace(
            id=space_id,
            name=name,
            team_id=team.id,
            statuses=[
                FakeStatus(f"p{space_id}_{index}", status, kind, colors[kind], index)
                for index, (status, kind) in enumerate(statuses)
            ],
            sprints=sprints,
            points=points,
            hidden_folder_id=self.next_id(),
        )
        self.spaces[space.id] = space
        return space

    def add_folder(self, space: FakeSpace, name: str) -> FakeFolder:
        order = sum(1 for f in self.folders.values() if f.space_id == space.id)
        folder = FakeFolder(id=self.next_id(), name=name, space_id=space.id, orderindex=order)
        self.folders[folder.id] = folder
        return folder

    def add_list(
        self,
        space: FakeSpace,
        name: str,
        folder: FakeFolder | None = None,
        content: str = "",
        start_date: int | None = None,
        due_date: int | None = None,
    ) -> FakeList:
        order = sum(1 for lst in self.lists.values() if lst.space_id == space.id)
        fake_list = FakeList(
            id=self.next_id(),
            name=name,
            space_id=space.id,
            folder_id=folder.id if folder else None,
            orderindex=order,
            content=content,
            start_date=start_date,
            due_date=due_date,
        )
        self.lists[fake_list.id] = fake_list
        return fake_list

    def add_task(
        self,
        fake_list: FakeList,
        name: str,
        *,
        status: str | None = None,
        assignee_ids: list[int] | None = None,
        markdown: str = "",
        priority: int | None = None,
        points: float | None = None,
        time_estimate: int | None = None,
        due_date: int | None = None,
        date_done: int | None = None,
        created: int | None = None,
        creator_id: int | None = None,
    ) -> FakeTask:
        created = created if created is not None else now_millis()
        statuses = self.statuses_of(fake_list)
        task = FakeTask(
            id=f"86c{next(self._ids):06x}",
            name=name,
            list_id=fake_list.id,
            status=status or statuses[0].name,
            creator_id=creator_id or self.me_id,
            date_created=created,
            date_updated=date_done or created,
            markdown=markdown,
            assignee_ids=list(assignee_ids or []),
            priority=priority,
            points=points,
            time_estimate=time_estimate,
            due_date=due_date,
            date_done=date_done,
        )
        self._stamp_status(task, statuses, at=date_done or created)
        self.tasks[task.id] = task
        return task

    def add_comment(
        self, task: FakeTask, text: str, user_id: int | None = None, date: int | None = None
    ) -> FakeComment:
        comment = FakeComment(
            id=str(90_150_000_000_000 + next(self._ids)),
            task_id=task.id,
            user_id=user_id or self.me_id,
            text=text,
            date=date if date is not None else now_millis(),
        )
        self.comments.append(comment)
        return comment

    # --- lookups -----------------------------------------------------------
    def statuses_of(self, fake_list: FakeList) -> list[FakeStatus]:
        return fake_list.statuses or self.spaces[fake_list.space_id].statuses

    def _team_of_list(self, fake_list: FakeList) -> FakeTeam:
        return self.teams[self.spaces[fake_list.space_id].team_id]

    def _visible_teams(self) -> list[FakeTeam]:
        return [team for team in self.teams.values() if self.me_id in team.member_ids]

    def _require_team(self, team_id: str) -> FakeTeam:
        team = self.teams.get(team_id)
        if team is None or self.me_id not in team.member_ids:
            raise HttpError(401, self.error_body(401, "Team not authorized", "OAUTH_027"))
        return team

    def _require_space(self, space_id: str) -> FakeSpace:
        space = self.spaces.get(space_id)
        if space is None:
            raise HttpError(404, self.error_body(404, "Space not found", "ACCESS_083"))
        self._require_team(space.team_id)
        return space

    def _require_list(self, list_id: str) -> FakeList:
        fake_list = self.lists.get(list_id)
        if fake_list is None:
            raise HttpError(404, self.error_body(404, "List not found", "ACCESS_082"))
        self._require_team(self._team_of_list(fake_list).id)
        return fake_list

    def _require_task(self, task_id: str) -> FakeTask:
        task = self.tasks.get(task_id)
        if task is None or task.deleted:
            raise HttpError(404, self.error_body(404, "Task not found, deleted", "ITEM_013"))
        return task

    # --- vendor shapes -------------------------------------------------------
    def error_body(self, status: int, message: str, code: str | None = None) -> Any:
        default_codes = {
            400: "INPUT_005",
            401: "OAUTH_025",
            403: "ACCESS_001",
            404: "ITEM_013",
            429: "APP_002",
        }
        return {"err": message, "ECODE": code or default_codes.get(status, "SHARD_001")}

    def rate_limit_headers(self, remaining: int = 0, reset_in: int = 1) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(int(time.time()) + reset_in),
        }

    def authenticate(self, request: FakeRequest) -> bool:
        # ClickUp personal tokens go in the header as they are: "Bearer pk_..." is refused.
        return request.headers.get("authorization") == self.token

    def dispatch(self, request: FakeRequest) -> FakeResponse:
        response = super().dispatch(request)
        if response.operation is None:
            # Faults and refused tokens: name the operation too, so their bodies are validated.
            response.operation = self._operation_for(request)
        for name, value in self.rate_limit_headers(remaining=99, reset_in=60).items():
            response.headers.setdefault(name, value)
        return response

    def _operation_for(self, request: FakeRequest) -> tuple[str, str] | None:
        for method, pattern, template, _handler in self._routes:
            if method == request.method and pattern.match(request.path):
                return method, template
        return None

    def log_response(self, response: FakeResponse) -> None:
        if response.operation is not None:
            method, template = response.operation
            response.operation = (method, template.removeprefix(API_PREFIX))
        super().log_response(response)

    def user_json(self, user: FakeUser) -> dict[str, Any]:
        return {
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "color": user.color,
            "profilePicture": user.picture,
            "initials": user.initials,
        }

    def _status_json(self, status: FakeStatus) -> dict[str, Any]:
        return {
            "id": status.id,
            "status": status.name,
            "type": status.type,
            "orderindex": status.orderindex,
            "color": status.color,
        }

    def _space_json(self, space: FakeSpace) -> dict[str, Any]:
        return {
            "id": space.id,
            "name": space.name,
            "color": "#7b68ee",
            "private": False,
            "avatar": None,
            "admin_can_manage": True,
            "archived": False,
            "members": [
                {"user": self.user_json(self.users[uid])} for uid in self.teams[space.team_id].member_ids
            ],
            "statuses": [self._status_json(s) for s in space.statuses],
            "multiple_assignees": True,
            "features": {
                "due_dates": {
                    "enabled": True,
                    "start_date": True,
                    "remap_due_dates": False,
                    "remap_closed_due_date": False,
                },
                "sprints": {"enabled": space.sprints},
                "time_tracking": {"enabled": True},
                "points": {"enabled": space.points},
                "custom_items": {"enabled": False},
                "priorities": {
                    "enabled": True,
                    "priorities": [
                        {"color": color, "id": str(level), "orderindex": str(level), "priority": name}
                        for level, (name, color) in PRIORITY_NAMES.items()
                    ],
                },
                "tags": {"enabled": True},
                "time_estimates": {"enabled": True},
                "checklists": {"enabled": True},
                "custom_fields": {"enabled": True},
                "remap_dependencies": {"enabled": False},
                "dependency_warning": {"enabled": False},
                "portfolios": {"enabled": False},
            },
        }

    def _list_core(self, fake_list: FakeList) -> dict[str, Any]:
        """The fields every list object carries, wherever it appears."""
        return {
            "id": fake_list.id,
            "name": fake_list.name,
            "orderindex": fake_list.orderindex,
            "status": None,
            "priority": None,
            "assignee": None,
            "task_count": sum(1 for t in self.tasks.values() if t.list_id == fake_list.id and not t.deleted),
            "due_date": str(fake_list.due_date) if fake_list.due_date is not None else None,
            "start_date": str(fake_list.start_date) if fake_list.start_date is not None else None,
            "archived": False,
            "override_statuses": fake_list.statuses is not None,
            "statuses": [self._status_json(s) for s in self.statuses_of(fake_list)],
            "permission_level": "create",
        }

    def _folder_ref(self, fake_list: FakeList) -> dict[str, Any]:
        if fake_list.folder_id is None:
            space = self.spaces[fake_list.space_id]
            return {"id": space.hidden_folder_id, "name": "hidden", "hidden": True, "access": True}
        folder = self.folders[fake_list.folder_id]
        return {"id": folder.id, "name": folder.name, "hidden": False, "access": True}

    def _space_ref(self, space: FakeSpace) -> dict[str, Any]:
        return {"id": space.id, "name": space.name, "access": True}

    def list_json(self, fake_list: FakeList) -> dict[str, Any]:
        """A list as GET /list/{id} and the folderless-lists endpoint show it."""
        body = self._list_core(fake_list)
        body.update(
            {
                "content": fake_list.content,
                "due_date_time": False,
                "start_date_time": None,
                "folder": self._folder_ref(fake_list),
                "space": self._space_ref(self.spaces[fake_list.space_id]),
                "inbound_address": f"a.t.{fake_list.id}.abc@tasks.clickup.com",
            }
        )
        return body

    def _folder_json(self, folder: FakeFolder) -> dict[str, Any]:
        lists = [lst for lst in self.lists.values() if lst.folder_id == folder.id]
        space = self.spaces[folder.space_id]
        return {
            "id": folder.id,
            "name": folder.name,
            "orderindex": folder.orderindex,
            "override_statuses": False,
            "hidden": False,
            "space": self._space_ref(space),
            "task_count": str(sum(1 for t in self.tasks.values() if t.list_id in {lst.id for lst in lists})),
            "archived": False,
            "statuses": [self._status_json(s) for s in space.statuses],
            "lists": [self._list_core(lst) for lst in lists],
            "permission_level": "create",
        }

    def task_json(self, task: FakeTask, markdown: bool = False) -> dict[str, Any]:
        fake_list = self.lists[task.list_id]
        space = self.spaces[fake_list.space_id]
        status = next(s for s in self.statuses_of(fake_list) if s.name == task.status)
        priority = None
        if task.priority is not None:
            name, color = PRIORITY_NAMES[task.priority]
            priority = {
                "color": color,
                "id": str(task.priority),
                "orderindex": str(task.priority),
                "priority": name,
            }
        folder_ref = self._folder_ref(fake_list)
        body: dict[str, Any] = {
            "id": task.id,
            "custom_id": None,
            "custom_item_id": 0,
            "name": task.name,
            "text_content": plain_text(task.markdown),
            "description": plain_text(task.markdown),
            "status": self._status_json(status),
            "orderindex": f"{task.date_created}.00000000000000000000000000000000",
            "date_created": str(task.date_created),
            "date_updated": str(task.date_updated),
            "date_closed": str(task.date_closed) if task.date_closed else None,
            "date_done": str(task.date_done) if task.date_done else None,
            "archived": False,
            "creator": self.user_json(self.users[task.creator_id]),
            "assignees": [self.user_json(self.users[uid]) for uid in task.assignee_ids],
            "group_assignees": [],
            "watchers": [self.user_json(self.users[task.creator_id])],
            "checklists": [],
            "tags": [
                {"name": tag, "tag_fg": "#800000", "tag_bg": "#800000", "creator": task.creator_id}
                for tag in task.tags
            ],
            "parent": task.parent,
            "top_level_parent": task.parent,
            "priority": priority,
            "due_date": str(task.due_date) if task.due_date is not None else None,
            "start_date": str(task.start_date) if task.start_date is not None else None,
            "points": task.points,
            "time_estimate": task.time_estimate,
            "time_spent": 0,
            "custom_fields": self.custom_fields_json(task),
            **self.relationships_json(task),
            "locations": [{"id": lid, "name": self.lists[lid].name} for lid in task.other_list_ids],
            "team_id": space.team_id,
            "url": f"{APP_URL}/t/{task.id}",
            "sharing": {
                "public": False,
                "public_share_expires_on": None,
                "public_fields": ["assignees", "priority", "due_date", "content", "comments", "attachments"],
                "token": None,
                "seo_optimized": False,
            },
            "permission_level": "create",
            "list": {"id": fake_list.id, "name": fake_list.name, "access": True},
            "project": folder_ref,
            "folder": folder_ref,
            "space": {"id": space.id},
        }
        if markdown:
            body["markdown_description"] = task.markdown
        return body

    # --- routes ------------------------------------------------------------------
    def _register_routes(self) -> None:
        routes = [
            ("GET", "/v2/user", self.get_user),
            ("GET", "/v2/team", self.get_teams),
            ("GET", "/v2/team/{team_id}/space", self.get_spaces),
            ("GET", "/v2/space/{space_id}/folder", self.get_folders),
            ("GET", "/v2/space/{space_id}/list", self.get_folderless_lists),
            ("GET", "/v2/list/{list_id}", self.get_list),
            ("GET", "/v2/list/{list_id}/member", self.get_list_members),
            ("GET", "/v2/list/{list_id}/task", self.get_tasks),
            ("POST", "/v2/list/{list_id}/task", self.create_task),
            ("POST", "/v2/list/{list_id}/task/{task_id}", self.add_task_to_list),
            ("DELETE", "/v2/list/{list_id}/task/{task_id}", self.remove_task_from_list),
            ("GET", "/v2/task/{task_id}", self.get_task),
            ("PUT", "/v2/task/{task_id}", self.update_task),
            ("DELETE", "/v2/task/{task_id}", self.delete_task),
            ("GET", "/v2/team/{team_Id}/task", self.get_team_tasks),
            ("GET", "/v2/task/{task_id}/comment", self.get_comments),
            ("POST", "/v2/task/{task_id}/comment", self.create_comment),
        ]
        for method, template, handler in [*routes, *self.work_routes()]:
            self.route(method, API_PREFIX + template, handler)

    def get_user(self, request: FakeRequest) -> FakeResponse:
        me = self.users[self.me_id]
        user = self.user_json(me) | {
            "week_start_day": 1,
            "global_font_support": True,
            "timezone": me.timezone,
        }
        return json_response({"user": user})

    def get_teams(self, request: FakeRequest) -> FakeResponse:
        teams = [
            {
                "id": team.id,
                "name": team.name,
                "color": "#7b68ee",
                "avatar": "https://attachments.clickup.com/team_avatars/acme.png",
                "members": [
                    {
                        "user": self.user_json(self.users[uid])
                        | {"role": self.me_role if uid == self.me_id else 3}
                    }
                    for uid in team.member_ids
                ],
            }
            for team in self._visible_teams()
        ]
        return json_response({"teams": teams})

    def get_spaces(self, request: FakeRequest, team_id: str) -> FakeResponse:
        self._require_team(team_id)
        spaces = [self._space_json(s) for s in self.spaces.values() if s.team_id == team_id]
        return json_response({"spaces": spaces})

    def get_folders(self, request: FakeRequest, space_id: str) -> FakeResponse:
        self._require_space(space_id)
        folders = [self._folder_json(f) for f in self.folders.values() if f.space_id == space_id]
        return json_response({"folders": folders})

    def get_folderless_lists(self, request: FakeRequest, space_id: str) -> FakeResponse:
        self._require_space(space_id)
        lists = [
            self.list_json(lst)
            for lst in self.lists.values()
            if lst.space_id == space_id and not lst.folder_id
        ]
        return json_response({"lists": lists})

    def get_list(self, request: FakeRequest, list_id: str) -> FakeResponse:
        return json_response(self.list_json(self._require_list(list_id)))

    def get_list_members(self, request: FakeRequest, list_id: str) -> FakeResponse:
        team = self._team_of_list(self._require_list(list_id))
        members = [
            self.user_json(self.users[uid])
            | {
                "profileInfo": {
                    "display_profile": None,
                    "verified_ambassador": None,
                    "verified_consultant": None,
                    "top_tier_user": None,
                    "viewed_verified_ambassador": None,
                    "viewed_verified_consultant": None,
                    "viewed_top_tier_user": None,
                }
            }
            for uid in team.member_ids
        ]
        return json_response({"members": members})

    # --- task queries ---------------------------------------------------------------
    def _task_page(self, request: FakeRequest, candidates: list[FakeTask]) -> FakeResponse:
        def flag(name: str) -> bool:
            return request.arg(name, "false") == "true"

        statuses = {name.lower() for name in request.args("statuses[]")}
        assignees = {int(uid) for uid in request.args("assignees[]")}
        updated_after = request.arg("date_updated_gt")
        selected = []
        for task in candidates:
            fake_list = self.lists[task.list_id]
            kind = next(s.type for s in self.statuses_of(fake_list) if s.name == task.status)
            if kind == "closed" and not flag("include_closed"):
                continue
            if task.parent and not flag("subtasks"):
                continue
            if statuses and task.status.lower() not in statuses:
                continue
            if assignees and not assignees & set(task.assignee_ids):
                continue
            if updated_after and task.date_updated <= int(updated_after):
                continue
            selected.append(task)
        order_by = request.arg("order_by", "created")
        keys = {
            "created": lambda t: (t.date_created, t.id),
            "updated": lambda t: (t.date_updated, t.id),
            "id": lambda t: (0, t.id),
            "due_date": lambda t: (t.due_date if t.due_date is not None else 2**62, t.id),
        }
        if order_by not in keys:
            raise HttpError(400, self.error_body(400, "Order by field invalid", "ITEM_220"))
        selected.sort(key=keys[order_by], reverse=flag("reverse"))
        page = int(request.arg("page", "0") or 0)
        start = page * self.page_size
        chunk = selected[start : start + self.page_size]
        markdown = flag("include_markdown_description")
        return json_response(
            {
                "tasks": [self.task_json(t, markdown=markdown) for t in chunk],
                "last_page": start + self.page_size >= len(selected),
            }
        )

    def get_tasks(self, request: FakeRequest, list_id: str) -> FakeResponse:
        self._require_list(list_id)
        timl = request.arg("include_timl") == "true"
        candidates = [
            t
            for t in self.tasks.values()
            if not t.deleted and (t.list_id == list_id or (timl and list_id in t.other_list_ids))
        ]
        return self._task_page(request, candidates)

    def get_team_tasks(self, request: FakeRequest, team_Id: str) -> FakeResponse:  # noqa: N803 - the spec's name
        self._require_team(team_Id)
        candidates = [
            t
            for t in self.tasks.values()
            if not t.deleted and self._team_of_list(self.lists[t.list_id]).id == team_Id
        ]
        return self._task_page(request, candidates)

    def get_task(self, request: FakeRequest, task_id: str) -> FakeResponse:
        task = self._require_task(task_id)
        return json_response(
            self.task_json(task, markdown=request.arg("include_markdown_description") == "true")
        )

    # --- task changes -------------------------------------------------------------------
    def _invalid(self, message: str, code: str) -> HttpError:
        return HttpError(400, self.error_body(400, message, code))

    def _check_assignees(self, fake_list: FakeList, user_ids: list[Any]) -> list[int]:
        members = set(self._team_of_list(fake_list).member_ids)
        if not all(isinstance(uid, int) and uid in members for uid in user_ids):
            raise self._invalid("Assignees must be members of the Workspace", "ITEM_053")
        return list(user_ids)

    def _check_priority(self, value: Any) -> int | None:
        if value is not None and value not in PRIORITY_NAMES:
            raise self._invalid("Priority invalid", "ITEM_032")
        return value

    def _check_status(self, fake_list: FakeList, name: Any) -> str:
        for status in self.statuses_of(fake_list):
            if isinstance(name, str) and status.name == name.lower():
                return status.name
        raise self._invalid("Status does not exist", "ITEM_115")

    def _stamp_status(self, task: FakeTask, statuses: list[FakeStatus], at: int) -> None:
        """Set date_done / date_closed the way ClickUp does when a task enters or leaves a done status."""
        kind = next(s.type for s in statuses if s.name == task.status)
        if kind in ("done", "closed"):
            task.date_done = task.date_done or at
            task.date_closed = (task.date_closed or at) if kind == "closed" else None
        else:
            task.date_done = task.date_closed = None

    def _apply_common(self, task: FakeTask, fake_list: FakeList, body: dict[str, Any]) -> None:
        if "markdown_content" in body:
            task.markdown = str(body["markdown_content"] or "")
        elif "description" in body:
            # ClickUp clears a description given as a single space.
            task.markdown = "" if not str(body["description"]).strip() else str(body["description"])
        if "priority" in body:
            task.priority = self._check_priority(body["priority"])
        if "due_date" in body:
            task.due_date = int(body["due_date"]) if body["due_date"] is not None else None
            task.due_date_time = bool(body.get("due_date_time", False))
        if "start_date" in body:
            task.start_date = int(body["start_date"]) if body["start_date"] is not None else None
        if "time_estimate" in body:
            task.time_estimate = int(body["time_estimate"]) if body["time_estimate"] is not None else None
        if "points" in body:
            task.points = body["points"]
        if body.get("parent"):
            parent = self._require_task(str(body["parent"]))
            if parent.list_id != fake_list.id:
                raise self._invalid("Parent task must be in the same List", "ITEM_137")
            task.parent = parent.id

    def create_task(self, request: FakeRequest, list_id: str) -> FakeResponse:
        fake_list = self._require_list(list_id)
        body = request.json() or {}
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise self._invalid("Task name invalid", "INPUT_005")
        now = now_millis()
        statuses = self.statuses_of(fake_list)
        task = FakeTask(
            id=f"86c{next(self._ids):06x}",
            name=name,
            list_id=fake_list.id,
            status=self._check_status(fake_list, body["status"]) if body.get("status") else statuses[0].name,
            creator_id=self.me_id,
            date_created=now,
            date_updated=now,
            assignee_ids=self._check_assignees(fake_list, body.get("assignees") or []),
            tags=[str(tag) for tag in body.get("tags") or []],
        )
        self._apply_common(task, fake_list, body)
        self.apply_create_fields(task, fake_list, body.get("custom_fields") or [])
        self._stamp_status(task, statuses, at=now)
        self.tasks[task.id] = task
        return json_response(self.task_json(task))

    def update_task(self, request: FakeRequest, task_id: str) -> FakeResponse:
        task = self._require_task(task_id)
        fake_list = self.lists[task.list_id]
        body = request.json() or {}
        if "name" in body:
            if not isinstance(body["name"], str) or not body["name"].strip():
                raise self._invalid("Task name invalid", "INPUT_005")
            task.name = body["name"]
        if "parent" in body and body["parent"] is None:
            raise self._invalid("Parent invalid", "ITEM_137")
        self._apply_common(task, fake_list, body)
        if "assignees" in body:
            change = body["assignees"] or {}
            added = self._check_assignees(fake_list, change.get("add") or [])
            removed = set(change.get("rem") or [])
            task.assignee_ids = [uid for uid in task.assignee_ids if uid not in removed]
            task.assignee_ids += [uid for uid in added if uid not in task.assignee_ids]
        now = now_millis()
        if "status" in body:
            task.status = self._check_status(fake_list, body["status"])
            self._stamp_status(task, self.statuses_of(fake_list), at=now)
        task.date_updated = now
        return json_response(self.task_json(task))

    def delete_task(self, request: FakeRequest, task_id: str) -> FakeResponse:
        self._require_task(task_id).deleted = True
        return FakeResponse(204)

    def add_task_to_list(self, request: FakeRequest, list_id: str, task_id: str) -> FakeResponse:
        self._require_list(list_id)
        task = self._require_task(task_id)
        if list_id != task.list_id and list_id not in task.other_list_ids:
            task.other_list_ids.append(list_id)
            task.date_updated = now_millis()
        return json_response({})

    def remove_task_from_list(self, request: FakeRequest, list_id: str, task_id: str) -> FakeResponse:
        self._require_list(list_id)
        task = self._require_task(task_id)
        if list_id == task.list_id:
            raise self._invalid("Cannot remove a task from its home List", "ITEM_250")
        if list_id in task.other_list_ids:
            task.other_list_ids.remove(list_id)
            task.date_updated = now_millis()
        return json_response({})

    # --- comments -----------------------------------------------------------------------------
    def _comment_json(self, comment: FakeComment) -> dict[str, Any]:
        return {
            "id": comment.id,
            "comment": [{"text": comment.text + "\n"}],
            "comment_text": comment.text + "\n",
            "user": self.user_json(self.users[comment.user_id]),
            "resolved": False,
            "assignee": None,
            "assigned_by": None,
            "reactions": [],
            "date": str(comment.date),
            "reply_count": "0",
        }

    def get_comments(self, request: FakeRequest, task_id: str) -> FakeResponse:
        self._require_task(task_id)
        newest_first = sorted(
            (c for c in self.comments if c.task_id == task_id), key=lambda c: (c.date, c.id), reverse=True
        )
        start, start_id = request.arg("start"), request.arg("start_id")
        if start_id:
            ids = [c.id for c in newest_first]
            if start_id not in ids or not start:
                raise self._invalid("Comment start invalid", "CMNT_009")
            newest_first = newest_first[ids.index(start_id) + 1 :]
        chunk = newest_first[: self.comment_page_size]
        return json_response({"comments": [self._comment_json(c) for c in chunk]})

    def create_comment(self, request: FakeRequest, task_id: str) -> FakeResponse:
        task = self._require_task(task_id)
        body = request.json() or {}
        text = body.get("comment_text")
        if not isinstance(text, str) or not text.strip():
            raise self._invalid("Comment text required", "CMNT_001")
        comment = self.add_comment(task, text)
        return json_response({"id": comment.id, "hist_id": str(next(self._ids)), "date": comment.date})
