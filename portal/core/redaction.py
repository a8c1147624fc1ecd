"""Blot a credential out of text in every form it travels in.

A vendor may echo what it was sent in an error body: the raw token, the Basic
authorization header (base64 of "user:token"), or the token URL-encoded. Every
one of those forms is replaced before the text reaches a tool result, a page,
a log line or the database.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

PLACEHOLDER = "[token]"
# Shorter values are not secrets worth the false positives of replacing them everywhere.
MIN_SECRET_LENGTH = 6


def _b64_forms(value: str) -> list[str]:
    raw = value.encode()
    forms = [base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()]
    # Without padding too, as some echo it.
    return forms + [form.rstrip("=") for form in forms]


def secret_forms(secret: str | None, username: str | None = None) -> tuple[str, ...]:
    """The forms `secret` (with `username`, for Basic auth) may appear in, longest first."""
    if not secret or len(secret) < MIN_SECRET_LENGTH:
        return ()
    forms = {secret, quote(secret, safe=""), quote_plus(secret)}
    forms.update(_b64_forms(secret))
    if username:
        forms.update(_b64_forms(f"{username}:{secret}"))
    # URL-encoded base64 (a header echoed in a query string).
    forms.update(quote(form, safe="") for form in list(forms))
    return tuple(sorted((f for f in forms if len(f) >= MIN_SECRET_LENGTH), key=len, reverse=True))


def redact(text: str, forms: Iterable[str]) -> str:
    """`text` with every one of `forms` replaced by a placeholder."""
    for form in forms:
        if form in text:
            text = text.replace(form, PLACEHOLDER)
    return text
