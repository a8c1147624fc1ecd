"""The one base class of errors whose message is meant for a person.

Whatever the core refuses for a reason the user can act on (a bad value, a missing object, a vendor
that said no) derives from `UserFacingError`. Each front translates it once: the worker into an
`isError` tool result, the portal into an error page (or a form's field errors, where it has a form).
Anything else that escapes is a bug: logged with its traceback, shown only as "unexpected error".
"""

from __future__ import annotations


class UserFacingError(Exception):
    """A refusal to show as it is: `message` says what went wrong, `hint` what to do about it.

    `error_class` is a stable name for audit rows and tool results ("not_found", "invalid_arguments").
    Neither text may hold a secret; both are shown to the person who made the request.
    """

    error_class: str = "invalid_arguments"

    def __init__(self, message: str, *, hint: str | None = None, error_class: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if error_class is not None:
            self.error_class = error_class

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message
