"""One prepared world per provider for the tool-suite tests: a connection of the test user pointing at the
vendor's fake (or the real Redmine), with a project, another person, a sprint and an epic where the vendor has
them, and hooks to seed tasks and inject faults."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from portal.core.db import Database
from portal.core.models import User
from portal.core.services import connections as connection_service
from portal.core.tracker import service as tracker
from portal.extensions import db


@dataclass
class ToolWorld:
    provider: str
    slug: str
    project_ref: str
    other_name: str  # another person tasks can be assigned to
    seed: Callable[..., list[str]]  # seed(count, prefix, assign_to_me=False) -> task refs
    sprint_ref: str | None = None
    epic_ref: str | None = None
    fault: Callable[..., None] | None = None  # fault(status, count=..., path=..., headers=...)
    supports_delete: bool = True
    extra: dict = field(default_factory=dict)


def add_connection(
    app, user_id: int, *, provider: str, slug: str, url: str, token: str, username=None, options=None
):
    """Save a connection the way the portal does: the vendor check runs first."""
    with app.app_context():
        user = db.session.get(User, user_id)
        data = connection_service.ConnectionInput(
            provider_type=provider,
            slug=slug,
            name=f"{provider} test",
            base_url=url,
            username=username,
            token=token,
            options=options or {},
        )
        row, outcome = connection_service.save_connection(
            db.session,
            user,
            data,
            vault=app.extensions["pm_vault"],
            policy=app.extensions["pm_http_policy"],
            database=Database.from_engine(db.engine),
        )
        db.session.commit()
        assert outcome is not None and outcome.ok, outcome
        return row.id


def local_world(app, user_id: int, other_user_id: int) -> ToolWorld:
    with app.app_context():
        database = Database.from_engine(db.engine)
    with database.session() as session:
        project = tracker.create_project(session, key="WEB", name="Website", actor_id=user_id)
        tracker.create_project(session, key="OPS", name="Operations", actor_id=user_id)
        today = date.today()
        sprint = tracker.create_sprint(
            session,
            project,
            name="Sprint 7",
            start_date=today - timedelta(days=2),
            end_date=today + timedelta(days=7),
            state="active",
        )
        for n in range(2):
            tracker.create_task(
                session,
                project,
                title=f"Sprint item {n}",
                sprint_id=sprint.id,
                story_points=2,
                actor_id=user_id,
            )
        epic = tracker.create_task(session, project, title="Checkout revamp", type="epic", actor_id=user_id)
        tracker.create_task(session, project, title="Pay with card", epic_id=epic.id, actor_id=user_id)
        other_name = session.get(User, other_user_id).display_name
        sprint_id, epic_key = sprint.id, epic.key

    def seed(count: int, prefix: str, assign_to_me: bool = False) -> list[str]:
        with database.session() as session:
            web = tracker.get_project(session, "WEB")
            return [
                "local:"
                + tracker.create_task(
                    session,
                    web,
                    title=f"{prefix} {n}",
                    assignee_id=user_id if assign_to_me else None,
                    actor_id=user_id,
                ).key
                for n in range(count)
            ]

    return ToolWorld(
        provider="local",
        slug="local",
        project_ref="local:WEB",
        other_name=other_name,
        seed=seed,
        sprint_ref=f"local:{sprint_id}",
        epic_ref=f"local:{epic_key}",
    )


def clickup_world(app, user_id: int, fake) -> ToolWorld:
    from tests.fakes.clickup import TOKEN

    add_connection(
        app,
        user_id,
        provider="clickup",
        slug="cu",
        url=fake.base_url,
        token=TOKEN,
        options={"team_id": fake.team.id},
    )

    def seed(count: int, prefix: str, assign_to_me: bool = False) -> list[str]:
        assignees = [fake.me.id] if assign_to_me else []
        return [
            "cu:" + fake.add_task(fake.backlog, f"{prefix} {n}", assignee_ids=assignees).id
            for n in range(count)
        ]

    def fault(status: int, count: int = 1, path: str | None = None, headers=None) -> None:
        fake.fail_next(status, count=count, path=path, headers=headers)

    return ToolWorld(
        provider="clickup",
        slug="cu",
        project_ref=f"cu:{fake.backlog.id}",
        other_name=fake.other.username,
        seed=seed,
        sprint_ref=f"cu:{fake.current_sprint.id}",
        epic_ref=None,
        fault=fault,
        extra={"long_rate_limit": fake.rate_limit_headers(remaining=0, reset_in=60)},
    )


def redmine_world(app, user_id: int, server, admin, world) -> ToolWorld:
    add_connection(app, user_id, provider="redmine", slug="rm", url=server.url, token=server.api_key)
    admin_id = admin.call("GET", "users/current.json")["user"]["id"]
    # A sprint with an end date, so it has a burndown (Redmine versions have only a due date).
    sprint = admin.call(
        "POST",
        f"projects/{world.project_id}/versions.json",
        {
            "version": {
                "name": f"Dated sprint {uuid.uuid4().hex[:6]}",
                "effective_date": (date.today() + timedelta(days=7)).isoformat(),
            }
        },
        201,
    )["version"]
    for n in range(2):
        admin.create_issue(
            world.project_id, f"Dated sprint work {n}", fixed_version_id=sprint["id"], estimated_hours=3
        )

    def seed(count: int, prefix: str, assign_to_me: bool = False) -> list[str]:
        fields = {"assigned_to_id": admin_id} if assign_to_me else {}
        return [
            "rm:" + admin.create_issue(world.project_id, f"{prefix} {n} {world.run}", **fields)
            for n in range(count)
        ]

    return ToolWorld(
        provider="redmine",
        slug="rm",
        project_ref=f"rm:{world.project_id}",
        other_name=world.developer_name,
        seed=seed,
        sprint_ref=f"rm:{sprint['id']}",
        epic_ref=None,
        extra={"run": world.run},
    )


def openproject_world(app, user_id: int, fake) -> ToolWorld:
    from tests.fakes.openproject import TOKEN

    add_connection(app, user_id, provider="openproject", slug="op", url=fake.base_url, token=TOKEN)

    def seed(count: int, prefix: str, assign_to_me: bool = False) -> list[str]:
        fields = {"assignee_id": 1} if assign_to_me else {}
        return [f"op:{fake.add_work_package(1, f'{prefix} {n}', **fields)}" for n in range(count)]

    def fault(status: int, count: int = 1, path: str | None = None, headers=None) -> None:
        fake.fail_next(status, count=count, path=path, headers=headers)

    return ToolWorld(
        provider="openproject",
        slug="op",
        project_ref="op:1",
        other_name="Ben Okafor",
        seed=seed,
        sprint_ref="op:2",
        epic_ref=f"op:{fake.epic_id}",
        fault=fault,
        extra={"long_rate_limit": {"Retry-After": "30"}},
    )


def jira_world(app, user_id: int, fake) -> ToolWorld:
    email, token = fake.credentials()
    add_connection(
        app, user_id, provider="jira", slug="acme-jira", url=fake.base_url, token=token, username=email
    )

    def seed(count: int, prefix: str, assign_to_me: bool = False) -> list[str]:
        assignee = fake.me.account_id if assign_to_me else None
        return [
            f"acme-jira:{fake.add_issue('ALPHA', f'{prefix} {n}', assignee=assignee).key}"
            for n in range(count)
        ]

    def fault(status: int, count: int = 1, path: str | None = None, headers=None) -> None:
        fake.fail_next(status, count=count, path=path, headers=headers)

    return ToolWorld(
        provider="jira",
        slug="acme-jira",
        project_ref="acme-jira:ALPHA",
        other_name=fake.other.name,
        seed=seed,
        sprint_ref=f"acme-jira:{fake.active_sprint}",
        epic_ref=f"acme-jira:{fake.epic_key}",
        fault=fault,
        extra={"long_rate_limit": {"Retry-After": "30"}},
    )
