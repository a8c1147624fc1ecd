from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from portal.charts import burndown_chart
from portal.core.db import DatabaseUnavailable, ping_engine
from portal.core.models import McpApiKey
from portal.core.services import activity
from portal.core.services.active_sprints import gather_active_sprints
from portal.core.services.my_tasks import gather_my_tasks
from portal.extensions import db
from portal.runner import connection_runner

bp = Blueprint("main", __name__)

DASHBOARD_TASKS = 20
DASHBOARD_ACTIVITY = 10


@bp.route("/")
def dashboard():
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    user_id = current_user.id
    keys = db.session.scalar(
        select(func.count(McpApiKey.id)).where(McpApiKey.user_id == user_id, McpApiKey.revoked_at.is_(None))
    )
    runner = connection_runner()
    # Tasks and sprints are asked at the same time: each waits on every connection at once.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="dashboard") as pool:
        tasks_asked = pool.submit(gather_my_tasks, runner, limit=DASHBOARD_TASKS)
        sprints_asked = pool.submit(gather_active_sprints, runner, with_burndown=True)
        my_tasks, sprints = tasks_asked.result(), sprints_asked.result()
    charts = {
        index: burndown_chart(f"burndown-{index}", item.burndown, title=f"Burndown of {item.sprint.name}")
        for index, item in enumerate(sprints.sprints)
        if item.burndown is not None
    }
    recent = activity.find_activity(
        db.session,
        activity.ActivityFilter(viewer_id=user_id, kind="tool_call"),
        page_size=DASHBOARD_ACTIVITY,
    )
    settings = current_app.extensions["pm_settings"]
    return render_template(
        "main/dashboard.html",
        key_count=keys or 0,
        connections=runner.views[1:],
        my_tasks=my_tasks,
        sprints=sprints,
        charts=charts,
        recent=recent,
        mcp_url=settings.public_mcp_url,
    )


@bp.route("/healthz")
def healthz():
    try:
        ping_engine(db.engine, current_app.config["SQLALCHEMY_DATABASE_URI"])
    except DatabaseUnavailable:
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok", version=current_app.extensions.get("pm_version", "0.1.0"))
