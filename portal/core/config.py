"""Settings shared by the portal, the worker and the command line, read from the environment."""

from __future__ import annotations

import logging
import os
import secrets
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from .client_address import TrustedProxies, TrustedProxiesError

log = logging.getLogger(__name__)

DEVELOPMENT = "development"
PRODUCTION = "production"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_FLAG_VALUES = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}


def default_instance_path() -> Path:
    """Where the SQLite file and development secrets live when INSTANCE_PATH is not set.

    In a source checkout (`make run`, `pip install -e .`): `instance/` in the checkout.
    In an installed package: `<environment prefix>/var/pm-mcp-server-instance`, as Flask
    does for installed applications, never inside site-packages.
    """
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "portal" / "core").is_dir():
        return checkout / "instance"
    return Path(sys.prefix) / "var" / "pm-mcp-server-instance"


class ConfigError(Exception):
    """A setting is missing or malformed; the message says which and what to do."""


def normalize_database_url(url: str) -> str:
    """Accept Heroku-style `postgres://` URLs and pick the psycopg 3 driver for PostgreSQL."""
    url = url.strip()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def mask_database_url(url: str) -> str:
    """The database URL with its password replaced, safe for a log line or an error."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


def _flag(env_vars: Mapping[str, str], name: str, default: bool) -> bool:
    value = (env_vars.get(name) or "").strip().lower()
    if not value:
        return default
    if value not in _FLAG_VALUES:
        raise ConfigError(f"{name} must be 1 or 0 (or true/false, yes/no, on/off), not {value!r}.")
    return _FLAG_VALUES[value]


def _number(
    env_vars: Mapping[str, str],
    name: str,
    default: float,
    *,
    what: str,
    minimum: float,
    maximum: float | None = None,
    whole: bool = False,
) -> float:
    raw = (env_vars.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        value = None
    if value is None or value != value or value < minimum or (maximum is not None and value > maximum):
        limits = f"from {minimum:g} to {maximum:g}" if maximum is not None else f"{minimum:g} or more"
        raise ConfigError(f"{name} must be {what}, {limits}; it is {raw!r}.")
    return value


def _public_url(env_vars: Mapping[str, str], name: str, default: str) -> str:
    value = (env_vars.get(name) or default).strip().rstrip("/")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{name} must be an http:// or https:// address such as {default}; it is {value!r}."
        )
    return value


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _make_instance_folder(instance_path: Path) -> None:
    try:
        instance_path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"Cannot create the instance folder {instance_path} ({exc.strerror}): set INSTANCE_PATH to a "
            "writable folder (it holds the SQLite database and development secrets)."
        ) from None


def _persisted_dev_secret(instance_path: Path, filename: str, make: Callable[[], str], what: str) -> str:
    """Read a development secret from the instance folder, creating it on first use.

    The warning comes once, from the process that creates the secret: every later
    process of a development setup (`make run` starts three) reuses it quietly.
    Outside development the secrets are required, so nothing depends on this note.
    """
    path = instance_path / filename
    _make_instance_folder(instance_path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process may be writing it this very moment
            value = path.read_text().strip()
            if value:
                log.debug("%s: using the development value kept in %s", what, path)
                return value
            time.sleep(0.02)
        raise ConfigError(f"{path} is empty: delete it, or set {what} in the environment.") from None
    except OSError as exc:
        raise ConfigError(
            f"{what} is not set and {path} can't be created ({exc.strerror}): set {what} in the "
            "environment, or INSTANCE_PATH to a writable folder."
        ) from None
    value = make()
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    log.warning(
        "%s is not set: generated a development value and kept it in %s. Set it in the environment "
        "(and APP_ENV=production) before deploying.",
        what,
        path,
    )
    return value


@dataclass(frozen=True)
class Settings:
    """Everything configurable, resolved once per process."""

    env: str
    instance_path: Path
    # Secrets stay out of repr(), so a logged Settings never shows them.
    database_url: str = field(repr=False)
    secret_key: str = field(repr=False)
    credentials_keys: tuple[str, ...] = field(repr=False)
    public_mcp_url: str
    public_portal_url: str
    allow_signup: bool
    allowed_provider_hosts: tuple[str, ...]
    mcp_host: str
    mcp_port: int
    mcp_stateless: bool
    mcp_allowed_hosts: tuple[str, ...]
    mcp_allowed_origins: tuple[str, ...]
    key_cache_seconds: float
    mcp_auth_failure_limit: int = 20
    mcp_auth_failure_window: float = 60.0
    mcp_access_log: bool = True
    log_level: str = "INFO"
    forwarded_allow_ips: TrustedProxies = field(default_factory=TrustedProxies)
    extra: Mapping[str, str] = field(default_factory=dict, repr=False)
    # Extra certificate authorities (a PEM file) trusted for outbound requests, besides the default ones.
    outbound_ca_bundle: str | None = None
    # OAuth sign-in: client registrations per address per hour, hours an unapproved one lives,
    # seconds an access token lives (at most an hour).
    oauth_registrations_per_hour: int = 20
    oauth_unused_client_hours: float = 24.0
    oauth_access_token_seconds: int = 3600
    # Resource limits (see the README's security section): the worker's connection cap (0: from the
    # open-file limit), keep-alive seconds (longer than clients' own 4 to 5, so that a client never sends
    # on a connection the worker is closing), and whether it raises its soft open-file limit at start;
    # a vendor request's total deadline and largest response.
    mcp_max_connections: int = 0
    mcp_keep_alive_seconds: float = 15.0
    mcp_raise_open_file_limit: bool = True
    vendor_deadline_seconds: float = 30.0
    vendor_max_response_bytes: int = 5 * 1024 * 1024
    # Streamable HTTP sessions: how many one key (or OAuth grant) may hold open in a worker, and the
    # minutes an idle one lives; seconds a stopping worker waits for calls in flight (below a platform's 30).
    mcp_sessions_per_key: int = 20
    mcp_session_idle_minutes: float = 10.0
    mcp_shutdown_seconds: float = 20.0
    # No tool result is longer than this many tokens (4 characters a token), text and structured
    # content together; long fields are cut with a marker saying how to read on.
    mcp_max_result_tokens: int = 20_000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Build settings from environment variables; `overrides` win over the environment.

        Outside development, SECRET_KEY and CREDENTIALS_KEY are required. In development
        missing secrets are generated once and kept in the instance folder, with a warning.
        """
        env_vars = dict(os.environ if environ is None else environ)
        env_vars.update({k.upper(): str(v) for k, v in overrides.items() if v is not None})

        env = env_vars.get("APP_ENV", DEVELOPMENT).strip().lower() or DEVELOPMENT
        if env not in {DEVELOPMENT, PRODUCTION, "testing"}:
            raise ConfigError(f"APP_ENV must be 'development' or 'production', not {env!r}.")
        instance_path = Path(env_vars.get("INSTANCE_PATH") or default_instance_path()).resolve()
        dev_like = env != PRODUCTION

        public_mcp_url = _public_url(env_vars, "PUBLIC_MCP_URL", "http://127.0.0.1:8080")
        public_portal_url = _public_url(env_vars, "PUBLIC_PORTAL_URL", "http://127.0.0.1:5000")

        mcp_host = (env_vars.get("MCP_HOST") or "127.0.0.1").strip()
        port_name = "MCP_PORT" if env_vars.get("MCP_PORT") else "PORT_MCP"
        mcp_port = int(
            _number(env_vars, port_name, 8080, what="a port number", minimum=1, maximum=65535, whole=True)
        )

        allowed_hosts, allowed_origins = _default_mcp_origins(public_mcp_url)
        allowed_hosts += _split(env_vars.get("MCP_ALLOWED_HOSTS"))
        allowed_origins += _split(env_vars.get("MCP_ALLOWED_ORIGINS"))

        # Clamped rather than refused: a longer cache would delay revocations beyond what the README promises.
        key_cache_seconds = _number(
            env_vars, "MCP_KEY_CACHE_SECONDS", 2.0, what="a number of seconds", minimum=0
        )

        auth_failure_limit = int(
            _number(env_vars, "MCP_AUTH_FAILURE_LIMIT", 20, what="a whole number", minimum=1, whole=True)
        )
        auth_failure_window = _number(
            env_vars, "MCP_AUTH_FAILURE_WINDOW", 60.0, what="a number of seconds", minimum=1
        )
        allow_signup = _flag(env_vars, "ALLOW_SIGNUP", False)
        mcp_stateless = _flag(env_vars, "MCP_STATELESS", False)
        mcp_access_log = _flag(env_vars, "MCP_ACCESS_LOG", True)
        sessions_per_key = int(
            _number(env_vars, "MCP_SESSIONS_PER_KEY", 20, what="a whole number", minimum=1, whole=True)
        )
        session_idle_minutes = _number(
            env_vars, "MCP_SESSION_IDLE_MINUTES", 10.0, what="a number of minutes", minimum=0.05
        )
        shutdown_seconds = _number(
            env_vars, "MCP_SHUTDOWN_SECONDS", 20.0, what="a number of seconds", minimum=1, maximum=28
        )
        log_level = (env_vars.get("LOG_LEVEL") or "INFO").strip().upper()
        if log_level not in LOG_LEVELS:
            raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}; it is {log_level!r}.")
        try:
            forwarded_allow_ips = TrustedProxies.parse(env_vars.get("FORWARDED_ALLOW_IPS"))
        except TrustedProxiesError as exc:
            raise ConfigError(
                f"FORWARDED_ALLOW_IPS lists the addresses of your reverse proxies, comma-separated: {exc}."
            ) from None

        outbound_ca_bundle = env_vars.get("OUTBOUND_CA_BUNDLE", "").strip() or None
        if outbound_ca_bundle and not Path(outbound_ca_bundle).is_file():
            raise ConfigError(
                f"OUTBOUND_CA_BUNDLE names {outbound_ca_bundle!r}, which is not a file. "
                "Point it at a PEM file of certificate authorities, or unset it."
            )
        oauth_registrations = int(
            _number(
                env_vars, "OAUTH_REGISTRATIONS_PER_HOUR", 20, what="a whole number", minimum=0, whole=True
            )
        )
        oauth_unused_hours = _number(
            env_vars, "OAUTH_UNUSED_CLIENT_HOURS", 24.0, what="a number of hours", minimum=0
        )
        oauth_access_seconds = int(
            _number(
                env_vars,
                "OAUTH_ACCESS_TOKEN_SECONDS",
                3600,
                what="a number of seconds",
                minimum=0,
                whole=True,
            )
        )

        limits: dict[str, Any] = {
            "mcp_max_connections": int(
                _number(env_vars, "MCP_MAX_CONNECTIONS", 0, what="a whole number", minimum=0, whole=True)
            ),
            "mcp_keep_alive_seconds": _number(
                env_vars, "MCP_KEEP_ALIVE_SECONDS", 15.0, what="a number of seconds", minimum=1, maximum=300
            ),
            "mcp_raise_open_file_limit": _flag(env_vars, "MCP_RAISE_OPEN_FILE_LIMIT", True),
            "vendor_deadline_seconds": _number(
                env_vars, "VENDOR_DEADLINE_SECONDS", 30.0, what="a number of seconds", minimum=1, maximum=600
            ),
            "vendor_max_response_bytes": int(
                _number(
                    env_vars,
                    "VENDOR_MAX_RESPONSE_BYTES",
                    5 * 1024 * 1024,
                    what="a number of bytes",
                    minimum=64 * 1024,
                    whole=True,
                )
            ),
        }

        max_result_tokens = int(
            _number(
                env_vars,
                "MCP_MAX_RESULT_TOKENS",
                20_000,
                what="a whole number of tokens",
                minimum=2000,
                whole=True,
            )
        )

        # The filesystem is touched only once every other setting has been checked.
        database_url = env_vars.get("DATABASE_URL", "").strip()
        if not database_url:
            _make_instance_folder(instance_path)
            database_url = f"sqlite:///{instance_path / 'pm.sqlite3'}"
        database_url = normalize_database_url(database_url)

        secret_key = env_vars.get("SECRET_KEY", "").strip()
        if not secret_key:
            if not dev_like:
                raise ConfigError(
                    "SECRET_KEY is not set. Set it to a long random value, for example the output of "
                    "`python -c 'import secrets; print(secrets.token_hex(32))'`."
                )
            secret_key = _persisted_dev_secret(
                instance_path, "secret_key", lambda: secrets.token_hex(32), "SECRET_KEY"
            )

        credentials_keys = tuple(_split(env_vars.get("CREDENTIALS_KEY")))
        if not credentials_keys:
            if not dev_like:
                raise ConfigError(
                    "CREDENTIALS_KEY is not set. Generate one with `pm-portal generate-credentials-key` "
                    "and set it in the environment (several keys, comma-separated, newest first)."
                )
            from cryptography.fernet import Fernet

            credentials_keys = (
                _persisted_dev_secret(
                    instance_path,
                    "credentials_key",
                    lambda: Fernet.generate_key().decode(),
                    "CREDENTIALS_KEY",
                ),
            )

        return cls(
            env=env,
            instance_path=instance_path,
            database_url=database_url,
            secret_key=secret_key,
            credentials_keys=credentials_keys,
            public_mcp_url=public_mcp_url,
            public_portal_url=public_portal_url,
            allow_signup=allow_signup,
            allowed_provider_hosts=tuple(h.lower() for h in _split(env_vars.get("ALLOWED_PROVIDER_HOSTS"))),
            mcp_host=mcp_host,
            mcp_port=mcp_port,
            mcp_stateless=mcp_stateless,
            mcp_allowed_hosts=tuple(dict.fromkeys(allowed_hosts)),
            mcp_allowed_origins=tuple(dict.fromkeys(allowed_origins)),
            key_cache_seconds=min(key_cache_seconds, 10.0),
            mcp_auth_failure_limit=auth_failure_limit,
            mcp_auth_failure_window=auth_failure_window,
            mcp_access_log=mcp_access_log,
            log_level=log_level,
            forwarded_allow_ips=forwarded_allow_ips,
            extra=env_vars,
            outbound_ca_bundle=outbound_ca_bundle,
            oauth_registrations_per_hour=oauth_registrations,
            oauth_unused_client_hours=max(0.1, oauth_unused_hours),
            oauth_access_token_seconds=max(60, min(oauth_access_seconds, 3600)),
            **limits,
            mcp_sessions_per_key=sessions_per_key,
            mcp_session_idle_minutes=session_idle_minutes,
            mcp_shutdown_seconds=shutdown_seconds,
            mcp_max_result_tokens=max_result_tokens,
        )


def _default_mcp_origins(public_mcp_url: str) -> tuple[list[str], list[str]]:
    """Hosts and origins the worker accepts by default: localhost and PUBLIC_MCP_URL's host."""
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost", "[::1]"]
    origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    origins += ["http://127.0.0.1", "http://localhost", "http://[::1]"]
    parts = urlsplit(public_mcp_url)
    if parts.hostname:
        hosts.append(parts.netloc)
        hosts.append(parts.hostname)
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return hosts, origins
