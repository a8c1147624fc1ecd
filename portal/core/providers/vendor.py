"""The shared base of the adapters that call a vendor's HTTP API.

As requests keeps `BaseAdapter` (the interface) apart from `HTTPAdapter` (the
plumbing), `ProviderAdapter` in base.py is the interface and `VendorAdapter`
the plumbing every vendor package builds on: the pooled, guarded session from
`ProviderHttp`, built on first use with the vendor's credentials; the vendor's
error bodies read into messages; the connection check; the current user; and
the connection's metadata cache. A vendor package supplies only what is its own
(`credentials`, `parse_error`, `fetch_current_user`, and the operations).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from ..redaction import redact, secret_forms
from . import errors
from .base import CheckResult, ConnectionConfig, User
from .http import ErrorDescriber, HttpPolicy, ProviderHttp
from .lacking import LacksSprintWork
from .metadata import SHARED, ConnectionMetadata, MetadataCache

ME_KEY = ("me",)
"""The metadata key of the connection's own user."""


ErrorParser = Callable[[Any], tuple[str | None, dict[str, str]]]
"""A vendor's reading of a decoded error body: (message, field errors)."""


def describe_json_error(parse: ErrorParser) -> ErrorDescriber:
    """An error describer for ProviderHttp: the body decoded as JSON, then read by `parse(body)`.

    A body that is not JSON has no message to give: (None, {}).
    """

    def describe(response: requests.Response) -> tuple[str | None, dict[str, str]]:
        try:
            body = response.json()
        except ValueError:
            return None, {}
        return parse(body)

    return describe


class VendorAdapter(LacksSprintWork):
    """What every vendor adapter shares; subclasses implement the ProviderAdapter operations.

    A vendor's adapter names itself where it is declared:
    `class RedmineAdapter(VendorAdapter, provider_type="redmine", vendor="Redmine")`.
    """

    provider_type: ClassVar[str]  # the registry's name: "jira"
    vendor: ClassVar[str]  # the product in messages: "JIRA"
    needs_username: ClassVar[bool] = False  # JIRA needs the account email beside the token
    base_url_example: ClassVar[str] = ""  # shown in forms: "https://your-site.atlassian.net"

    def __init_subclass__(cls, *, provider_type: str = "", vendor: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if provider_type:
            cls.provider_type = provider_type
        if vendor:
            cls.vendor = vendor

    def __init__(
        self,
        config: ConnectionConfig,
        policy: HttpPolicy,
        *,
        metadata: MetadataCache | None = None,
        **context: Any,
    ):
        self.slug = config.slug
        self.base_url = config.base_url.rstrip("/")
        self._config = config
        self._policy = policy
        self._client: ProviderHttp | None = None
        self._client_lock = threading.Lock()
        self.metadata: ConnectionMetadata = (metadata or SHARED).for_connection(self.provider_type, config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(slug={self.slug!r}, base_url={self.base_url!r})"

    # --- what a vendor supplies ------------------------------------------------------------

    def api_root(self) -> str:
        """The URL the vendor's API paths are relative to."""
        return self.base_url

    def credentials(self) -> dict[str, Any]:
        """ProviderHttp's `headers=` or `auth=` for this connection.

        Raises AuthenticationFailed when the connection lacks what the vendor needs.
        """
        raise NotImplementedError

    @staticmethod
    def parse_error(body: Any) -> tuple[str | None, dict[str, str]]:
        """The vendor's message and field errors from a decoded error body."""
        raise NotImplementedError

    def fetch_current_user(self) -> User:
        """Ask the vendor who the credentials belong to.

        Raises NotThisProduct when the answer is not the vendor's, and the
        ProviderError of any failed request.
        """
        raise NotImplementedError

    # --- plumbing ---------------------------------------------------------------------------

    @property
    def http(self) -> ProviderHttp:
        """The connection's HTTP client, built on first use so that constructing an adapter never fails.

        Raises what `credentials()` raises.
        """
        with self._client_lock:
            if self._client is None:
                self._client = ProviderHttp(
                    self.api_root(),
                    vendor=self.vendor,
                    policy=self._policy,
                    describe_error=describe_json_error(self.parse_error),
                    **self.credentials(),
                )
            return self._client

    def redact(self, text: str) -> str:
        """`text` without this connection's token in any form it travels in (raw, Basic, URL-encoded)."""
        return redact(text, secret_forms(self._config.token, self._config.username))

    def close(self) -> None:
        """Release the pooled connections (the adapter builds a new pool if used again)."""
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    @property
    def site(self) -> str:
        """The vendor's host, as messages and check results name it."""
        return urlsplit(self.base_url).netloc

    def not_this_product(self) -> errors.NotThisProduct:
        """The error for an answer that is not the vendor API's."""
        return errors.NotThisProduct(
            f"{self.site} answered, but not as the {self.vendor} API would. Check the base URL."
        )

    def no_api_here(self) -> errors.NotThisProduct:
        """The error for a 404 where the vendor's API should answer."""
        return errors.NotThisProduct(
            f"{self.site} has no {self.vendor} API at {self.api_root()}. Check the base URL "
            f"(include the path when {self.vendor} is installed under one)."
        )

    # --- identity ---------------------------------------------------------------------------

    def check(self) -> CheckResult:
        """Ask the vendor who we are there (never from the cache) and describe it.

        Raises the ProviderError of the failed request, or NotThisProduct.
        """
        user = self.fetch_current_user()
        self.metadata.put(ME_KEY, user)
        contact = user.email or user.extra.get("login")
        who = f"{user.name}, {contact}" if contact else user.name
        return CheckResult(user=user, site=self.site, summary=f"Connected to {self.site} as {who}")

    def current_user(self) -> User:
        """The connection's own user, from the metadata cache or the vendor.

        Raises what `fetch_current_user` raises.
        """
        return self.metadata.get(ME_KEY, self.fetch_current_user)
