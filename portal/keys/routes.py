from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.core import keys as key_service
from portal.core.client_configs import endpoints, oauth_snippets, snippets_for
from portal.core.models import McpApiKey, OAuthGrant, utcnow
from portal.core.oauth import grants as grant_service
from portal.core.principals import LOCAL_CONNECTION_ID
from portal.core.services.connections import list_connections
from portal.extensions import db

from .forms import KeyActionForm, NewKeyForm

bp = Blueprint("keys", __name__, url_prefix="/keys")


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


def _listing(form: NewKeyForm, status: int = 200):
    keys = db.session.scalars(
        select(McpApiKey).where(McpApiKey.user_id == current_user.id).order_by(McpApiKey.created_at.desc())
    ).all()
    settings = current_app.extensions["pm_settings"]
    http_url, sse_url = endpoints(settings.public_mcp_url)
    slugs = {
        view.id if view.id is not None else LOCAL_CONNECTION_ID: view.slug for view in _connection_views()
    }
    return (
        render_template(
            "keys/index.html",
            form=form,
            keys=keys,
            grants=grant_service.user_grants(db.session, current_user.id),
            connection_names=lambda ids: connection_names(ids, slugs),
            action=KeyActionForm(),
            now=utcnow(),
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
    if form.validate_on_submit() and (connection_ids := form.chosen_connection_ids()) != []:
        try:
            minted = key_service.mint_key(
                db.session,
                current_user.model,
                name=form.name.data,
                client=form.client.data,
                read_only=form.read_only.data,
                expires_days=int(form.expires.data) if form.expires.data else None,
                connection_ids=connection_ids,
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
    grant_service.revoke_grant(db.session, grant, reason="user")
    db.session.commit()
    flash(f"{grant.client_name} is signed out: it is refused from now on.", "success")
    return redirect(url_for("keys.index"))
