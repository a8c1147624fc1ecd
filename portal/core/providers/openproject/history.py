"""A task's history: the details of OpenProject's activities (journals).

Each activity lists what one save changed, as text in the user's language and as HTML
with a fixed structure: the attribute's name in `<strong>`, the old value in `<i>`
(struck through when it was deleted), the new value in `<i>`:

    <strong>Subject</strong> changed from <i>Old title</i> to <i>New title</i>
    <strong>Assignee</strong> set to <i>Ana Silva</i>
    <strong>Finish date</strong> deleted (<strike><i>2026-03-09</i></strike>)
    <strong>Description</strong> changed (<a href="...">Details</a>)

Reading that structure (with the standard library's HTML parser) instead of the words
around it works in every language and for values that contain " to ". Long texts say
only that they changed; their values stay None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

from ..base import HistoryEntry, Page, PageRequest
from ..dates import parse_timestamp
from ..paging import page_of
from .parse import links_of, parse_user_link, raw_text
from .workpackages import OpenProjectWorkPackages

STRUCK = frozenset({"strike", "del", "s"})


class _DetailReader(HTMLParser):
    """Collects an activity detail's attribute name (`<strong>`) and values (`<i>`, struck or not)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.label: list[str] = []
        self.values: list[tuple[str, bool]] = []
        self._in_label = False
        self._value: list[str] | None = None
        self._struck = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "strong" and not self.label:
            self._in_label = True
        elif tag == "i" and self._value is None:
            self._value = []
        elif tag in STRUCK:
            self._struck += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "strong":
            self._in_label = False
        elif tag == "i" and self._value is not None:
            self.values.append(("".join(self._value), self._struck > 0))
            self._value = None
        elif tag in STRUCK and self._struck:
            self._struck -= 1

    def handle_data(self, data: str) -> None:
        if self._in_label:
            self.label.append(data)
        elif self._value is not None:
            self._value.append(data)


def parse_detail(detail: Any) -> tuple[str, str | None, str | None] | None:
    """One activity detail as (field, old, new); None for a detail with nothing to read.

    Without HTML, the detail's text is the field and both values are None.
    """
    if not isinstance(detail, Mapping):
        return None
    markup = detail.get("html")
    text = " ".join((raw_text(detail) or "").split())
    if isinstance(markup, str) and markup.strip():
        reader = _DetailReader()
        reader.feed(markup)
        reader.close()
        label = " ".join("".join(reader.label).split())
        if label:
            values = [(" ".join(value.split()) or None, struck) for value, struck in reader.values]
            if len(values) >= 2:
                return label, values[0][0], values[1][0]
            if len(values) == 1:
                value, struck = values[0]
                return (label, value, None) if struck else (label, None, value)
            return label, None, None
    return (text, None, None) if text else None


def parse_history(activities: Sequence[Mapping[str, Any]], *, slug: str, base_url: str) -> list[HistoryEntry]:
    """Every changed field of these activities, oldest first (a save of several fields is several entries)."""
    entries: list[tuple[datetime, int, int, HistoryEntry]] = []
    for order, activity in enumerate(activities):
        at = parse_timestamp(activity.get("createdAt"))
        if at is None:
            continue
        author = parse_user_link(links_of(activity).get("user"), slug=slug, base_url=base_url)
        for position, detail in enumerate(activity.get("details") or []):
            parsed = parse_detail(detail)
            if parsed is None:
                continue
            field, old, new = parsed
            extra = {"activity_id": str(activity.get("id")), "version": activity.get("version")}
            if raw_text(detail):
                extra["text"] = raw_text(detail)
            entry = HistoryEntry(at=at, field=field, old=old, new=new, author=author, extra=extra)
            entries.append((at, order, position, entry))
    entries.sort(key=lambda item: item[:3])
    return [entry for *_, entry in entries]


class OpenProjectHistory(OpenProjectWorkPackages):
    """task_history."""

    def task_history(self, task_id: str, page: PageRequest) -> Page[HistoryEntry]:
        # The activities endpoint is not paged: it answers with the whole history.
        entries = parse_history(self._activities(task_id), slug=self.slug, base_url=self.base_url)
        return page_of(entries, page)
