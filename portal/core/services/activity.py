"""The audit log as people read it: filtered, paged, newest first, exported as CSV, counted per day.

Shared by the portal's Activity pages and key pages. The audit log holds no
arguments and no secrets, and nothing here adds any: a row names who, which
key, tool, connection, target, outcome and duration.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from portal.core.errors import UserFacingError

from ..models import AuditEvent, McpApiKey, OAuthGrant, ProviderConnection, User, utcnow
from .connections import LOCAL_SLUG

PAGE_SIZE = 50
CSV_ROW_LIMIT = 50_000
OUTCOMES = ("ok", "error")
# Event kinds grouped the way the filter offers them.
KIND_GROUPS: dict[str, tuple[str, ...]] = {
    "tool_call": ("tool_call",),
    "keys": ("key_created", "key_revoked", "key_rotated", "oauth_granted", "oauth_revoked"),
    "connections": ("connection_changed",),
    "sign_ins": ("login", "login_failed", "password_reset", "password_changed"),
    "team": ("user_created", "user_disabled", "user_enabled", "admin_granted", "admin_revoked"),
}
KIND_GROUP_LABELS = {
    "tool_call": "Tool calls",
    "keys": "Key and app sign-in changes",
    "connections": "Connection changes",
    "sign_ins": "Sign-ins and passwords",
    "team": "Team changes",
}
KIND_LABELS = {
    "tool_call": "tool call",
    "key_created": "key created",
    "key_revoked": "key revoked",
    "key_rotated": "key rotated",
    "oauth_granted": "app signed in",
    "oauth_revoked": "app signed out",
    "connection_changed": "connection changed",
    "login": "signed in",
    "login_failed": "sign-in failed",
    "password_reset": "password reset",
    "password_changed": "password changed",
    "user_created": "member added",
    "user_disabled": "member disabled",
    "user_enabled": "member enabled",
    "admin_granted": "made administrator",
    "admin_revoked": "administrator role removed",
}
PERIODS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


class ActivityFilterError(UserFacingError):
    """A filter value that can't be used; the message says what to pass instead."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ActivityFilter:
    """Which audit rows to show. `viewer_id` confines them to one person; None is the team-wide view."""

    viewer_id: int | None
    viewer_email: str | None = None
    member_id: int | None = None  # team-wide view: one member
    key_id: int | None = None
    grant_id: int | None = None  # an app signed in with OAuth
    connection: str | None = None  # a slug, or "local"
    tool: str | None = None
    outcome: str | None = None  # "ok" or "error"
    kind: str | None = None  # a KIND_GROUPS name
    since: datetime | None = None
    until: datetime | None = None  # exclusive

    def __post_init__(self) -> None:
        if self.outcome and self.outcome not in OUTCOMES:
            raise ActivityFilterError("outcome", "Choose the outcome ok or error, or none.")
        if self.kind and self.kind not in KIND_GROUPS:
            raise ActivityFilterError("kind", f"Choose an event of: {', '.join(KIND_GROUPS)}.")


@dataclass(frozen=True)
class ActivityRow:
    id: int
    at: datetime
    kind: str
    member_email: str | None
    member_name: str | None
    key_id: int | None
    key_name: str | None
    key_prefix: str | None
    grant_id: int | None
    app_name: str | None  # the OAuth client, for calls made through a grant
    tool: str | None
    connection: str | None
    target: str | None
    ok: bool
    error_class: str | None
    duration_ms: int | None
    client_ip: str | None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind.replace("_", " "))

    @property
    def credential(self) -> str | None:
        """Which key or app made the call, as the pages and the export name it."""
        if self.key_name:
            return self.key_name
        return f"app: {self.app_name}" if self.app_name else None

    @property
    def outcome(self) -> str:
        return "ok" if self.ok else (self.error_class or "error")


@dataclass(frozen=True)
class ActivityPage:
    rows: list[ActivityRow]
    total: int
    page: int
    page_size: int

    @property
    def last_page(self) -> int:
        return max(1, (self.total + self.page_size - 1) // self.page_size)


def period_bounds(
    period: str | None, start: date | None, end: date | None, *, now: datetime | None = None
) -> tuple[datetime | None, datetime | None]:
    """(since, until) for a preset period ('24h', '7d', '30d') or a from/to day range (whole UTC days).

    Raises ActivityFilterError for an unknown period or a range that ends before it starts.
    """
    now = now or utcnow()
    since = until = None
    if period:
        if period not in PERIODS:
            raise ActivityFilterError("period", f"Choose a period of {', '.join(PERIODS)}, or none.")
        since = now - PERIODS[period]
    if start is not None:
        day_start = datetime.combine(start, time.min, tzinfo=UTC)
        since = max(since, day_start) if since else day_start
    if end is not None:
        until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    if since is not None and until is not None and until <= since:
        raise ActivityFilterError("end", "The end date is before the start date.")
    return since, until


def _connection_slug():
    """The connection a row is about: its row's slug, or `local` for the built-in tracker's tool calls."""
    local_call = and_(
        AuditEvent.connection_id.is_(None),
        AuditEvent.kind == "tool_call",
        AuditEvent.target.like(f"{LOCAL_SLUG}:%"),
    )
    return case((local_call, LOCAL_SLUG), else_=ProviderConnection.slug)


def _base_query(filt: ActivityFilter) -> Select:
    member = aliased(User)
    query = (
        select(
            AuditEvent,
            member.email,
            member.display_name,
            McpApiKey.name,
            McpApiKey.key_prefix,
            OAuthGrant.client_name,
            _connection_slug().label("connection"),
        )
        .outerjoin(member, member.id == AuditEvent.user_id)
        .outerjoin(McpApiKey, McpApiKey.id == AuditEvent.key_id)
        .outerjoin(OAuthGrant, OAuthGrant.id == AuditEvent.grant_id)
        .outerjoin(ProviderConnection, ProviderConnection.id == AuditEvent.connection_id)
    )
    return _filtered(query, filt)


def _filtered(query: Select, filt: ActivityFilter) -> Select:
    if filt.viewer_id is not None:
        mine = AuditEvent.user_id == filt.viewer_id
        if filt.viewer_email:
            # A failed sign-in to my account has no user (the form can't tell who): it names the email.
            mine = or_(mine, and_(AuditEvent.kind == "login_failed", AuditEvent.target == filt.viewer_email))
        query = query.where(mine)
    if filt.member_id is not None:
        query = query.where(AuditEvent.user_id == filt.member_id)
    if filt.key_id is not None:
        query = query.where(AuditEvent.key_id == filt.key_id)
    if filt.grant_id is not None:
        query = query.where(AuditEvent.grant_id == filt.grant_id)
    if filt.connection:
        if filt.connection == LOCAL_SLUG:
            query = query.where(
                AuditEvent.connection_id.is_(None),
                AuditEvent.kind == "tool_call",
                AuditEvent.target.like(f"{LOCAL_SLUG}:%"),
            )
        else:
            ids = select(ProviderConnection.id).where(ProviderConnection.slug == filt.connection)
            if filt.viewer_id is not None:
                ids = ids.where(ProviderConnection.user_id == filt.viewer_id)
            query = query.where(AuditEvent.connection_id.in_(ids))
    if filt.tool:
        query = query.where(AuditEvent.tool == filt.tool)
    if filt.outcome:
        query = query.where(AuditEvent.ok.is_(filt.outcome == "ok"))
    if filt.kind:
        query = query.where(AuditEvent.kind.in_(KIND_GROUPS[filt.kind]))
    if filt.since is not None:
        query = query.where(AuditEvent.at >= filt.since)
    if filt.until is not None:
        query = query.where(AuditEvent.at < filt.until)
    return query


def _row(values) -> ActivityRow:
    event, email, name, key_name, key_prefix, app_name, connection = values
    return ActivityRow(
        id=event.id,
        at=event.at,
        kind=event.kind,
        member_email=email,
        member_name=name,
        key_id=event.key_id,
        key_name=key_name,
        key_prefix=key_prefix,
        grant_id=event.grant_id,
        app_name=app_name,
        tool=event.tool,
        connection=connection,
        target=event.target,
        ok=event.ok,
        error_class=event.error_class,
        duration_ms=event.duration_ms,
        client_ip=event.client_ip,
    )


def find_activity(
    session: Session, filt: ActivityFilter, *, page: int = 1, page_size: int = PAGE_SIZE
) -> ActivityPage:
    """One page of matching rows, newest first, with the number of all matching rows."""
    page = max(1, page)
    count_query = _filtered(
        select(func.count(AuditEvent.id)).outerjoin(
            ProviderConnection, ProviderConnection.id == AuditEvent.connection_id
        ),
        filt,
    )
    total = session.scalar(count_query) or 0
    query = (
        _base_query(filt)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return ActivityPage(
        rows=[_row(values) for values in session.execute(query).all()],
        total=total,
        page=page,
        page_size=page_size,
    )


def iter_activity(
    session: Session, filt: ActivityFilter, *, limit: int = CSV_ROW_LIMIT
) -> Iterator[ActivityRow]:
    """Every matching row, newest first (at most `limit`), read in batches."""
    query = _base_query(filt).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    for values in session.execute(query.execution_options(yield_per=500)):
        yield _row(values)


CSV_COLUMNS = (
    "time_utc",
    "member",
    "event",
    "key_or_app",
    "tool",
    "connection",
    "target",
    "outcome",
    "duration_ms",
    "client_ip",
)


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell a spreadsheet would run as a formula is written as text.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def csv_lines(rows: Iterator[ActivityRow]) -> Iterator[str]:
    """The rows as CSV text, header first, one chunk per row (for a streamed download)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for row in rows:
        writer.writerow(
            [
                _csv_cell(value)
                for value in (
                    row.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    row.member_email,
                    row.kind,
                    row.credential,
                    row.tool,
                    row.connection,
                    row.target,
                    row.outcome,
                    row.duration_ms,
                    row.client_ip,
                )
            ]
        )
        yield flush()


def tools_used(session: Session, viewer_id: int | None) -> list[str]:
    """The tool names that appear in the viewer's log (all members' when None), for the filter."""
    query = select(AuditEvent.tool).where(AuditEvent.tool.is_not(None)).distinct().order_by(AuditEvent.tool)
    if viewer_id is not None:
        query = query.where(AuditEvent.user_id == viewer_id)
    return [name for name in session.scalars(query) if name]


# --- key usage -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayCount:
    day: date
    ok: int
    errors: int

    @property
    def calls(self) -> int:
        return self.ok + self.errors


def calls_per_day(
    session: Session, key_ids: list[int], *, days: int = 14, today: date | None = None
) -> dict[int, list[DayCount]]:
    """For each key, its tool calls on each of the last `days` days (today included), ok and failed apart."""
    today = today or utcnow().date()
    first = today - timedelta(days=days - 1)
    series = {key_id: {first + timedelta(days=i): [0, 0] for i in range(days)} for key_id in key_ids}
    if key_ids:
        since = datetime.combine(first, time.min, tzinfo=UTC)
        day_of = func.date(AuditEvent.at)  # stored as UTC, so this is the UTC day on every backend
        rows = session.execute(
            select(AuditEvent.key_id, day_of, AuditEvent.ok, func.count(AuditEvent.id))
            .where(
                AuditEvent.key_id.in_(key_ids),
                AuditEvent.kind == "tool_call",
                AuditEvent.at >= since,
            )
            .group_by(AuditEvent.key_id, day_of, AuditEvent.ok)
        )
        for key_id, day, ok, count in rows:
            if isinstance(day, str):  # SQLite answers with text
                day = date.fromisoformat(day)
            counts = series[key_id].get(day)
            if counts is not None:
                counts[0 if ok else 1] += count
    return {
        key_id: [DayCount(day, ok, errors) for day, (ok, errors) in sorted(by_day.items())]
        for key_id, by_day in series.items()
    }
