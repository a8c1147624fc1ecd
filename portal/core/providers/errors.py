"""The one error tree every provider adapter raises.

Adapters translate vendor failures into these classes; each front (portal,
worker) translates them once more into what its user sees. Messages never
contain a credential.
"""

from __future__ import annotations

from typing import Any

from ..errors import UserFacingError


class ProviderError(UserFacingError):
    """Base class. `kind` (also its `error_class`) is a stable name used in audit rows and tool results.

    Every subclass names its own kind where it is declared (`kind="not_found"`), so
    none inherits its parent's by accident.
    """

    kind = "provider_error"
    error_class = "provider_error"

    def __init_subclass__(cls, *, kind: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.kind = cls.error_class = kind

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class AuthenticationFailed(ProviderError, kind="authentication_failed"):
    """The vendor rejected the stored credentials."""


class PermissionDenied(ProviderError, kind="permission_denied"):
    """The credentials are valid but may not do this."""


class NotFound(ProviderError, kind="not_found"):
    """No such object, or none this account may see."""


class Conflict(ProviderError, kind="conflict"):
    """The object changed underneath us (lock versions, duplicate names)."""


class InvalidInput(ProviderError, kind="invalid_input"):
    """The vendor refused the values given; `field_errors` maps field to the vendor's message."""

    def __init__(
        self, message: str, *, field_errors: dict[str, str] | None = None, status: int | None = None
    ):
        super().__init__(message, status=status)
        self.field_errors = dict(field_errors or {})

    def __str__(self) -> str:
        if not self.field_errors:
            return self.message
        details = "; ".join(f"{field}: {msg}" for field, msg in self.field_errors.items())
        return f"{self.message} ({details})"


class RateLimited(ProviderError, kind="rate_limited"):
    """The vendor asks us to slow down; `retry_after` is how many seconds it said to wait, if it did."""

    def __init__(self, message: str, *, retry_after: float | None = None, status: int | None = 429):
        super().__init__(message, status=status)
        self.retry_after = retry_after


class Unavailable(ProviderError, kind="unavailable"):
    """The vendor could not be reached or answered with a server error."""


class Unreachable(Unavailable, kind="unreachable"):
    """No connection could be made (the name does not resolve, or the server refuses)."""


class TLSFailure(Unavailable, kind="tls_failure"):
    """The https handshake failed (the certificate, or not https at all)."""


class TimedOut(Unavailable, kind="timed_out"):
    """The vendor did not answer within the read timeout."""


class ResponseTooLarge(Unavailable, kind="response_too_large"):
    """The vendor's answer was larger than VENDOR_MAX_RESPONSE_BYTES."""


class NotThisProduct(ProviderError, kind="not_this_product"):
    """The URL answers, but not as this vendor's API would (wrong URL or another product)."""


class NotSupported(ProviderError, kind="not_supported"):
    """This provider has no such operation (or not in this configuration)."""


class AddressNotAllowed(ProviderError, kind="address_not_allowed"):
    """The outbound address guard refused the URL (server-side request forgery protection)."""
