"""Toolsets: the named groups of tools a key or an OAuth grant may expose to its client.

Every tool belongs to exactly one toolset (or is always there, like `whoami`); this module is
the one place that says which. A credential stores the toolsets its user ticked; a credential
stored before toolsets existed (NULL) has the default ones. `tool_sizes.json` beside this module
records how many characters each tool takes in `tools/list`, measured from the worker's real
listing (a test keeps it current), so the portal can show a key's cost without starting a worker.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TOOLSETS: dict[str, str] = {
    "tasks": "Tasks, comments, people, statuses and projects",
    "sprints": "Sprints, epics and moving tasks between sprints",
    "work": "Links between tasks, logged work, history and fields",
    "analytics": "Burndown, velocity, cycle time, sprint health and changes since",
    "bulk": "Creating and updating many tasks in one call",
}
DEFAULT_TOOLSETS: frozenset[str] = frozenset(TOOLSETS) - {"bulk"}
ALWAYS = "always"  # the toolset of the tools every credential has

_MEMBERS: dict[str, tuple[str, ...]] = {
    ALWAYS: ("whoami", "list_connections"),
    "tasks": (
        "list_tasks",
        "list_my_tasks",
        "search_tasks",
        "get_task",
        "create_task",
        "update_task",
        "set_task_status",
        "assign_task",
        "delete_task",
        "add_comment",
        "list_comments",
        "get_current_user",
        "list_projects",
        "get_project",
        "list_statuses",
        "list_users",
    ),
    "sprints": (
        "list_sprints",
        "get_sprint",
        "list_epics",
        "get_epic",
        "create_sprint",
        "update_sprint",
        "move_to_sprint",
    ),
    "work": ("link_tasks", "unlink_tasks", "log_work", "list_worklogs", "get_task_history", "list_fields"),
    "analytics": ("burndown", "velocity", "cycle_time", "sprint_health", "changes_since"),
    "bulk": ("bulk_create_tasks", "bulk_update_tasks"),
}
TOOL_TOOLSET: dict[str, str] = {tool: toolset for toolset, tools in _MEMBERS.items() for tool in tools}

SIZES_FILE = Path(__file__).with_name("tool_sizes.json")
CHARS_PER_TOKEN = 4


class UnknownToolset(ValueError):
    """A toolset name that doesn't exist; the message lists the valid ones."""


def toolset_of(tool: str) -> str | None:
    """The toolset a tool belongs to (ALWAYS for the ones every credential has), None if unknown."""
    return TOOL_TOOLSET.get(tool)


def parse_toolsets(names: Iterable[str]) -> frozenset[str]:
    """Toolset names as given by a person (any case, spaces around); raise UnknownToolset otherwise."""
    chosen = {name.strip().lower() for name in names if name and name.strip()}
    unknown = sorted(chosen - set(TOOLSETS))
    if unknown:
        raise UnknownToolset(
            f"Unknown toolset {', '.join(repr(u) for u in unknown)}; choose among: {', '.join(TOOLSETS)}."
        )
    if not chosen:
        raise UnknownToolset(f"Choose at least one toolset among: {', '.join(TOOLSETS)}.")
    return frozenset(chosen)


def stored_toolsets(toolsets: Iterable[str] | None) -> list[str] | None:
    """Toolsets as a JSON column keeps them: in the order of TOOLSETS, or None for the default."""
    if toolsets is None:
        return None
    chosen = set(toolsets)
    return [name for name in TOOLSETS if name in chosen]


def loaded_toolsets(stored: Iterable[str] | None) -> frozenset[str]:
    """The toolsets a stored credential has: the stored ones (unknown names dropped), else the default."""
    if stored is None:
        return DEFAULT_TOOLSETS
    return frozenset(name for name in stored if name in TOOLSETS)


def describe_toolsets(toolsets: Iterable[str]) -> str:
    chosen = set(toolsets)
    return ", ".join(name for name in TOOLSETS if name in chosen) or "none"


# --- the cost of a listing ----------------------------------------------------------------


@dataclass(frozen=True)
class ToolSize:
    name: str
    toolset: str
    read_only: bool
    chars: int  # the tool's JSON in tools/list


@dataclass(frozen=True)
class ListingCost:
    tools: int
    chars: int

    @property
    def tokens(self) -> int:
        """Approximate tokens: 4 characters a token, rounded up."""
        return -(-self.chars // CHARS_PER_TOKEN)


# '{"tools":[' + ']}', and a comma between two tools: the JSON of a tools/list result.
_ENVELOPE = len('{"tools":[]}')


@cache
def tool_sizes() -> tuple[ToolSize, ...]:
    """The recorded size of every tool in tools/list (see the module docstring)."""
    rows = json.loads(SIZES_FILE.read_text())
    return tuple(ToolSize(**row) for row in rows)


def listing_cost(
    toolsets: Iterable[str], *, read_only: bool, sizes: Iterable[ToolSize] | None = None
) -> ListingCost:
    """How many tools a credential with these toolsets sees, and the characters of its tools/list."""
    allowed = set(toolsets) | {ALWAYS}
    chosen = [
        size
        for size in (tool_sizes() if sizes is None else sizes)
        if size.toolset in allowed and (size.read_only or not read_only)
    ]
    chars = _ENVELOPE + sum(size.chars for size in chosen) + max(0, len(chosen) - 1)
    return ListingCost(tools=len(chosen), chars=chars)
