"""ClickUp's fields: the standard ones, and the custom fields a List's tasks can have.

Custom fields come from GET /list/{id}/field (kept with the connection's metadata)
and are set on create (`custom_fields` in the body) or one by one afterwards
(POST / DELETE /task/{id}/field/{field id}). Values arrive checked against
list_fields by the caller; here they become ClickUp's shapes: a drop-down takes the
option's id, labels a list of option ids, people a list of user numbers (on a task
that exists, `{"add": [...], "rem": [...]}`), a date milliseconds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from typing import Any

from .. import errors
from ..base import FieldDef, FieldType
from .query import due_millis, path, user_number
from .workspace import ClickUpWorkspace

FIELDS_SECONDS = 300.0
"""How long a List's custom field definitions are reused."""

FIELD_TYPES = {
    "short_text": FieldType.TEXT,
    "text": FieldType.MARKDOWN,
    "email": FieldType.TEXT,
    "phone": FieldType.TEXT,
    "url": FieldType.URL,
    "number": FieldType.NUMBER,
    "currency": FieldType.NUMBER,
    "emoji": FieldType.NUMBER,  # a rating
    "date": FieldType.DATE,
    "checkbox": FieldType.BOOLEAN,
    "drop_down": FieldType.OPTION,
    "labels": FieldType.OPTIONS,
    "users": FieldType.USERS,
}

STANDARD_FIELDS = (
    FieldDef.standard("name", "Name", FieldType.TEXT, required=True),
    FieldDef.standard("description", "Description", FieldType.MARKDOWN),
    FieldDef.standard("status", "Status", FieldType.OPTION),
    FieldDef.standard("priority", "Priority", FieldType.OPTION, allowed=("urgent", "high", "normal", "low")),
    FieldDef.standard("assignees", "Assignees", FieldType.USERS),
    FieldDef.standard("due_date", "Due date", FieldType.DATE),
    FieldDef.standard("time_estimate", "Time estimate", FieldType.NUMBER),
    FieldDef.standard(
        "points", "Sprint points", FieldType.NUMBER, extra={"needs": "the Sprint Points ClickApp"}
    ),
    FieldDef.standard("tags", "Tags", FieldType.LABELS),
)


# --- pure functions -------------------------------------------------------------------------------


def _options(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in (data.get("type_config") or {}).get("options") or [] if isinstance(o, dict)]


def option_label(option: dict[str, Any]) -> str:
    """What people call an option: a drop-down's `name`, a label's `label`."""
    return str(option.get("name") or option.get("label") or option.get("id"))


def parse_field(data: dict[str, Any]) -> FieldDef:
    """A ClickUp custom field definition -> FieldDef (types this server can't set are OTHER)."""
    kind = str(data.get("type") or "")
    field_type = FIELD_TYPES.get(kind, FieldType.OTHER)
    if field_type == FieldType.USERS and (data.get("type_config") or {}).get("single_user"):
        field_type = FieldType.USER
    allowed = tuple(option_label(o) for o in _options(data)) if kind in ("drop_down", "labels") else ()
    return FieldDef(
        id=str(data["id"]),
        name=str(data.get("name") or data["id"]),
        type=field_type,
        custom=True,
        required=bool(data.get("required")),
        settable=field_type != FieldType.OTHER,
        allowed=allowed,
        extra={"clickup_type": kind},
    )


def _option_id(data: dict[str, Any], name: Any) -> str:
    for option in _options(data):
        if isinstance(name, str) and option_label(option).lower() == name.strip().lower():
            return str(option["id"])
    valid = ", ".join(option_label(o) for o in _options(data))
    raise errors.InvalidInput(
        f"{name!r} is not an option of the ClickUp field {data.get('name')!r}.",
        field_errors={str(data.get("name")): f"valid: {valid}"},
    )


def _wrong(data: dict[str, Any], value: Any, wanted: str) -> errors.InvalidInput:
    return errors.InvalidInput(
        f"The ClickUp field {data.get('name')!r} takes {wanted}.",
        field_errors={str(data.get("name")): f"{value!r} is not {wanted}"},
    )


def clickup_value(data: dict[str, Any], value: Any, tz: tzinfo = UTC) -> Any:
    """A checked value -> what ClickUp takes for the field `data` (a definition); InvalidInput when it can't."""
    kind = data.get("type")
    field_type = parse_field(data).type
    if field_type == FieldType.OTHER:
        raise errors.InvalidInput(
            f"The ClickUp field {data.get('name')!r} ({kind}) can't be set through this server; set it in ClickUp.",
            field_errors={str(data.get("name")): "read-only here"},
        )
    if kind == "drop_down":
        return _option_id(data, value)
    if kind == "labels":
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list | tuple):
            raise _wrong(data, value, "a list of option names")
        return [_option_id(data, name) for name in names]
    if kind == "users":
        ids = [value] if isinstance(value, str | int) else value
        if not isinstance(ids, list | tuple):
            raise _wrong(data, value, "people")
        return [user_number(str(user_id), str(data.get("name"))) for user_id in ids]
    if kind == "date":
        if isinstance(value, datetime):
            value = value.date()
        if not isinstance(value, date):
            raise _wrong(data, value, "a date")
        return due_millis(value, tz)
    if kind == "checkbox":
        if not isinstance(value, bool):
            raise _wrong(data, value, "true or false")
        return value
    if field_type == FieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _wrong(data, value, "a number")
        return value
    if not isinstance(value, str):
        raise _wrong(data, value, "text")
    return value


def field_by_id(definitions: list[dict[str, Any]], field_id: str) -> dict[str, Any]:
    for data in definitions:
        if str(data.get("id")) == field_id:
            return data
    names = ", ".join(str(d.get("name")) for d in definitions) or "none"
    raise errors.InvalidInput(
        f"This ClickUp List has no custom field {field_id!r}; its fields are: {names}.",
        field_errors={"fields": f"unknown field {field_id}"},
    )


def create_values(
    definitions: list[dict[str, Any]], values: dict[str, Any], tz: tzinfo
) -> list[dict[str, Any]]:
    """CreateTask's `custom_fields` for the values given (None leaves a field empty)."""
    return [
        {"id": field_id, "value": clickup_value(field_by_id(definitions, field_id), value, tz)}
        for field_id, value in values.items()
        if value is not None
    ]


def update_writes(
    current: list[dict[str, Any]], values: dict[str, Any], tz: tzinfo
) -> list[tuple[str, str, dict[str, Any] | None]]:
    """The writes that set `values` on a task whose `custom_fields` are `current`: (method, field id, body).

    Every value is converted (and refused) before any write is made.
    """
    writes: list[tuple[str, str, dict[str, Any] | None]] = []
    for field_id, value in values.items():
        data = field_by_id(current, field_id)
        if value is None or value == []:
            writes.append(("DELETE", field_id, None))
            continue
        converted = clickup_value(data, value, tz)
        if data.get("type") == "users":
            had = [int(u["id"]) for u in data.get("value") or [] if isinstance(u, dict) and "id" in u]
            converted = {
                "add": [u for u in converted if u not in had],
                "rem": [u for u in had if u not in converted],
            }
        writes.append(("POST", field_id, {"value": converted}))
    return writes


class ClickUpFields(ClickUpWorkspace):
    """The fields of a List's tasks, and custom field values on create and update."""

    def field_definitions(self, list_id: str) -> list[dict[str, Any]]:
        """GET /list/{id}/field, kept a while."""

        def load() -> list[dict[str, Any]]:
            body = self.call("GET", path("list", list_id, "field"))
            return [f for f in body.get("fields") or [] if isinstance(f, dict) and f.get("id")]

        return self.metadata.get(("fields", list_id), load, ttl=FIELDS_SECONDS)

    def list_fields(self, project_id: str, task_type: str | None = None) -> list[FieldDef]:
        """The standard fields (set through their own arguments) and the List's custom fields."""
        return [*STANDARD_FIELDS, *(parse_field(data) for data in self.field_definitions(project_id))]

    def custom_fields_for_create(self, project_id: str, values: dict[str, Any]) -> list[dict[str, Any]]:
        if not values:
            return []
        tz = self.timezone() if any(isinstance(v, date) for v in values.values()) else UTC
        return create_values(self.field_definitions(project_id), values, tz)

    def write_custom_fields(self, task_id: str, writes: list[tuple[str, str, dict[str, Any] | None]]) -> None:
        for method, field_id, body in writes:
            self.call(method, path("task", task_id, "field", field_id), body=body)
