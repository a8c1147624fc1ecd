"""The Flask-Login view of a User (the core model stays free of Flask)."""

from __future__ import annotations

from portal.core.models import User


class SessionUser:
    """Wraps a User for Flask-Login; attribute access falls through to the model."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, user: User):
        self._user = user

    @property
    def model(self) -> User:
        return self._user

    @property
    def is_active(self) -> bool:
        return self._user.is_active

    def get_id(self) -> str:
        return f"{self._user.id}.{self._user.session_version}"

    def __getattr__(self, name: str):
        return getattr(self._user, name)
