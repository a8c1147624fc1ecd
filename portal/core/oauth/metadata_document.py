"""Fetching a Client ID Metadata Document: the https URL a client gives as its client_id.

The URL comes from anyone, so the fetch goes through the providers' HTTP client
(`ProviderHttp`), whose address guard refuses loopback, private and link-local
addresses on every socket; it is limited in size and time, never follows
redirects, and the result is cached as the response's Cache-Control allows
(within bounds).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from ..providers import errors as provider_errors
from ..providers.http import HttpPolicy, ProviderHttp

MAX_DOCUMENT_BYTES = 10 * 1024
FETCH_SECONDS = 5.0
MIN_CACHE_SECONDS = 300
MAX_CACHE_SECONDS = 24 * 3600
DEFAULT_CACHE_SECONDS = 3600
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


class ClientMetadataError(Exception):
    """A metadata document that can't be used; the message says why and names the URL."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FetchedDocument:
    data: dict[str, Any]
    max_age: int  # seconds the document may be cached


def is_metadata_document_url(client_id: str) -> bool:
    """Whether a client_id is a metadata document URL: https, a host, a path, no fragment or credentials."""
    try:
        parts = urlsplit(client_id)
    except ValueError:
        return False
    if parts.scheme != "https" or not parts.hostname or parts.fragment or parts.username or parts.password:
        return False
    segments = parts.path.split("/")
    return parts.path not in ("", "/") and "." not in segments and ".." not in segments


def cache_seconds(cache_control: str | None) -> int:
    """How long to keep a document: its max-age within [5 minutes, a day]; an hour when it says nothing."""
    if cache_control:
        if re.search(r"\b(no-store|no-cache)\b", cache_control):
            return MIN_CACHE_SECONDS
        match = re.search(r"\bmax-age=(\d+)", cache_control)
        if match:
            return max(MIN_CACHE_SECONDS, min(MAX_CACHE_SECONDS, int(match.group(1))))
    return DEFAULT_CACHE_SECONDS


def fetch_client_metadata(url: str, policy: HttpPolicy) -> FetchedDocument:
    """GET the document at `url` through the guarded client; ClientMetadataError saying what went wrong."""
    if not is_metadata_document_url(url):
        raise ClientMetadataError(
            f"{url[:200]!r} is not a client metadata document URL: it must be https, with a path."
        )
    limited = replace(
        policy,
        connect_timeout=min(policy.connect_timeout, FETCH_SECONDS),
        read_timeout=min(policy.read_timeout, FETCH_SECONDS),
        retries=0,
        max_rate_limit_wait=0,
    )
    http = ProviderHttp(url, vendor="The client metadata document server", policy=limited)
    started = time.monotonic()
    try:
        response = http.request("GET", url, ok=REDIRECT_STATUSES, stream=True)
        try:
            if response.status_code in REDIRECT_STATUSES:
                raise ClientMetadataError(
                    f"The client metadata document at {url} redirects elsewhere; it must be served at its URL."
                )
            body = bytearray()
            for chunk in response.iter_content(chunk_size=2048):
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise ClientMetadataError(
                        f"The client metadata document at {url} is larger than {MAX_DOCUMENT_BYTES // 1024} KiB."
                    )
                if time.monotonic() - started > FETCH_SECONDS:
                    raise ClientMetadataError(
                        f"The client metadata document at {url} took longer than {FETCH_SECONDS:g} s to arrive."
                    )
            max_age = cache_seconds(response.headers.get("Cache-Control"))
        finally:
            response.close()
    except provider_errors.ProviderError as exc:
        raise ClientMetadataError(
            f"The client metadata document at {url} could not be fetched: {exc}"
        ) from None
    finally:
        http.close()
    try:
        data = json.loads(bytes(body))
    except (UnicodeDecodeError, ValueError):
        raise ClientMetadataError(f"The client metadata document at {url} is not JSON.") from None
    if not isinstance(data, dict):
        raise ClientMetadataError(f"The client metadata document at {url} is not a JSON object.")
    return FetchedDocument(data=data, max_age=max_age)
