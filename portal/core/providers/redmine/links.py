"""Redmine issue relations as links between tasks.

Redmine's relation types are fixed: relates, duplicates, blocks, precedes and copied_to,
each read the other way round from the other issue (duplicated, blocked, follows,
copied_from). Redmine stores a relation made "the other way" as its forward type from
the other issue, and keeps at most one relation between two issues.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .. import errors
from ..base import LinkKind, LinkType, TaskLink, make_ref
from .query import segment
from .site import RedmineSite

# A relation type as read from one side: (generic kind, Redmine's phrase, the type as read from the other side).
READINGS: dict[str, tuple[LinkKind, str, str]] = {
    "relates": (LinkKind.RELATES, "related to", "relates"),
    "blocks": (LinkKind.BLOCKS, "blocks", "blocked"),
    "blocked": (LinkKind.BLOCKED_BY, "blocked by", "blocks"),
    "duplicates": (LinkKind.DUPLICATES, "is duplicate of", "duplicated"),
    "duplicated": (LinkKind.DUPLICATED_BY, "has duplicate", "duplicates"),
    "precedes": (LinkKind.OTHER, "precedes", "follows"),
    "follows": (LinkKind.OTHER, "follows", "precedes"),
    "copied_to": (LinkKind.OTHER, "copied to", "copied_from"),
    "copied_from": (LinkKind.OTHER, "copied from", "copied_to"),
}
FORWARD_TYPES = ("relates", "blocks", "duplicates", "precedes", "copied_to")


def link_types() -> list[LinkType]:
    """Redmine's relation types, each by its forward type (the id Redmine's API takes)."""
    types = []
    for relation_type in FORWARD_TYPES:
        kind, outward, inverse = READINGS[relation_type]
        types.append(
            LinkType(
                id=relation_type,
                name=relation_type.replace("_", " "),
                outward=outward,
                inward=READINGS[inverse][1],
                kind=kind,
            )
        )
    return types


def relation_as_read_from(raw: Mapping[str, Any], task_id: str) -> tuple[str, str]:
    """(the relation type as read from `task_id`, the other issue's id)."""
    relation_type = str(raw["relation_type"])
    if str(raw["issue_id"]) == task_id:
        return relation_type, str(raw["issue_to_id"])
    return READINGS.get(relation_type, (LinkKind.OTHER, relation_type, relation_type))[2], str(
        raw["issue_id"]
    )


def parse_relation(
    raw: Mapping[str, Any],
    *,
    task_id: str,
    slug: str,
    base_url: str,
    others: Mapping[str, Mapping[str, Any]] | None = None,
) -> TaskLink:
    """A relation (from /issues/{id}/relations.json or a relation write) as a link read from `task_id`.

    `others` (issues by id, as /issues.json lists them) supplies the other issue's
    subject and whether it is closed, where known.
    """
    relation_type, other_id = relation_as_read_from(raw, task_id)
    kind, label, _ = READINGS.get(relation_type, (LinkKind.OTHER, relation_type.replace("_", " "), ""))
    other = (others or {}).get(other_id)
    status = (other or {}).get("status") or {}
    extra: dict[str, Any] = {"relation_type": relation_type}
    if raw.get("delay") is not None:
        extra["delay_days"] = raw["delay"]
    return TaskLink(
        ref=make_ref(slug, raw["id"]),
        id=str(raw["id"]),
        kind=kind,
        label=label,
        task_ref=make_ref(slug, task_id),
        other_ref=make_ref(slug, other_id),
        other_key=f"#{other_id}",
        other_title=other.get("subject") if other else None,
        other_done=bool(status["is_closed"]) if "is_closed" in status else None,
        url=f"{base_url}/issues/{other_id}",
        extra=extra,
    )


class RedmineLinks(RedmineSite):
    """Issue relations."""

    def list_link_types(self) -> list[LinkType]:
        return link_types()  # fixed in Redmine: no request

    def list_links(self, task_id: str) -> list[TaskLink]:
        issue = self._issue(task_id, include="relations")
        relations = issue.get("relations") or []
        others = self._issues_by_id(relation_as_read_from(raw, str(issue["id"]))[1] for raw in relations)
        return [
            parse_relation(
                raw, task_id=str(issue["id"]), slug=self.slug, base_url=self.base_url, others=others
            )
            for raw in relations
        ]

    def link_tasks(
        self, task_id: str, other_id: str, link_type: LinkType, *, outward: bool = True
    ) -> TaskLink:
        task_id, other_id = segment(task_id), segment(other_id)
        if task_id == other_id:
            raise errors.InvalidInput(
                f"A task can't be linked to itself (#{task_id}).", field_errors={"other": task_id}
            )
        if link_type.id not in FORWARD_TYPES:
            names = ", ".join(t.name for t in link_types())
            raise errors.InvalidInput(
                f"Redmine has no link type {link_type.name!r}; its types: {names}.",
                field_errors={"kind": link_type.name},
            )
        source, target = (task_id, other_id) if outward else (other_id, task_id)
        body = {"relation": {"issue_to_id": int(target), "relation_type": link_type.id}}
        try:
            raw = self.http.post(f"issues/{source}/relations.json", json=body)["relation"]
        except errors.InvalidInput:
            self._explain_refused_link(task_id, other_id)
            raise
        others = self._issues_by_id([other_id])
        return parse_relation(raw, task_id=task_id, slug=self.slug, base_url=self.base_url, others=others)

    def unlink_tasks(self, link_id: str) -> None:
        self.http.delete(f"relations/{segment(link_id)}.json")

    # --- internals -------------------------------------------------------------------------------

    def _issues_by_id(self, issue_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The issues with these ids that this account sees (one request for up to 100)."""
        wanted = sorted(set(issue_ids), key=int)[:100]
        if not wanted:
            return {}
        params = {"issue_id": ",".join(wanted), "status_id": "*", "limit": 100}
        return {str(raw["id"]): raw for raw in self.http.get("issues.json", params=params).get("issues", [])}

    def _explain_refused_link(self, task_id: str, other_id: str) -> None:
        """After Redmine refused a relation: NotFound for a task that does not exist, Conflict for a pair
        already linked; otherwise return (Redmine's own reason stands)."""
        existing = self.list_links(task_id)  # NotFound when the task itself does not exist
        for link in existing:
            if link.other_ref == make_ref(self.slug, other_id):
                raise errors.Conflict(
                    f"#{task_id} and #{other_id} are already linked (#{task_id} {link.label} #{other_id}, link "
                    f"{link.ref}). Redmine keeps one link between two tasks: remove that one with "
                    "unlink_tasks first to link them another way."
                )
        if other_id not in self._issues_by_id([other_id]):
            raise errors.NotFound(f"Redmine has no task #{other_id} that this account can see.")
