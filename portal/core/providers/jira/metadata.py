"""The JIRA site's own configuration, looked up once and kept with the connection's metadata.

Which custom field holds sprints, each project's issue types, its scrum boards and
the story-point field their estimation settings name: a task read needs all of
them, and they change only when an administrator reconfigures the site.

Much of it is learnt from the first answers rather than asked for: a cold issue read
asks for every navigable field with their schemas, which names the sprint field; the
issue's sprint names its board, whose configuration names the story-point field and
the project the board belongs to. So a cold read of a task in a sprint costs two
requests (the issue, the board's configuration) and a warm one a single request. An
issue's story points are those of the board its sprint is on; an issue in no sprint
takes its project's (a board of the project found that way, else its first scrum
board that estimates in points).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from requests.auth import HTTPBasicAuth

from .. import errors
from ..base import LinkType, User
from ..paging import read_all
from ..vendor import VendorAdapter
from .parse import (
    board_location_project,
    current_sprint_board,
    find_sprint_field,
    parse_error,
    parse_estimation_field,
    parse_user,
    sprint_boards,
    sprint_field_in_schema,
)
from .parse_work import parse_link_types
from .query import path

MAX_BOARD_PAGE = 50  # JIRA's page size for boards
_UNKNOWN = object()  # a metadata entry not looked up yet (None is a known "there is none")


class JiraSite(VendorAdapter, provider_type="jira", vendor="JIRA"):
    """The JIRA adapter's plumbing: credentials, the current user, and the site's metadata."""

    needs_username: ClassVar[bool] = True
    base_url_example: ClassVar[str] = "https://your-site.atlassian.net"

    parse_error = staticmethod(parse_error)

    def credentials(self) -> dict[str, Any]:
        """Basic auth with the account email and the API token; AuthenticationFailed without an email."""
        if not self._config.username:
            raise errors.AuthenticationFailed(
                "JIRA Cloud needs the account's email address as the username beside the API token."
            )
        return {"auth": HTTPBasicAuth(self._config.username, self._config.token)}

    def fetch_current_user(self) -> User:
        data = self.http.get("/rest/api/3/myself")
        user = parse_user(data, self.slug, self.base_url)
        if user is None:
            raise self.not_this_product()
        return user

    def site_fields(self) -> list[Mapping[str, Any]]:
        """The site's fields (`/rest/api/3/field`): ids, names and schemas, custom ones included."""

        def load() -> list[Mapping[str, Any]]:
            data = self.http.get("/rest/api/3/field")
            fields = [raw for raw in data if isinstance(raw, Mapping)] if isinstance(data, list) else []
            self.metadata.put("sprint_field", find_sprint_field(fields))
            return fields

        return self.metadata.get("fields", load)

    def sprint_field(self) -> str | None:
        """The id of the Jira Software sprint field, or None on a site without it."""
        return self.metadata.get("sprint_field", lambda: find_sprint_field(self.site_fields()))

    def read_fields(self, base: Sequence[str]) -> tuple[list[str], str | None]:
        """The fields an issue read or search asks for, and its `expand`.

        Warm: `base`, the sprint field and every story-point field a known board estimates
        in. Cold (the sprint field not known yet): every navigable field with its schema,
        so the one answer names the sprint field and holds whichever story-point field the
        issue's board turns out to use.
        """
        fields = [*base, *sorted(self.metadata.peek("estimation_fields", frozenset()))]
        sprint_field = self.metadata.peek("sprint_field", _UNKNOWN)
        if sprint_field is _UNKNOWN:
            return [*fields, "*navigable"], "schema"
        if sprint_field:
            fields.append(sprint_field)
        return fields, None

    def learn_sprint_field(self, schema: Any) -> str | None:
        """The sprint field, from an answer's field schemas when it is not known yet.

        An answer that shows no sprint field (a site without Jira Software, an issue type
        without sprints) leaves the question to the site's field list.
        """
        known = self.metadata.peek("sprint_field", _UNKNOWN)
        if known is not _UNKNOWN:
            return known
        found = sprint_field_in_schema(schema)
        if found:
            self.metadata.put("sprint_field", found)
            return found
        return self.sprint_field()

    def issue_story_field(self, fields: Mapping[str, Any]) -> str | None:
        """The story-point field of an issue (its `fields`): its sprint board's, else its project's."""
        sprint_field = self.metadata.peek("sprint_field")
        value = fields.get(sprint_field) if sprint_field else None
        for sprint_id, board_id in sprint_boards(value).items():
            if self.metadata.peek(("sprint", sprint_id)) is None:
                self.metadata.put(("sprint", sprint_id), (sprint_id, board_id))
        current_board = current_sprint_board(value)
        if current_board is not None:
            return self.visible_board_field(current_board)
        return self.story_points_field((fields.get("project") or {}).get("key"))

    def visible_board_field(self, board_id: str) -> str | None:
        """A board's story-point field, or None for a board this account may not see (kept as such)."""
        try:
            return self.board_estimation_field(board_id)
        except (errors.NotFound, errors.PermissionDenied):
            # A sprint on another team's private board must not make its issues unreadable.
            self.metadata.put(("board_estimation", board_id), None)
            return None

    def sprint_board_in(self, issues: Sequence[Mapping[str, Any]], sprint_id: str) -> str | None:
        """The board a sprint was made on, as the sprint field of issues in it says."""
        sprint_field = self.metadata.peek("sprint_field")
        for raw in issues:
            value = (raw.get("fields") or {}).get(sprint_field) if sprint_field else None
            board_id = sprint_boards(value).get(str(sprint_id))
            if board_id is not None:
                self.metadata.put(("sprint", str(sprint_id)), (str(sprint_id), board_id))
                return board_id
        return None

    def link_types(self) -> list[LinkType]:
        """The site's issue link types."""
        return self.metadata.get(
            "link_types", lambda: parse_link_types(self.http.get("/rest/api/3/issueLinkType"))
        )

    def require_sprint_field(self) -> str:
        """The sprint field's id; NotSupported on a site without Jira Software."""
        field = self.sprint_field()
        if field is None:
            raise errors.NotSupported("This JIRA site has no sprint field (Jira Software is not enabled).")
        return field

    def project(self, project_id: str, *, fresh: bool = False) -> Mapping[str, Any]:
        """The raw project, its issue types included (by key or id); `fresh` asks JIRA again."""
        key = ("project", project_id.upper())
        if fresh:
            self.metadata.drop(key)
        project = self.metadata.get(key, lambda: self.http.get(f"/rest/api/3/project/{path(project_id)}"))
        self.metadata.put(("project", str(project["key"]).upper()), project)
        return project

    def scrum_boards(self, project_key: str) -> list[Mapping[str, Any]]:
        """The project's scrum boards, oldest first."""
        key = project_key.upper()

        def load() -> list[Mapping[str, Any]]:
            def fetch(start: int) -> tuple[list[Mapping[str, Any]], int | None]:
                params = {"projectKeyOrId": project_key, "type": "scrum", "startAt": start}
                data = self.http.get("/rest/agile/1.0/board", params={**params, "maxResults": MAX_BOARD_PAGE})
                values = data.get("values") or []
                return values, None if data.get("isLast", True) else start + len(values)

            boards = sorted(read_all(fetch, 0), key=lambda board: int(board.get("id", 0)))
            for board in boards:
                self.metadata.put(("board_project", str(board["id"])), key)
            return boards

        return self.metadata.get(("scrum_boards", key), load)

    def board_project(self, board_id: str) -> str | None:
        """The key of the project a board belongs to (None for a board of no project)."""

        def load() -> str | None:
            board = self.http.get(f"/rest/agile/1.0/board/{path(board_id)}")
            return (board.get("location") or {}).get("projectKey")

        return self.metadata.get(("board_project", board_id), load)

    def sprint_identity(self, sprint_id: str) -> tuple[str, str | None]:
        """A sprint's own id and the id of the board it was made on (None for none); NotFound."""

        def load() -> tuple[str, str | None]:
            sprint = self.http.get(f"/rest/agile/1.0/sprint/{path(sprint_id)}")
            board_id = sprint.get("originBoardId")
            return str(sprint["id"]), str(board_id) if board_id is not None else None

        return self.metadata.get(("sprint", sprint_id), load)

    def sprint_estimation_field(self, sprint_id: str) -> str | None:
        """The story-point field of the board the sprint was made on."""
        board_id = self.sprint_identity(sprint_id)[1]
        return self.board_estimation_field(board_id) if board_id is not None else None

    def board_estimation_field(self, board_id: str) -> str | None:
        """The story-point field a board estimates in (None for time or issue-count estimation)."""

        def load() -> str | None:
            config = self.http.get(f"/rest/agile/1.0/board/{path(board_id)}/configuration")
            field = parse_estimation_field(config)
            project = board_location_project(config)
            if project:
                self.metadata.put(("board_project", board_id), project)
            if field:
                known = self.metadata.peek("estimation_fields", frozenset())
                self.metadata.put("estimation_fields", frozenset({*known, field}))
                if project and self.metadata.peek(("story_points_field", project), _UNKNOWN) is _UNKNOWN:
                    self.metadata.put(("story_points_field", project), field)
            return field

        return self.metadata.get(("board_estimation", board_id), load)

    def story_points_field(self, project_key: str | None) -> str | None:
        """The story-point field of the project's first scrum board that estimates in one."""
        if not project_key:
            return None

        def load() -> str | None:
            try:
                boards = self.scrum_boards(project_key)
            except (errors.NotFound, errors.PermissionDenied):
                # Without Jira Software, or without access to the boards, there are no story points.
                return None
            for board in boards:
                field = self.visible_board_field(str(board["id"]))
                if field:
                    return field
            return None

        return self.metadata.get(("story_points_field", project_key.upper()), load)

    def require_story_points_field(self, project_key: str | None) -> str:
        """The story-point field; NotSupported when no scrum board of the project estimates in points."""
        field = self.story_points_field(project_key)
        if field is None:
            raise errors.NotSupported(
                f"No scrum board of JIRA project {project_key} estimates in story points, so there is no "
                "story-point field to set."
            )
        return field
