"""Sprints across connections: which are running, and for one sprint its burndown and its project's velocity.

The numbers come from portal.core.services.analytics, the same functions the
`burndown` and `velocity` tools call, through the same adapters.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import login_required

from portal.charts import burndown_chart, velocity_chart
from portal.core.providers import errors
from portal.core.services import analytics
from portal.core.services.active_sprints import gather_active_sprints
from portal.core.services.fan_out import describe_failure
from portal.runner import connection_runner

bp = Blueprint("sprints", __name__)


@bp.route("/sprints")
@login_required
def index():
    overview = gather_active_sprints(connection_runner())
    return render_template("sprints/index.html", overview=overview)


def sprint_charts(adapter, sprint_id: str, *, chart_id: str = "sprint", with_velocity: bool = True):
    """(sprint, burndown, burndown chart, velocity, velocity chart, notes) of one sprint, read through `adapter`."""
    notes: list[str] = []
    sprint = adapter.get_sprint(sprint_id)
    chart = drawn = None
    try:
        chart = analytics.burndown(sprint, adapter.sprint_tasks(sprint_id))
        drawn = burndown_chart(f"{chart_id}-burndown", chart, title=f"Burndown of {sprint.name}")
    except analytics.SprintDatesMissing as exc:
        notes.append(str(exc))
    result = bars = None
    project_id = sprint.project_ref.partition(":")[2] if sprint.project_ref else None
    if project_id and with_velocity:
        try:
            result = analytics.project_velocity(adapter, project_id)
        except errors.NotSupported as exc:
            notes.append(f"No velocity: {exc}")
        if result is not None:
            bars = velocity_chart(f"{chart_id}-velocity", result, title="Velocity of the last closed sprints")
    return sprint, chart, drawn, result, bars, notes


@bp.route("/sprints/<slug>/<sprint_id>")
@login_required
def detail(slug: str, sprint_id: str):
    runner = connection_runner()
    view = runner.view(slug)
    if view is None:
        abort(404)
    if not view.is_active:
        return render_template(
            "sprints/detail.html", view=view, sprint=None, problem=f"The connection {slug} is disabled."
        ), 409
    try:
        sprint, chart, drawn, result, bars, notes = runner.run(view, lambda a: sprint_charts(a, sprint_id))
    except errors.NotFound:
        abort(404)
    except Exception as exc:  # a vendor's failure is shown on the page, not raised
        return render_template(
            "sprints/detail.html", view=view, sprint=None, problem=describe_failure(slug, exc).message
        ), 502
    return render_template(
        "sprints/detail.html",
        view=view,
        sprint=sprint,
        burndown=chart,
        burndown_svg=drawn,
        velocity=result,
        velocity_svg=bars,
        notes=notes,
        problem=None,
    )
