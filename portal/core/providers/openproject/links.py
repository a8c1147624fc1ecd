"""Links between tasks: OpenProject's relations.

OpenProject keeps a relation in one direction per type (relates, blocks, duplicates,
precedes, includes, requires; `from` reads with the type, `to` with its reverse:
blocked, duplicated, follows, partof, required), allows one relation between two work
packages, and none of a work package to itself. It has no list of relation types to
ask for: the six are fixed. A single work package embeds its relations, so a task's
links are one read, plus one to learn which of the other work packages are done.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from .. import errors
from ..base import LinkKind, LinkType, TaskLink, make_ref
from .parse import collection_elements, link_id, links_of
from .query import filter_of, filters_param, href, work_package_path
from .workpackages import OpenProjectWorkPackages, embedded

# Canonical relation type -> (how `from` reads, how `to` reads, the generic kind of `from`, the reverse type).
RELATIONS: dict[str, tuple[str, str, LinkKind, str]] = {
    "relates": ("relates to", "relates to", LinkKind.RELATES, "relates"),
    "blocks": ("blocks", "is blocked by", LinkKind.BLOCKS, "blocked"),
    "duplicates": ("duplicates", "is duplicated by", LinkKind.DUPLICATES, "duplicated"),
    "precedes": ("precedes", "follows", LinkKind.OTHER, "follows"),
    "includes": ("includes", "is part of", LinkKind.OTHER, "partof"),
    "requires": ("requires", "is required by", LinkKind.OTHER, "required"),
}
CANONICAL = {reverse: canonical for canonical, (*_, reverse) in RELATIONS.items()}

LINK_TYPES = tuple(
    LinkType(id=name, name=name, outward=outward, inward=inward, kind=kind)
    for name, (outward, inward, kind, _reverse) in RELATIONS.items()
)


def relation_ends(raw: Mapping[str, Any]) -> tuple[str, str | None, str | None]:
    """A relation's canonical type and its ends in that type's direction: (type, source, target).

    OpenProject stores relations canonically; one given with a reverse type ("blocked") is read
    the other way round. An unknown type comes back as it is.
    """
    links = links_of(raw)
    kind, source, target = str(raw.get("type") or ""), link_id(links.get("from")), link_id(links.get("to"))
    if kind in CANONICAL:
        return CANONICAL[kind], target, source
    return kind, source, target


def parse_relation(
    raw: Mapping[str, Any], *, task_id: str, slug: str, base_url: str, done: Mapping[str, bool] | None = None
) -> TaskLink | None:
    """A relation as a link read from `task_id` (None when it does not involve that work package).

    `done` says, for the other work packages, whether they are in a closed status.
    """
    kind, source, target = relation_ends(raw)
    if task_id not in (source, target) or source is None or target is None:
        return None
    outward_phrase, inward_phrase, generic, _reverse = RELATIONS.get(kind, (kind, kind, LinkKind.OTHER, kind))
    outward = task_id == source
    other = target if outward else source
    links = links_of(raw)
    title = next(
        (
            link.get("title")
            for link in (links.get("from"), links.get("to"))
            if isinstance(link, Mapping) and link_id(link) == other
        ),
        None,
    )
    return TaskLink(
        ref=make_ref(slug, raw["id"]),
        id=str(raw["id"]),
        kind=generic if outward else generic.inverse,
        label=outward_phrase if outward else inward_phrase,
        task_ref=make_ref(slug, task_id),
        other_ref=make_ref(slug, other),
        other_key=f"#{other}",
        other_title=str(title) if title else None,
        other_done=(done or {}).get(other),
        url=f"{base_url}/work_packages/{task_id}/relations",
        extra={"type": kind, "description": raw.get("description")}
        if raw.get("description")
        else {"type": kind},
    )


def blocking_pairs(relations: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(blocker, blocked) for every "blocks" relation among these."""
    pairs = []
    for raw in relations:
        kind, source, target = relation_ends(raw)
        if kind == "blocks" and source and target:
            pairs.append((source, target))
    return pairs


class OpenProjectLinks(OpenProjectWorkPackages):
    """list_link_types, list_links, link_tasks, unlink_tasks, and which tasks are blocked now."""

    def list_link_types(self) -> list[LinkType]:
        return list(LINK_TYPES)

    def list_links(self, task_id: str) -> list[TaskLink]:
        raw = self._get_work_package(task_id)  # NotFound for an unknown task
        listed = embedded(raw, "relations")
        if isinstance(listed, Mapping):
            relations = collection_elements(listed)
        else:  # a server that does not embed them
            involved = filters_param(filter_of("involved", "=", [task_id]))
            relations = self._read_all("api/v3/relations", {"filters": involved})
        others = {end for rel in relations for end in relation_ends(rel)[1:] if end and end != task_id}
        still_open = self._work_packages_by_id(others, open_only=True)
        done = {other: other not in still_open for other in others}
        links = [
            parse_relation(rel, task_id=task_id, slug=self.slug, base_url=self.base_url, done=done)
            for rel in relations
        ]
        return [link for link in links if link is not None]

    def link_tasks(
        self, task_id: str, other_id: str, link_type: LinkType, *, outward: bool = True
    ) -> TaskLink:
        if task_id == other_id:
            raise errors.InvalidInput(
                "OpenProject can't relate a work package to itself.", field_errors={"other": "the same task"}
            )
        if link_type.id not in RELATIONS:
            raise errors.InvalidInput(
                f"OpenProject has no link type {link_type.name!r}; choose one of: {', '.join(RELATIONS)}.",
                field_errors={"kind": link_type.name},
            )
        source, target = (task_id, other_id) if outward else (other_id, task_id)
        payload = {"type": link_type.id, "_links": {"to": {"href": href("work_packages", target)}}}
        try:
            raw = self.http.post(f"{work_package_path(source)}/relations", json=payload)
        except errors.Conflict:
            raise errors.Conflict(
                f"OpenProject already relates #{task_id} and #{other_id}, and allows one relation between two "
                "work packages: remove it with unlink_tasks first."
            ) from None
        except errors.InvalidInput as exc:
            if "other_id" in exc.field_errors:  # the `to` end does not exist, or is hidden from us
                missing = target
                raise errors.NotFound(
                    f"OpenProject found no work package #{missing} visible to this account."
                ) from None
            raise
        link = parse_relation(raw, task_id=task_id, slug=self.slug, base_url=self.base_url)
        if link is None:
            raise errors.ProviderError("OpenProject accepted the relation but did not return it.")
        return link

    def unlink_tasks(self, link_id: str) -> None:
        self.http.delete(f"api/v3/relations/{quote(link_id, safe='')}")

    def _blocked_ids(self) -> set[str]:
        """The work packages blocked now: by a "blocks" relation from one still open."""
        blocks = filters_param(filter_of("type", "=", ["blocks"]))
        pairs = blocking_pairs(self._read_all("api/v3/relations", {"filters": blocks}))
        if not pairs:
            return set()
        still_open = self._work_packages_by_id({blocker for blocker, _ in pairs}, open_only=True)
        return {blocked for blocker, blocked in pairs if blocker in still_open}
