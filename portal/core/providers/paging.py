"""Paging, one way for every adapter: our opaque cursors, and walking a vendor's pages.

A cursor is whole numbers an adapter packed into a string ("40", or "t:3:40" with
a kind and several numbers); `cursor_numbers` reads them back and refuses any
other shape. `read_all` walks a vendor collection page by page; each vendor says
only how to fetch one page and where the next one starts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from . import errors
from .base import Page, PageRequest, is_number

T = TypeVar("T")
P = TypeVar("P")

FOREIGN_CURSOR = "That page cursor was not issued by this connection; start again without it."
MAX_PAGES = 50
"""How many vendor pages a whole-collection read walks at most."""


def cursor_numbers(cursor: str | None, count: int, kind: str | None = None) -> tuple[int, ...] | None:
    """The `count` whole numbers packed into `cursor` (after `kind:` when given); None without a cursor.

    Raises InvalidInput when the cursor has another shape, another kind or a negative number.
    """
    if not cursor:
        return None
    parts = cursor.split(":")
    if kind is not None:
        if parts[0] != kind:
            raise errors.InvalidInput(FOREIGN_CURSOR, field_errors={"cursor": cursor[:40]})
        parts = parts[1:]
    if len(parts) != count or not all(is_number(part) for part in parts):
        raise errors.InvalidInput(FOREIGN_CURSOR, field_errors={"cursor": cursor[:40]})
    return tuple(int(part) for part in parts)


def make_cursor(*numbers: int, kind: str | None = None) -> str:
    """The cursor `cursor_numbers` reads back as `numbers`."""
    return ":".join(([kind] if kind else []) + [str(number) for number in numbers])


def offset_from(page: PageRequest) -> int:
    """The position an offset cursor stands for (0 without a cursor); raises InvalidInput for another cursor."""
    numbers = cursor_numbers(page.cursor, 1)
    return numbers[0] if numbers else 0


def next_offset(offset: int, shown: int, total: int) -> str | None:
    """The cursor of the page after one that started at `offset` and showed `shown` of `total`."""
    return str(offset + shown) if shown and offset + shown < total else None


def page_of(items: list[T], page: PageRequest) -> Page[T]:
    """One page of a list that is complete in memory (paged on our side)."""
    start = offset_from(page)
    chunk = items[start : start + max(1, page.limit)]
    return Page(chunk, next_offset(start, len(chunk), len(items)), len(items))


def page_size(page: PageRequest, maximum: int) -> int:
    """The page size to ask a vendor for: what the caller wants, within 1 and the vendor's maximum."""
    return max(1, min(page.limit, maximum))


def after(start: int, count: int, total: Any) -> int | None:
    """Where the vendor page after `count` items from `start` begins, or None when `total` is reached."""
    if not count or not isinstance(total, int) or isinstance(total, bool) or start + count >= total:
        return None
    return start + count


def read_all(
    fetch: Callable[[P], tuple[Sequence[T], P | None]], first: P, *, max_pages: int = MAX_PAGES
) -> list[T]:
    """Every item of a paged vendor collection, up to `max_pages` pages.

    `fetch(position)` answers one page: its items, and the position of the next page or None at
    the end. Whatever `fetch` raises (a ProviderError) passes through.
    """
    items: list[T] = []
    position: P | None = first
    for _ in range(max_pages):
        if position is None:
            break
        chunk, position = fetch(position)
        items.extend(chunk)
        if not chunk:
            break
    return items
