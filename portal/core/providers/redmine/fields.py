"""Redmine's issue fields: the standard ones, and issue custom fields by their definitions.

A custom field is known to us as `cf_<id>` (the name Redmine's own queries give it).
Redmine shows custom field definitions (format, possible values, trackers) to
administrators only; other accounts see the names of the fields a project enables,
listed as readable but not settable. Redmine's API also does not say which fields are
"for all projects": a field the project does not enable by name is listed with
`extra["enabled"]` None, and a write it ignores is refused (nothing is left written).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from .. import errors
from ..base import FieldDef, FieldType, Priority, Status, is_number
from .site import RedmineSite

PREFIX = "cf_"
ADMIN_ONLY = (
    "Redmine shows custom field definitions (formats and values) to administrators only, "
    "so this field can be read but not set through this connection."
)

# Redmine's field formats; "version" and "attachment" fields are read, not set.
FORMATS = {
    "string": FieldType.TEXT,
    "text": FieldType.MARKDOWN,
    "int": FieldType.NUMBER,
    "float": FieldType.NUMBER,
    "date": FieldType.DATE,
    "bool": FieldType.BOOLEAN,
    "link": FieldType.URL,
}
CHOICE_FORMATS = {"list", "enumeration"}

# The standard issue attributes, as Redmine names them: (attribute, label, type, required).
STANDARD = (
    ("subject", "Subject", FieldType.TEXT, True),
    ("description", "Description", FieldType.MARKDOWN, False),
    ("tracker_id", "Tracker", FieldType.OPTION, True),
    ("status_id", "Status", FieldType.OPTION, True),
    ("priority_id", "Priority", FieldType.OPTION, True),
    ("assigned_to_id", "Assignee", FieldType.USER, False),
    ("category_id", "Category", FieldType.OPTION, False),
    ("fixed_version_id", "Target version", FieldType.OTHER, False),
    ("parent_issue_id", "Parent task", FieldType.OTHER, False),
    ("start_date", "Start date", FieldType.DATE, False),
    ("due_date", "Due date", FieldType.DATE, False),
    ("estimated_hours", "Estimated time", FieldType.NUMBER, False),
    ("done_ratio", "% Done", FieldType.NUMBER, False),
    ("is_private", "Private", FieldType.BOOLEAN, False),
)


def field_key(custom_field_id: Any) -> str:
    """Our id of a Redmine custom field: `cf_<id>`."""
    return f"{PREFIX}{custom_field_id}"


def custom_field_number(key: str) -> int:
    """The Redmine id in `cf_<id>`; InvalidInput for anything else."""
    number = key[len(PREFIX) :] if key.startswith(PREFIX) else ""
    if not is_number(number):
        raise errors.InvalidInput(
            f"{key!r} is not a Redmine custom field; list_fields gives their ids (cf_<number>).",
            field_errors={"fields": key},
        )
    return int(number)


def field_type(definition: Mapping[str, Any]) -> FieldType:
    """What a custom field holds, from its format (and whether it takes several values)."""
    field_format = definition.get("field_format")
    multiple = bool(definition.get("multiple"))
    if field_format in CHOICE_FORMATS:
        return FieldType.OPTIONS if multiple else FieldType.OPTION
    if field_format == "user":
        return FieldType.USERS if multiple else FieldType.USER
    return FORMATS.get(str(field_format), FieldType.OTHER)


def parse_field_definition(definition: Mapping[str, Any], *, enabled: bool | None) -> FieldDef:
    """An issue custom field from /custom_fields.json; `enabled`: the project enables it by name.

    None for `enabled` means Redmine does not say (the field may be for all projects).
    """
    kind = field_type(definition)
    allowed = tuple(str(v.get("label", v.get("value"))) for v in definition.get("possible_values") or [])
    extra: dict[str, Any] = {
        "format": definition.get("field_format"),
        "trackers": [t.get("name") for t in definition.get("trackers") or []],
        "enabled": enabled,
    }
    if definition.get("default_value") not in (None, ""):
        extra["default"] = definition["default_value"]
    if kind == FieldType.OTHER:
        extra["why"] = f"Redmine {definition.get('field_format')} fields are not set through this server."
    return FieldDef(
        id=field_key(definition["id"]),
        name=str(definition.get("name") or ""),
        type=kind,
        custom=True,
        required=bool(definition.get("is_required")),
        settable=kind != FieldType.OTHER,
        allowed=allowed if kind in (FieldType.OPTION, FieldType.OPTIONS) else (),
        extra=extra,
    )


def named_only_field(raw: Mapping[str, Any]) -> FieldDef:
    """A custom field known by id and name only (what a project shows an account that is not an administrator)."""
    return FieldDef(
        id=field_key(raw["id"]),
        name=str(raw.get("name") or ""),
        type=FieldType.OTHER,
        custom=True,
        settable=False,
        extra={"why": ADMIN_ONLY},
    )


def standard_fields(
    project: Mapping[str, Any], statuses: Iterable[Status], priorities: Iterable[Priority]
) -> list[FieldDef]:
    """Redmine's standard issue fields, with the values the project allows where it lists them."""
    allowed = {
        "tracker_id": tuple(str(t["name"]) for t in project.get("trackers") or []),
        "status_id": tuple(s.name for s in statuses),
        "priority_id": tuple(p.name for p in priorities),
        "category_id": tuple(str(c["name"]) for c in project.get("issue_categories") or []),
    }
    return [
        FieldDef.standard(attribute, label, kind, required=required, allowed=allowed.get(attribute, ()))
        for attribute, label, kind, required in STANDARD
    ]


def applies_to_tracker(definition: Mapping[str, Any], tracker_name: str | None) -> bool:
    """Whether an issue custom field is used by the tracker (any tracker when none is named)."""
    trackers = [str(t.get("name", "")).lower() for t in definition.get("trackers") or []]
    if tracker_name is None:
        return bool(trackers)
    return tracker_name.lower() in trackers


def custom_value(definition: Mapping[str, Any], value: Any) -> Any:
    """A value as Redmine takes it for the field: option names as stored, days as ISO dates, booleans as 1/0.

    None (and an empty list) clears the field. Raises InvalidInput for an option the field lacks.
    """
    field_format = definition.get("field_format")
    multiple = bool(definition.get("multiple"))
    if value is None or value == []:
        return [] if multiple else ""
    values = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
    if field_format in CHOICE_FORMATS:
        options = {
            str(v.get("label", v.get("value"))).lower(): str(v.get("value"))
            for v in definition.get("possible_values") or []
        }
        stored = []
        for item in values:
            if str(item).lower() not in options:
                choices = ", ".join(str(v.get("label")) for v in definition.get("possible_values") or [])
                raise errors.InvalidInput(
                    f"{item!r} is not a value of the Redmine field {definition.get('name')!r}; "
                    f"its values: {choices}.",
                    field_errors={field_key(definition["id"]): str(item)},
                )
            stored.append(options[str(item).lower()])
        values = stored
    else:
        values = [_scalar(field_format, item) for item in values]
    return values if multiple else values[0]


def _scalar(field_format: Any, value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if field_format == "int" and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class RedmineFields(RedmineSite):
    """list_fields, and the custom field values of create_task and update_task."""

    def list_fields(self, project_id: str, task_type: str | None = None) -> list[FieldDef]:
        project = self.project_setup(project_id)
        trackers = [str(t["name"]) for t in project.get("trackers") or []]
        if task_type is not None and task_type.lower() not in {t.lower() for t in trackers}:
            raise errors.InvalidInput(
                f"The Redmine project has no tracker (task type) named {task_type!r}; "
                f"its trackers: {', '.join(trackers) or 'none'}.",
                field_errors={"type": task_type},
            )
        fields = standard_fields(project, self.list_statuses(), self.list_priorities())
        enabled = {str(f["id"]) for f in project.get("issue_custom_fields") or []}
        definitions = self.field_definitions()
        if definitions is None:
            return fields + [named_only_field(f) for f in project.get("issue_custom_fields") or []]
        for definition in definitions:
            if definition.get("customized_type") != "issue":
                continue
            if task_type is None:
                used = any(applies_to_tracker(definition, t) for t in trackers)
            else:
                used = applies_to_tracker(definition, task_type)
            if used:
                known = True if str(definition["id"]) in enabled else None
                fields.append(parse_field_definition(definition, enabled=known))
        return fields

    def _custom_fields_body(self, fields: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Redmine's `custom_fields` for values by `cf_<id>`.

        Raises InvalidInput for a field Redmine does not have or that can't be set here.
        """
        definitions = self.field_definitions()
        by_id = {int(d["id"]): d for d in definitions or [] if d.get("customized_type") == "issue"}
        body = []
        for key, value in fields.items():
            number = custom_field_number(key)
            definition = by_id.get(number)
            if definition is None:
                why = ADMIN_ONLY if definitions is None else "Redmine has no issue custom field with that id."
                raise errors.InvalidInput(f"Can't set {key}: {why}", field_errors={key: why})
            if field_type(definition) == FieldType.OTHER:
                raise errors.InvalidInput(
                    f"The Redmine field {definition.get('name')!r} ({definition.get('field_format')}) "
                    "is not set through this server; set it in Redmine.",
                    field_errors={key: "not settable"},
                )
            body.append({"id": number, "value": custom_value(definition, value)})
        return body

    def _refuse_fields_not_on(self, issue: Mapping[str, Any], fields: Mapping[str, Any]) -> None:
        """InvalidInput when the issue (its project and tracker) does not use one of the fields given."""
        present = {field_key(f["id"]) for f in issue.get("custom_fields") or []}
        missing = [key for key in fields if key not in present]
        if missing:
            project = (issue.get("project") or {}).get("name", "its project")
            tracker = (issue.get("tracker") or {}).get("name", "its tracker")
            raise errors.InvalidInput(
                f"Redmine does not use {', '.join(missing)} on {tracker} issues of {project}: an "
                "administrator enables custom fields per project (project Settings > Issue tracking) "
                "and per tracker (Administration > Custom fields).",
                field_errors={key: "not enabled for this project and tracker" for key in missing},
            )
