from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from portal.core import accounts
from portal.core.throttle import FailureThrottle
from portal.extensions import db

from .forms import ChangePasswordForm, LoginForm, SignupForm
from .session_user import SessionUser

bp = Blueprint("accounts", __name__)


def _throttle() -> FailureThrottle:
    app = current_app
    throttle = app.extensions.get("pm_login_throttle")
    if throttle is None:
        throttle = FailureThrottle(app.config["LOGIN_MAX_FAILURES"], app.config["LOGIN_FAILURE_WINDOW"])
        app.extensions["pm_login_throttle"] = throttle
    return throttle


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    target = target.strip()
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def signup_open() -> bool:
    return accounts.user_count(db.session) == 0 or current_app.extensions["pm_settings"].allow_signup


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    first = accounts.user_count(db.session) == 0
    if not signup_open():
        return render_template("accounts/signup_closed.html"), 403
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                db.session,
                email=form.email.data,
                password=form.password.data,
                display_name=form.display_name.data,
            )
        except accounts.AccountError as exc:
            db.session.rollback()
            getattr(form, exc.field, form.email).errors.append(exc.message)
        else:
            # Signing up signs in: recorded like any sign-in (the Team page then shows it).
            accounts.record_login(db.session, user, ok=True, client_ip=request.remote_addr, email=user.email)
            db.session.commit()
            login_user(SessionUser(user))
            if user.is_admin:
                flash("Welcome! Your account is this server's administrator.", "success")
            else:
                flash("Welcome! Your account is ready.", "success")
            return redirect(url_for("main.dashboard"))
    return render_template("accounts/signup.html", form=form, first=first)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("main.dashboard"))
    form = LoginForm()
    address = request.remote_addr or "unknown"
    throttle = _throttle()
    if request.method == "POST":
        wait = throttle.retry_after(address)
        if wait is not None:
            return (
                render_template(
                    "accounts/login.html", form=form, throttled=int(wait) + 1, signup=signup_open()
                ),
                429,
                {"Retry-After": str(int(wait) + 1)},
            )
    if form.validate_on_submit():
        user = accounts.authenticate(db.session, form.email.data, form.password.data)
        accounts.record_login(db.session, user, ok=user is not None, client_ip=address, email=form.email.data)
        db.session.commit()
        if user is None:
            throttle.record_failure(address)
            # One message whether or not the email exists.
            form.password.errors.append("That email and password don't match an active account.")
        else:
            throttle.reset(address)
            login_user(SessionUser(user), remember=form.remember.data)
            if user.must_change_password:
                flash("Choose a new password to finish signing in.", "info")
                return redirect(url_for("accounts.account"))
            return redirect(safe_next(request.args.get("next")) or url_for("main.dashboard"))
    return render_template("accounts/login.html", form=form, throttled=None, signup=signup_open())


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    user = current_user.model
    if form.validate_on_submit():
        if accounts.authenticate(db.session, user.email, form.current_password.data) is None:
            form.current_password.errors.append("That is not your current password.")
        else:
            try:
                accounts.set_password(db.session, user, form.password.data)
            except accounts.AccountError as exc:
                db.session.rollback()
                form.password.errors.append(exc.message)
            else:
                db.session.commit()
                # The session version changed: sign in again under the new one.
                login_user(SessionUser(user))
                flash("Your password has been changed.", "success")
                return redirect(url_for("main.dashboard"))
    return render_template("accounts/account.html", form=form)


def enforce_password_change():
    """A user with a temporary password may only change it (or sign out) until they do."""
    if not current_user.is_authenticated or not current_user.must_change_password:
        return None
    if request.endpoint in {"accounts.account", "accounts.logout", "static", "main.healthz"}:
        return None
    if request.method != "GET":
        abort(403)
    flash("Choose a new password before going on.", "info")
    return redirect(url_for("accounts.account"))
