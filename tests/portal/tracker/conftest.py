"""Fixtures of the tracker's page tests: a signed-in member and the WEB project."""

from __future__ import annotations

import pytest

from portal.core.tracker import service
from portal.extensions import db


@pytest.fixture
def signed_in(client, auth) -> int:
    user_id = auth.create_user()
    auth.login()
    return user_id


@pytest.fixture
def project(app, signed_in) -> str:
    with app.app_context():
        service.create_project(db.session, key="WEB", name="Website", actor_id=signed_in)
        db.session.commit()
    return "WEB"
