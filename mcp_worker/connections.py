"""The calling user's connections inside the worker, and their adapters.

Connection rows are read on every tool call (one small query), so a connection
disabled, deleted or edited in the portal takes effect at once; adapters (with
their pooled HTTP sessions) are reused while the row is unchanged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio

from portal.core.errors import UserFacingError
from portal.core.principals import Limits
from portal.core.providers.base import ProviderAdapter
from portal.core.providers.errors import ProviderError
from portal.core.providers.http import scrub
from portal.core.services import connections as connection_service
from portal.core.services.connections import ConnectionView
from portal.core.services.resolve import Ref, ResolveError, parse_ref, resolve_slug
from portal.core.vault import CredentialsUnreadable

from .runtime import Runtime

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_CACHED_ADAPTERS = 256


class ConnectionUnusable(UserFacingError):
    """A connection that can't serve requests now (disabled, or its credentials unreadable)."""

    def __init__(self, view: ConnectionView, message: str, error_class: str):
        super().__init__(message, error_class=error_class)
        self.view = view


class AdapterCache:
    """Adapters keyed by connection and its last change; the least recently used are closed."""

    def __init__(self, runtime: Runtime):
        self._runtime = runtime
        self._adapters: OrderedDict[tuple, ProviderAdapter] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self, user_id: int, view: ConnectionView, build: Callable[[], ProviderAdapter]
    ) -> ProviderAdapter:
        key = ("local", user_id) if view.is_local else (view.id, view.updated_at)
        with self._lock:
            adapter = self._adapters.get(key)
            if adapter is not None:
                self._adapters.move_to_end(key)
                return adapter
            stale = [k for k in self._adapters if not view.is_local and k[0] == view.id]
            for old in stale:
                self._adapters.pop(old).close()
            adapter = build()
            self._adapters[key] = adapter
            while len(self._adapters) > MAX_CACHED_ADAPTERS:
                _, evicted = self._adapters.popitem(last=False)
                evicted.close()
            return adapter

    def close(self) -> None:
        with self._lock:
            for adapter in self._adapters.values():
                adapter.close()
            self._adapters.clear()


@dataclass
class UserConnections:
    """One tool call's view of the user's connections."""

    runtime: Runtime
    cache: AdapterCache
    user_id: int
    views: list[ConnectionView]
    rows: dict[str, Any]

    @property
    def usable(self) -> list[ConnectionView]:
        return [v for v in self.views if v.is_active]

    @property
    def slugs(self) -> list[str]:
        return [v.slug for v in self.usable]

    def view(self, slug: str) -> ConnectionView:
        for view in self.views:
            if view.slug == slug:
                if not view.is_active:
                    raise ConnectionUnusable(
                        view,
                        f"The connection {slug!r} is disabled. Enable it in the portal at "
                        f"{self.runtime.settings.public_portal_url}/connections.",
                        "connection_disabled",
                    )
                return view
        raise ResolveError(
            f"There is no connection {slug!r} among yours: {', '.join(self.slugs)}.", error_class="not_found"
        )

    def resolve(self, value: str, what: str = "ref") -> tuple[ConnectionView, str]:
        """(connection, native id) for a ref or, with a single connection, a bare id."""
        ref: Ref = parse_ref(value, what)
        slug = resolve_slug(ref, self.slugs if ref.slug is None else [v.slug for v in self.views], what)
        return self.view(slug), ref.native

    def choose(self, slug: str | None) -> ConnectionView:
        """The named connection, or the only one; an error listing them when it's ambiguous."""
        if slug:
            return self.view(slug.strip().lower())
        if len(self.usable) == 1:
            return self.usable[0]
        raise ResolveError(
            f"Say which connection: {', '.join(self.slugs)} (or pass a project ref).",
            error_class="ambiguous_ref",
        )

    def adapter(self, view: ConnectionView) -> ProviderAdapter:
        settings = self.runtime.settings

        def build() -> ProviderAdapter:
            if view.is_local:
                config = connection_service.local_config(self.user_id, settings.public_portal_url)
                return connection_service.make_adapter(
                    "local", config, self.runtime.policy, self.runtime.database
                )
            try:
                config = connection_service.config_for(self.rows[view.slug], self.runtime.vault)
            except CredentialsUnreadable as exc:
                raise ConnectionUnusable(
                    view,
                    f"{view.slug}: {exc} ({settings.public_portal_url}/connections)",
                    "credentials_unreadable",
                ) from None
            return connection_service.make_adapter(
                view.provider_type, config, self.runtime.policy, self.runtime.database
            )

        return self.cache.get(self.user_id, view, build)

    async def run(self, view: ConnectionView, operation: Callable[[ProviderAdapter], T]) -> T:
        """Run one blocking adapter operation in a bounded worker thread."""
        adapter = self.adapter(view)
        try:
            return await self.runtime.in_connection_thread(
                self.user_id, view.slug, lambda: operation(adapter)
            )
        except ProviderError as exc:
            # A vendor may echo the token in an error body, in a message an adapter builds itself.
            redact_text = getattr(adapter, "redact", None)
            if redact_text is not None:
                scrub(exc, redact_text)
            raise


class ConnectionDirectory:
    """Loads a user's connection rows, keeping them for as long as verified keys are kept.

    Within that short window (MCP_KEY_CACHE_SECONDS, a few seconds at most) a
    burst of tool calls reads the database once; a connection changed in the
    portal is seen after it, like a revoked key.
    """

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.cache = AdapterCache(runtime)
        self._ttl = runtime.settings.key_cache_seconds
        self._rows: dict[int, tuple[float, list]] = {}

    async def for_user(self, user_id: int, limits: Limits | None = None) -> UserConnections:
        """The user's connections within a credential's limits: the others are invisible, as another
        user's are (a ref to one is "not found")."""
        now = time.monotonic()
        cached = self._rows.get(user_id)
        if cached is not None and now - cached[0] < self._ttl:
            rows = cached[1]
        else:
            rows = await self.runtime.in_db_thread(self._load, user_id)
            if self._ttl > 0:
                if len(self._rows) > 10_000:
                    self._rows.clear()
                self._rows[user_id] = (now, rows)
        limits = limits or Limits()
        views = [connection_service.local_view(self.runtime.settings.public_portal_url)]
        views += [connection_service.view_of(row) for row in rows]
        views = [view for view in views if limits.allows_connection(view.id)]
        return UserConnections(
            runtime=self.runtime,
            cache=self.cache,
            user_id=user_id,
            views=views,
            rows={row.slug: row for row in rows if limits.allows_connection(row.id)},
        )

    def _load(self, user_id: int):
        with self.runtime.database.session() as session:
            rows = connection_service.user_connection_rows(session, user_id)
            session.expunge_all()
            return rows

    def close(self) -> None:
        self.cache.close()


def expected_failure(exc: BaseException) -> bool:
    """A failure with a message meant for the user, as opposed to a bug in this server."""
    return isinstance(exc, UserFacingError | TimeoutError)


async def fan_out(
    targets: list[ConnectionView],
    work: Callable[[ConnectionView], Any],
    *,
    time_limit: float,
) -> tuple[dict[str, Any], dict[str, BaseException]]:
    """Run `work(view)` for every connection concurrently, each within `time_limit` seconds.

    Returns (results by slug, failures by slug): one failing or slow connection
    never sinks the others. A failure that is not one of the expected kinds (a
    provider error, a timeout, an error carrying a message for the user) is a
    bug: it is logged here with its traceback before being reported.
    """
    results: dict[str, Any] = {}
    failures: dict[str, BaseException] = {}

    async def one(view: ConnectionView) -> None:
        try:
            with anyio.fail_after(time_limit):
                results[view.slug] = await work(view)
        except TimeoutError:
            failures[view.slug] = TimeoutError(f"no answer within {time_limit:g} seconds")
        except Exception as exc:  # each connection's failure is reported, not raised
            if not expected_failure(exc):
                log.error(
                    "connection %s failed with an unexpected %s", view.slug, type(exc).__name__, exc_info=exc
                )
            failures[view.slug] = exc

    async with anyio.create_task_group() as tg:
        for view in targets:
            tg.start_soon(one, view)
    return results, failures
