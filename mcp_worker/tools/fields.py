"""The vendor's own task fields: `list_fields`, and the `fields` argument of create_task and update_task.

Values come by the field's human name (case-insensitive, as `list_fields` shows it) and are checked
against the field's type and allowed values before anything is written; every problem is reported at
once, with the valid names or values, so an agent can correct the whole call in one go.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import Field

from portal.core.providers.base import FieldDef, FieldType

from ..connections import UserConnections
from . import shapes
from .context import connections_of, note
from .registry import ToolCall, ToolFailure, ToolInput, ToolOutput, Toolset

MAX_FIELDS = 50
CustomFields = Annotated[
    dict[str, Any] | None,
    Field(
        max_length=MAX_FIELDS,
        description="The project's own (custom) fields by name, as list_fields shows them "
        "(case-insensitive): {'Team': 'Payments', 'Size': 'Large'}. A null value clears a field (update_task).",
    ),
]

PersonLookup = Callable[[str], Awaitable[str]]

toolset = Toolset()


class ListFieldsArgs(ToolInput):
    project: str = Field(description="Project ref.")
    type: str | None = Field(
        None, max_length=255, description="Task type (Bug, Story ...), where a project's fields depend on it."
    )


class FieldList(ToolOutput):
    project: str
    type: str | None = None
    fields: list[shapes.FieldOut]

    def text(self) -> str:
        def render(f: shapes.FieldOut) -> str:
            flags = [f.type] + (["required"] if f.required else []) + ([] if f.settable else ["own argument"])
            allowed = f": {', '.join(f.allowed)}" if f.allowed else ""
            return f"- {f.name} ({', '.join(flags)}){allowed}"

        head = f"Fields of {self.project}" + (f" ({self.type})" if self.type else "") + ":"
        return head + "\n" + shapes.lines(self.fields, render, "No fields.")


@toolset.tool("list_fields", title="List a project's task fields", read_only=True, idempotent=True)
async def list_fields(call: ToolCall, args: ListFieldsArgs) -> FieldList:
    """The fields a task of a project (and task type) can have, custom ones included: human name, type,
    whether required, and the allowed values of option fields. create_task and update_task set the settable
    ones through `fields` by these names."""
    conns = await connections_of(call)
    view, project_id = conns.resolve(args.project, "project")
    note(call, view, args.project)
    defs = await conns.run(view, lambda a: a.list_fields(project_id, args.type))
    return FieldList(project=args.project, type=args.type, fields=[shapes.field_def(d) for d in defs])


async def field_values(
    conns: UserConnections,
    view: Any,
    project_id: str,
    task_type: str | None,
    given: Mapping[str, Any],
    *,
    person: PersonLookup,
    where: str,
) -> dict[str, Any]:
    """`given` (human name -> value) as the adapter takes it (FieldDef.id -> checked value).

    Raises ToolFailure naming every unknown field (with the valid names) and every bad value (with the
    valid values) at once; reads the project's fields only when there is something to check.
    """
    if not given:
        return {}
    defs = await conns.run(view, lambda a: a.list_fields(project_id, task_type))
    by_name = {d.name.strip().lower(): d for d in defs}
    by_id = {d.id.lower(): d for d in defs}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in given.items():
        definition = by_name.get(name.strip().lower()) or by_id.get(name.strip().lower())
        if definition is None:
            settable = sorted(d.name for d in defs if d.settable)
            problems.append(
                f"{name[:100]!r} is not a field {where}; its settable fields: {', '.join(settable) or 'none'}"
            )
            continue
        if not definition.settable:
            problems.append(
                f"{definition.name} can't be set through fields (set it with the tool's own argument, "
                "if it has one)"
            )
            continue
        try:
            values[definition.id] = await _checked(definition, value, person)
        except ValueError as exc:
            problems.append(f"{definition.name}: {exc}")
    if problems:
        raise ToolFailure(
            "Nothing was written. " + "; ".join(problems) + ". Call list_fields to see them all."
        )
    return values


async def _checked(definition: FieldDef, value: Any, person: PersonLookup) -> Any:
    """The value as TaskDraft.fields holds it, or ValueError saying what is valid."""
    if value is None:
        if definition.required:
            raise ValueError("is required and can't be cleared")
        return None
    kind = definition.type
    if kind in (FieldType.USER, FieldType.USERS):
        return await _people(kind, value, person)
    checker = _CHECKERS.get(kind)
    if checker is None:
        raise ValueError("this field can be read but not set through this server")
    return checker(definition, value)


async def _people(kind: FieldType, value: Any, person: PersonLookup) -> Any:
    if kind == FieldType.USER:
        if not isinstance(value, str):
            raise ValueError("give a person: 'me', an email, a name or a user ref")
        return await person(value)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("give a list of people: 'me', emails, names or user refs")
    return [await person(v) for v in value]


def _text(definition: FieldDef, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("give a text")
    return value


def _number(definition: FieldDef, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("give a number")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{str(value)[:40]!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError("give a finite number")
    return number


def _date(definition: FieldDef, value: Any) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError("give a date as YYYY-MM-DD")


def _datetime(definition: FieldDef, value: Any) -> datetime:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    raise ValueError("give a time in ISO 8601, such as 2026-01-31T14:00:00Z")


def _boolean(definition: FieldDef, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("give true or false")
    return value


def _option(definition: FieldDef, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"give one of: {', '.join(definition.allowed)}")
    return _allowed(definition, value)


def _options(definition: FieldDef, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"give a list of: {', '.join(definition.allowed)}")
    return [_allowed(definition, v) for v in value]


def _allowed(definition: FieldDef, value: str) -> str:
    if not definition.allowed:
        return value
    for choice in definition.allowed:
        if choice.lower() == value.strip().lower():
            return choice
    raise ValueError(f"{value[:100]!r} is not one of: {', '.join(definition.allowed)}")


def _labels(definition: FieldDef, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("give a list of words")
    return value


_CHECKERS: dict[FieldType, Callable[[FieldDef, Any], Any]] = {
    FieldType.TEXT: _text,
    FieldType.MARKDOWN: _text,
    FieldType.URL: _text,
    FieldType.NUMBER: _number,
    FieldType.DATE: _date,
    FieldType.DATETIME: _datetime,
    FieldType.BOOLEAN: _boolean,
    FieldType.OPTION: _option,
    FieldType.OPTIONS: _options,
    FieldType.LABELS: _labels,
}
