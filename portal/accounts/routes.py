from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from portal.core import accounts
from portal.core.throttle import FailureThrottle, SignInThrottle
from portal.extensions import db

from .forms import ChangePasswordForm, LoginForm, SignupForm
from .session_user import SessionUser

bp = Blueprint("accounts", __name__)


def _sign_in_throttle() -> SignInThrottle:
    app = current_app
    throttle = app.extensions.get("pm_sign_in_throttle")
    if throttle is None:
        throttle = SignInThrottle(
            per_account=app.config["LOGIN_MAX_FAILURES"],
            per_address=app.config["LOGIN_MAX_ADDRESS_FAILURES"],
            window=app.config["LOGIN_FAILURE_WINDOW"],
        )
        app.extensions["pm_sign_in_throttle"] = throttle
    return throttle


def _password_check_throttle() -> FailureThrottle:
    """Wrong current passwords on /account, per user: a stolen session can't guess the password freely."""
    app = current_app
    throttle = app.extensions.get("pm_password_check_throttle")
    if throttle is None:
        throttle = FailureThrottle(app.config["LOGIN_MAX_FAILURES"], app.config["LOGIN_FAILURE_WINDOW"])
        app.extensions["pm_password_check_throttle"] = throttle
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
    form_ok, problems = False, {}
    if form.is_submitted():
        # Every problem on the first submit: the form's own checks and the account rules together.
        form_ok = form.validate()
        problems = accounts.new_user_problems(
            db.session,
            email=form.email.data or "",
            password=form.password.data or "",
            display_name=form.display_name.data,
        )
        for name, message in problems.items():
            target = getattr(form, name, form.email)
            if not target.errors:
                target.errors = [*target.errors, message]
    if form_ok and not problems:
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
            session.clear()  # a fresh session for the new account
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
    throttle = _sign_in_throttle()
    if form.validate_on_submit():
        email = form.email.data
        refused = throttle.retry_after(email, address)
        if refused is not None:
            which, wait = refused
            seconds = int(wait) + 1
            accounts.record_login(
                db.session, None, ok=False, client_ip=address, email=email, error_class="rate_limited"
            )
            db.session.commit()
            where = "to this account" if which == "account" else "from your address"
            message = f"Too many failed sign-ins {where}. Wait {seconds} seconds, then try again."
            return (
                render_template("accounts/login.html", form=form, throttled=message, signup=signup_open()),
                429,
                {"Retry-After": str(seconds)},
            )
        user = accounts.authenticate(db.session, email, form.password.data)
        accounts.record_login(db.session, user, ok=user is not None, client_ip=address, email=email)
        db.session.commit()
        if user is None:
            throttle.record_failure(email, address)
            # One message whether or not the email exists.
            form.password.errors.append("That email and password don't match an active account.")
        else:
            throttle.record_success(email)
            target = safe_next(request.args.get("next"))
            # A fresh session at sign-in: nothing set before it (a CSRF token included) carries over.
            session.clear()
            login_user(SessionUser(user), remember=form.remember.data)
            if user.must_change_password:
                flash("Choose a new password to finish signing in.", "info")
                return redirect(url_for("accounts.account"))
            return redirect(target or url_for("main.dashboard"))
    return render_template("accounts/login.html", form=form, throttled=None, signup=signup_open())


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # Server-side: this session's cookie and any remember-me cookie of the account stop working
        # (every other browser of the account is signed out too).
        accounts.end_sessions(db.session, current_user.model)
        db.session.commit()
    session.clear()
    logout_user()  # after clear(): it marks the remember-me cookie for deletion in the session
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    user = current_user.model
    checks = _password_check_throttle()
    if form.validate_on_submit():
        wait = checks.retry_after(str(user.id))
        if wait is not None:
            seconds = int(wait) + 1
            form.current_password.errors.append(
                f"Too many wrong current passwords. Wait {seconds} seconds, then try again."
            )
            return render_template("accounts/account.html", form=form), 429, {"Retry-After": str(seconds)}
        if accounts.authenticate(db.session, user.email, form.current_password.data) is None:
            checks.record_failure(str(user.id))
            form.current_password.errors.append("That is not your current password.")
        elif form.password.data == form.current_password.data:
            form.password.errors.append("Choose a new password: this one is the password you have now.")
        else:
            try:
                accounts.set_password(db.session, user, form.password.data)
            except accounts.AccountError as exc:
                db.session.rollback()
                form.password.errors.append(exc.message)
            else:
                db.session.commit()
                checks.reset(str(user.id))
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
