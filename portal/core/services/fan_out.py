"""Asking every connection of a user at once, from code that blocks (the portal, the command line).

Each connection's work runs in its own thread, all within one time limit; a
connection that fails or is slow becomes a ConnectionFailure that says why,
and never hides the others' results. (The worker does the same on its event
loop, in mcp_worker.connections.fan_out.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from ..db import Database
from ..providers import errors
from ..providers.base import ConnectionConfig, ProviderAdapter
from ..providers.http import HttpPolicy
from ..vault import CredentialsUnreadable, Vault
from . import connections as connection_service
from .connections import ConnectionView

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_THREADS = 8


@dataclass(frozen=True)
class ConnectionFailure:
    connection: str
    error_class: str
    message: str


def describe_failure(slug: str, exc: BaseException) -> ConnectionFailure:
    """One connection's failure as a person reads it (never a traceback, never a credential)."""
    if isinstance(exc, errors.AuthenticationFailed):
        return ConnectionFailure(
            slug, exc.kind, f"{slug} rejected the stored token ({exc}): update it under Connections."
        )
    if isinstance(exc, errors.ProviderError):
        return ConnectionFailure(slug, exc.kind, f"{slug}: {exc}")
    if isinstance(exc, TimeoutError):
        return ConnectionFailure(slug, "timed_out", f"{slug} did not answer in time ({exc}).")
    if isinstance(exc, CredentialsUnreadable):
        return ConnectionFailure(
            slug,
            "credentials_unreadable",
            f"{slug}: the stored token can't be decrypted; enter it again under Connections.",
        )
    log.error("connection %s failed unexpectedly", slug, exc_info=exc)
    return ConnectionFailure(
        slug, "internal_error", f"{slug} failed unexpectedly; the error has been logged."
    )


def run_for_each(
    targets: Sequence[ConnectionView],
    work: Callable[[ConnectionView], T],
    *,
    time_limit: float,
) -> tuple[dict[str, T], dict[str, BaseException]]:
    """Run `work(view)` for every connection concurrently; (results by slug, failures by slug)."""
    results: dict[str, T] = {}
    failures: dict[str, BaseException] = {}
    if not targets:
        return results, failures
    executor = ThreadPoolExecutor(max_workers=min(MAX_THREADS, len(targets)), thread_name_prefix="fan-out")
    try:
        futures = {executor.submit(work, view): view.slug for view in targets}
        done, pending = wait(futures, timeout=time_limit)
        for future in done:
            slug = futures[future]
            try:
                results[slug] = future.result()
            except Exception as exc:  # each connection's failure is reported, not raised
                failures[slug] = exc
        for future in pending:
            future.cancel()
            failures[futures[future]] = TimeoutError(f"no answer within {time_limit:g} seconds")
    finally:
        # Don't wait for a slow vendor: its thread ends with its own HTTP timeout.
        executor.shutdown(wait=False, cancel_futures=True)
    return results, failures


class ConnectionRunner:
    """A user's connections with a way to run one blocking operation on each connection's adapter.

    Adapters are built per operation and closed after it, so a runner can be
    used from any thread.
    """

    def __init__(
        self,
        session: Session,
        user_id: int,
        *,
        portal_url: str,
        vault: Vault,
        policy: HttpPolicy,
        database: Database,
    ):
        self.user_id = user_id
        self.portal_url = portal_url
        self.vault = vault
        self.policy = policy
        self.database = database
        rows = connection_service.user_connection_rows(session, user_id)
        self._configs: dict[str, ConnectionConfig | CredentialsUnreadable] = {}
        for row in rows:
            try:
                self._configs[row.slug] = connection_service.config_for(row, vault)
            except CredentialsUnreadable as exc:
                self._configs[row.slug] = exc
        self.views = [connection_service.local_view(portal_url)] + [
            connection_service.view_of(r) for r in rows
        ]

    @property
    def usable(self) -> list[ConnectionView]:
        return [view for view in self.views if view.is_active]

    @property
    def local(self) -> ConnectionView:
        """The built-in tracker's view, which every user has."""
        return self.views[0]

    def view(self, slug: str) -> ConnectionView | None:
        return next((view for view in self.views if view.slug == slug), None)

    def adapter(self, view: ConnectionView) -> ProviderAdapter:
        if view.is_local:
            local = connection_service.local_config(self.user_id, self.portal_url)
            return connection_service.make_adapter("local", local, self.policy, self.database)
        config = self._configs[view.slug]
        if isinstance(config, CredentialsUnreadable):
            raise config
        return connection_service.make_adapter(view.provider_type, config, self.policy, self.database)

    def run(self, view: ConnectionView, operation: Callable[[ProviderAdapter], T]) -> T:
        adapter = self.adapter(view)
        try:
            return operation(adapter)
        finally:
            adapter.close()
