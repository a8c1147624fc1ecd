"""A user's PM connections: listing, building adapters, checking, saving, rotating credentials.

Shared by the portal pages, the command line and the worker. The built-in
tracker is every user's connection `local`, with no row in the database.
Tokens only exist decrypted inside a ConnectionConfig on their way into an
adapter; what pages and tools see is a ConnectionView, which has no token.

A stored token is bound to the server it was saved for: the encrypted
credentials carry the origin (scheme, host and port) of the connection's URL
and its provider type, and config_for refuses to hand the token out for any
other. Changing either while leaving the token blank asks for the token again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core.errors import UserFacingError

from .. import revocations
from ..db import Database
from ..models import AuditEvent, ProviderConnection, User, utcnow
from ..principals import LOCAL_CONNECTION_ID
from ..providers import errors
from ..providers.base import CheckResult, ConnectionConfig, ProviderAdapter
from ..providers.http import HttpPolicy, check_url
from ..providers.registry import EXTERNAL_PROVIDER_TYPES, PROVIDER_LABELS, adapter_class, build_adapter
from ..redaction import redact, secret_forms
from ..vault import CredentialsUnreadable, Vault, token_hint

LOCAL_SLUG = "local"
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
DEFAULT_PORTS = {"http": 80, "https": 443}


class TokenNotForThisServer(CredentialsUnreadable):
    """The stored token was saved for another server or provider than the connection now names."""


def token_origin(base_url: str) -> str:
    """The server a token for `base_url` may go to: its scheme, host and port (`https://host`, `http://host:8080`).

    The path may change under a stored token; anything here may not. A default port is left out.
    """
    parts = urlsplit(normalize_base_url(base_url))
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    try:
        port = parts.port
    except ValueError:
        port = None  # such a URL never passes validate_input
    shown_port = f":{port}" if port is not None and port != DEFAULT_PORTS.get(scheme) else ""
    return f"{scheme}://{host}{shown_port}"


def seal_credentials(vault: Vault, token: str, base_url: str, provider_type: str) -> str:
    """The token encrypted together with the server and provider it may be used for."""
    return vault.encrypt({"token": token, "origin": token_origin(base_url), "provider_type": provider_type})


def _stored_token(row: ProviderConnection, vault: Vault) -> str:
    """The row's token, if its sealed origin and provider still match the row; else TokenNotForThisServer.

    Credentials stored before tokens were sealed to a server carry no origin: they
    count as saved for the row's URL, and are sealed to it at their next save or rotation.
    """
    credentials = vault.decrypt(row.credentials_encrypted)
    origin = token_origin(row.base_url)
    saved_origin = credentials.get("origin", origin)
    saved_type = credentials.get("provider_type", row.provider_type)
    if saved_origin != origin:
        raise TokenNotForThisServer(
            f"The stored token was saved for {saved_origin} and is never sent to {origin}, where this "
            "connection now points. Enter the token again to use this server."
        )
    if saved_type != row.provider_type:
        raise TokenNotForThisServer(
            f"The stored token was saved for {PROVIDER_LABELS.get(saved_type, saved_type)}, not "
            f"{PROVIDER_LABELS.get(row.provider_type, row.provider_type)}. Enter the token again."
        )
    return credentials.get("token", "")


@dataclass(frozen=True)
class ConnectionView:
    """What may be shown of a connection: never its token (only the last four characters)."""

    id: int | None
    slug: str
    name: str
    provider_type: str
    base_url: str
    username: str | None
    options: dict[str, Any]
    is_active: bool
    token_hint: str | None
    last_checked_at: datetime | None
    last_check_ok: bool | None
    last_check_summary: str | None
    last_check_error: str | None
    updated_at: datetime | None
    credentials_broken: bool = False  # no configured CREDENTIALS_KEY decrypts the stored token

    @property
    def label(self) -> str:
        return PROVIDER_LABELS.get(self.provider_type, self.provider_type)

    @property
    def is_local(self) -> bool:
        return self.provider_type == "local"

    @property
    def state(self) -> str:
        """'broken' (token unreadable), 'active', 'disabled', 'failing' (last check failed) or 'unchecked'."""
        if self.credentials_broken:
            return "broken"
        if not self.is_active:
            return "disabled"
        if self.last_check_ok is False:
            return "failing"
        if self.last_check_ok is None and not self.is_local:
            return "unchecked"
        return "active"

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc or self.base_url


def credentials_readable(row: ProviderConnection, vault: Vault) -> bool:
    """True when a configured key decrypts the stored token and it is sealed to the row's server
    (the token itself is dropped)."""
    try:
        _stored_token(row, vault)
    except CredentialsUnreadable:
        return False
    return True


def view_of(row: ProviderConnection, vault: Vault | None = None) -> ConnectionView:
    """The displayable view of a row; with a vault, unreadable credentials are marked broken."""
    return ConnectionView(
        id=row.id,
        slug=row.slug,
        name=row.name,
        provider_type=row.provider_type,
        base_url=row.base_url,
        username=row.username,
        options=dict(row.options or {}),
        is_active=row.is_active,
        token_hint=row.token_hint,
        last_checked_at=row.last_checked_at,
        last_check_ok=row.last_check_ok,
        last_check_summary=row.last_check_summary,
        last_check_error=row.last_check_error,
        updated_at=row.updated_at,
        credentials_broken=vault is not None and not credentials_readable(row, vault),
    )


def local_view(portal_url: str) -> ConnectionView:
    return ConnectionView(
        id=None,
        slug=LOCAL_SLUG,
        name="Team tracker",
        provider_type="local",
        base_url=portal_url,
        username=None,
        options={},
        is_active=True,
        token_hint=None,
        last_checked_at=None,
        last_check_ok=True,
        last_check_summary="Built into this server",
        last_check_error=None,
        updated_at=None,
    )


def user_connection_rows(session: Session, user_id: int) -> list[ProviderConnection]:
    return list(
        session.scalars(
            select(ProviderConnection)
            .where(ProviderConnection.user_id == user_id)
            .order_by(ProviderConnection.slug)
        )
    )


def list_connections(
    session: Session, user_id: int, portal_url: str, vault: Vault | None = None
) -> list[ConnectionView]:
    """The user's connections, the built-in tracker first (with a vault, broken ones are marked)."""
    return [local_view(portal_url)] + [view_of(row, vault) for row in user_connection_rows(session, user_id)]


def own_connection(session: Session, user_id: int, slug: str) -> ProviderConnection | None:
    """The user's connection with this slug; another user's is indistinguishable from none."""
    return session.scalar(
        select(ProviderConnection).where(
            ProviderConnection.user_id == user_id, ProviderConnection.slug == slug
        )
    )


def connection_id_of(view: ConnectionView) -> int:
    """The id a credential's connection limit names this connection by (the tracker has no row)."""
    return LOCAL_CONNECTION_ID if view.id is None else view.id


def check_connection_ids(session: Session, user_id: int, ids: Iterable[int]) -> str | None:
    """None when every id names the built-in tracker or one of the user's connections, else what's wrong."""
    wanted = {int(i) for i in ids}
    if not wanted:
        return "Choose at least one connection, or allow all of them."
    own = {row.id for row in user_connection_rows(session, user_id)} | {LOCAL_CONNECTION_ID}
    if wanted - own:
        return "Some of the chosen connections are not yours; reload the page and choose again."
    return None


def connection_ids_for_slugs(session: Session, user_id: int, slugs: Iterable[str]) -> list[int]:
    """The ids of the user's connections named by slug; ValueError naming the unknown slugs and the valid ones."""
    rows = {row.slug: row.id for row in user_connection_rows(session, user_id)}
    rows[LOCAL_SLUG] = LOCAL_CONNECTION_ID
    wanted = [slug.strip().lower() for slug in slugs if slug.strip()]
    unknown = [slug for slug in wanted if slug not in rows]
    if unknown or not wanted:
        raise ValueError(
            f"No connection {', '.join(repr(s) for s in unknown) or 'given'}; "
            f"the user's connections are: {', '.join(sorted(rows))}."
        )
    return sorted({rows[slug] for slug in wanted})


def config_for(row: ProviderConnection, vault: Vault) -> ConnectionConfig:
    """Decrypt a connection into an adapter config; raises CredentialsUnreadable, or its
    TokenNotForThisServer when the row names another server or provider than the token was saved for."""
    return ConnectionConfig(
        slug=row.slug,
        base_url=row.base_url,
        token=_stored_token(row, vault),
        username=row.username,
        options=dict(row.options or {}),
        user_id=row.user_id,
    )


def local_config(user_id: int, portal_url: str) -> ConnectionConfig:
    return ConnectionConfig(slug=LOCAL_SLUG, base_url=portal_url, token="", user_id=user_id)


def make_adapter(
    provider_type: str, config: ConnectionConfig, policy: HttpPolicy, database: Database
) -> ProviderAdapter:
    if provider_type == "local":
        return build_adapter("local", config, policy, database=database)
    return build_adapter(provider_type, config, policy)


# --- checking ------------------------------------------------------------------


@dataclass(frozen=True)
class CheckOutcome:
    ok: bool
    message: str  # the summary on success, the precise problem otherwise
    kind: str | None = None  # the error class on failure
    result: CheckResult | None = None
    field: str | None = None  # on failure, the form field to fix: "token", "base_url" or an option


def explain_check_failure(exc: errors.ProviderError, label: str, host: str) -> str:
    """The precise problem of a failed connection test, in words that say what to do."""
    if isinstance(exc, errors.AuthenticationFailed):
        return f"Token rejected: {label} at {host} did not accept these credentials. Check the token (and the account email, where one is needed) and enter them again."
    if isinstance(exc, errors.PermissionDenied):
        return f"Permission denied: {label} at {host} accepted the credentials but refused to say who they belong to ({exc}). Check the account's access."
    if isinstance(exc, errors.NotFound):
        return f"Wrong URL or not {label}: {host} answered 404 where the {label} API should be ({exc}). Check the base URL."
    if isinstance(exc, errors.NotThisProduct):
        return f"Wrong URL or not {label}: {exc}"
    if isinstance(exc, errors.TLSFailure):
        return f"TLS failure: {exc}"
    if isinstance(exc, errors.TimedOut):
        return f"Timed out: {exc} Try again later, or check the URL."
    if isinstance(exc, errors.Unreachable):
        return f"Unreachable: {exc}"
    if isinstance(exc, errors.RateLimited):
        return f"Rate limited: {exc} Try again in a moment."
    if isinstance(exc, errors.AddressNotAllowed):
        return f"Address not allowed: {exc}"
    if isinstance(exc, errors.Unavailable):
        return f"{label} is unavailable: {exc}"
    if isinstance(exc, errors.InvalidInput):
        return f"{label} refused these settings: {exc}"
    return f"The check failed: {exc}"


def problem_field(exc: errors.ProviderError) -> str:
    """The connection form field a failed check points at: the token, an option, or the URL."""
    if isinstance(exc, errors.AuthenticationFailed | errors.PermissionDenied):
        return "token"
    if isinstance(exc, errors.InvalidInput) and exc.field_errors:
        # Adapters name their options in field_errors (ClickUp's team_id).
        return next(iter(exc.field_errors))
    return "base_url"


def without_secret(text: str, secret: str | None, username: str | None = None) -> str:
    """`text` with `secret` blotted out in its raw, base64 (Basic) and URL-encoded forms: a vendor's
    error message may echo what it was sent."""
    return redact(text, secret_forms(secret, username))


def run_check(
    adapter: ProviderAdapter, label: str, host: str, secret: str | None = None, username: str | None = None
) -> CheckOutcome:
    """Run the adapter's check; a failure becomes the precise problem, with `secret` never in it."""
    try:
        result = adapter.check()
    except errors.ProviderError as exc:
        return CheckOutcome(
            ok=False,
            message=without_secret(explain_check_failure(exc, label, host), secret, username),
            kind=exc.kind,
            field=problem_field(exc),
        )
    return CheckOutcome(ok=True, message=without_secret(result.summary, secret, username), result=result)


def record_check(row: ProviderConnection, outcome: CheckOutcome) -> None:
    row.last_checked_at = utcnow()
    row.last_check_ok = outcome.ok
    row.last_check_summary = outcome.message[:500] if outcome.ok else None
    row.last_check_error = None if outcome.ok else outcome.message[:500]


def try_connection(
    row: ProviderConnection, vault: Vault, policy: HttpPolicy, database: Database
) -> CheckOutcome:
    """Test a stored connection without recording anything (the ClickUp workspace picker uses it)."""
    label = PROVIDER_LABELS.get(row.provider_type, row.provider_type)
    try:
        config = config_for(row, vault)
    except CredentialsUnreadable as exc:
        return CheckOutcome(ok=False, message=str(exc), kind="credentials_unreadable", field="token")
    adapter = make_adapter(row.provider_type, config, policy, database)
    try:
        return run_check(
            adapter, label, urlsplit(row.base_url).netloc, secret=config.token, username=config.username
        )
    finally:
        adapter.close()


def check_connection(
    row: ProviderConnection, vault: Vault, policy: HttpPolicy, database: Database
) -> CheckOutcome:
    """Test a stored connection and record the result on it (the caller commits)."""
    outcome = try_connection(row, vault, policy, database)
    record_check(row, outcome)
    return outcome


# --- saving ----------------------------------------------------------------------


class ConnectionInputError(UserFacingError):
    """Problems with the fields of a connection form; `field_errors` maps field to message.

    `outcome` is the failed check when the vendor refused, rather than the input being malformed.
    """

    def __init__(self, field_errors: dict[str, str], outcome: CheckOutcome | None = None):
        super().__init__("; ".join(f"{k}: {v}" for k, v in field_errors.items()))
        self.field_errors = field_errors
        self.outcome = outcome


@dataclass
class ConnectionInput:
    provider_type: str
    slug: str
    name: str
    base_url: str
    username: str | None = None
    token: str | None = field(default=None, repr=False)  # None or "" keeps the stored token when editing
    options: dict[str, Any] = field(default_factory=dict)
    is_active: bool = True


def normalize_base_url(url: str) -> str:
    return (url or "").strip().rstrip("/")


def validate_input(
    session: Session,
    user_id: int,
    data: ConnectionInput,
    policy: HttpPolicy,
    *,
    existing: ProviderConnection | None,
) -> None:
    """Raise ConnectionInputError naming each bad field; nothing is written."""
    problems: dict[str, str] = {}
    if data.provider_type not in EXTERNAL_PROVIDER_TYPES:
        problems["provider_type"] = (
            f"Choose one of: {', '.join(PROVIDER_LABELS[t] for t in EXTERNAL_PROVIDER_TYPES)}."
        )
    slug = (data.slug or "").strip().lower()
    if not SLUG_PATTERN.match(slug):
        problems["slug"] = "Use 1 to 40 lowercase letters, digits and hyphens, such as 'acme-jira'."
    elif slug == LOCAL_SLUG:
        problems["slug"] = "'local' is the built-in tracker's; choose another slug."
    else:
        clash = own_connection(session, user_id, slug)
        if clash is not None and (existing is None or clash.id != existing.id):
            problems["slug"] = f"You already have a connection '{slug}'."
    if not (data.name or "").strip():
        problems["name"] = "Give the connection a name, such as 'Acme JIRA'."
    elif len(data.name) > 120:
        problems["name"] = "At most 120 characters."
    url = normalize_base_url(data.base_url)
    if not url:
        problems["base_url"] = "Enter the server's address, starting with https://."
    else:
        try:
            check_url(url, policy, resolve=False)
        except errors.AddressNotAllowed as exc:
            problems["base_url"] = f"Address not allowed: {exc}"
        except errors.ProviderError as exc:
            problems["base_url"] = str(exc)
    if data.provider_type in EXTERNAL_PROVIDER_TYPES and getattr(
        adapter_class(data.provider_type), "needs_username", False
    ):
        if not (data.username or "").strip():
            problems["username"] = "Enter the account's email address: JIRA needs it beside the API token."
    if existing is None and not data.token:
        problems["token"] = "Enter the API token."  # noqa: S105 - a message, not a password
    elif existing is not None and not data.token and url and "base_url" not in problems:
        problem = _token_must_be_entered_again(existing, url, data.provider_type)
        if problem:
            problems["token"] = problem
    if problems:
        raise ConnectionInputError(problems)


def _token_must_be_entered_again(existing: ProviderConnection, url: str, provider_type: str) -> str | None:
    """Why the stored token can't go with these settings, or None: it only ever goes where it was saved for."""
    saved_for, now = token_origin(existing.base_url), token_origin(url)
    if saved_for != now:
        return (
            f"The stored token is only sent to {saved_for}, where it was saved. "
            f"Enter the API token again to use {now}."
        )
    if provider_type != existing.provider_type:
        saved_label = PROVIDER_LABELS.get(existing.provider_type, existing.provider_type)
        label = PROVIDER_LABELS.get(provider_type, provider_type)
        return f"The stored token was saved for {saved_label}. Enter the API token again for {label}."
    return None


def save_connection(
    session: Session,
    user: User,
    data: ConnectionInput,
    *,
    vault: Vault,
    policy: HttpPolicy,
    database: Database,
    existing: ProviderConnection | None = None,
    check_first: bool = True,
) -> tuple[ProviderConnection, CheckOutcome | None]:
    """Validate, test (for a new connection, or a changed token, URL, account or option), then save.

    A failed test saves nothing and raises ConnectionInputError with the problem
    on the field to fix (the token, the URL or the option). A blank token on an
    existing connection keeps the stored one. The caller commits.
    """
    new_token = (data.token or "").strip()  # pasted tokens often carry a trailing space or newline
    data = replace(data, token=new_token)
    validate_input(session, user.id, data, policy, existing=existing)
    base_url = normalize_base_url(data.base_url)
    username = (data.username or "").strip() or None
    options = dict(data.options)
    # Anything that changes what the vendor sees is tested before it is saved.
    changed_access = (
        existing is None
        or bool(data.token)
        or base_url != existing.base_url
        or username != existing.username
        or data.provider_type != existing.provider_type
        or options != dict(existing.options or {})
    )
    token = data.token or ""
    reused = False
    if not token and existing is not None and check_first and changed_access:
        # validate_input made sure the server and provider are the ones the token was saved for.
        try:
            token = _stored_token(existing, vault)
        except TokenNotForThisServer as exc:
            raise ConnectionInputError({"token": str(exc)}) from None
        except CredentialsUnreadable:
            raise ConnectionInputError(
                {
                    "token": "The stored token can't be decrypted with the configured CREDENTIALS_KEY: enter the token again."
                }
            ) from None
        reused = True
    config = ConnectionConfig(
        slug=data.slug.strip().lower(),
        base_url=base_url,
        token=token,
        username=username,
        options=options,
        user_id=user.id,
    )
    outcome: CheckOutcome | None = None
    if check_first and changed_access:
        adapter = make_adapter(data.provider_type, config, policy, database)
        try:
            outcome = run_check(
                adapter,
                PROVIDER_LABELS[data.provider_type],
                urlsplit(config.base_url).netloc,
                secret=config.token,
                username=config.username,
            )
        finally:
            adapter.close()
        if not outcome.ok:
            raise ConnectionInputError({outcome.field or "base_url": outcome.message}, outcome)
    row = existing or ProviderConnection(user_id=user.id, provider_type=data.provider_type)
    row.slug = config.slug
    row.name = data.name.strip()
    row.provider_type = data.provider_type
    row.base_url = config.base_url
    row.username = config.username
    row.options = config.options
    row.is_active = data.is_active
    if data.token or existing is None:
        row.credentials_encrypted = seal_credentials(vault, data.token or "", row.base_url, row.provider_type)
        row.token_hint = token_hint(data.token or "")
    elif reused:
        # Same server and provider; credentials stored before sealing get sealed now.
        row.credentials_encrypted = seal_credentials(vault, token, row.base_url, row.provider_type)
    if outcome is not None:
        record_check(row, outcome)
    if existing is None:
        session.add(row)
    session.flush()
    session.add(
        AuditEvent(
            user_id=user.id,
            kind="connection_changed",
            connection_id=row.id,
            target=f"{'created' if existing is None else 'updated'} {row.slug}",
            ok=True,
        )
    )
    if existing is not None:
        revocations.announce(session, "connection", row.id, user_id=row.user_id)
    return row, outcome


def set_connection_active(session: Session, user: User, row: ProviderConnection, active: bool) -> None:
    """Enable or disable a connection (a disabled one keeps its token but serves no tools)."""
    row.is_active = active
    session.add(
        AuditEvent(
            user_id=user.id,
            kind="connection_changed",
            connection_id=row.id,
            target=f"{'enabled' if active else 'disabled'} {row.slug}",
            ok=True,
        )
    )
    session.flush()
    revocations.announce(session, "connection", row.id, user_id=row.user_id)


def delete_connection(session: Session, user: User, row: ProviderConnection) -> None:
    session.add(AuditEvent(user_id=user.id, kind="connection_changed", target=f"deleted {row.slug}", ok=True))
    revocations.announce(session, "connection", row.id, user_id=row.user_id)
    session.delete(row)
    session.flush()


def rotate_credentials(session: Session, vault: Vault) -> tuple[int, list[str]]:
    """Re-encrypt every stored credential with the newest key.

    Credentials stored before tokens were sealed to a server are sealed to the
    row's current URL and provider. Returns (how many were re-encrypted,
    descriptions of those that couldn't be decrypted with any configured key,
    which are left as they are).
    """
    rotated = 0
    unreadable: list[str] = []
    for row in session.scalars(select(ProviderConnection).order_by(ProviderConnection.id)):
        try:
            credentials = vault.decrypt(row.credentials_encrypted)
            if "origin" in credentials:
                row.credentials_encrypted = vault.rotate(row.credentials_encrypted)
            else:
                row.credentials_encrypted = seal_credentials(
                    vault, credentials.get("token", ""), row.base_url, row.provider_type
                )
        except CredentialsUnreadable:
            unreadable.append(f"connection {row.slug!r} of {row.user.email}")
            continue
        rotated += 1
    session.flush()
    return rotated, unreadable


def connection_options(provider_type: str, raw: Iterable[str]) -> dict[str, str]:
    """Parse KEY=VALUE vendor options (the command line's --option).

    Raises ConnectionInputError for an item that is not KEY=VALUE.
    """
    options: dict[str, str] = {}
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConnectionInputError({"options": f"Options are KEY=VALUE, not {item!r}."})
        options[key.strip()] = value.strip()
    return options
