"""The result ceiling: no tool result is longer than MCP_MAX_RESULT_TOKENS (4 characters a token).

Tools cut their long fields (descriptions, comment bodies) themselves, at a line or sentence
boundary, with a marker saying how much was left out and which call reads on. `fit()` is the
last guard, applied to every result in the registry: whatever a tool returned, the text and the
structured content together stay under the ceiling.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:
    from .registry import ToolOutput

CHARS_PER_TOKEN = 4
# Where a cut may fall, best first: a paragraph, a line, a sentence, a clause, a word.
BOUNDARIES = ("\n\n", "\n", ". ", "! ", "? ", "; ", ", ", " ")
SHORTEST_CUT = 200  # the guard never cuts a string below this


@dataclass(frozen=True)
class Cut:
    """Part of a text: `text` is text[start:end] (cut at a boundary); `total` its whole length."""

    text: str
    start: int
    end: int
    total: int

    @property
    def left_out(self) -> int:
        return self.total - self.end

    @property
    def complete(self) -> bool:
        return self.end >= self.total


def cut(text: str, limit: int, *, start: int = 0) -> Cut:
    """text from `start`, at most `limit` characters, ending at the best boundary in its last half."""
    total = len(text)
    start = max(0, min(start, total))
    rest = text[start:]
    if len(rest) <= limit:
        return Cut(rest, start, total, total)
    window = rest[:limit]
    end = limit
    for boundary in BOUNDARIES:
        at = window.rfind(boundary, limit // 2)
        if at != -1:
            end = at + len(boundary)
            break
    return Cut(rest[:end], start, start + end, total)


def marker(part: Cut, how: str) -> str:
    """The note put where a text was cut: how much is left out and how to read on."""
    return f"\n[… {part.left_out:,} more characters left out, of {part.total:,}. {how}]"


def cut_with_marker(text: str, limit: int, how: str, *, start: int = 0) -> tuple[str, Cut]:
    """`cut()`, with the marker appended when something is left out; `how` may use {offset}."""
    part = cut(text, limit, start=start)
    if part.complete:
        return part.text, part
    return part.text + marker(part, how.format(offset=part.end)), part


def ceiling_chars(max_tokens: int) -> int:
    return max_tokens * CHARS_PER_TOKEN


def size_of(text: str, structured: dict[str, Any] | None) -> int:
    """What a result costs: its text and its structured content as JSON."""
    return len(text) + (len(json.dumps(structured, separators=(",", ":"))) if structured is not None else 0)


GUARD_NOTE = (
    "The result was over the size limit: ask for less (a smaller limit, detail='summary'), "
    "or read this field alone with the tool that returns it"
)


def fit(output: ToolOutput, max_chars: int) -> tuple[str, dict[str, Any]]:
    """The result's text and structured content, cut (longest strings first, then longest lists) to fit."""
    text = output.text()
    data = output.model_dump(mode="json")
    if size_of(text, data) <= max_chars:
        return text, data
    model = type(output)
    dropped = 0

    def render() -> str:
        try:
            rendered = model.model_validate(data).text()
        except ValidationError:
            rendered = ""
        if dropped:
            rendered += (
                f"\n[{dropped:,} items were left out to stay under the size limit; "
                "ask for fewer (a smaller limit) to see them.]"
            )
        return rendered

    for _ in range(5000):  # each round makes the result smaller; the bound is only a safety net
        if size_of(text, data) <= max_chars:
            return text, data
        if not _shorten_longest_string(data):
            removed = _shorten_longest_list(data)
            if not removed:
                break
            dropped += removed
        text = render()
    # Nothing left to cut in the structure: keep the text alone, cut too.
    budget = max(SHORTEST_CUT, max_chars - size_of("", data) - 200)
    kept, _ = cut_with_marker(text, budget, GUARD_NOTE + ".")
    if size_of(kept, data) <= max_chars:
        return kept, data
    raise ResultTooLarge(max_chars)


class ResultTooLarge(Exception):
    def __init__(self, max_chars: int):
        super().__init__(f"a result could not be cut under {max_chars} characters")


def _strings(node: Any, path: tuple = ()) -> list[tuple[tuple, str]]:
    if isinstance(node, str):
        return [(path, node)]
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in _strings(value, (*path, key))]
    if isinstance(node, list):
        return [s for i, value in enumerate(node) for s in _strings(value, (*path, i))]
    return []


def _lists(node: Any, path: tuple = ()) -> list[tuple[tuple, list]]:
    found: list[tuple[tuple, list]] = []
    if isinstance(node, list):
        found.append((path, node))
        for i, value in enumerate(node):
            found += _lists(value, (*path, i))
    elif isinstance(node, dict):
        for key, value in node.items():
            found += _lists(value, (*path, key))
    return found


def _set(data: Any, path: tuple, value: Any) -> None:
    for step in path[:-1]:
        data = data[step]
    data[path[-1]] = value


def _shorten_longest_string(data: dict[str, Any]) -> bool:
    strings = [(path, s) for path, s in _strings(data) if len(s) > 2 * SHORTEST_CUT]
    if not strings:
        return False
    path, longest = max(strings, key=lambda item: len(item[1]))
    kept, _ = cut_with_marker(longest, max(SHORTEST_CUT, len(longest) // 2), GUARD_NOTE + ".")
    _set(data, path, kept)
    return True


def _shorten_longest_list(data: dict[str, Any]) -> int:
    """Halve the list that takes the most room; how many items went."""
    lists = [(path, items) for path, items in _lists(data) if len(items) > 1]
    if not lists:
        return 0
    path, longest = max(lists, key=lambda item: len(json.dumps(item[1])))
    _set(data, path, longest[: len(longest) // 2])
    return len(longest) - len(longest) // 2


@dataclass(frozen=True)
class Budget:
    """How much of the ceiling each long field may take, so that a tool's own cuts come first."""

    max_chars: int

    @classmethod
    def of(cls, max_tokens: int) -> Budget:
        return cls(ceiling_chars(max_tokens))

    @property
    def description(self) -> int:
        """One task's description (it appears in the text and the structured content alike)."""
        return self.max_chars // 5

    def each(self, count: int, *, share: int = 5, least: int = 300) -> int:
        """One of `count` long fields that together take a `share`-th of the ceiling."""
        return max(least, self.max_chars // share // max(1, count))
