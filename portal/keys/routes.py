from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.charts import calls_sparkline
from portal.confirm import ask_to_confirm, confirmed
from portal.core import keys as key_service
from portal.core.client_configs import endpoints, oauth_snippets, snippets_for
from portal.core.models import McpApiKey, OAuthGrant, utcnow
from portal.core.oauth import grants as grant_service
from portal.core.principals import LOCAL_CONNECTION_ID
from portal.core.services import activity
from portal.core.services.connections import list_connections
from portal.core.toolsets import describe_toolsets, listing_cost, loaded_toolsets
from portal.extensions import db

from .forms import KeyActionForm, NewKeyForm

bp = Blueprint("keys", __name__, url_prefix="/keys")

USAGE_DAYS = 14
RECENT_ROWS = 20


def _own_key(key_id: int) -> McpApiKey:
    """The signed-in user's key, or 404 (another user's key is indistinguishable from none)."""
    key = db.session.scalar(
        select(McpApiKey).where(McpApiKey.id == key_id, McpApiKey.user_id == current_user.id)
    )
    if key is None:
        abort(404)
    return key


def _own_grant(grant_id: int) -> OAuthGrant:
    """The signed-in user's OAuth grant, or 404."""
    grant = db.session.scalar(
        select(OAuthGrant).where(OAuthGrant.id == grant_id, OAuthGrant.user_id == current_user.id)
    )
    if grant is None:
        abort(404)
    return grant


def _connection_views():
    return list_connections(
        db.session, current_user.id, current_app.extensions["pm_settings"].public_portal_url
    )


def _new_key_form() -> NewKeyForm:
    form = NewKeyForm()
    form.offer_connections(_connection_views())
    return form


def connection_names(ids: list[int] | None, slugs: dict[int, str]) -> str:
    """How a key's or grant's connection limit reads: 'all', or the slugs it may use."""
    if ids is None:
        return "all"
    names = [slugs.get(i, "a deleted connection") for i in ids]
    return ", ".join(sorted(set(names))) or "none"


def toolset_cost(credential: McpApiKey | OAuthGrant) -> str:
    """A credential's toolsets, and how many tools and tokens its tools/list costs its client."""
    toolsets = loaded_toolsets(credential.toolsets)
    cost = listing_cost(toolsets, read_only=credential.read_only)
    return f"{describe_toolsets(toolsets)}: {cost.tools} tools, about {cost.tokens:,} tokens"


def _usage_charts(keys: list[McpApiKey]) -> dict[int, object]:
    """Each key's calls per day over the last 14 days, as a small chart."""
    series = activity.calls_per_day(db.session, [key.id for key in keys], days=USAGE_DAYS)
    return {
        key.id: calls_sparkline(f"usage-{key.id}", series[key.id], label=f"Calls per day of {key.name}")
        for key in keys
    }


def _listing(form: NewKeyForm, status: int = 200):
    now = utcnow()
    keys = db.session.scalars(
        select(McpApiKey).where(McpApiKey.user_id == current_user.id).order_by(McpApiKey.created_at.desc())
    ).all()
    live = [key for key in keys if key.state(now) == "active"]
    retired = [key for key in keys if key.state(now) != "active"]
    settings = current_app.extensions["pm_settings"]
    http_url, sse_url = endpoints(settings.public_mcp_url)
    slugs = {
        view.id if view.id is not None else LOCAL_CONNECTION_ID: view.slug for view in _connection_views()
    }
    return (
        render_template(
            "keys/index.html",
            form=form,
            keys=live,
            retired=retired,
            usage=_usage_charts(live),
            grants=grant_service.user_grants(db.session, current_user.id),
            connection_names=lambda ids: connection_names(ids, slugs),
            toolset_cost=toolset_cost,
            action=KeyActionForm(),
            now=now,
            http_url=http_url,
            sse_url=sse_url,
            oauth_snippets=oauth_snippets(settings.public_mcp_url),
        ),
        status,
    )


def _show_once(minted: key_service.MintedKey, *, rotated: bool = False):
    """The only page that ever shows the raw key; nothing of it is kept in the session."""
    settings = current_app.extensions["pm_settings"]
    snippets = snippets_for(minted.record.client, settings.public_mcp_url, minted.raw_key)
    http_url, sse_url = endpoints(settings.public_mcp_url)
    return render_template(
        "keys/created.html",
        key=minted.record,
        raw_key=minted.raw_key,
        snippets=snippets,
        rotated=rotated,
        http_url=http_url,
        sse_url=sse_url,
    )


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    form = _new_key_form()
    form_ok = form.validate_on_submit()
    name = (form.name.data or "").strip()
    if form.is_submitted() and name and not form.name.errors:
        # A taken name is reported with the form's own problems, on the first submit.
        if key_service.live_key_named(db.session, current_user.id, name) is not None:
            form.name.errors.append(
                f"You already have a key named {name!r}. Choose another name, or rotate that key."
            )
            form_ok = False
    connection_ids = form.chosen_connection_ids() if form_ok else None
    toolsets = form.chosen_toolsets() if form_ok else None
    if form_ok and connection_ids != [] and toolsets is not None:
        try:
            minted = key_service.mint_key(
                db.session,
                current_user.model,
                name=form.name.data,
                client=form.client.data,
                read_only=form.read_only.data,
                expires_days=int(form.expires.data) if form.expires.data else None,
                connection_ids=connection_ids,
                toolsets=toolsets,
            )
        except key_service.KeyRequestError as exc:
            db.session.rollback()
            form.name.errors.append(str(exc))
        else:
            db.session.commit()
            return _show_once(minted)
    return _listing(form, 200)


@bp.post("/<int:key_id>/revoke")
@login_required
def revoke(key_id: int):
    key = _own_key(key_id)
    if not KeyActionForm().validate_on_submit():
        abort(400)
    if not confirmed():
        return ask_to_confirm(
            f"Revoke the key '{key.name}'?",
            detail="Clients using it are refused from then on. This can't be undone.",
            button="Revoke",
            cancel_url=url_for("keys.index"),
        )
    key_service.revoke_key(db.session, key)
    db.session.commit()
    flash(f"Key '{key.name}' is revoked: clients using it are refused from now on.", "success")
    return redirect(url_for("keys.index"))


@bp.post("/<int:key_id>/rotate")
@login_required
def rotate(key_id: int):
    key = _own_key(key_id)
    if not KeyActionForm().validate_on_submit():
        abort(400)
    if key.revoked_at is not None:
        flash(f"Key '{key.name}' is revoked; create a new key instead.", "error")
        return redirect(url_for("keys.index"))
    if not confirmed():
        return ask_to_confirm(
            f"Rotate the key '{key.name}'?",
            detail="It gets a new value, shown once; the current value stops working at once.",
            button="Rotate",
            cancel_url=url_for("keys.index"),
        )
    minted = key_service.rotate_key(db.session, key)
    db.session.commit()
    return _show_once(minted, rotated=True)


@bp.post("/grants/<int:grant_id>/revoke")
@login_required
def revoke_grant(grant_id: int):
    """Revoke an app signed in with OAuth: its tokens stop working on its next request."""
    grant = _own_grant(grant_id)
    if not KeyActionForm().validate_on_submit():
        abort(400)
    if not confirmed():
        return ask_to_confirm(
            f"Sign {grant.client_name} out?",
            detail="Its tokens stop working on its next request; it has to sign in again to come back.",
            button="Revoke",
            cancel_url=url_for("keys.index"),
        )
    grant_service.revoke_grant(db.session, grant, reason="user")
    db.session.commit()
    flash(f"{grant.client_name} is signed out: it is refused from now on.", "success")
    return redirect(url_for("keys.index"))


@bp.get("/<int:key_id>")
@login_required
def detail(key_id: int):
    key = _own_key(key_id)
    series = activity.calls_per_day(db.session, [key.id], days=USAGE_DAYS)[key.id]
    recent = activity.find_activity(
        db.session,
        activity.ActivityFilter(viewer_id=current_user.id, key_id=key.id),
        page_size=RECENT_ROWS,
    )
    return render_template(
        "keys/detail.html",
        key=key,
        state=key.state(utcnow()),
        series=series,
        chart=calls_sparkline(f"usage-{key.id}", series, label=f"Calls per day of {key.name}"),
        recent=recent,
        used=key.last_used_at is not None or any(row.kind == "tool_call" for row in recent.rows),
        toolsets=toolset_cost(key),
        action=KeyActionForm(),
    )
