"""`pm-portal seed-demo`: a demo project to try the tracker, the MCP tools and sprint reports on.

The demo is built through the tracker service with explicit timestamps, so its
history reads like two real sprints: a finished one whose tasks were completed
on different days (a burndown with shape), and a running one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core import accounts
from portal.core.models import TrackerProject, TrackerSprint, TrackerTask, User
from portal.core.tracker import service
from portal.core.tracker import work as sprint_work
from portal.extensions import db

DEMO_KEY = "DEMO"
DEMO_MEMBERS = (
    ("mara.lind@example.com", "Mara Lind"),
    ("tomas.reyes@example.com", "Tomás Reyes"),
    ("priya.nair@example.com", "Priya Nair"),
)


@dataclass(frozen=True)
class DemoTask:
    title: str
    type: str
    points: float
    hours: float
    member: int  # index into the demo members
    started: int | None = None  # day of the sprint it went in progress
    done: int | None = None  # day of the sprint it was finished
    epic: bool = False  # part of the onboarding epic
    added: int | None = None  # day of the sprint it was added (None: planned before the start)
    priority: str = "medium"


# Sprint 1: two weeks, finished a week ago. Days count from the sprint's first day.
FINISHED_SPRINT = (
    DemoTask(
        "Sign-up form with email verification",
        "story",
        5,
        12,
        0,
        started=0,
        done=3,
        epic=True,
        priority="high",
    ),
    DemoTask("Welcome email template", "task", 2, 3, 2, started=2, done=4, epic=True),
    DemoTask("Password strength meter", "story", 3, 5, 1, started=3, done=6),
    DemoTask(
        "Login redirect loses the page you came from", "bug", 1, 2, 0, started=6, done=7, priority="high"
    ),
    DemoTask(
        "Typo in the password reset email", "bug", 1, 0.5, 2, started=5, done=5, added=5, priority="low"
    ),
    DemoTask("Onboarding checklist on the dashboard", "story", 8, 16, 1, started=4, done=10, epic=True),
    DemoTask("Invite teammates by email", "story", 5, 8, 2, started=7, done=12, epic=True),
)
# Not finished in sprint 1: carried over into sprint 2 when sprint 1 closed.
CARRIED_OVER = DemoTask("Audit log export", "story", 3, 6, 0, started=9, priority="low")
# Sprint 2: started a week ago, runs another week.
RUNNING_SPRINT = (
    DemoTask("Profile photo upload", "story", 3, 4, 2, started=0, done=2, epic=True),
    DemoTask("Dashboard slow with many projects", "bug", 2, 3, 1, started=1, done=4, priority="highest"),
    DemoTask("Getting started guide", "task", 1, 2, 2, started=4, done=5),
    DemoTask("Sign in with Google", "story", 8, 14, 0, started=2, priority="high"),
    DemoTask("Billing page shows the current plan", "story", 5, 8, 2),
    DemoTask("Rate-limit the sign-in form", "task", 2, 3, 1, priority="high"),
)
BACKLOG = (
    DemoTask("Dark mode", "story", 5, 10, 1, priority="low"),
    DemoTask("Export tasks as CSV", "story", 3, 5, 2),
    DemoTask("Emoji in titles break the search", "bug", 1, 2, 0, priority="lowest"),
)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), UTC)


def seed_demo_project(session: Session, members: list[User], owner: User, today: date) -> TrackerProject:
    """Build the DEMO project as of `today`. The caller commits."""
    first_start = today - timedelta(days=21)
    first_end = first_start + timedelta(days=13)
    second_start = first_end + timedelta(days=1)
    planning = _at(first_start - timedelta(days=2), 10)

    project = service.create_project(
        session,
        key=DEMO_KEY,
        name="Demo: Onboarding app",
        description="A demo project made by `pm-portal seed-demo`. Try the board, the task pages, "
        "and the MCP tools (ask for a burndown of *Sprint 1*).",
        actor_id=owner.id,
        at=planning,
    )
    statuses = {s.category: s for s in service.project_statuses(session, project)}
    epic = service.create_task(
        session,
        project,
        title="Self-service onboarding",
        type="epic",
        description="New teams sign up, invite people and find their way **without help from us**.\n\n"
        "- sign-up and verification\n- welcome and invitations\n- the first-run checklist",
        priority="high",
        assignee_id=members[0].id,
        actor_id=owner.id,
        at=planning,
    )
    first = service.create_sprint(
        session, project, name="Sprint 1", goal="New teams can sign up and invite people.", at=planning
    )

    def add(spec: DemoTask, sprint: TrackerSprint | None, created: datetime) -> TrackerTask:
        return service.create_task(
            session,
            project,
            title=spec.title,
            type=spec.type,
            priority=spec.priority,
            story_points=spec.points,
            estimate_hours=spec.hours,
            assignee_id=members[spec.member].id,
            epic_id=epic.id if spec.epic else None,
            sprint_id=sprint.id if sprint else None,
            actor_id=owner.id,
            at=created,
        )

    def work(task: TrackerTask, spec: DemoTask, start: date) -> None:
        """Move the task through the board on the days its spec names."""
        actor = members[spec.member].id
        if spec.started is not None:
            day = start + timedelta(days=spec.started)
            service.set_task_status(
                session, task, statuses["in_progress"], actor_id=actor, at=_at(day, 9, 30)
            )
        if spec.done is not None:
            day = start + timedelta(days=spec.done)
            service.set_task_status(session, task, statuses["done"], actor_id=actor, at=_at(day, 16, 15))

    first_tasks = []
    for spec in FINISHED_SPRINT:
        created = planning if spec.added is None else _at(first_start + timedelta(days=spec.added), 9)
        first_tasks.append((add(spec, first, created), spec))
    carried = add(CARRIED_OVER, first, planning)
    service.update_sprint(
        session,
        first,
        name=first.name,
        goal=first.goal,
        start_date=first_start,
        end_date=first_end,
        state="active",
        at=_at(first_start, 9),
    )
    for task, spec in first_tasks:
        work(task, spec, first_start)
    work(carried, CARRIED_OVER, first_start)
    service.add_comment(
        session,
        first_tasks[0][0],
        body="Verification links expire after **24 hours**; resending makes a new one.",
        author_id=members[0].id,
        at=_at(first_start + timedelta(days=2), 11),
    )

    second = service.create_sprint(
        session, project, name="Sprint 2", goal="Sign-in options and billing basics.", at=_at(first_end, 15)
    )
    service.update_task(
        session, carried, {"sprint_id": second.id}, actor_id=owner.id, at=_at(first_end, 16, 30)
    )
    service.add_comment(
        session,
        carried,
        body="Didn't make it into Sprint 1: the export format needs a decision. Carried over.",
        author_id=owner.id,
        at=_at(first_end, 16, 30),
    )
    service.update_sprint(
        session,
        first,
        name=first.name,
        goal=first.goal,
        start_date=first_start,
        end_date=first_end,
        state="closed",
        at=_at(first_end, 17),
    )

    second_tasks = [(add(spec, second, _at(first_end, 15, 30)), spec) for spec in RUNNING_SPRINT]
    service.update_sprint(
        session,
        second,
        name=second.name,
        goal=second.goal,
        start_date=second_start,
        end_date=second_start + timedelta(days=13),
        state="active",
        at=_at(second_start, 9),
    )
    for task, spec in second_tasks:
        work(task, spec, second_start)
    _add_sprint_work(session, project, first_tasks[0], carried, second_tasks[0][0], members, first_start)
    for spec in BACKLOG:
        add(spec, None, _at(second_start + timedelta(days=3), 14))
    return project


def _add_sprint_work(
    session: Session,
    project: TrackerProject,
    worked: tuple[TrackerTask, DemoTask],
    blocker: TrackerTask,
    blocked: TrackerTask,
    members: list[User],
    start: date,
) -> None:
    """Logged time, a blocking link and a custom field, so each shows on a task page."""
    task, spec = worked
    for day, time_spent, comment in ((0, "3h", "Wired the **signup** form."), (1, "1h30m", None)):
        sprint_work.log_work(
            session,
            task,
            time=time_spent,
            user_id=members[spec.member].id,
            started_on=start + timedelta(days=day),
            comment=comment,
            at=_at(start + timedelta(days=day), 17),
        )
    sprint_work.link_tasks(
        session, blocker, blocked, kind="blocks", actor_id=members[0].id, at=_at(start, 10)
    )
    area = sprint_work.add_field(
        session, project, name="Area", type="option", allowed=["Accounts", "Billing"]
    )
    sprint_work.set_field_values(session, task, {area: "Accounts"}, actor_id=members[0].id, at=_at(start, 10))


def _demo_members(session: Session) -> list[User]:
    """The demo members, created with a printed temporary password when they don't exist yet."""
    members = []
    for email, name in DEMO_MEMBERS:
        member = accounts.find_user(session, email)
        if member is None:
            password = secrets.token_urlsafe(12)
            member = accounts.create_user(
                session, email=email, password=password, display_name=name, must_change_password=True
            )
            click.echo(
                f"Created {email} with the temporary password {password} (to be changed at first sign-in)."
            )
        members.append(member)
    return members


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Fill a demo project (DEMO) with members, an epic, a finished sprint and a running one."""
    session = db.session
    owner = session.scalar(select(User).where(User.is_admin, User.is_active).order_by(User.id).limit(1))
    if owner is None:
        # Otherwise the first demo member would become the instance's administrator.
        raise click.ClickException("Create an administrator first: pm-portal create-user EMAIL --admin")
    members = _demo_members(session)
    if session.scalar(select(TrackerProject.id).where(TrackerProject.key == DEMO_KEY)) is not None:
        session.commit()
        click.echo(f"The {DEMO_KEY} project already exists; left as it is.")
        return
    project = seed_demo_project(session, members, owner, datetime.now(UTC).date())
    session.commit()
    click.echo(
        f"Created the {project.key} project: an epic, Sprint 1 (finished), Sprint 2 (running) and a backlog."
    )


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo)
