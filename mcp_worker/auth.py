"""Authentication of every HTTP request, by MCP API key or OAuth access token, before any MCP session exists.

- A key comes in `X-MCP-API-Key: mcp_...` or `Authorization: Bearer mcp_...`; an
  OAuth access token (issued by the portal) in `Authorization: Bearer pmat_...`.
  A credential in the query string is refused (it would land in access logs).
- Refusals are HTTP 401 with a JSON-RPC error body saying why, in words a
  person can act on, and `WWW-Authenticate: Bearer resource_metadata=...`
  pointing OAuth clients at this server's RFC 9728 metadata.
- Only a presented credential that is wrong (malformed, unknown, revoked,
  expired) counts against the client's address; once too many did, wrong
  credentials from there get 429 for a while. A valid key or token is never
  refused by that throttle, and a request without any credential is not counted.
- Only the transports' paths are guarded here: the app serves the rest (health,
  the RFC 9728 metadata) or answers 404 with a JSON body saying how to connect
  (clients probing other discovery paths then show that message).
- Both kinds resolve to one `Principal` (user, credential, limits). Accepted
  credentials are cached for a few seconds at most (`MCP_KEY_CACHE_SECONDS`), so
  revocation, expiry and disabling take effect on the next request after that;
  long-lived streams are re-checked on the same clock and closed.
- The principal becomes the request's `scope["user"]`, which the SDK uses to
  bind each MCP session to the credential that opened it.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

import anyio
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.core.db import DatabaseUnavailable, is_busy
from portal.core.keys import KEY_PATTERN, check_presented_key, hash_key, load_key
from portal.core.oauth.grants import (
    ACCESS_TOKEN_PREFIX,
    READ_SCOPE,
    WRITE_SCOPE,
    load_access_token,
    looks_like_access_token,
    worker_resources,
)
from portal.core.principals import CredentialRejected, Principal, ensure_usable

from .audit import AuditRecord, UsageRecorder  # noqa: F401  (AuditRecord: the tools import it from here)
from .runtime import Runtime
from .throttle import AuthThrottle

log = logging.getLogger(__name__)


AUTH_ERROR_CODE = -32001
PRINCIPAL_KEY = "pm.principal"
PRESENTED_KEY = "pm.presented"
DATABASE_ERRORS = (SQLAlchemyError, DatabaseUnavailable)
QUERY_KEY_NAMES = {"api_key", "apikey", "key", "token", "access_token", "x-mcp-api-key", "mcp_api_key"}
# RFC 9728 metadata: at the root, and path-suffixed for each MCP endpoint.
RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource"
MCP_ENDPOINTS = ("/mcp", "/sse")
# A presented credential refused for one of these reasons counts as a failed attempt from its address.
COUNTED_REASONS = frozenset({"malformed", "unknown", "revoked", "expired"})
GUARDED_PATHS = frozenset(MCP_ENDPOINTS)
GUARDED_PREFIXES = ("/messages/",)


def principal_of(scope: Scope) -> Principal | None:
    return scope.get(PRINCIPAL_KEY)


def resource_metadata_url(public_mcp_url: str, path: str) -> str:
    """Where the RFC 9728 metadata for a request's path lives (the path-suffixed form for MCP endpoints)."""
    suffix = next((endpoint for endpoint in MCP_ENDPOINTS if path.startswith(endpoint)), "")
    if path.startswith("/messages"):
        suffix = "/sse"
    return f"{public_mcp_url}{RESOURCE_METADATA_PATH}{suffix}"


@dataclass(frozen=True)
class Presented:
    """A checked credential's kind and digest (never the raw value)."""

    kind: str  # "key" or "token"
    digest: str


def check_presented(raw: str | None) -> Presented:
    """Tell a key from an access token and check its form, without touching the database."""
    if raw and raw.startswith(ACCESS_TOKEN_PREFIX):
        if not looks_like_access_token(raw):
            raise CredentialRejected(
                "malformed", "The OAuth access token is malformed. Sign in again from your client."
            )
        return Presented("token", hash_key(raw))
    return Presented("key", check_presented_key(raw))


class CredentialVerifier:
    """Verifies keys and access tokens against the database, with a short-lived cache of accepted ones."""

    def __init__(self, runtime: Runtime, ttl: float):
        self._runtime = runtime
        self._ttl = ttl
        self._resources = worker_resources(runtime.settings.public_mcp_url)
        self._cache: dict[Presented, tuple[float, Principal]] = {}

    async def verify(self, raw: str | None) -> tuple[Presented, Principal]:
        """Return (what was presented, its principal) or raise CredentialRejected."""
        presented = check_presented(raw)
        return presented, await self.verify_presented(presented)

    async def verify_presented(self, presented: Presented) -> Principal:
        now = time.monotonic()
        cached = self._cache.get(presented)
        if cached is not None and now - cached[0] < self._ttl:
            # Expiry is a matter of the clock, so it is checked even on a cache hit.
            return ensure_usable(cached[1])
        principal = await self._runtime.in_db_thread(self._load, presented)
        try:
            if principal is None and presented.kind == "token":
                raise CredentialRejected(
                    "unknown",
                    "This access token is not known here: it may be for another server, or have been "
                    "replaced. Sign in again from your client.",
                )
            accepted = ensure_usable(principal)
        except CredentialRejected:
            self._cache.pop(presented, None)
            raise
        if self._ttl > 0:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[presented] = (now, accepted)
        return accepted

    def _load(self, presented: Presented) -> Principal | None:
        with self._runtime.database.session() as session:
            if presented.kind == "token":
                return load_access_token(session, presented.digest, self._resources)
            return load_key(session, presented.digest)

    def forget(self) -> None:
        self._cache.clear()

    def forget_where(self, match: Callable[[Principal], bool]) -> int:
        """Drop the cached credentials whose principal `match`es (a revocation notice); returns how many."""
        stale = [presented for presented, (_, principal) in self._cache.items() if match(principal)]
        for presented in stale:
            self._cache.pop(presented, None)
        return len(stale)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def presented_key(scope: Scope) -> str | None:
    """The credential from X-MCP-API-Key, else from `Authorization: Bearer` (a key or an access token)."""
    value = _header(scope, b"x-mcp-api-key")
    if value:
        return value.strip()
    authorization = _header(scope, b"authorization")
    if authorization:
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    return None


def key_in_query(scope: Scope) -> bool:
    query = scope.get("query_string", b"").decode("latin-1")
    if not query:
        return False
    if KEY_PATTERN.search(query) or re.search(r"(mcp_[0-9a-fA-F]{16,}|pmat_[\w-]{16,})", query):
        return True
    return any(name.lower() in QUERY_KEY_NAMES for name, _ in parse_qsl(query, keep_blank_values=True))


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


async def send_json_error(
    send: Send,
    status: int,
    message: str,
    *,
    reason: str,
    headers: dict[str, str] | None = None,
    code: int = AUTH_ERROR_CODE,
) -> None:
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": None,
            "error": {"code": code, "message": message, "data": {"reason": reason}},
        }
    ).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    for name, value in (headers or {}).items():
        raw_headers.append((name.lower().encode(), value.encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def send_database_error(send: Send, exc: BaseException) -> None:
    """503 with a JSON-RPC error body: the database is away (or, with SQLite, busy); retry shortly."""
    if is_busy(exc):
        message = "The server's database is busy with another write; try again in a moment."
    else:
        message = "The server can't reach its database right now; try again in a few seconds."
    log.warning("refused a request: the database failed (%s)", type(exc).__name__)
    await send_json_error(
        send, 503, message, reason="database_unavailable", headers={"Retry-After": "2"}, code=-32000
    )


def guarded(path: str) -> bool:
    """True for the paths of the MCP transports, which need a key."""
    return path in GUARDED_PATHS or path.startswith(GUARDED_PREFIXES)


class AuthMiddleware:
    """ASGI middleware guarding the MCP transports' paths; every other path goes to the app."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: CredentialVerifier,
        usage: UsageRecorder,
        throttle: AuthThrottle,
        recheck_interval: float,
        public_mcp_url: str,
    ):
        self.app = app
        self.public_mcp_url = public_mcp_url
        self.verifier = verifier
        self.usage = usage
        self.throttle = throttle
        self.recheck_interval = recheck_interval
        self._recheck_now: set[anyio.Event] = set()
        self._ending = False

    def end_streams(self) -> None:
        """End every open stream cleanly (the worker is stopping): clients reconnect elsewhere."""
        self._ending = True
        self.recheck_streams()

    def recheck_streams(self) -> None:
        """Have every open stream re-verify its credential now (a revocation notice arrived)."""
        for event in list(self._recheck_now):
            event.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not guarded(scope["path"]):
            await self.app(scope, receive, send)
            return
        if key_in_query(scope):
            # Refused whatever the key: not a guess, so not counted.
            await send_json_error(
                send,
                401,
                "Don't put the MCP API key in the URL: URLs end up in logs. Send it in the X-MCP-API-Key "
                "header instead, and rotate that key in the portal since it may have been exposed.",
                reason="key_in_query",
            )
            return
        raw = presented_key(scope)
        try:
            presented, principal = await self.verifier.verify(raw)
        except CredentialRejected as rejected:
            try:
                await self._refuse(scope, send, rejected, presented=raw is not None)
            except DATABASE_ERRORS as exc:
                await send_database_error(send, exc)
            return
        except DATABASE_ERRORS as exc:
            await send_database_error(send, exc)
            return
        self.usage.touch(principal, presented)
        scope = dict(scope)
        scope[PRINCIPAL_KEY] = principal
        scope[PRESENTED_KEY] = presented
        credential = f"{principal.kind}-{principal.credential_id}"
        scope["user"] = AuthenticatedUser(
            AccessToken(
                token=credential,
                client_id=credential,
                subject=f"user-{principal.user_id}",
                scopes=[READ_SCOPE] if principal.read_only else [READ_SCOPE, WRITE_SCOPE],
            )
        )
        if scope.get("method") == "GET":
            await self._serve_stream(scope, receive, send, presented)
        else:
            await self.app(scope, receive, send)

    async def _refuse(
        self, scope: Scope, send: Send, rejected: CredentialRejected, *, presented: bool
    ) -> None:
        if rejected.reason in COUNTED_REASONS:
            address = client_address(scope)
            wait = await self.throttle.retry_after(address)
            if wait is not None:
                seconds = int(wait) + 1
                await send_json_error(
                    send,
                    429,
                    f"Too many requests with a wrong MCP API key or token came from your address; wrong ones "
                    f"from it are refused for {seconds} more seconds. {rejected.message}",
                    reason="rate_limited",
                    headers={"Retry-After": str(seconds)},
                )
                return
            await self.throttle.record_failure(address)
        await send_json_error(
            send,
            401,
            rejected.message,
            reason=rejected.reason,
            headers={"WWW-Authenticate": self._challenge(scope, rejected if presented else None)},
        )

    def _challenge(self, scope: Scope, rejected: CredentialRejected | None) -> str:
        """RFC 6750 / RFC 9728: where OAuth clients find how to sign in, and why a credential failed."""
        challenge = f'Bearer resource_metadata="{resource_metadata_url(self.public_mcp_url, scope["path"])}"'
        if rejected is not None:
            description = "".join(
                c if 0x20 <= ord(c) <= 0x7E and c not in '"\\' else "'" for c in rejected.message
            )
            challenge += f', error="invalid_token", error_description="{description}"'
        return challenge

    async def _serve_stream(self, scope: Scope, receive: Receive, send: Send, presented: Presented) -> None:
        """Serve a long-lived GET (an SSE stream) and end it once its credential stops being valid."""
        response = {"started": False, "finished": False}

        async def tracked_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["started"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                response["finished"] = True
            await send(message)

        revoked = False
        async with anyio.create_task_group() as tg:

            async def watch() -> None:
                nonlocal revoked
                outage = False
                while True:
                    wake = anyio.Event()
                    self._recheck_now.add(wake)
                    try:
                        with anyio.move_on_after(self.recheck_interval):
                            await wake.wait()
                    finally:
                        self._recheck_now.discard(wake)
                    if self._ending:
                        revoked = True
                        tg.cancel_scope.cancel()
                        return
                    try:
                        await self.verifier.verify_presented(presented)
                        outage = False
                    except CredentialRejected as rejected:
                        log.info("closing a stream: the credential is %s", rejected.reason)
                        revoked = True
                        tg.cancel_scope.cancel()
                        return
                    except DATABASE_ERRORS as exc:
                        # A brief outage doesn't cut the stream: its credential is checked again next time.
                        if not outage:
                            log.warning("could not re-check a stream's credential: %s", type(exc).__name__)
                        outage = True

            tg.start_soon(watch)
            await self.app(scope, receive, tracked_send)
            tg.cancel_scope.cancel()
        if revoked and response["started"] and not response["finished"]:
            # End the stream cleanly, so the client sees a closed stream rather than a broken one.
            with anyio.CancelScope(shield=True), anyio.move_on_after(1):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
