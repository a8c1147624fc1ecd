"""The running sprints across a user's connections, optionally with their burndowns.

For the portal's Sprints page and dashboard. A project where the vendor has no
sprints (NotSupported) is left out quietly; a connection that
fails is reported beside the others' sprints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..providers import errors
from ..providers.base import PageRequest, Project, ProviderAdapter, Sprint, SprintState
from . import analytics
from .connections import ConnectionView
from .fan_out import ConnectionFailure, ConnectionRunner, describe_failure, run_for_each

MAX_PROJECTS = 50
FAN_OUT_SECONDS = 20.0


@dataclass(frozen=True)
class ActiveSprint:
    connection: ConnectionView
    sprint: Sprint
    project: Project | None
    burndown: analytics.Burndown | None = None
    note: str | None = None  # why there is no burndown


@dataclass
class ActiveSprints:
    sprints: list[ActiveSprint] = field(default_factory=list)
    failures: list[ConnectionFailure] = field(default_factory=list)


def _active_of(view: ConnectionView, adapter: ProviderAdapter, with_burndown: bool) -> list[ActiveSprint]:
    found: list[ActiveSprint] = []
    seen: set[str] = set()
    for project in adapter.list_projects(PageRequest(limit=MAX_PROJECTS)).items:
        try:
            sprints = adapter.list_sprints(project.id, SprintState.ACTIVE, PageRequest(limit=20)).items
        except errors.NotSupported:
            continue  # this project has no sprints (a ClickUp space without the Sprints ClickApp ...)
        for sprint in sprints:
            if sprint.ref in seen:  # a JIRA board can serve several projects
                continue
            seen.add(sprint.ref)
            chart = note = None
            if with_burndown:
                try:
                    chart = analytics.burndown(sprint, adapter.sprint_tasks(sprint.id))
                except analytics.SprintDatesMissing as exc:
                    note = str(exc)
            found.append(ActiveSprint(view, sprint, project, chart, note))
    return found


def gather_active_sprints(
    runner: ConnectionRunner, *, with_burndown: bool = False, time_limit: float = FAN_OUT_SECONDS
) -> ActiveSprints:
    """Every running sprint of every usable connection, asked concurrently."""
    targets = runner.usable
    results, failures = run_for_each(
        targets,
        lambda view: runner.run(view, lambda adapter: _active_of(view, adapter, with_burndown)),
        time_limit=time_limit,
    )
    overview = ActiveSprints()
    for view in targets:
        overview.sprints += results.get(view.slug, [])
        if view.slug in failures:
            overview.failures.append(describe_failure(view.slug, failures[view.slug]))
    return overview
