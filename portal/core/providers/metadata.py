"""Vendor metadata, cached per connection: what changes only when someone reconfigures the vendor.

JIRA's field list, boards and their estimation settings, OpenProject's statuses,
Redmine's roles, ClickUp's Workspace hierarchy: every call would otherwise ask
for them again. They are kept here per connection and shared by every adapter
built for it (the worker keeps one per connection, the portal builds one per
request), each entry for a while (a TTL), so a change made on the vendor's side
is seen within minutes.

A connection is known by its type, owner and slug; where it points and with
which credentials is its fingerprint (a digest: no token is kept). An edited
connection has a new fingerprint, and the entries of the old one are dropped.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from .base import ConnectionConfig

T = TypeVar("T")

DEFAULT_TTL = 300.0
"""Seconds an entry is reused; a vendor may ask for less per entry."""
MAX_ENTRIES = 5000
"""Entries one connection keeps at most (boards, lists ...); the least recently used go first."""
MAX_CONNECTIONS = 2000
"""Connections the process keeps metadata for at most; the least recently used go first."""


class ConnectionMetadata:
    """One connection's cached metadata. Safe to share between threads."""

    def __init__(self, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.monotonic):
        self._ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], T], ttl: float | None = None) -> T:
        """The value kept under `key`, or what `load()` returns, kept for `ttl` seconds.

        `load` runs outside the lock (it makes requests), so two threads may both load a
        missing entry; the later one wins. Whatever `load` raises passes through and
        nothing is kept.
        """
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] > now:
                self._entries.move_to_end(key)
                return hit[1]
        value = load()
        self.put(key, value, ttl)
        return value

    def peek(self, key: Hashable, default: Any = None) -> Any:
        """The value kept under `key`, or `default` when there is none (or it expired)."""
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            return hit[1] if hit is not None and hit[0] > now else default

    def put(self, key: Hashable, value: Any, ttl: float | None = None) -> None:
        """Keep `value` under `key` for `ttl` seconds (the cache's TTL by default)."""
        expires = self._clock() + (self._ttl if ttl is None else ttl)
        with self._lock:
            self._entries[key] = (expires, value)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)

    def drop(self, key: Hashable) -> None:
        """Forget one entry (after a change this adapter made itself)."""
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        now = self._clock()
        with self._lock:
            return sum(1 for expires, _ in self._entries.values() if expires > now)


def fingerprint(provider_type: str, config: ConnectionConfig) -> str:
    """A digest of what the connection points at and with which credentials."""
    material = json.dumps(
        [provider_type, config.base_url, config.username, config.token, config.options],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(material.encode()).hexdigest()


class MetadataCache:
    """Every connection's metadata in this process, by connection."""

    def __init__(self, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.monotonic):
        self._ttl = ttl
        self._clock = clock
        self._connections: OrderedDict[tuple[Any, ...], tuple[str, ConnectionMetadata]] = OrderedDict()
        self._lock = threading.Lock()

    def for_connection(self, provider_type: str, config: ConnectionConfig) -> ConnectionMetadata:
        """The metadata of this connection; a fresh, empty one when the connection changed."""
        identity = (provider_type, config.user_id, config.slug)
        digest = fingerprint(provider_type, config)
        with self._lock:
            known = self._connections.get(identity)
            if known is not None and known[0] == digest:
                self._connections.move_to_end(identity)
                return known[1]
            metadata = ConnectionMetadata(self._ttl, self._clock)
            self._connections[identity] = (digest, metadata)
            self._connections.move_to_end(identity)
            while len(self._connections) > MAX_CONNECTIONS:
                self._connections.popitem(last=False)
            return metadata

    def clear(self) -> None:
        """Forget every connection's metadata."""
        with self._lock:
            self._connections.clear()


SHARED = MetadataCache()
"""The process's cache; adapters use it unless they are given another."""
