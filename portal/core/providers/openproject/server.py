"""The OpenProject adapter's plumbing: credentials, the user, and what the server offers.

Whether the server has workspaces (OpenProject 17) and sprints, its statuses and
each project's work package types are learnt on first use and kept with the
connection's metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from requests.auth import HTTPBasicAuth

from .. import errors
from ..base import Status, User
from ..vendor import VendorAdapter
from .parse import collection_elements, parse_error, parse_status, parse_user
from .query import href

API_USER = "apikey"  # OpenProject's Basic-auth user name for API tokens


class OpenProjectServer(VendorAdapter, provider_type="openproject", vendor="OpenProject"):
    """OpenProject through API v3 (HAL+JSON; Basic auth as `apikey` with the API token as password)."""

    base_url_example = "https://openproject.example.com"

    parse_error = staticmethod(parse_error)

    def credentials(self) -> dict[str, Any]:
        return {"auth": HTTPBasicAuth(API_USER, self._config.token)}

    def fetch_current_user(self) -> User:
        try:
            body = self.http.get("api/v3/users/me")
        except errors.NotFound:
            raise self.no_api_here() from None
        if not isinstance(body, Mapping) or body.get("_type") != "User" or "id" not in body:
            raise self.not_this_product()
        return parse_user(body, slug=self.slug, base_url=self.base_url)

    def workspace_collection(self, params: Mapping[str, Any], *, only_workspaces: bool = False) -> Any:
        """GET /api/v3/workspaces, or /api/v3/projects on servers before OpenProject 17.

        With `only_workspaces`, None instead of the projects collection on an older server.
        """
        if self.metadata.peek("has_workspaces") is not False:
            try:
                body = self.http.get("api/v3/workspaces", params=params)
            except errors.NotFound:
                # A collection can't be missing: the server predates workspaces.
                self.metadata.put("has_workspaces", False)
            else:
                self.metadata.put("has_workspaces", True)
                return body
        return None if only_workspaces else self.http.get("api/v3/projects", params=params)

    def in_workspace(self, method: str, project_id: str, suffix: str, **kwargs: Any) -> Any:
        """Call /api/v3/workspaces/{id}/<suffix>, or /api/v3/projects/{id}/<suffix> on older servers.

        A 404 on the workspaces path means an older server only when the projects path then
        answers; if it too is 404, the project itself is missing.
        """
        project = quote(project_id, safe="")
        known = self.metadata.peek("has_workspaces")
        if known is not False:
            try:
                body = self.http.json(method, f"api/v3/workspaces/{project}/{suffix}", **kwargs)
            except errors.NotFound:
                if known:
                    raise
            else:
                self.metadata.put("has_workspaces", True)
                return body
        body = self.http.json(method, f"api/v3/projects/{project}/{suffix}", **kwargs)
        self.metadata.put("has_workspaces", False)
        return body

    def uses_sprints(self) -> bool:
        """Whether the server has sprints (/api/v3/sprints); versions stand in without them."""

        def probe() -> bool:
            try:
                self.http.get("api/v3/sprints", params={"pageSize": 1})
            except errors.NotFound:
                return False
            return True

        return self.metadata.get("has_sprints", probe)

    def sprint_links(self, sprint_id: str | None) -> dict[str, Any]:
        if self.uses_sprints():
            return {"sprint": {"href": href("sprints", sprint_id) if sprint_id else None}}
        return {"version": {"href": href("versions", sprint_id) if sprint_id else None}}

    def status_table(self) -> dict[str, Status]:
        def load() -> dict[str, Status]:
            body = self.http.get("api/v3/statuses")
            statuses = (parse_status(raw, slug=self.slug) for raw in collection_elements(body))
            return {status.id: status for status in statuses}

        return self.metadata.get("statuses", load)

    def types(self, project_id: str) -> list[Mapping[str, Any]]:
        """The work package types a project offers."""

        def load() -> list[Mapping[str, Any]]:
            return collection_elements(self.in_workspace("GET", project_id, "types"))

        return self.metadata.get(("types", project_id), load)

    def type_href(self, project_id: str, type_name: str) -> str:
        types = self.types(project_id)
        wanted = type_name.strip().lower()
        for raw in types:
            if str(raw.get("name") or "").strip().lower() == wanted or str(raw.get("id")) == type_name:
                return href("types", str(raw["id"]))
        names = ", ".join(str(raw.get("name")) for raw in types) or "none"
        raise errors.InvalidInput(
            f"OpenProject project {project_id} has no type {type_name!r}.",
            field_errors={"type": f"choose one of: {names}"},
        )
