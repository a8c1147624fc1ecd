"""UNSET: the marker of a field a change leaves alone (None means clear it)."""

from __future__ import annotations

from typing import Any


class _Unset:
    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()
"""Marks a field of TaskChanges or SprintChanges that is not being changed (None means clear it)."""
