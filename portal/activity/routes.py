"""Activity: what my keys, my connections and my sign-ins did, filtered and paged; and the team's, for admins.

Every filter is a query parameter, so the CSV export of a view is the same
link with `export.csv` in it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.admin.routes import admin_required
from portal.core.models import McpApiKey, OAuthGrant, ProviderConnection, User
from portal.core.services import activity as service
from portal.core.services.connections import LOCAL_SLUG, user_connection_rows
from portal.extensions import db

from .forms import ActivityFilterForm

bp = Blueprint("activity", __name__)


def _page_number() -> int:
    value = request.args.get("page", "1")
    return max(1, int(value)) if value.isdigit() else 1


def _form(team: bool) -> ActivityFilterForm:
    form = ActivityFilterForm(formdata=request.args)
    viewer_id = None if team else current_user.id
    if team:
        members = db.session.scalars(select(User).order_by(User.email)).all()
        form.member.choices = [SelectChoice("", "Everyone")] + [
            SelectChoice(str(m.id), f"{m.display_name} ({m.email})") for m in members
        ]
        form.key.choices = [SelectChoice("", "Any key")]
        form.grant.choices = [SelectChoice("", "Any app")]
        slugs = db.session.scalars(
            select(ProviderConnection.slug).distinct().order_by(ProviderConnection.slug)
        )
        form.connection.choices = [
            SelectChoice("", "Any connection"),
            SelectChoice(LOCAL_SLUG, LOCAL_SLUG),
        ] + [SelectChoice(slug, slug) for slug in slugs]
    else:
        keys = db.session.scalars(
            select(McpApiKey).where(McpApiKey.user_id == current_user.id).order_by(McpApiKey.name)
        ).all()
        form.key.choices = [SelectChoice("", "Any key")] + [
            SelectChoice(str(k.id), f"{k.name} ({k.key_prefix}…{', revoked' if k.revoked_at else ''})")
            for k in keys
        ]
        grants = db.session.scalars(
            select(OAuthGrant).where(OAuthGrant.user_id == current_user.id).order_by(OAuthGrant.created_at)
        ).all()
        form.grant.choices = [SelectChoice("", "Any app")] + [
            SelectChoice(str(g.id), f"{g.client_name} (since {g.created_at:%Y-%m-%d})") for g in grants
        ]
        own = [LOCAL_SLUG] + [row.slug for row in user_connection_rows(db.session, current_user.id)]
        form.connection.choices = [SelectChoice("", "Any connection")] + [SelectChoice(s, s) for s in own]
    form.tool.choices = [SelectChoice("", "Any tool")] + [
        SelectChoice(name, name) for name in service.tools_used(db.session, viewer_id)
    ]
    form.validate()
    return form


def _filter(form: ActivityFilterForm, team: bool) -> service.ActivityFilter | None:
    """The filter the form describes; None (with the problem next to its field) when it can't be used."""
    if form.errors:
        return None
    key_id = int(form.key.data) if (form.key.data or "").isdigit() else None
    grant_id = int(form.grant.data) if not team and (form.grant.data or "").isdigit() else None
    member_id = int(form.member.data) if team and (form.member.data or "").isdigit() else None
    try:
        since, until = service.period_bounds(form.period.data or None, form.start.data, form.end.data)
        return service.ActivityFilter(
            viewer_id=None if team else current_user.id,
            viewer_email=None if team else current_user.email,
            member_id=member_id,
            key_id=key_id,
            grant_id=grant_id,
            connection=form.connection.data or None,
            tool=form.tool.data or None,
            outcome=form.outcome.data or None,
            kind=form.kind.data or None,
            since=since,
            until=until,
        )
    except service.ActivityFilterError as exc:
        field = getattr(form, exc.field, form.period)
        field.errors = [*field.errors, exc.message]
        return None


def _params() -> dict[str, Any]:
    return {name: value for name, value in request.args.items() if name != "page" and value}


def _render(team: bool):
    form = _form(team)
    filt = _filter(form, team)
    found = service.find_activity(db.session, filt, page=_page_number()) if filt is not None else None
    endpoint = "activity.team" if team else "activity.mine"
    export = "activity.team_export" if team else "activity.mine_export"
    return render_template(
        "activity/index.html",
        form=form,
        found=found,
        team=team,
        params=_params(),
        endpoint=endpoint,
        export_url=url_for(export, **_params()),
    ), 200 if found is not None else 400


def _export(team: bool):
    form = _form(team)
    filt = _filter(form, team)
    if filt is None:
        return _render(team)
    rows = service.iter_activity(db.session, filt)
    name = "team-activity.csv" if team else "activity.csv"
    return Response(
        stream_with_context(service.csv_lines(rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@bp.route("/activity")
@login_required
def mine():
    return _render(team=False)


@bp.route("/activity/export.csv")
@login_required
def mine_export():
    return _export(team=False)


@bp.route("/admin/activity")
@admin_required
def team():
    return _render(team=True)


@bp.route("/admin/activity/export.csv")
@admin_required
def team_export():
    return _export(team=True)
