"""What we send OpenProject: filters, sort orders, page numbers, and the values and links of writes."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from .. import errors
from ..base import ME, PageRequest, Priority, Status, StatusCategory, TaskQuery, TaskSort
from ..dates import utc_stamp
from ..paging import FOREIGN_CURSOR, cursor_numbers
from .parse import format_duration_hours

MAX_USER_PAGE_SIZE = 1000  # OpenProject's default ceiling for pageSize

SORT_FIELDS = {
    TaskSort.UPDATED: "updatedAt",
    TaskSort.CREATED: "createdAt",
    TaskSort.PRIORITY: "priority",
    TaskSort.DUE: "dueDate",
    TaskSort.KEY: "id",
}

Filter = dict[str, Any]


def filter_of(name: str, operator: str, values: list[str] | None) -> Filter:
    """One entry of an OpenProject `filters` array."""
    return {name: {"operator": operator, "values": values}}


def filters_param(*filters: Filter) -> str:
    return json.dumps(list(filters))


def sort_param(*orders: tuple[str, str]) -> str:
    return json.dumps([list(order) for order in orders])


def href(kind: str, native_id: str) -> str:
    """The API path of an object, as links name it."""
    return f"/api/v3/{kind}/{quote(str(native_id), safe='')}"


def work_package_path(task_id: str) -> str:
    return f"api/v3/work_packages/{quote(str(task_id), safe='')}"


def page_number(page: PageRequest) -> int:
    """OpenProject's `offset` is a 1-based page number; our cursor is that number.

    Raises InvalidInput for a cursor this connection did not issue.
    """
    numbers = cursor_numbers(page.cursor, 1)
    if numbers is None:
        return 1
    if numbers[0] < 1:
        raise errors.InvalidInput(FOREIGN_CURSOR, field_errors={"cursor": str(page.cursor)[:40]})
    return numbers[0]


def next_page(body: Mapping[str, Any], number: int, requested_size: int) -> str | None:
    """The cursor of the page after page `number`, or None after the last."""
    # The server may cap pageSize; its own figure tells where the next page starts.
    size = int(body.get("pageSize") or requested_size)
    total = int(body.get("total") or 0)
    return str(number + 1) if number * size < total else None


def status_filter(query: TaskQuery, table: Mapping[str, Status]) -> Filter | None:
    """The status filter for a query over the site's statuses (`table`); None when none can match."""
    ids = [s.id for s in query.statuses] if query.statuses else list(table)
    if query.categories:
        ids = [
            status_id
            for status_id in ids
            if (table[status_id].category if status_id in table else StatusCategory.UNKNOWN)
            in query.categories
        ]
    if not ids:
        return None
    open_ids = {status_id for status_id, s in table.items() if s.category != StatusCategory.DONE}
    if set(ids) == open_ids:
        return filter_of("status", "o", None)
    if set(ids) == set(table) - open_ids:
        return filter_of("status", "c", None)
    return filter_of("status", "=", ids)


def task_filters(
    query: TaskQuery, table: Mapping[str, Status], sprint_filter: Callable[[], str]
) -> list[Filter] | None:
    """The work-package filters for a query; None when nothing can match.

    Always a list (possibly empty): without `filters` OpenProject shows open work
    packages only. `sprint_filter()` names the sprint filter of this server
    ("sprint", or "version" where versions stand in); it is asked only when needed.
    """
    filters: list[Filter] = []
    if query.unassigned:
        filters.append(filter_of("assignee", "!*", None))
    elif query.assignee:
        filters.append(filter_of("assignee", "=", ["me" if query.assignee == ME else query.assignee]))
    if query.statuses or query.categories:
        statuses = status_filter(query, table)
        if statuses is None:
            return None
        filters.append(statuses)
    if query.text:
        filters.append(filter_of("search", "**", [query.text]))
    if query.sprint_id:
        filters.append(filter_of(sprint_filter(), "=", [query.sprint_id]))
    if query.epic_id:
        filters.append(filter_of("parent", "=", [query.epic_id]))
    if query.updated_since:
        filters.append(filter_of("updatedAt", "<>d", [utc_stamp(query.updated_since), ""]))
    return filters


NATIVE_QUERY_EXAMPLE = '[{"status": {"operator": "o", "values": null}}]'


def native_filters(text: str) -> str:
    """An OpenProject filter array given as a native query, checked to be one and passed on as given.

    Raises InvalidInput, with an example, for text that is not a JSON array of one-key filter objects.
    """
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    well_formed = isinstance(parsed, list) and all(
        isinstance(entry, dict)
        and len(entry) == 1
        and isinstance(next(iter(entry.values())), dict)
        and "operator" in next(iter(entry.values()))
        for entry in parsed
    )
    if not well_formed:
        raise errors.InvalidInput(
            "An OpenProject native query is a JSON filter array, each filter one object naming a field, "
            f"its operator and values, as in {NATIVE_QUERY_EXAMPLE} (OpenProject's own filter syntax).",
            field_errors={"native_query": "not an OpenProject filter array"},
        )
    return text.strip()


def task_sort(query: TaskQuery) -> str:
    return sort_param((SORT_FIELDS[query.sort], "desc" if query.descending else "asc"), ("id", "asc"))


# --- values of writes ------------------------------------------------------------------------------


def priority_href(priority: Priority) -> str:
    """Raises InvalidInput for a priority that did not come from list_priorities."""
    if not priority.id:
        raise errors.InvalidInput(
            "Choose a priority from list_priorities.", field_errors={"priority": "this priority has no id"}
        )
    return href("priorities", priority.id)


def parent_id(parent: str | None, epic: str | None) -> str | None:
    """In OpenProject an epic is a parent; both given must agree (else InvalidInput)."""
    if parent and epic and parent != epic:
        raise errors.InvalidInput(
            "In OpenProject a task's epic is its parent work package: give either a parent or an epic.",
            field_errors={"epic_id": "differs from parent_id"},
        )
    return parent or epic


def duration(hours: float) -> str:
    """Hours as an ISO 8601 duration; raises InvalidInput for a negative estimate."""
    try:
        return format_duration_hours(float(hours))
    except ValueError as exc:
        raise errors.InvalidInput(
            f"Invalid estimate: {exc}.", field_errors={"estimate_hours": str(exc)}
        ) from None


def story_points(points: float) -> int:
    """Raises InvalidInput unless `points` is a whole number, 0 or more."""
    if not float(points).is_integer() or points < 0:
        raise errors.InvalidInput(
            "OpenProject story points are whole numbers.",
            field_errors={"story_points": "must be a whole number, 0 or more"},
        )
    return int(points)
