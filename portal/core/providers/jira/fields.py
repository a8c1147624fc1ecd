"""JIRA fields: what a task of a project and issue type can hold (the create metadata), and the
custom field values of creates and updates, shaped by the field's schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import errors
from ..base import FieldDef
from ..paging import read_all
from .parse import is_epic_type
from .parse_work import field_type, parse_create_meta
from .query import field_value, path
from .search import JiraSearch

MAX_META_PAGE = 200  # JIRA's largest create-metadata page


class JiraFields(JiraSearch):
    """list_fields, and the `fields` of create_task and update_task."""

    def list_fields(self, project_id: str, task_type: str | None = None) -> list[FieldDef]:
        project = self.project(project_id)
        type_id = self._issue_type_id(project, task_type, None)
        key = ("create_meta", str(project["key"]).upper(), type_id)
        return self.metadata.get(key, lambda: self._load_create_meta(str(project["key"]), type_id))

    def _load_create_meta(self, project_key: str, type_id: str) -> list[FieldDef]:
        def fetch(start: int) -> tuple[list[Mapping[str, Any]], int | None]:
            data = self.http.get(
                f"/rest/api/3/issue/createmeta/{path(project_key)}/issuetypes/{path(type_id)}",
                params={"startAt": start, "maxResults": MAX_META_PAGE},
            )
            values = list(data.get("fields") or data.get("results") or [])
            total = data.get("total")
            more = isinstance(total, int) and values and start + len(values) < total
            return values, start + len(values) if more else None

        return parse_create_meta(read_all(fetch, 0))

    def _issue_type_id(self, project: Mapping[str, Any], wanted: str | None, parent_id: str | None) -> str:
        types = [t for t in project.get("issueTypes") or [] if isinstance(t, Mapping)]
        if wanted:
            for issue_type in types:
                if str(issue_type.get("name", "")).lower() == wanted.strip().lower():
                    return str(issue_type["id"])
            names = ", ".join(str(t.get("name")) for t in types)
            raise errors.InvalidInput(
                f"JIRA project {project.get('key')} has no issue type {wanted!r}.",
                field_errors={"type": f"choose one of: {names}"},
            )
        if parent_id:
            parent = self._get_issue(parent_id, ["issuetype"])
            if not is_epic_type((parent.get("fields") or {}).get("issuetype")):
                # Under a standard issue only a sub-task can live.
                for issue_type in types:
                    if issue_type.get("subtask"):
                        return str(issue_type["id"])
        standard = [t for t in types if not t.get("subtask") and t.get("hierarchyLevel", 0) == 0]
        for issue_type in standard:
            if str(issue_type.get("name", "")).lower() == "task":
                return str(issue_type["id"])
        if standard:
            return str(standard[0]["id"])
        raise errors.InvalidInput(f"JIRA project {project.get('key')} offers no issue type to create.")

    def custom_field_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """`TaskDraft.fields` / `TaskChanges.fields` (field id -> value) as JIRA's edit takes them.

        Each value is shaped by the field's schema in the site's field list. Raises InvalidInput
        for a field id the site does not have, or one of a type `fields` can't set.
        """
        if not values:
            return {}
        schemas = {str(raw.get("id")): raw for raw in self.site_fields()}
        shaped: dict[str, Any] = {}
        for field_id, value in values.items():
            known = schemas.get(str(field_id))
            if known is None:
                raise errors.InvalidInput(
                    f"This JIRA site has no field {field_id!r}; list_fields names the fields a task can have.",
                    field_errors={str(field_id): "unknown field"},
                )
            try:
                shaped[str(field_id)] = field_value(field_type(known.get("schema")), value)
            except errors.InvalidInput:
                raise errors.InvalidInput(
                    f"JIRA field {known.get('name') or field_id!r} can't be set through `fields`.",
                    field_errors={str(field_id): "not settable"},
                ) from None
        return shaped
