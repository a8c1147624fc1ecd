"""Vendor words onto our enums, read one way: names compared case- and spacing-blind.

Where a vendor has no fixed vocabulary (Redmine's and OpenProject's statuses and
priorities are whatever an administrator named them), its known names map onto
a level or a category, and anything else is UNKNOWN rather than a guess.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from .base import PriorityLevel, StatusCategory


def normalized(name: str) -> str:
    """A name compared as people read it: "In-Progress", "in_progress" and "In  progress" are one."""
    return " ".join(name.lower().replace("-", " ").replace("_", " ").split())


def priority_level(name: str, levels: Mapping[str, PriorityLevel]) -> PriorityLevel:
    """The level a vendor's priority name stands for in `levels`, or UNKNOWN."""
    return levels.get(normalized(name), PriorityLevel.UNKNOWN)


def status_category(
    name: str,
    is_closed: bool | None,
    *,
    todo: Collection[str],
    in_progress: Collection[str],
    is_default: bool | None = None,
) -> StatusCategory:
    """A status's category: closed ones DONE; open ones only where the name clearly says.

    `todo` and `in_progress` are the vendor's normalized names that say so; an open
    status flagged as the default (where new work starts) is TODO.
    """
    if is_closed:
        return StatusCategory.DONE
    key = normalized(name)
    if key in todo:
        return StatusCategory.TODO
    if key in in_progress or "progress" in key:
        return StatusCategory.IN_PROGRESS
    if is_closed is not None and is_default:
        return StatusCategory.TODO
    return StatusCategory.UNKNOWN
