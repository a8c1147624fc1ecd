"""JIRA JSON of sprint work (link types and links, worklogs, the changelog, create metadata) as
domain objects, as pure functions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..adf import adf_to_markdown
from ..base import (
    FieldDef,
    FieldType,
    HistoryEntry,
    LinkKind,
    LinkType,
    StatusCategory,
    TaskLink,
    Worklog,
    make_ref,
)
from ..dates import parse_timestamp
from .parse import STATUS_CATEGORY_BY_KEY, parse_user

# The phrases JIRA's default link types read with, as the generic kinds they stand for.
KIND_BY_PHRASE = {
    "blocks": LinkKind.BLOCKS,
    "is blocked by": LinkKind.BLOCKED_BY,
    "relates to": LinkKind.RELATES,
    "duplicates": LinkKind.DUPLICATES,
    "is duplicated by": LinkKind.DUPLICATED_BY,
}

# Custom field types (the schema's `custom` key, after the colon) whose values are long text.
_TEXTAREA = ("textarea",)
_URL = ("url",)
# JIRA Software's own fields, which have their own operations here (sprints, ranks, epics).
_AGILE_PREFIX = "com.pyxis.greenhopper.jira:"
_NUMBER_AGILE = ("jsw-story-points",)


def link_kind(phrase: Any) -> LinkKind:
    """The generic kind a link phrase ("blocks", "is blocked by") stands for; OTHER for a vendor's own."""
    return KIND_BY_PHRASE.get(str(phrase or "").strip().lower(), LinkKind.OTHER)


def parse_link_type(data: Mapping[str, Any]) -> LinkType:
    """A link type of `/issueLinkType`; its kind is the one its outward phrase reads as."""
    outward = str(data.get("outward") or data.get("name") or "")
    inward = str(data.get("inward") or outward)
    return LinkType(
        id=str(data.get("id", "")),
        name=str(data.get("name") or outward),
        outward=outward,
        inward=inward,
        kind=link_kind(outward),
    )


def parse_link_types(data: Any) -> list[LinkType]:
    """`/issueLinkType`'s `issueLinkTypes`."""
    raw = (data or {}).get("issueLinkTypes") if isinstance(data, Mapping) else None
    return [parse_link_type(item) for item in raw or [] if isinstance(item, Mapping) and item.get("id")]


def parse_issue_links(data: Any, slug: str, base_url: str, issue_key: str) -> list[TaskLink]:
    """An issue's `issuelinks` as links read from that issue.

    JIRA names the other issue as `outwardIssue` when this issue is the link's source
    (it reads the type's outward phrase: "blocks"), as `inwardIssue` when it is the
    destination (the inward phrase: "is blocked by").
    """
    links: list[TaskLink] = []
    for raw in data if isinstance(data, list) else []:
        if not isinstance(raw, Mapping) or raw.get("id") is None:
            continue
        link_type = parse_link_type(raw.get("type") or {})
        if isinstance(raw.get("outwardIssue"), Mapping):
            other, label, kind = raw["outwardIssue"], link_type.outward, link_type.kind
        elif isinstance(raw.get("inwardIssue"), Mapping):
            other, label, kind = raw["inwardIssue"], link_type.inward, link_type.kind.inverse
        else:
            continue
        other_key = str(other.get("key") or other.get("id") or "")
        fields = other.get("fields") or {}
        status = fields.get("status") if isinstance(fields, Mapping) else None
        category = (
            ((status or {}).get("statusCategory") or {}).get("key") if isinstance(status, Mapping) else None
        )
        link_id = str(raw["id"])
        links.append(
            TaskLink(
                ref=make_ref(slug, link_id),
                id=link_id,
                kind=kind,
                label=label,
                task_ref=make_ref(slug, issue_key),
                other_ref=make_ref(slug, other_key),
                other_key=other_key,
                other_title=fields.get("summary") if isinstance(fields, Mapping) else None,
                other_done=(STATUS_CATEGORY_BY_KEY.get(category) == StatusCategory.DONE)
                if category
                else None,
                url=f"{base_url}/browse/{quote(other_key, safe='')}",
                extra={"type_id": link_type.id, "type_name": link_type.name},
            )
        )
    return links


def parse_worklog(data: Mapping[str, Any], slug: str, base_url: str, issue_key: str) -> Worklog:
    """A worklog; `comment` (ADF) as Markdown."""
    worklog_id = str(data["id"])
    seconds = data.get("timeSpentSeconds")
    hours = seconds / 3600 if isinstance(seconds, int | float) and not isinstance(seconds, bool) else 0.0
    comment = data.get("comment")
    return Worklog(
        ref=make_ref(slug, worklog_id),
        id=worklog_id,
        task_ref=make_ref(slug, issue_key),
        hours=hours,
        started=parse_timestamp(data.get("started")),
        author=parse_user(data.get("author"), slug, base_url),
        comment=adf_to_markdown(comment) if comment else None,
        created_at=parse_timestamp(data.get("created")),
        extra={
            "issue_key": issue_key,
            "issue_id": str(data.get("issueId", "")),
            "time_spent": data.get("timeSpent"),
        },
    )


def parse_changelog(
    values: Any, slug: str, base_url: str, field_names: Mapping[str, str] | None = None
) -> list[list[HistoryEntry]]:
    """A page of `/issue/{key}/changelog` values, each as its entries (one per changed field).

    The field is named as the site's field list names it (`Status`, `Story Points`), else as
    the changelog does; `old`/`new` are the display strings, the raw ids go in `extra`
    (`from`, `to`: status ids, account ids, sprint ids) for what computes on them.
    """
    names = field_names or {}
    changes: list[list[HistoryEntry]] = []
    for change in values if isinstance(values, list) else []:
        if not isinstance(change, Mapping):
            continue
        at = parse_timestamp(change.get("created"))
        author = parse_user(change.get("author"), slug, base_url)
        entries = []
        for item in change.get("items") or []:
            if not isinstance(item, Mapping) or at is None:
                continue
            field_id = item.get("fieldId")
            label = names.get(str(field_id)) if field_id else None
            entries.append(
                HistoryEntry(
                    at=at,
                    field=label or str(item.get("field") or field_id or ""),
                    old=_shown(item.get("fromString"), item.get("from")),
                    new=_shown(item.get("toString"), item.get("to")),
                    author=author,
                    extra={
                        "change_id": str(change.get("id", "")),
                        "field_id": field_id,
                        "from": item.get("from"),
                        "to": item.get("to"),
                    },
                )
            )
        changes.append(entries)
    return changes


def _shown(text: Any, raw: Any) -> str | None:
    value = text if text not in (None, "") else raw
    return None if value in (None, "") else str(value)


def field_type(schema: Any) -> FieldType:
    """What a field holds, from its JIRA schema (`type`, `items`, `custom`, `system`)."""
    if not isinstance(schema, Mapping):
        return FieldType.OTHER
    kind = schema.get("type")
    items = schema.get("items")
    custom = str(schema.get("custom") or "")
    flavour = custom.rpartition(":")[2]
    if custom.startswith(_AGILE_PREFIX) and flavour not in _NUMBER_AGILE:
        return FieldType.OTHER  # sprints, ranks, epic links: their own operations
    if kind == "string":
        if flavour in _TEXTAREA or schema.get("system") in ("description", "environment"):
            return FieldType.MARKDOWN
        return FieldType.URL if flavour in _URL else FieldType.TEXT
    simple = {
        "number": FieldType.NUMBER,
        "date": FieldType.DATE,
        "datetime": FieldType.DATETIME,
        "option": FieldType.OPTION,
        "user": FieldType.USER,
    }
    if kind in simple:
        return simple[kind]
    if kind == "array":
        if items == "option":
            return FieldType.OPTIONS
        if items == "user":
            return FieldType.USERS
        if items == "string" and (schema.get("system") == "labels" or flavour == "labels"):
            return FieldType.LABELS
    return FieldType.OTHER


def _allowed(values: Any) -> tuple[tuple[str, ...], dict[str, str]]:
    names: list[str] = []
    ids: dict[str, str] = {}
    for value in values if isinstance(values, list) else []:
        if not isinstance(value, Mapping):
            continue
        name = value.get("value") or value.get("name")
        if name and value.get("disabled") is not True:
            names.append(str(name))
            if value.get("id") is not None:
                ids[str(name)] = str(value["id"])
    return tuple(names), ids


def parse_field_meta(data: Mapping[str, Any]) -> FieldDef:
    """One field of the create metadata (`FieldCreateMetadata`) as a FieldDef.

    System fields are listed as not settable (tools set them by their own arguments);
    custom ones are settable unless their type is one `fields` can't carry.
    """
    field_id = str(data.get("fieldId") or data.get("key") or "")
    schema = data.get("schema") or {}
    kind = field_type(schema)
    custom = isinstance(schema, Mapping) and bool(schema.get("custom"))
    allowed, option_ids = _allowed(data.get("allowedValues"))
    extra: dict[str, Any] = {"schema": dict(schema) if isinstance(schema, Mapping) else {}}
    if option_ids:
        extra["option_ids"] = option_ids
    return FieldDef(
        id=field_id,
        name=str(data.get("name") or field_id),
        type=kind,
        custom=custom,
        required=bool(data.get("required")),
        settable=custom and kind != FieldType.OTHER,
        allowed=allowed if kind in (FieldType.OPTION, FieldType.OPTIONS) else (),
        extra=extra,
    )


def parse_create_meta(fields: Any) -> list[FieldDef]:
    """The `fields` of `/issue/createmeta/{project}/issuetypes/{type}` as FieldDefs, in JIRA's order."""
    if not isinstance(fields, list):
        return []
    return [parse_field_meta(raw) for raw in fields if isinstance(raw, Mapping)]


def field_names(fields: Any) -> dict[str, str]:
    """Field id -> human name, from the site's `/field` list."""
    return {
        str(raw["id"]): str(raw.get("name") or raw["id"])
        for raw in (fields if isinstance(fields, list) else [])
        if isinstance(raw, Mapping) and raw.get("id")
    }
