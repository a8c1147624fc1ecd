"""The Redmine adapter's plumbing: credentials, the user, the site's metadata, and issue reads and writes.

What changes only when someone reconfigures Redmine is kept with the connection's
metadata (a few minutes, shared by every adapter of the connection): statuses,
trackers, priorities, time-entry activities, custom field definitions, and each
project's trackers, categories and enabled custom fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from .. import errors
from ..base import Page, PageRequest, Priority, Status, Task, User
from ..paging import after, next_offset, offset_from, page_size, read_all
from ..unset import UNSET
from ..vendor import VendorAdapter
from .parse import parse_error, parse_issue, parse_priority, parse_status, parse_user
from .query import segment

MAX_PAGE_SIZE = 100  # Redmine caps `limit` at 100

STATUSES = "statuses"
TRACKERS = "trackers"
PRIORITIES = "priorities"
ACTIVITIES = "time_entry_activities"
FIELD_DEFINITIONS = "custom_field_definitions"
START_FIELD = "version_start_field"
PROJECT_INCLUDES = "trackers,issue_categories,issue_custom_fields,time_entry_activities"


def start_field_of(version: Mapping[str, Any]) -> str | None:
    """The id of the "Start date"-like custom field a version shows, None when it shows none."""
    for field in version.get("custom_fields") or []:
        if "start" in str(field.get("name", "")).lower():
            return str(field["id"])
    return None


class RedmineSite(VendorAdapter, provider_type="redmine", vendor="Redmine"):
    """Redmine through its REST API (JSON, the key in `X-Redmine-API-Key`): what every operation shares."""

    base_url_example: ClassVar[str] = "https://redmine.example.com"

    parse_error = staticmethod(parse_error)

    def credentials(self) -> dict[str, Any]:
        return {"headers": {"X-Redmine-API-Key": self._config.token}}

    def fetch_current_user(self) -> User:
        try:
            body = self.http.get("users/current.json")
        except errors.PermissionDenied:
            # Every account may read itself: a 403 here means the API itself is off.
            raise errors.PermissionDenied(
                "Redmine refused the API request (403). Its REST API is probably disabled: an administrator "
                "can enable it under Administration > Settings > API (Enable REST web service).",
                status=403,
            ) from None
        except errors.NotFound:
            raise self.no_api_here() from None
        if not isinstance(body, Mapping) or not isinstance(body.get("user"), Mapping):
            raise self.not_this_product()
        return parse_user(body["user"], slug=self.slug, base_url=self.base_url)

    # --- the site's metadata ----------------------------------------------------------------

    def list_statuses(self, project_id: str | None = None) -> list[Status]:
        # Redmine's statuses are global; the workflow narrows them per issue (available_statuses).
        def load() -> list[Status]:
            body = self.http.get("issue_statuses.json")
            return [parse_status(raw, slug=self.slug) for raw in body.get("issue_statuses", [])]

        return list(self.metadata.get(STATUSES, load))

    def list_priorities(self, project_id: str | None = None) -> list[Priority]:
        return [p for p in self.all_priorities() if p.extra.get("active", True)]

    def all_priorities(self) -> list[Priority]:
        """Every priority of the site, those no longer active included (old journals name them)."""

        def load() -> list[Priority]:
            body = self.http.get("enumerations/issue_priorities.json")
            return [parse_priority(raw) for raw in body.get("issue_priorities", [])]

        return list(self.metadata.get(PRIORITIES, load))

    def trackers(self) -> list[dict[str, Any]]:
        """Every tracker of the site: [{"id": 1, "name": "Bug", ...}]."""
        return self.metadata.get(TRACKERS, lambda: self.http.get("trackers.json").get("trackers", []))

    def activities(self) -> list[dict[str, Any]]:
        """The site's time-entry activities: [{"id": 9, "name": "Development", "is_default": ...}]."""
        return self.metadata.get(
            ACTIVITIES,
            lambda: self.http.get("enumerations/time_entry_activities.json").get("time_entry_activities", []),
        )

    def field_definitions(self) -> list[dict[str, Any]] | None:
        """Every custom field's definition (/custom_fields.json), None when this account may not read them.

        Redmine shows the definitions (formats, possible values, trackers) to administrators only.
        """

        def load() -> list[dict[str, Any]] | None:
            try:
                return self.http.get("custom_fields.json").get("custom_fields", [])
            except errors.PermissionDenied:
                return None

        return self.metadata.get(FIELD_DEFINITIONS, load)

    def project_setup(self, project_id: str) -> dict[str, Any]:
        """A project with its trackers, categories, explicitly enabled issue custom fields and activities.

        Raises NotFound for an unknown project.
        """

        def load() -> dict[str, Any]:
            path = f"projects/{segment(project_id)}.json"
            return self.http.get(path, params={"include": PROJECT_INCLUDES})["project"]

        return self.metadata.get(("project", project_id), load)

    def version_start_field(self, version: Mapping[str, Any] | None = None) -> Any:
        """The id of the versions' "Start date" custom field; None when the site has none; UNSET when unknown.

        Learnt from `version` (any version's JSON shows the field) when given, else from
        what was learnt before, else from the field definitions (administrators only).
        """
        if version is not None:
            found = start_field_of(version)
            self.metadata.put(START_FIELD, found)
            return found
        known = self.metadata.peek(START_FIELD, UNSET)
        if known is not UNSET:
            return known
        definitions = self.field_definitions()
        if definitions is None:
            return UNSET
        found = next(
            (
                str(d["id"])
                for d in definitions
                if d.get("customized_type") == "version"
                and d.get("field_format") == "date"
                and "start" in str(d.get("name", "")).lower()
            ),
            None,
        )
        self.metadata.put(START_FIELD, found)
        return found

    # --- issues ---------------------------------------------------------------------------------

    def _issue(self, task_id: str, include: str | None = None) -> dict[str, Any]:
        params = {"include": include} if include else None
        return self.http.get(f"issues/{segment(task_id)}.json", params=params)["issue"]

    def _put_issue(self, task_id: str, fields: Mapping[str, Any]) -> None:
        self.http.put(f"issues/{segment(task_id)}.json", json={"issue": fields})

    def _task(self, raw: Mapping[str, Any]) -> Task:
        known = None
        if raw.get("status") and "is_closed" not in raw["status"]:
            # Redmine before 5.0 does not say on the issue whether its status is closed.
            known = {s.id: s for s in self.list_statuses()}
        return parse_issue(raw, slug=self.slug, base_url=self.base_url, known_statuses=known)

    def _issue_page(self, params: Any, page: PageRequest) -> Page[Task]:
        """One page of /issues.json with `params` (a mapping, or pairs for repeated keys)."""
        offset = offset_from(page)
        paging = [("offset", offset), ("limit", page_size(page, MAX_PAGE_SIZE))]
        pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
        body = self.http.get("issues.json", params=pairs + paging)
        tasks = [self._task(raw) for raw in body.get("issues", [])]
        total = int(body.get("total_count", len(tasks)))
        return Page(tasks, next_offset(offset, len(tasks), total), total)

    def _read_all(
        self, path: str, key: str, params: Mapping[str, Any], max_pages: int = 20
    ) -> list[dict[str, Any]]:
        """Every item of an offset/limit/total_count collection, up to `max_pages` pages."""

        def fetch(offset: int) -> tuple[list[dict[str, Any]], int | None]:
            body = self.http.get(path, params={**params, "offset": offset, "limit": MAX_PAGE_SIZE})
            items = body.get(key, [])
            return items, after(offset, len(items), int(body.get("total_count", 0)))

        return read_all(fetch, 0, max_pages=max_pages)
