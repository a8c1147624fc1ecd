"""Turning what a person (or an AI client) types into what a provider needs.

Refs are `<connection slug>:<native id>`; people are `me`, an email, a display
name or a user ref; statuses and priorities are names, case-insensitive. Every
failure is a ResolveError whose message lists what would have been valid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from portal.core.errors import UserFacingError

from ..providers.base import Priority, PriorityLevel, Status, StatusCategory, User

MAX_CHOICES_SHOWN = 25


class ResolveError(UserFacingError):
    """An argument names nothing valid; the message says what would be."""


def _choices(values: Sequence[str]) -> str:
    shown = list(values[:MAX_CHOICES_SHOWN])
    more = len(values) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


@dataclass(frozen=True)
class Ref:
    slug: str | None
    native: str

    def __str__(self) -> str:
        return f"{self.slug}:{self.native}" if self.slug else self.native


def parse_ref(value: str, what: str = "ref") -> Ref:
    """A ref `<connection>:<id>`, or a bare id (its slug None).

    Raises ResolveError for an empty or malformed ref.
    """
    value = (value or "").strip()
    if not value:
        raise ResolveError(f"Give a {what}, such as 'acme-jira:PROJ-12'.")
    slug, sep, native = value.partition(":")
    if not sep:
        return Ref(None, value)
    if not slug or not native:
        raise ResolveError(
            f"{value!r} is not a {what}: refs look like '<connection>:<id>', such as 'acme-jira:PROJ-12'."
        )
    return Ref(slug.strip().lower(), native.strip())


def resolve_slug(ref: Ref, slugs: Sequence[str], what: str = "ref") -> str:
    """The connection a ref belongs to: its own slug, or the only connection for a bare id.

    Raises ResolveError for a bare id among several connections, or a slug that is none of `slugs`.
    """
    if ref.slug is None:
        if len(slugs) == 1:
            return slugs[0]
        raise ResolveError(
            f"{ref.native!r} is ambiguous: you have several connections. Write the {what} as "
            f"'<connection>:{ref.native}' with one of: {_choices(list(slugs))}.",
            error_class="ambiguous_ref",
        )
    if ref.slug not in slugs:
        raise ResolveError(
            f"There is no connection {ref.slug!r} among yours: {_choices(list(slugs))}. "
            "Call list_connections to see them.",
            error_class="not_found",
        )
    return ref.slug


def _describe_user(user: User) -> str:
    return f"{user.name} <{user.email}>" if user.email else f"{user.name} ({user.ref})"


def match_person(spec: str, candidates: Sequence[User], *, me: User | None, where: str) -> User:
    """Pick the one person `spec` names among `candidates` (`me`, an email, a name or a user ref).

    Raises ResolveError when `spec` names several of them, or (error_class "not_found") no one.
    """
    spec = (spec or "").strip()
    lowered = spec.lower()
    if lowered == "me":
        if me is None:
            raise ResolveError("'me' can't be resolved here.")
        return me
    if ":" in spec and "@" not in spec:
        native = spec.partition(":")[2]
        for user in candidates:
            if user.ref.lower() == lowered or user.id == native:
                return user
    elif "@" in spec:
        for user in candidates:
            if user.email and user.email.lower() == lowered:
                return user
    else:
        exact = [u for u in candidates if u.name.lower() == lowered]
        if len(exact) == 1:
            return exact[0]
        partial = exact or [u for u in candidates if lowered and lowered in u.name.lower()]
        if len(partial) == 1:
            return partial[0]
        if len(partial) > 1:
            raise ResolveError(
                f"{spec!r} matches several people {where}: {_choices([_describe_user(u) for u in partial])}. "
                "Use an email or a user ref."
            )
    if me is not None and me.ref.lower() == lowered:
        return me
    names = [_describe_user(u) for u in candidates]
    raise ResolveError(
        f"No one {where} is {spec!r}. Choose one of: {_choices(names) or 'nobody is listed'}, or 'me'.",
        error_class="not_found",
    )


def match_status(name: str, statuses: Sequence[Status], *, where: str) -> Status:
    """The status called `name` (case-insensitive) among `statuses`.

    Raises ResolveError naming the valid statuses when none is called `name`.
    """
    lowered = (name or "").strip().lower()
    for status in statuses:
        if status.name.lower() == lowered:
            return status
    valid = sorted({s.name for s in statuses})
    raise ResolveError(
        f"{name!r} is not a status {where}. Valid: {_choices(valid) or 'none'}.", error_class="invalid_status"
    )


CATEGORY_WORDS = {
    "todo": StatusCategory.TODO,
    "to do": StatusCategory.TODO,
    "open": None,  # todo and in progress
    "in_progress": StatusCategory.IN_PROGRESS,
    "in progress": StatusCategory.IN_PROGRESS,
    "done": StatusCategory.DONE,
}


def parse_category(value: str) -> frozenset[StatusCategory]:
    """'todo', 'in_progress', 'done' or 'open' (todo and in progress) as a set of categories.

    Raises ResolveError for any other word.
    """
    lowered = (value or "").strip().lower()
    if lowered not in CATEGORY_WORDS:
        raise ResolveError(f"{value!r} is not a status category. Valid: todo, in_progress, done, open.")
    category = CATEGORY_WORDS[lowered]
    if category is None:
        return frozenset({StatusCategory.TODO, StatusCategory.IN_PROGRESS})
    return frozenset({category})


def match_priority(name: str, priorities: Sequence[Priority], *, where: str) -> Priority:
    """A priority by the vendor's name, else by level (lowest, low, medium, high, highest).

    Raises ResolveError naming the valid priorities when neither matches.
    """
    lowered = (name or "").strip().lower()
    for priority in priorities:
        if priority.name.lower() == lowered:
            return priority
    try:
        level = PriorityLevel(lowered)
    except ValueError:
        level = None
    if level is not None:
        for priority in priorities:
            if priority.level == level:
                return priority
    valid = [p.name for p in priorities]
    raise ResolveError(
        f"{name!r} is not a priority {where}. Valid: {_choices(valid) or 'none'} "
        "(or a level: lowest, low, medium, high, highest).",
        error_class="invalid_priority",
    )
