"""Cutting long text at a boundary, and the last guard that keeps any result under the ceiling."""

from __future__ import annotations

import json

from mcp_worker.tools.budget import cut, cut_with_marker, fit, size_of
from mcp_worker.tools.registry import ToolOutput


def test_a_cut_falls_on_a_line_or_sentence_boundary():
    text = "First line.\nSecond sentence here. Third sentence goes on and on."
    part = cut(text, 40)
    assert part.text == "First line.\nSecond sentence here. "
    assert (part.start, part.end, part.total, part.complete) == (0, 34, len(text), False)
    assert cut(text, 40, start=part.end).text == "Third sentence goes on and on."
    assert cut(text, 1000).complete
    paragraphs = "a" * 30 + "\n\n" + "b" * 30 + ". " + "c" * 30
    assert cut(paragraphs, 70).text == "a" * 30 + "\n\n" + "b" * 30 + ". "
    assert cut("x" * 100, 10).text == "x" * 10  # no boundary: cut at the limit


def test_the_marker_says_how_much_is_left_and_where_to_read_on():
    kept, part = cut_with_marker("one. two. three. four.", 10, "Read on with offset={offset}.")
    assert kept == "one. two. \n[… 12 more characters left out, of 22. Read on with offset=10.]"
    assert part.end == 10
    whole, _ = cut_with_marker("short", 10, "never shown {offset}")
    assert whole == "short"


class Page(ToolOutput):
    title: str
    items: list[str]

    def text(self) -> str:
        return self.title + "\n" + "\n".join(self.items)


def test_the_guard_cuts_the_longest_strings_then_lists_until_it_fits():
    big = Page(title="T" * 50_000, items=["item " * 200] * 300)
    assert size_of(big.text(), big.model_dump(mode="json")) > 300_000
    text, data = fit(big, 20_000)
    assert size_of(text, data) <= 20_000
    assert "over the size limit" in data["title"]
    assert len(data["items"]) < 300 and "items were left out to stay under the size limit" in text
    small = Page(title="t", items=["a"])
    assert fit(small, 20_000) == (small.text(), json.loads(small.model_dump_json()))


def test_a_long_value_in_history_is_cut_with_a_note():
    from datetime import UTC, datetime

    from mcp_worker.tools.shapes import HISTORY_VALUE_CHARS, history_entry
    from portal.core.providers.base import HistoryEntry

    long = "A line of the old description.\n" * 5000
    entry = history_entry(
        HistoryEntry(at=datetime(2026, 3, 1, tzinfo=UTC), field="description", old=long, new="short")
    )
    assert entry.new == "short"
    assert len(entry.old) < HISTORY_VALUE_CHARS + 300
    assert entry.old.startswith("A line of the old description.\n")
    assert "more characters left out" in entry.old and "read whole with get_task" in entry.old
