"""Playing an OAuth client and its user's browser against the portal, in-process or over HTTP."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlsplit

REDIRECT_URI = "http://127.0.0.1:43123/callback"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def connection_values(html: str) -> dict[str, str]:
    """The consent page's connection checkboxes: label text (slug) -> value."""
    found = {}
    for value, label in re.findall(
        r'<input[^>]*name="connection_ids"[^>]*value="(\d+)"[^>]*>\s*<span>([^<]+)</span>', html
    ):
        slug = re.search(r"\(([^)]+)\)\s*$", label)
        found[slug.group(1) if slug else label] = value
    return found
