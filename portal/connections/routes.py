"""The Connections pages: list, add, edit, test, enable or disable, and delete a PM connection.

The views only translate: forms into ConnectionInput, the service's field
errors back onto the form, check outcomes into flash messages. Tokens travel
one way, from the form into the vault; no page ever shows one.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.confirm import ask_to_confirm, confirmed
from portal.core.db import Database
from portal.core.models import ProviderConnection
from portal.core.providers.registry import EXTERNAL_PROVIDER_TYPES, PROVIDER_LABELS, adapter_class
from portal.core.services import connections as service
from portal.extensions import db

from .forms import (
    TOKEN_HINTS,
    ConnectionActionForm,
    ConnectionFields,
    EditConnectionForm,
    NewConnectionForm,
    workspace_choices,
)

bp = Blueprint("connections", __name__, url_prefix="/connections")

DEFAULT_PROVIDER = "jira"
# Vendor options the form edits, by provider; other stored options are kept as they are.
FORM_OPTIONS = {"clickup": ("team_id",)}
# Vendors whose API lives at one address for every customer: the form starts with it filled in.
ONE_ADDRESS = {"clickup": "https://api.clickup.com"}


def _vault():
    return current_app.extensions["pm_vault"]


def _policy():
    return current_app.extensions["pm_http_policy"]


def _portal_url() -> str:
    return current_app.extensions["pm_settings"].public_portal_url


def _database() -> Database:
    # The built-in tracker's adapter works on the portal's own engine.
    return Database.from_engine(db.engine)


def _own(slug: str) -> ProviderConnection:
    """The signed-in user's connection, or 404 (another user's is indistinguishable from none)."""
    row = service.own_connection(db.session, current_user.id, slug)
    if row is None:
        abort(404)
    return row


def _vendor(provider_type: str) -> dict[str, Any]:
    """What the form needs to know of a provider: its label, URL example, and whether it needs a username."""
    adapter = adapter_class(provider_type)
    return {
        "type": provider_type,
        "label": PROVIDER_LABELS[provider_type],
        "example": getattr(adapter, "base_url_example", ""),
        "needs_username": bool(getattr(adapter, "needs_username", False)),
        "options": FORM_OPTIONS.get(provider_type, ()),
    }


def _form_options(form: ConnectionFields, provider_type: str, stored: dict[str, Any]) -> dict[str, Any]:
    options = dict(stored)
    if "team_id" in FORM_OPTIONS.get(provider_type, ()):
        team_id = (form.workspace.data or form.team_id.data or "").strip()
        if team_id:
            options["team_id"] = team_id
        else:
            options.pop("team_id", None)
    return options


def _show_errors(form: ConnectionFields, field_errors: dict[str, str], *, picker: bool = False) -> list[str]:
    """Put each problem next to its field; returns those that belong to no field on the page."""
    unplaced = []
    for name, message in field_errors.items():
        if name == "team_id" and picker:
            name = "workspace"
        target = form._fields.get(name)
        if target is None or target.type in ("HiddenField", "CSRFTokenField"):
            unplaced.append(message)
        else:
            target.errors = [*target.errors, message]
    return unplaced


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", ":")) else text + "."


def _after_save(row: ProviderConnection, outcome: service.CheckOutcome | None, verb: str):
    message = f"{verb} {row.name} ({row.slug})."
    if outcome is not None:
        message += " " + _sentence(outcome.message)
    flash(message, "success")
    needs_workspace = (
        outcome is not None
        and outcome.result is not None
        and len(outcome.result.workspaces) > 1
        and not (row.options or {}).get("team_id")
    )
    if needs_workspace:
        flash("This token sees several workspaces: choose the one this connection works in.", "warning")
        return redirect(url_for("connections.edit", slug=row.slug))
    return redirect(url_for("connections.index"))


@bp.route("/")
@login_required
def index():
    views = service.list_connections(db.session, current_user.id, _portal_url(), _vault())
    return render_template("connections/index.html", connections=views, action=ConnectionActionForm())


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = NewConnectionForm()
    chosen = form.provider_type.data if request.method == "POST" else request.args.get("type")
    provider_type = chosen if chosen in EXTERNAL_PROVIDER_TYPES else DEFAULT_PROVIDER
    form.provider_type.data = provider_type
    vendor = _vendor(provider_type)
    form.token.description = TOKEN_HINTS.get(provider_type)
    if request.method == "GET" and not form.base_url.data and provider_type in ONE_ADDRESS:
        # ClickUp has one API address for everyone: nothing to look up.
        form.base_url.data = ONE_ADDRESS[provider_type]
    problems: list[str] = []
    if form.validate_on_submit():
        data = service.ConnectionInput(
            provider_type=provider_type,
            slug=form.slug.data or "",
            name=form.name.data or "",
            base_url=form.base_url.data or "",
            username=form.username.data if vendor["needs_username"] else None,
            token=form.token.data,
            options=_form_options(form, provider_type, {}),
        )
        try:
            row, outcome = service.save_connection(
                db.session,
                current_user.model,
                data,
                vault=_vault(),
                policy=_policy(),
                database=_database(),
            )
        except service.ConnectionInputError as exc:
            db.session.rollback()
            problems = _show_errors(form, exc.field_errors)
        else:
            db.session.commit()
            return _after_save(row, outcome, "Added")
    return render_template(
        "connections/form.html",
        form=form,
        vendor=vendor,
        vendors=[_vendor(t) for t in EXTERNAL_PROVIDER_TYPES],
        row=None,
        picker=False,
        picker_problem=None,
        broken=False,
        problems=problems,
    )


def _offer_workspaces(row: ProviderConnection, form: ConnectionFields) -> tuple[bool, str | None]:
    """For a checked ClickUp connection with no workspace chosen: list the token's workspaces.

    The list comes from a fresh check with the stored token, so the page never
    needs the token itself. Returns (picker offered, the problem if the check failed).
    """
    if row.provider_type != "clickup" or (row.options or {}).get("team_id") or row.last_check_ok is not True:
        return False, None
    outcome = service.try_connection(row, _vault(), _policy(), _database())
    if not outcome.ok or outcome.result is None:
        return False, outcome.message
    if len(outcome.result.workspaces) < 2:
        return False, None
    form.workspace.choices = workspace_choices(outcome.result.workspaces)
    return True, None


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str):
    row = _own(slug)
    vendor = _vendor(row.provider_type)
    form = EditConnectionForm(obj=row)
    if request.method == "GET":
        form.team_id.data = (row.options or {}).get("team_id", "")
    field_errors: dict[str, str] = {}
    if form.validate_on_submit():
        data = service.ConnectionInput(
            provider_type=row.provider_type,
            slug=form.slug.data or "",
            name=form.name.data or "",
            base_url=form.base_url.data or "",
            username=form.username.data if vendor["needs_username"] else row.username,
            token=form.token.data,  # blank keeps the stored token
            options=_form_options(form, row.provider_type, dict(row.options or {})),
            is_active=row.is_active,
        )
        try:
            saved, outcome = service.save_connection(
                db.session,
                current_user.model,
                data,
                vault=_vault(),
                policy=_policy(),
                database=_database(),
                existing=row,
            )
        except service.ConnectionInputError as exc:
            db.session.rollback()
            field_errors = exc.field_errors
        else:
            db.session.commit()
            return _after_save(saved, outcome, "Saved")
    broken = not service.credentials_readable(row, _vault())
    if broken:
        form.token.description = "The stored token can't be decrypted: enter it again."
    elif row.token_hint:
        form.token.description = (
            f"Leave blank to keep the stored token (…{row.token_hint}) while the server stays the same."
        )
    else:
        form.token.description = "Leave blank to keep the stored token while the server stays the same."
    picker, picker_problem = _offer_workspaces(row, form)
    problems = _show_errors(form, field_errors, picker=picker)
    return render_template(
        "connections/form.html",
        form=form,
        vendor=vendor,
        vendors=[],
        row=service.view_of(row),
        picker=picker,
        picker_problem=picker_problem,
        broken=broken,
        problems=problems,
    )


def _action(slug: str) -> ProviderConnection:
    row = _own(slug)
    if not ConnectionActionForm().validate_on_submit():
        abort(400)
    return row


@bp.post("/<slug>/check")
@login_required
def check(slug: str):
    row = _action(slug)
    outcome = service.check_connection(row, _vault(), _policy(), _database())
    db.session.commit()
    flash(f"{row.name} ({row.slug}): {_sentence(outcome.message)}", "success" if outcome.ok else "error")
    return redirect(url_for("connections.index"))


@bp.post("/<slug>/enable")
@login_required
def enable(slug: str):
    row = _action(slug)
    service.set_connection_active(db.session, current_user.model, row, True)
    db.session.commit()
    flash(f"{row.name} ({row.slug}) is enabled: its tools answer again.", "success")
    return redirect(url_for("connections.index"))


@bp.post("/<slug>/disable")
@login_required
def disable(slug: str):
    row = _action(slug)
    service.set_connection_active(db.session, current_user.model, row, False)
    db.session.commit()
    flash(f"{row.name} ({row.slug}) is disabled: its token is kept, but no tool uses it.", "success")
    return redirect(url_for("connections.index"))


@bp.post("/<slug>/delete")
@login_required
def delete(slug: str):
    row = _action(slug)
    if not confirmed():
        return ask_to_confirm(
            f"Delete the connection {row.name} ({row.slug})?",
            detail="Its stored token is deleted with it, and AI clients can no longer reach it.",
            button="Delete",
            cancel_url=url_for("connections.index"),
        )
    name, slug = row.name, row.slug
    service.delete_connection(db.session, current_user.model, row)
    db.session.commit()
    flash(f"Deleted {name} ({slug}) and its stored token.", "success")
    return redirect(url_for("connections.index"))
