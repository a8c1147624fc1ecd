"""Provider type -> adapter class, imported lazily so a vendor module loads only when used."""

from __future__ import annotations

import importlib
from typing import Any

from .base import ConnectionConfig, ProviderAdapter
from .http import HttpPolicy

_ADAPTERS: dict[str, tuple[str, str]] = {
    "jira": ("portal.core.providers.jira", "JiraAdapter"),
    "openproject": ("portal.core.providers.openproject", "OpenProjectAdapter"),
    "clickup": ("portal.core.providers.clickup", "ClickUpAdapter"),
    "redmine": ("portal.core.providers.redmine", "RedmineAdapter"),
    "local": ("portal.core.providers.local", "LocalAdapter"),
}

PROVIDER_LABELS = {
    "jira": "JIRA Cloud",
    "openproject": "OpenProject",
    "clickup": "ClickUp",
    "redmine": "Redmine",
    "local": "Team tracker (built in)",
}

EXTERNAL_PROVIDER_TYPES = ("jira", "openproject", "clickup", "redmine")


class UnknownProvider(Exception):
    pass


def adapter_class(provider_type: str) -> type[Any]:
    try:
        module_name, class_name = _ADAPTERS[provider_type]
    except KeyError:
        raise UnknownProvider(
            f"Unknown provider type {provider_type!r}; choose one of: {', '.join(EXTERNAL_PROVIDER_TYPES)}."
        ) from None
    return getattr(importlib.import_module(module_name), class_name)


def build_adapter(
    provider_type: str, config: ConnectionConfig, policy: HttpPolicy, **context: Any
) -> ProviderAdapter:
    """Construct the adapter for `provider_type` from a decrypted connection config.

    `context` carries what only some adapters need (the built-in tracker's
    database session factory).
    """
    return adapter_class(provider_type)(config, policy, **context)
