from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from portal.core.db import DatabaseUnavailable, ping_engine
from portal.core.models import McpApiKey, ProviderConnection
from portal.extensions import db

bp = Blueprint("main", __name__)


@bp.route("/")
def dashboard():
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    user_id = current_user.id
    keys = db.session.scalar(
        select(func.count(McpApiKey.id)).where(McpApiKey.user_id == user_id, McpApiKey.revoked_at.is_(None))
    )
    connections = db.session.scalars(
        select(ProviderConnection)
        .where(ProviderConnection.user_id == user_id)
        .order_by(ProviderConnection.slug)
    ).all()
    settings = current_app.extensions["pm_settings"]
    return render_template(
        "main/dashboard.html",
        key_count=keys or 0,
        connections=connections,
        mcp_url=settings.public_mcp_url,
    )


@bp.route("/healthz")
def healthz():
    try:
        ping_engine(db.engine, current_app.config["SQLALCHEMY_DATABASE_URI"])
    except DatabaseUnavailable:
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok", version=current_app.extensions.get("pm_version", "0.1.0"))
