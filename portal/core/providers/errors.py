"""The one error tree every provider adapter raises.

Adapters translate vendor failures into these classes; each front (portal,
worker) translates them once more into what its user sees. Messages never
contain a credential.
"""

from __future__ import annotations


class ProviderError(Exception):
    """Base class. `kind` is a stable name used in audit rows and tool results."""

    kind = "provider_error"

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return self.message


class AuthenticationFailed(ProviderError):
    """The vendor rejected the stored credentials."""

    kind = "authentication_failed"


class PermissionDenied(ProviderError):
    """The credentials are valid but may not do this."""

    kind = "permission_denied"


class NotFound(ProviderError):
    kind = "not_found"


class Conflict(ProviderError):
    """The object changed underneath us (lock versions, duplicate names)."""

    kind = "conflict"


class InvalidInput(ProviderError):
    """The vendor refused the values given; `field_errors` maps field to the vendor's message."""

    kind = "invalid_input"

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


class RateLimited(ProviderError):
    kind = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, status: int | None = 429):
        super().__init__(message, status=status)
        self.retry_after = retry_after


class Unavailable(ProviderError):
    """The vendor could not be reached or answered with a server error."""

    kind = "unavailable"


class Unreachable(Unavailable):
    kind = "unreachable"


class TLSFailure(Unavailable):
    kind = "tls_failure"


class TimedOut(Unavailable):
    kind = "timed_out"


class NotThisProduct(ProviderError):
    """The URL answers, but not as this vendor's API would (wrong URL or another product)."""

    kind = "not_this_product"


class NotSupported(ProviderError):
    """This provider has no such operation (or not in this configuration)."""

    kind = "not_supported"


class AddressNotAllowed(ProviderError):
    """The outbound address guard refused the URL (server-side request forgery protection)."""

    kind = "address_not_allowed"
