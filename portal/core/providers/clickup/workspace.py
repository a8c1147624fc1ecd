"""The ClickUp adapter's plumbing: calls, the user, and the Workspace hierarchy, cached.

Spaces, their folders and Lists (with each List's statuses) tell where a task
lives and which Lists are sprints; every call needs them, so they are kept with
the connection's metadata for HIERARCHY_SECONDS.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, tzinfo
from typing import Any, ClassVar

from .. import errors
from ..base import CheckResult, Task, User
from ..dates import user_timezone
from ..vendor import ME_KEY, VendorAdapter
from .parse import (
    ListPlace,
    SpaceInfo,
    error_and_code,
    is_sprint_folder,
    may_be_in_a_sprint,
    named_for_sprints,
    parse_error,
    parse_space,
    parse_task,
    parse_user,
    place_from_list,
    places_in_folder,
)
from .query import api_root, path

HIERARCHY_SECONDS = 120.0
"""How long the Workspace hierarchy (spaces, folders, Lists, statuses) is reused."""
TEAM_NOT_AUTHORIZED = "OAUTH_027"  # ClickUp's 401 for a Workspace or object the user may not see
TEAMS_KEY = ("teams",)


class ClickUpWorkspace(VendorAdapter, provider_type="clickup", vendor="ClickUp"):
    """Calls to ClickUp API v2 with a personal token, in the connection's Workspace."""

    base_url_example: ClassVar[str] = "https://api.clickup.com"

    parse_error = staticmethod(parse_error)

    def api_root(self) -> str:
        return api_root(self._config.base_url)

    def credentials(self) -> dict[str, Any]:
        return {"headers": {"Authorization": self._config.token}}  # a personal token goes in bare

    def call(self, method: str, where: str, *, params: Any = None, body: Any = None) -> dict[str, Any]:
        """One request; the decoded JSON object ({} for none). Raises the ProviderError of a failure."""
        # 401 comes back to us: ClickUp also answers 401 for a Workspace the user can't see.
        response = self.http.request(method, where, params=params, json=body, ok=(401,))
        if response.status_code == 401:
            try:
                message, code = error_and_code(response.json())
            except ValueError:
                message, code = None, None
            if code == TEAM_NOT_AUTHORIZED:
                raise errors.PermissionDenied(
                    f"ClickUp refused this request (401): {message or 'Team not authorized'}. "
                    "The token's user is not in this Workspace or may not see this item.",
                    status=401,
                )
            raise self.http.error_for(response)
        decoded = self.http.decode(response)
        if decoded is None:  # 204 No Content
            return {}
        if not isinstance(decoded, dict):
            raise self.not_this_product()
        return decoded

    def cached(self, key: tuple[str, ...], load: Any) -> Any:
        return self.metadata.get(key, load, ttl=HIERARCHY_SECONDS)

    # --- identity and workspace -----------------------------------------------------
    def fetch_current_user(self) -> User:
        body = self.call("GET", "user")
        if not isinstance(body.get("user"), dict) or "id" not in body["user"]:
            raise self.not_this_product()
        return parse_user(self.slug, body["user"])

    def _fetch_teams(self) -> list[dict[str, Any]]:
        body = self.call("GET", "team")
        if not isinstance(body.get("teams"), list):
            raise self.not_this_product()
        return [team for team in body["teams"] if isinstance(team, dict) and team.get("id")]

    def current_user(self) -> User:
        return self.cached(ME_KEY, self.fetch_current_user)

    def teams(self) -> list[dict[str, Any]]:
        """The Workspaces the token sees."""
        return self.cached(TEAMS_KEY, self._fetch_teams)

    def timezone(self) -> tzinfo:
        return user_timezone(self.current_user().extra.get("timezone"))

    def member_role(self) -> int | None:
        """The connection's user's role in its Workspace: 1 owner, 2 admin, 3 member, 4 guest."""
        team_id, me = self.team_id(), self.current_user().id
        team = next((t for t in self.teams() if str(t["id"]) == team_id), None)
        for member in (team or {}).get("members") or []:
            user = member.get("user") if isinstance(member, dict) else None
            if isinstance(user, dict) and str(user.get("id")) == me:
                role = user.get("role", member.get("role"))
                return role if isinstance(role, int) else None
        return None

    def team_id(self) -> str:
        """The connection's Workspace; InvalidInput listing the choices when it is not clear."""
        configured = self._config.options.get("team_id")
        if configured:
            return str(configured)
        teams = self.teams()
        if len(teams) == 1:
            return str(teams[0]["id"])
        names = ", ".join(f"{team.get('name')} ({team['id']})" for team in teams) or "none"
        raise errors.InvalidInput(
            "Choose the ClickUp Workspace this connection works in.",
            field_errors={"team_id": f"this token sees these Workspaces: {names}"},
        )

    def check(self) -> CheckResult:
        """Who the token is, and the Workspaces it sees (the choices of the connection form).

        Raises InvalidInput when the chosen Workspace is not among them.
        """
        user = self.fetch_current_user()
        teams = self._fetch_teams()
        self.metadata.put(ME_KEY, user, HIERARCHY_SECONDS)
        self.metadata.put(TEAMS_KEY, teams, HIERARCHY_SECONDS)
        choices = tuple((str(team["id"]), str(team.get("name") or team["id"])) for team in teams)
        names = ", ".join(name for _id, name in choices)
        who = f"{user.name}, {user.email}" if user.email else user.name
        configured = self._config.options.get("team_id")
        chosen = None
        if configured:
            chosen = next((choice for choice in choices if choice[0] == str(configured)), None)
            if chosen is None:
                raise errors.InvalidInput(
                    "The chosen ClickUp Workspace is not one this token can see.",
                    field_errors={"team_id": f"Workspace {configured} is not among: {names}"},
                )
        elif len(choices) == 1:
            chosen = choices[0]
        if chosen is not None:
            return CheckResult(
                user=user,
                site=chosen[1],
                summary=f"Connected to ClickUp workspace {chosen[1]} as {who}",
                workspaces=choices,
            )
        if choices:
            summary = (
                f"Connected to ClickUp as {who}; this token sees {len(choices)} workspaces "
                f"({names}): choose a workspace"
            )
        else:
            summary = f"Connected to ClickUp as {who}, but this token sees no workspace"
        return CheckResult(user=user, site="app.clickup.com", summary=summary, workspaces=choices)

    # --- hierarchy -------------------------------------------------------------------------
    def spaces(self, team_id: str) -> dict[str, SpaceInfo]:
        def load() -> dict[str, SpaceInfo]:
            body = self.call("GET", path("team", team_id, "space"), params={"archived": "false"})
            spaces = [parse_space(space) for space in body.get("spaces") or []]
            return {space.id: space for space in spaces}

        return self.cached(("spaces", team_id), load)

    def folders(self, space_id: str) -> list[dict[str, Any]]:
        def load() -> list[dict[str, Any]]:
            body = self.call("GET", path("space", space_id, "folder"), params={"archived": "false"})
            return [folder for folder in body.get("folders") or [] if not folder.get("archived")]

        return self.cached(("folders", space_id), load)

    def folderless_lists(self, space_id: str) -> list[dict[str, Any]]:
        def load() -> list[dict[str, Any]]:
            body = self.call("GET", path("space", space_id, "list"), params={"archived": "false"})
            return [lst for lst in body.get("lists") or [] if not lst.get("archived")]

        return self.cached(("folderless", space_id), load)

    def list_body(self, list_id: str, fresh: bool = False) -> dict[str, Any]:
        """GET /list/{id}, kept a while; `fresh` asks ClickUp again."""
        if fresh:
            self.metadata.drop(("list", list_id))
        return self.cached(("list", list_id), lambda: self.call("GET", path("list", list_id)))

    def sprint_places(self, space: SpaceInfo) -> list[ListPlace]:
        if not space.sprints:
            return []
        places: list[ListPlace] = []
        for folder in self.folders(space.id):
            if is_sprint_folder(space, folder):
                places.extend(places_in_folder(space, folder))
        return places

    def sprint_list_ids(self, team_id: str, space_id: str) -> frozenset[str]:
        if not team_id or not space_id:
            return frozenset()
        space = self.spaces(team_id).get(space_id)
        if space is None:
            return frozenset()
        return frozenset(place.list_id for place in self.sprint_places(space))

    def places(self, team_id: str) -> list[ListPlace]:
        """Every List of the Workspace, where it sits."""
        places: list[ListPlace] = []
        for space in self.spaces(team_id).values():
            for folder in self.folders(space.id):
                places.extend(places_in_folder(space, folder))
            places.extend(place_from_list(lst) for lst in self.folderless_lists(space.id))
        return places

    def space_of_list(self, list_body: dict[str, Any]) -> SpaceInfo | None:
        space_id = str((list_body.get("space") or {}).get("id") or "")
        return self.spaces(self.team_id()).get(space_id)

    def sprint_place(self, sprint_id: str) -> ListPlace:
        """The sprint List `sprint_id`; NotFound when it is no sprint."""
        body = self.list_body(sprint_id)
        space = self.space_of_list(body)
        if space is None or not space.sprints:
            raise errors.NotFound(
                f"ClickUp List {sprint_id} is not a sprint: its Space has no Sprints ClickApp."
            )
        # A List in a folder named for sprints is in a sprint folder; other folders need their Lists read.
        in_sprint_folder = named_for_sprints(body.get("folder") or {}) or any(
            p.list_id == str(body["id"]) for p in self.sprint_places(space)
        )
        if not in_sprint_folder:
            raise errors.NotFound(f"ClickUp List {sprint_id} is not in a sprint folder.")
        return place_from_list(body, sprint=True)  # the List itself carries its goal (`content`)

    # --- tasks -------------------------------------------------------------------------------
    def raw_task(self, task_id: str) -> dict[str, Any]:
        """GET /task/{id} with its Markdown description; NotFound when there is none."""
        return self.call("GET", path("task", task_id), params={"include_markdown_description": "true"})

    def parse_tasks(self, raw: Iterable[dict[str, Any]], sprint_ref: str | None = None) -> list[Task]:
        """Task bodies -> Tasks, reading only the metadata they need.

        The user's time zone is read for a task with a due date, the hierarchy for a task
        that may be in a sprint (see `may_be_in_a_sprint`); `sprint_ref` is known when the
        tasks come from a sprint's own List.
        """
        tasks = []
        for data in raw:
            tz = self.timezone() if data.get("due_date") else UTC
            sprint_ids: frozenset[str] = frozenset()
            if sprint_ref is None and may_be_in_a_sprint(data):
                sprint_ids = self._sprint_lists_of(data)
            task = parse_task(self.slug, data, tz=tz, sprint_list_ids=sprint_ids)
            if sprint_ref:
                task.sprint_ref = sprint_ref
            tasks.append(task)
        return tasks

    def _sprint_lists_of(self, data: dict[str, Any]) -> frozenset[str]:
        """The sprint Lists a task body's sprint could be among, reading as little of the hierarchy as will tell."""
        team_id = str(data.get("team_id") or "")
        space_id = str((data.get("space") or {}).get("id") or "")
        space = self.spaces(team_id).get(space_id) if team_id and space_id else None
        if space is None or not space.sprints:
            return frozenset()
        home_id = str((data.get("list") or {}).get("id") or "")
        if not data.get("locations") and named_for_sprints(data.get("folder") or {}) and home_id:
            return frozenset({home_id})  # in one List only, and its folder is named for sprints
        return frozenset(place.list_id for place in self.sprint_places(space))
