"""Settings shared by the portal, the worker and the command line, read from the environment."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

DEVELOPMENT = "development"
PRODUCTION = "production"

DEFAULT_INSTANCE_PATH = Path(__file__).resolve().parents[2] / "instance"


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


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


_warned: set[str] = set()


def _persisted_dev_secret(instance_path: Path, filename: str, make: callable, what: str) -> str:
    """Read a development secret from the instance folder, creating it on first use."""
    path = instance_path / filename
    if path.exists():
        value = path.read_text().strip()
    else:
        instance_path.mkdir(parents=True, exist_ok=True)
        value = make()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(value + "\n")
    if what not in _warned:
        _warned.add(what)
        log.warning(
            "%s is not set: using a development value kept in %s. Set it in the environment before deploying.",
            what,
            path.name,
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
    extra: Mapping[str, str] = field(default_factory=dict, repr=False)
    # Extra certificate authorities (a PEM file) trusted for outbound requests, besides the default ones.
    outbound_ca_bundle: str | None = None
    # OAuth sign-in: client registrations per address per hour, hours an unapproved one lives,
    # seconds an access token lives (at most an hour).
    oauth_registrations_per_hour: int = 20
    oauth_unused_client_hours: float = 24.0
    oauth_access_token_seconds: int = 3600

    @property
    def is_development(self) -> bool:
        return self.env == DEVELOPMENT

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
        instance_path = Path(env_vars.get("INSTANCE_PATH") or DEFAULT_INSTANCE_PATH).resolve()
        dev_like = env != PRODUCTION

        database_url = env_vars.get("DATABASE_URL", "").strip()
        if not database_url:
            instance_path.mkdir(parents=True, exist_ok=True)
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

        public_mcp_url = env_vars.get("PUBLIC_MCP_URL", "http://127.0.0.1:8080").rstrip("/")
        public_portal_url = env_vars.get("PUBLIC_PORTAL_URL", "http://127.0.0.1:5000").rstrip("/")

        mcp_host = env_vars.get("MCP_HOST", "127.0.0.1")
        try:
            mcp_port = int(env_vars.get("MCP_PORT") or env_vars.get("PORT_MCP") or 8080)
        except ValueError as exc:
            raise ConfigError("MCP_PORT must be a port number.") from exc

        allowed_hosts, allowed_origins = _default_mcp_origins(public_mcp_url)
        allowed_hosts += _split(env_vars.get("MCP_ALLOWED_HOSTS"))
        allowed_origins += _split(env_vars.get("MCP_ALLOWED_ORIGINS"))

        try:
            key_cache_seconds = float(env_vars.get("MCP_KEY_CACHE_SECONDS", "2"))
        except ValueError as exc:
            raise ConfigError("MCP_KEY_CACHE_SECONDS must be a number of seconds.") from exc

        outbound_ca_bundle = env_vars.get("OUTBOUND_CA_BUNDLE", "").strip() or None
        if outbound_ca_bundle and not Path(outbound_ca_bundle).is_file():
            raise ConfigError(
                f"OUTBOUND_CA_BUNDLE names {outbound_ca_bundle!r}, which is not a file. "
                "Point it at a PEM file of certificate authorities, or unset it."
            )
        try:
            oauth_registrations = int(env_vars.get("OAUTH_REGISTRATIONS_PER_HOUR", "20"))
            oauth_unused_hours = float(env_vars.get("OAUTH_UNUSED_CLIENT_HOURS", "24"))
            oauth_access_seconds = int(env_vars.get("OAUTH_ACCESS_TOKEN_SECONDS", "3600"))
        except ValueError as exc:
            raise ConfigError(
                "OAUTH_REGISTRATIONS_PER_HOUR, OAUTH_UNUSED_CLIENT_HOURS and OAUTH_ACCESS_TOKEN_SECONDS "
                "must be numbers."
            ) from exc

        return cls(
            env=env,
            instance_path=instance_path,
            database_url=database_url,
            secret_key=secret_key,
            credentials_keys=credentials_keys,
            public_mcp_url=public_mcp_url,
            public_portal_url=public_portal_url,
            allow_signup=_truthy(env_vars.get("ALLOW_SIGNUP")),
            allowed_provider_hosts=tuple(h.lower() for h in _split(env_vars.get("ALLOWED_PROVIDER_HOSTS"))),
            mcp_host=mcp_host,
            mcp_port=mcp_port,
            mcp_stateless=_truthy(env_vars.get("MCP_STATELESS")),
            mcp_allowed_hosts=tuple(dict.fromkeys(allowed_hosts)),
            mcp_allowed_origins=tuple(dict.fromkeys(allowed_origins)),
            key_cache_seconds=max(0.0, min(key_cache_seconds, 10.0)),
            extra=env_vars,
            outbound_ca_bundle=outbound_ca_bundle,
            oauth_registrations_per_hour=max(0, oauth_registrations),
            oauth_unused_client_hours=max(0.1, oauth_unused_hours),
            oauth_access_token_seconds=max(60, min(oauth_access_seconds, 3600)),
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
