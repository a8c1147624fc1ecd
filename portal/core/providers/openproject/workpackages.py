"""Work packages as every operation reads and writes them.

Collections read whole, elements turned into tasks, saves that carry OpenProject's lock
version, and what a work package tells about the server's metadata for free: a single
work package embeds its status (so its category needs no status list) and its parent
(so whether that parent is an Epic needs no lookup), and every listed work package says
whether it is an Epic itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from .. import errors
from ..base import Status, Task, is_number
from ..paging import MAX_PAGES, read_all
from .parse import (
    collection_elements,
    is_epic_type,
    link_id,
    links_of,
    parse_allowed_statuses,
    parse_status,
    parse_work_package,
)
from .query import filter_of, filters_param, next_page, sort_param, work_package_path
from .server import OpenProjectServer

T = TypeVar("T")

MAX_PAGE_SIZE = 100  # what we ask for when reading a whole collection
BY_ID = sort_param(("id", "asc"))


def embedded(raw: Mapping[str, Any], name: str) -> Any:
    """What a HAL object embeds under `name` (None when it embeds nothing so named)."""
    inside = raw.get("_embedded")
    return inside.get(name) if isinstance(inside, Mapping) else None


def type_title(raw: Mapping[str, Any]) -> Any:
    return (links_of(raw).get("type") or {}).get("title")


class OpenProjectWorkPackages(OpenProjectServer):
    """The work-package plumbing the operations share."""

    def _read_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[Mapping[str, Any]]:
        """Every element of a paged collection, up to MAX_PAGES pages."""

        def fetch(number: int) -> tuple[list[Mapping[str, Any]], int | None]:
            body = self.http.get(path, params={**(params or {}), "offset": number, "pageSize": MAX_PAGE_SIZE})
            more = next_page(body, number, MAX_PAGE_SIZE) is not None
            return collection_elements(body), number + 1 if more else None

        return read_all(fetch, 1, max_pages=MAX_PAGES)

    def _tasks_from(self, elements: Sequence[Mapping[str, Any]]) -> list[Task]:
        for raw in elements:
            self._learn_epics(raw)
        statuses = self._statuses_for(elements)
        known = {str(raw["id"]) for raw in elements}
        parent_ids = {pid for raw in elements if (pid := link_id(links_of(raw).get("parent")))}
        epic_ids = self._epics_among(parent_ids - known) | {
            str(raw["id"]) for raw in elements if is_epic_type(type_title(raw))
        }
        return [
            parse_work_package(
                raw, slug=self.slug, base_url=self.base_url, statuses=statuses, epic_ids=epic_ids
            )
            for raw in elements
        ]

    def _statuses_for(self, elements: Sequence[Mapping[str, Any]]) -> Mapping[str, Status]:
        """The statuses of these work packages: from what they embed, else the site's status list."""
        found: dict[str, Status] = {}
        for raw in elements:
            status = embedded(raw, "status")
            if not isinstance(status, Mapping) or "id" not in status:
                return self.status_table()  # collections embed nothing
            found[str(status["id"])] = parse_status(status, slug=self.slug)
        return {**(self.metadata.peek("statuses") or {}), **found}

    def _learn_epics(self, raw: Mapping[str, Any]) -> None:
        """Keep whether this work package, and the parent it embeds, are Epics."""
        self.metadata.put(("is_epic", str(raw["id"])), is_epic_type(type_title(raw)))
        parent = embedded(raw, "parent")
        if isinstance(parent, Mapping) and "id" in parent:
            self.metadata.put(("is_epic", str(parent["id"])), is_epic_type(type_title(parent)))

    def _epics_among(self, work_package_ids: set[str]) -> set[str]:
        """Which of these work packages are Epics (asked once per hundred unknown ids, then kept a while)."""
        unknown = [wp for wp in work_package_ids if self.metadata.peek(("is_epic", wp)) is None]
        for raw in self._work_packages_by_id(unknown).values():
            self.metadata.put(("is_epic", str(raw["id"])), is_epic_type(type_title(raw)))
        return {wp for wp in work_package_ids if self.metadata.peek(("is_epic", wp)) is True}

    def _work_packages_by_id(
        self, ids: Iterable[str], *, open_only: bool = False
    ) -> dict[str, Mapping[str, Any]]:
        """The visible work packages among `ids` (numeric ids only), one request per hundred.

        With `open_only`, those in an open status only.
        """
        wanted = sorted({i for i in ids if is_number(i)}, key=lambda value: (len(value), value))
        found: dict[str, Mapping[str, Any]] = {}
        for start in range(0, len(wanted), MAX_PAGE_SIZE):
            chunk = wanted[start : start + MAX_PAGE_SIZE]
            filters = [filter_of("id", "=", chunk)]
            if open_only:
                filters.append(filter_of("status", "o", None))
            body = self.http.get(
                "api/v3/work_packages",
                params={"filters": filters_param(*filters), "offset": 1, "pageSize": len(chunk)},
            )
            found.update((str(raw["id"]), raw) for raw in collection_elements(body))
        return found

    def _get_work_package(self, task_id: str) -> Mapping[str, Any]:
        return self.http.get(work_package_path(task_id))

    def _patch_work_package(
        self, task_id: str, payload: Mapping[str, Any], current: Mapping[str, Any] | None = None
    ) -> Mapping[str, Any]:
        """PATCH with the current lockVersion; on a conflict, re-read and try once more."""
        if current is None:
            current = self._get_work_package(task_id)
        try:
            return self.http.patch(
                work_package_path(task_id), json={**payload, "lockVersion": current.get("lockVersion")}
            )
        except errors.Conflict:
            # Someone saved in between: our fields are still what the caller asked for.
            current = self._get_work_package(task_id)
        return self.http.patch(
            work_package_path(task_id), json={**payload, "lockVersion": current.get("lockVersion")}
        )

    def _allowed_statuses(self, task_id: str, current: Mapping[str, Any]) -> list[Status]:
        # The form only computes (it saves nothing), so it is safe to retry like a read.
        form = self.http.post(
            f"{work_package_path(task_id)}/form",
            json={"lockVersion": current.get("lockVersion")},
            idempotent=True,
        )
        return parse_allowed_statuses(form, slug=self.slug, statuses=self.status_table())

    def _activities(self, task_id: str) -> list[Mapping[str, Any]]:
        return collection_elements(self.http.get(f"{work_package_path(task_id)}/activities"))

    def _sprint_filtered(self, request: Callable[[str], T]) -> T:
        """Run `request(filter_name)`, a read filtered by sprint, without asking first whether sprints exist.

        The `sprint` filter is tried unless the server is known to lack sprints; a refusal then
        settles the question (one probe), and versions stand in where there are no sprints.
        """
        if self.metadata.peek("has_sprints") is False:
            return request("version")
        try:
            result = request("sprint")
        except errors.InvalidInput:
            if self.uses_sprints():  # the server has sprints: the refusal was about something else
                raise
            return request("version")
        self.metadata.put("has_sprints", True)
        return result
