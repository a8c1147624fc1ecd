from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from portal.confirm import ask_to_confirm, confirmed
from portal.core import accounts
from portal.core.models import AuditEvent, OAuthClient, User
from portal.core.oauth import clients as client_service
from portal.extensions import db

from .forms import ActionForm, NewMemberForm, NewOAuthClientForm

bp = Blueprint("admin", __name__)


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def _member(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _active_admins() -> int:
    return db.session.scalar(select(func.count(User.id)).where(User.is_admin, User.is_active)) or 0


@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users():
    form = NewMemberForm()
    form_ok, problems = False, {}
    if form.is_submitted():
        # Every problem on the first submit: the form's own checks and the account rules together.
        form_ok = form.validate()
        problems = accounts.new_user_problems(
            db.session,
            email=form.email.data or "",
            password=form.temporary_password.data or "",
            display_name=form.display_name.data,
        )
        for name, message in problems.items():
            target = getattr(form, {"password": "temporary_password"}.get(name, name), form.email)
            if not target.errors:
                target.errors = [*target.errors, message]
    if form_ok and not problems:
        try:
            member = accounts.create_user(
                db.session,
                email=form.email.data,
                password=form.temporary_password.data,
                display_name=form.display_name.data,
                is_admin=form.is_admin.data,
                must_change_password=True,
            )
        except accounts.AccountError as exc:
            db.session.rollback()
            field = {"password": "temporary_password"}.get(exc.field, exc.field)
            getattr(form, field, form.email).errors.append(exc.message)
        else:
            db.session.add(
                AuditEvent(user_id=current_user.id, kind="user_created", target=member.email, ok=True)
            )
            db.session.commit()
            flash(f"{member.email} can now sign in with the temporary password.", "success")
            return redirect(url_for("admin.users"))
    members = db.session.scalars(select(User).order_by(User.email)).all()
    return render_template("admin/users.html", form=form, members=members, action=ActionForm())


@bp.post("/users/<int:user_id>/disable")
@admin_required
def disable(user_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    member = _member(user_id)
    if member.id == current_user.id:
        flash("You can't disable your own account.", "error")
    elif not confirmed():
        return ask_to_confirm(
            f"Disable {member.email}?",
            detail="Their sessions end and their MCP keys stop working until an administrator enables them again.",
            button="Disable",
            cancel_url=url_for("admin.users"),
        )
    else:
        accounts.set_active(db.session, member, False, actor=current_user.model)
        db.session.commit()
        flash(f"{member.email} is disabled: their sessions and MCP keys stopped working.", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/password")
@admin_required
def reset_password(user_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    member = _member(user_id)
    if member.id == current_user.id:
        flash("Change your own password under your account instead.", "error")
        return redirect(url_for("admin.users"))
    if not confirmed():
        return ask_to_confirm(
            f"Reset the password of {member.email}?",
            detail="They get a temporary password, shown to you once, that they must change when they "
            "sign in; every session of theirs ends now.",
            button="Reset password",
            cancel_url=url_for("admin.users"),
        )
    temporary = accounts.reset_password(db.session, member, actor=current_user.model)
    db.session.commit()
    # The only time this password is shown: nothing of it is kept but its hash.
    return render_template("admin/password_reset.html", member=member, temporary=temporary)


@bp.post("/users/<int:user_id>/enable")
@admin_required
def enable(user_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    member = _member(user_id)
    accounts.set_active(db.session, member, True, actor=current_user.model)
    db.session.commit()
    flash(f"{member.email} is enabled again.", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/admin")
@admin_required
def toggle_admin(user_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    member = _member(user_id)
    if member.is_admin and _active_admins() <= 1:
        flash("This is the only administrator; make someone else an administrator first.", "error")
        return redirect(url_for("admin.users"))
    member.is_admin = not member.is_admin
    db.session.add(
        AuditEvent(
            user_id=current_user.id,
            kind="admin_granted" if member.is_admin else "admin_revoked",
            target=member.email,
            ok=True,
        )
    )
    db.session.commit()
    flash(f"{member.email} is {'now' if member.is_admin else 'no longer'} an administrator.", "success")
    return redirect(url_for("admin.users"))


# --- OAuth clients ---------------------------------------------------------------------------------


@bp.route("/oauth-clients", methods=["GET", "POST"])
@admin_required
def oauth_clients():
    """Pre-registered OAuth clients, added here; clients that registered themselves or use a metadata
    document are listed too, and any of them can be removed (which revokes their grants)."""
    form = NewOAuthClientForm()
    if form.validate_on_submit():
        try:
            registered = client_service.add_preregistered_client(
                db.session,
                current_user.model,
                name=form.client_name.data,
                redirect_uris=form.redirect_uris.data.splitlines(),
                confidential=form.confidential.data,
            )
        except client_service.ClientError as exc:
            db.session.rollback()
            form.redirect_uris.errors.append(exc.message)
        else:
            db.session.add(
                AuditEvent(
                    user_id=current_user.id, kind="oauth_client_added", target=registered.client.client_name
                )
            )
            db.session.commit()
            return render_template(
                "admin/oauth_client_created.html",
                client=registered.client,
                client_secret=registered.client_secret,
            )
    rows = db.session.scalars(select(OAuthClient).order_by(OAuthClient.created_at.desc())).all()
    return render_template("admin/oauth_clients.html", form=form, clients=rows, action=ActionForm())


@bp.post("/oauth-clients/<int:client_pk>/delete")
@admin_required
def delete_oauth_client(client_pk: int):
    client = db.session.get(OAuthClient, client_pk)
    if client is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    name = client.client_name
    if not confirmed():
        return ask_to_confirm(
            f"Remove the OAuth client {name}?",
            detail="Every member who signed it in is signed out, and it can't sign in again until it is "
            "registered anew.",
            button="Remove",
            cancel_url=url_for("admin.oauth_clients"),
        )
    client_service.delete_client(db.session, client)
    db.session.add(AuditEvent(user_id=current_user.id, kind="oauth_client_deleted", target=name))
    db.session.commit()
    flash(f"{name} is removed; members who had signed it in are signed out.", "success")
    return redirect(url_for("admin.oauth_clients"))
