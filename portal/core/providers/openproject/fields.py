"""Fields: what a work package of a project and type can hold, custom fields included.

They come from OpenProject's create form (`POST .../work_packages/form`), whose schema
lists every attribute with its human name, type and, for options, the values allowed;
kept with the connection's metadata per project and type. Custom fields are
`customFieldN`: plain values are properties of the work package, options and people are
links (`_links.customFieldN`), long text a formattable (`{"raw": ...}`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from .. import errors
from ..base import FieldDef, FieldType, is_number
from ..dates import utc_stamp
from .parse import CUSTOM_FIELD, links_of
from .query import href
from .workpackages import OpenProjectWorkPackages

# OpenProject's schema types onto ours; anything else is readable but not settable (OTHER).
SCHEMA_TYPES = {
    "String": FieldType.TEXT,
    "Formattable": FieldType.MARKDOWN,
    "Integer": FieldType.NUMBER,
    "Float": FieldType.NUMBER,
    "Date": FieldType.DATE,
    "DateTime": FieldType.DATETIME,
    "Boolean": FieldType.BOOLEAN,
    "CustomOption": FieldType.OPTION,
    "[]CustomOption": FieldType.OPTIONS,
    "User": FieldType.USER,
    "[]User": FieldType.USERS,
    "Link": FieldType.URL,
}
LINKED = frozenset({FieldType.OPTION, FieldType.OPTIONS, FieldType.USER, FieldType.USERS})
# Schema entries that are no field a person reads or sets.
INTERNAL = frozenset({"lockVersion", "id"})


def form_schema(form: Any) -> Mapping[str, Any]:
    """The schema a work-package form embeds (empty when there is none)."""
    if not isinstance(form, Mapping):
        return {}
    schema = (form.get("_embedded") or {}).get("schema")
    return schema if isinstance(schema, Mapping) else {}


def allowed_options(prop: Mapping[str, Any]) -> dict[str, str]:
    """The values a schema property allows, as {name: href}; empty where it lists none."""
    listed = links_of(prop).get("allowedValues")
    if isinstance(listed, list):
        return {
            str(link["title"]): str(link["href"])
            for link in listed
            if isinstance(link, Mapping) and link.get("href") and link.get("title")
        }
    values = (prop.get("_embedded") or {}).get("allowedValues")
    options: dict[str, str] = {}
    for value in values if isinstance(values, list) else []:
        if not isinstance(value, Mapping):
            continue
        name = value.get("value") or value.get("name")
        self_href = (links_of(value).get("self") or {}).get("href")
        if name and self_href:
            options[str(name)] = str(self_href)
    return options


def parse_field_defs(schema: Mapping[str, Any]) -> list[FieldDef]:
    """The fields a work-package schema lists; custom ones settable where OpenProject lets them be written."""
    fields = []
    for key, prop in schema.items():
        if key.startswith("_") or key in INTERNAL or not isinstance(prop, Mapping):
            continue
        kind = SCHEMA_TYPES.get(str(prop.get("type")), FieldType.OTHER)
        custom = CUSTOM_FIELD.fullmatch(key) is not None
        options = allowed_options(prop)
        fields.append(
            FieldDef(
                id=key,
                name=str(prop.get("name") or key),
                type=kind,
                custom=custom,
                required=bool(prop.get("required")),
                settable=custom and prop.get("writable", True) is not False and kind != FieldType.OTHER,
                allowed=tuple(options),
                extra={
                    "schema_type": prop.get("type"),
                    "link": prop.get("location") == "_links" or kind in LINKED,
                    "options": options,
                },
            )
        )
    return fields


def _refuse(field: FieldDef, message: str) -> errors.InvalidInput:
    return errors.InvalidInput(
        f"OpenProject's field {field.name!r}: {message}", field_errors={field.name: message}
    )


def _option_href(field: FieldDef, name: Any) -> str:
    options: Mapping[str, str] = field.extra.get("options") or {}
    wanted = str(name).strip().lower()
    for option, option_href in options.items():
        if option.lower() == wanted:
            return option_href
    raise _refuse(field, f"{name!r} is not one of its values; choose one of: {', '.join(options) or 'none'}")


def _link_value(field: FieldDef, value: Any) -> Any:
    many = field.type in (FieldType.OPTIONS, FieldType.USERS)
    if value is None:
        return [] if many else {"href": None}
    one = _option_href if field.type in (FieldType.OPTION, FieldType.OPTIONS) else _user_href
    if many:
        items = value if isinstance(value, list | tuple) else [value]
        return [{"href": one(field, item)} for item in items]
    return {"href": one(field, value)}


def _user_href(field: FieldDef, user_id: Any) -> str:
    if not is_number(str(user_id)):
        raise _refuse(field, f"{user_id!r} is not a user id")
    return href("users", str(user_id))


def _property_value(field: FieldDef, value: Any) -> Any:
    if field.type == FieldType.MARKDOWN:
        return {"raw": "" if value is None else str(value)}
    if value is None:
        return None
    if field.type == FieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _refuse(field, f"{value!r} is not a number")
        if field.extra.get("schema_type") == "Integer":
            if not float(value).is_integer():
                raise _refuse(field, f"{value!r} is not a whole number")
            return int(value)
        return value
    if field.type == FieldType.BOOLEAN:
        return bool(value)
    if field.type == FieldType.DATETIME and isinstance(value, datetime):
        return utc_stamp(value)
    if field.type == FieldType.DATE and isinstance(value, date):
        return value.isoformat()
    return str(value)


def field_writes(
    fields: Mapping[str, FieldDef], values: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The custom values of a write, as (properties, links) of the work package; None clears a field.

    Raises InvalidInput for a field the project and type lack or that can't be set, and for an
    option that is not among the field's values (naming them).
    """
    properties: dict[str, Any] = {}
    links: dict[str, Any] = {}
    for field_id, value in values.items():
        field = fields.get(field_id)
        if field is None or not field.settable:
            settable = ", ".join(f"{f.name} ({f.id})" for f in fields.values() if f.settable) or "none"
            raise errors.InvalidInput(
                f"OpenProject has no custom field {field_id!r} that can be set on this work package; "
                f"the settable ones are: {settable}.",
                field_errors={"fields": f"unknown field {field_id}"},
            )
        if field.extra.get("link"):
            links[field_id] = _link_value(field, value)
        else:
            properties[field_id] = _property_value(field, value)
    return properties, links


class OpenProjectFields(OpenProjectWorkPackages):
    """list_fields, and the custom values of task writes."""

    def list_fields(self, project_id: str, task_type: str | None = None) -> list[FieldDef]:
        return self._fields(project_id, task_type, lambda: self.type_href(project_id, task_type or ""))

    def _fields(self, project_id: str, task_type: str | None, type_href: Callable[[], str]) -> list[FieldDef]:
        """The fields of a project's work packages of a type (named; its href asked only when loading)."""
        type_key = (task_type or "").strip().lower() or None

        def load() -> list[FieldDef]:
            payload: dict[str, Any] = {}
            if type_key:
                payload["_links"] = {"type": {"href": type_href()}}
            # The form only computes (it saves nothing), so it is safe to retry like a read.
            form = self.in_workspace("POST", project_id, "work_packages/form", json=payload, idempotent=True)
            return parse_field_defs(form_schema(form))

        return self.metadata.get(("fields", project_id, type_key), load)

    def _field_writes(
        self, project_id: str, task_type: str | None, values: Mapping[str, Any], type_href: str | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The custom values of a write; `type_href`, when known, spares looking the type up by name."""
        if not values:
            return {}, {}
        fields = self._fields(
            project_id, task_type, lambda: type_href or self.type_href(project_id, task_type or "")
        )
        return field_writes({field.id: field for field in fields}, values)
