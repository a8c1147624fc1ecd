"""`pm-portal seed-demo`: a demo project with history that has shape, made once."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import func, select

from portal.core.db import Database
from portal.core.models import TrackerProject, TrackerSprint, TrackerTask, TrackerTaskChange, User
from portal.core.providers.base import ConnectionConfig, PageRequest, SprintState, StatusCategory
from portal.core.providers.local import LocalAdapter
from portal.extensions import db
from tests.conftest import AuthActions
from tests.contract.suite import TEST_POLICY


def counts(app) -> tuple[int, ...]:
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (User, TrackerProject, TrackerTask, TrackerSprint, TrackerTaskChange)
        )


def demo_adapter(app, user_id: int) -> LocalAdapter:
    with app.app_context():
        database = Database.from_engine(db.engine)
    config = ConnectionConfig(slug="local", base_url="http://127.0.0.1:5000", token="", user_id=user_id)
    return LocalAdapter(config, TEST_POLICY, database=database)


def test_seed_demo_needs_an_administrator_first(runner, app):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "Create an administrator first" in result.output
    assert counts(app) == (0, 0, 0, 0, 0)


def test_seed_demo_builds_two_sprints_with_a_burndown_shape(runner, app, auth):
    admin_id = auth.create_user(email="admin@example.com", name="Admin", is_admin=True)
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    passwords = dict(
        re.findall(r"Created (\S+@example\.com) with the temporary password (\S+) ", result.output)
    )
    assert set(passwords) == {"mara.lind@example.com", "tomas.reyes@example.com", "priya.nair@example.com"}

    # The printed password works, and must be changed at the first sign-in.
    member = AuthActions(app.test_client(), app)
    assert (
        member.login("mara.lind@example.com", passwords["mara.lind@example.com"]).headers["Location"]
        == "/account"
    )

    adapter = demo_adapter(app, admin_id)
    sprints = {s.name: s for s in adapter.list_sprints("DEMO", None, PageRequest(limit=10)).items}
    finished, running = sprints["Sprint 1"], sprints["Sprint 2"]
    assert finished.state == SprintState.CLOSED and finished.completed_at is not None
    assert running.state == SprintState.ACTIVE
    assert running.start <= datetime.now(UTC) <= running.end

    finished_tasks = adapter.sprint_tasks(finished.id)
    assert finished_tasks and all(t.status.category == StatusCategory.DONE for t in finished_tasks)
    done_days = {t.done_at.date() for t in finished_tasks}
    assert len(done_days) >= 5, "tasks must finish on different days for a burndown to have shape"
    assert all(finished.start <= t.done_at <= finished.end for t in finished_tasks)
    assert all(t.story_points and t.estimate_hours for t in finished_tasks)
    assert any(t.created_at > finished.start for t in finished_tasks), "one task was added mid-sprint"

    running_tasks = adapter.sprint_tasks(running.id)
    categories = {t.status.category for t in running_tasks}
    assert categories == {StatusCategory.TODO, StatusCategory.IN_PROGRESS, StatusCategory.DONE}
    assert {t.assignee.name for t in running_tasks} == {"Mara Lind", "Tomás Reyes", "Priya Nair"}

    (epic,) = adapter.list_epics("DEMO", PageRequest()).items
    with app.app_context():
        children = db.session.scalar(
            select(func.count(TrackerTask.id)).where(TrackerTask.epic_id.is_not(None))
        )
        carried = db.session.scalars(
            select(TrackerTaskChange).where(TrackerTaskChange.field == "sprint")
        ).all()
    assert epic.title == "Self-service onboarding" and children >= 4
    assert [(c.old_value, c.new_value) for c in carried] == [("Sprint 1", "Sprint 2")]


def test_seed_demo_twice_changes_nothing_the_second_time(runner, app, auth):
    auth.create_user(email="admin@example.com", name="Admin", is_admin=True)
    auth.create_user(email="priya.nair@example.com", name="Priya N.")  # already a member
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "priya.nair@example.com" not in first.output  # an existing account keeps its password
    before = counts(app)
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "temporary password" not in second.output
    assert "already exists" in second.output
    assert counts(app) == before
