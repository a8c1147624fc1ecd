"""An issue's history from its journals: every changed field, from what to what, by whom, when.

A journal entry is one save of an issue; each of its `details` is one changed field
(an attribute, a custom field, a relation or an attachment), and becomes one
HistoryEntry. Redmine records ids for statuses, people, versions and the like:
they are shown by name, with the raw ids kept in `extra` (`old_id`, `new_id`).
Notes alone are comments (list_comments), not history.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base import HistoryEntry, Page, PageRequest
from ..dates import parse_timestamp
from ..paging import page_of
from .fields import field_key
from .links import READINGS
from .parse import parse_user
from .site import RedmineSite

# Issue attributes as Redmine labels them.
ATTRIBUTE_LABELS = {
    "subject": "Subject",
    "description": "Description",
    "status_id": "Status",
    "assigned_to_id": "Assignee",
    "priority_id": "Priority",
    "tracker_id": "Tracker",
    "fixed_version_id": "Target version",
    "category_id": "Category",
    "parent_id": "Parent task",
    "project_id": "Project",
    "start_date": "Start date",
    "due_date": "Due date",
    "done_ratio": "% Done",
    "estimated_hours": "Estimated time",
    "is_private": "Private",
}
# Attributes that hold an id, and the word for what it names when the name is unknown.
ID_ATTRIBUTES = {
    "status_id": "status",
    "assigned_to_id": "user",
    "priority_id": "priority",
    "tracker_id": "tracker",
    "fixed_version_id": "version",
    "category_id": "category",
    "project_id": "project",
}
YES_NO = {"1": "Yes", "0": "No", "true": "Yes", "false": "No"}

Names = Mapping[str, Mapping[str, str]]
"""What ids stand for: by attribute ("status_id") or custom field ("cf_4"), raw value -> name."""


def needed_names(issue: Mapping[str, Any]) -> set[str]:
    """The attributes and custom fields (`cf_<id>`) whose values the issue's journals record as ids."""
    needed = set()
    for journal in issue.get("journals") or []:
        for detail in journal.get("details") or []:
            if detail.get("property") == "attr" and detail.get("name") in ID_ATTRIBUTES:
                needed.add(str(detail["name"]))
            elif detail.get("property") == "cf":
                needed.add(field_key(detail.get("name")))
    return needed


def _shown(value: Any, names: Mapping[str, str] | None, word: str | None) -> str | None:
    if value in (None, ""):
        return None
    text = str(value)
    if names is not None and text in names:
        return names[text]
    return f"{word} #{text}" if word else text


def _detail_entry(
    detail: Mapping[str, Any], names: Names, field_names: Mapping[str, str]
) -> tuple[str, Any, Any]:
    """(field name, old, new) of one journal detail, values as people read them."""
    prop, name = detail.get("property"), str(detail.get("name"))
    old, new = detail.get("old_value"), detail.get("new_value")
    if prop == "attr":
        if name in ID_ATTRIBUTES:
            lookup, word = names.get(name), ID_ATTRIBUTES[name]
            return ATTRIBUTE_LABELS[name], _shown(old, lookup, word), _shown(new, lookup, word)
        if name == "parent_id":
            return ATTRIBUTE_LABELS[name], (f"#{old}" if old else None), (f"#{new}" if new else None)
        if name == "is_private":
            return ATTRIBUTE_LABELS[name], _shown(old, YES_NO, None), _shown(new, YES_NO, None)
        return (
            ATTRIBUTE_LABELS.get(name, name.replace("_", " ").capitalize()),
            _shown(old, None, None),
            _shown(new, None, None),
        )
    if prop == "cf":
        key = field_key(name)
        lookup = names.get(key)
        return (
            field_names.get(key, f"Custom field {name}"),
            _shown(old, lookup, None),
            _shown(new, lookup, None),
        )
    if prop == "relation":
        label = READINGS[name][1] if name in READINGS else name.replace("_", " ")
        return "Link", (f"{label} #{old}" if old else None), (f"{label} #{new}" if new else None)
    if prop == "attachment":
        return "File", _shown(old, None, None), _shown(new, None, None)
    return f"{prop} {name}", _shown(old, None, None), _shown(new, None, None)


def parse_history(
    issue: Mapping[str, Any],
    names: Names,
    *,
    slug: str,
    base_url: str,
    field_names: Mapping[str, str] | None = None,
) -> list[HistoryEntry]:
    """Every changed field of an issue from /issues/{id}.json?include=journals, oldest first.

    `field_names` names custom fields by `cf_<id>` beyond those the issue itself shows.
    """
    known_fields = {field_key(f["id"]): str(f.get("name")) for f in issue.get("custom_fields") or []}
    known_fields.update(field_names or {})
    entries = []
    for journal in issue.get("journals") or []:
        at = parse_timestamp(journal.get("created_on"))
        if at is None:
            continue
        author = parse_user(journal["user"], slug=slug, base_url=base_url) if journal.get("user") else None
        for detail in journal.get("details") or []:
            field, old, new = _detail_entry(detail, names, known_fields)
            extra: dict[str, Any] = {"journal_id": str(journal["id"]), "property": detail.get("property")}
            if detail.get("property") == "cf" or detail.get("name") in ID_ATTRIBUTES:
                extra["old_id"] = detail.get("old_value")
                extra["new_id"] = detail.get("new_value")
            if detail.get("property") in ("attr", "cf"):
                extra["attribute"] = (
                    field_key(detail.get("name")) if detail.get("property") == "cf" else detail.get("name")
                )
            entries.append(HistoryEntry(at=at, field=field, old=old, new=new, author=author, extra=extra))
    entries.sort(key=lambda entry: entry.at)  # stable: one journal's changes keep their order
    return entries


def people_in(issue: Mapping[str, Any]) -> dict[str, str]:
    """Names of the people an issue shows (author, assignee, journal authors), by id."""
    people = {}
    for raw in [issue.get("author"), issue.get("assigned_to")] + [
        j.get("user") for j in issue.get("journals") or []
    ]:
        if raw and raw.get("id") is not None and raw.get("name"):
            people[str(raw["id"])] = str(raw["name"])
    return people


class RedmineHistory(RedmineSite):
    """Journals as history."""

    def task_history(self, task_id: str, page: PageRequest) -> Page[HistoryEntry]:
        issue = self._issue(task_id, include="journals")
        names, field_names = self._names_for(issue, needed_names(issue))
        entries = parse_history(issue, names, slug=self.slug, base_url=self.base_url, field_names=field_names)
        return page_of(entries, page)

    def _names_for(
        self, issue: Mapping[str, Any], needed: set[str]
    ) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
        """What the ids in `needed` stand for, from the connection's metadata where it can."""
        project_id = str((issue.get("project") or {}).get("id", ""))
        names: dict[str, dict[str, str]] = {}
        people = people_in(issue)
        if "status_id" in needed:
            names["status_id"] = {s.id: s.name for s in self.list_statuses()}
        if "tracker_id" in needed:
            names["tracker_id"] = {str(t["id"]): str(t["name"]) for t in self.trackers()}
        if "priority_id" in needed:
            names["priority_id"] = {str(p.id): p.name for p in self.all_priorities()}
        if "project_id" in needed and issue.get("project"):
            names["project_id"] = {project_id: str(issue["project"].get("name"))}
        if "category_id" in needed and project_id:
            categories = self.project_setup(project_id).get("issue_categories") or []
            names["category_id"] = {str(c["id"]): str(c["name"]) for c in categories}
        if "fixed_version_id" in needed and project_id:
            names["fixed_version_id"] = self._version_names(project_id)
        field_names: dict[str, str] = {}
        custom = {key for key in needed if key.startswith("cf_")}
        definitions = {field_key(d["id"]): d for d in (self.field_definitions() or [])} if custom else {}
        user_fields = {key for key in custom if (definitions.get(key) or {}).get("field_format") == "user"}
        if ("assigned_to_id" in needed or user_fields) and project_id:
            people = {**self._member_names(project_id), **people}
        if "assigned_to_id" in needed:
            names["assigned_to_id"] = people
        for key in custom:
            definition = definitions.get(key)
            if definition is None:
                continue
            field_names[key] = str(definition.get("name"))
            if key in user_fields:
                names[key] = people
            elif definition.get("field_format") == "bool":
                names[key] = dict(YES_NO)
            elif definition.get("possible_values"):
                names[key] = {str(v.get("value")): str(v.get("label")) for v in definition["possible_values"]}
        return names, field_names

    def _member_names(self, project_id: str) -> dict[str, str]:
        """The project's members (people and groups) by id, kept with the connection's metadata."""

        def load() -> dict[str, str]:
            path = f"projects/{project_id}/memberships.json"
            members = {}
            for membership in self._read_all(path, "memberships", {}):
                who = membership.get("user") or membership.get("group") or {}
                if who.get("id") is not None:
                    members[str(who["id"])] = str(who.get("name"))
            return members

        return self.metadata.get(("member_names", project_id), load)

    def _version_names(self, project_id: str) -> dict[str, str]:
        """The names of the versions the project sees, by id (kept for a minute: sprints come and go)."""

        def load() -> dict[str, str]:
            body = self.http.get(f"projects/{project_id}/versions.json")
            return {str(v["id"]): str(v.get("name")) for v in body.get("versions", [])}

        return self.metadata.get(("version_names", project_id), load, ttl=60)
