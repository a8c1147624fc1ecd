"""Team-member accounts: creation, validation, passwords. Shared by the portal and the command line."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from portal.core.errors import UserFacingError

from . import revocations
from .models import AuditEvent, User, utcnow

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
MIN_PASSWORD_LENGTH = 10
# A hash to compare against when the email is unknown, so timing doesn't reveal which emails exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


class AccountError(UserFacingError):
    """A problem with one field of an account request."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def validate_email(email: str) -> str:
    """The address normalised (trimmed, lower case).

    Raises AccountError (field "email") for an empty or malformed address.
    """
    email = normalize_email(email)
    if not email:
        raise AccountError("email", "Enter an email address.")
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        raise AccountError("email", "Enter a valid email address, such as ana@example.com.")
    return email


def validate_password(password: str) -> None:
    """Check a new password's length.

    Raises AccountError (field "password") when it is too short or too long.
    """
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError("password", f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > 1024:
        raise AccountError("password", "That password is too long (1024 characters at most).")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def user_count(session: Session) -> int:
    return session.scalar(select(func.count(User.id))) or 0


def new_user_problems(
    session: Session, *, email: str, password: str, display_name: str | None = None
) -> dict[str, str]:
    """Every problem with a new account's fields at once, by field (empty when it can be created)."""
    problems: dict[str, str] = {}
    try:
        email = validate_email(email)
    except AccountError as exc:
        problems[exc.field] = exc.message
    else:
        if find_user(session, email) is not None:
            problems["email"] = "An account with this email already exists."
    try:
        validate_password(password)
    except AccountError as exc:
        problems[exc.field] = exc.message
    if len((display_name or "").strip()) > 120:
        problems["display_name"] = "A name is at most 120 characters."
    return problems


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    display_name: str | None = None,
    is_admin: bool = False,
    must_change_password: bool = False,
) -> User:
    """Validate and add a user; the first user of an instance is always an admin. The caller commits.

    Raises AccountError for the first problem; new_user_problems() lists them all.
    """
    problems = new_user_problems(session, email=email, password=password, display_name=display_name)
    for field in ("email", "password", "display_name"):
        if field in problems:
            raise AccountError(field, problems[field])
    email = normalize_email(email)
    display_name = (display_name or "").strip() or email.split("@", 1)[0]
    first = user_count(session) == 0
    user = User(
        email=email,
        display_name=display_name,
        password_hash=hash_password(password),
        is_admin=is_admin or first,
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (taking the same time either way)."""
    user = find_user(session, email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or ""):
        return None
    if not user.is_active:
        return None
    return user


def set_password(session: Session, user: User, password: str, *, must_change: bool = False) -> None:
    """Change a password and end the user's other sessions. The caller commits."""
    validate_password(password)
    user.password_hash = hash_password(password)
    user.must_change_password = must_change
    user.session_version += 1
    session.flush()


def generate_temporary_password() -> str:
    """A random password to hand over once (about 96 bits), easy to read aloud or type."""
    return secrets.token_urlsafe(12)


def reset_password(
    session: Session, user: User, password: str | None = None, *, actor: User | None = None
) -> str:
    """Give `user` a temporary password (generated when none is given) that must be changed at the
    next sign-in, and end every session of theirs. Returns the password, for showing once. The
    caller commits."""
    password = password if password is not None else generate_temporary_password()
    set_password(session, user, password, must_change=True)
    session.add(
        AuditEvent(
            user_id=actor.id if actor is not None else None, kind="password_reset", target=user.email, ok=True
        )
    )
    session.flush()
    return password


def set_active(session: Session, user: User, active: bool, *, actor: User | None = None) -> None:
    """Disable or re-enable a user. Disabling ends their sessions; their keys stop working at once
    because the worker checks the owner on every key verification."""
    if user.is_active == active:
        return
    user.is_active = active
    user.session_version += 1
    session.add(
        AuditEvent(
            user_id=actor.id if actor else None,
            kind="user_enabled" if active else "user_disabled",
            target=user.email,
            ok=True,
        )
    )
    session.flush()
    revocations.announce(session, "user", user.id, user_id=user.id)


def is_valid_email(email: str) -> bool:
    email = normalize_email(email)
    return 0 < len(email) <= 254 and EMAIL_PATTERN.match(email) is not None


def record_login(
    session: Session,
    user: User | None,
    *,
    ok: bool,
    client_ip: str | None,
    email: str,
    error_class: str | None = None,
) -> None:
    """Audit a sign-in attempt. A failed attempt records the address, never the password.

    The typed email is kept only when it is a syntactically valid address: a
    password typed into the email field must not end up in the audit log.
    """
    if ok and user is not None:
        user.last_login_at = utcnow()
    target = None
    if not ok and is_valid_email(email):
        target = normalize_email(email)[:200]
    session.add(
        AuditEvent(
            user_id=user.id if user is not None else None,
            kind="login" if ok else "login_failed",
            target=target,
            ok=ok,
            error_class=None if ok else (error_class or "bad_credentials"),
            client_ip=client_ip[:64] if client_ip else None,
        )
    )


def end_sessions(session: Session, user: User) -> None:
    """End every portal session of `user` (sign-out): session and remember-me cookies carry the
    session version, and stop working once it changes. The caller commits."""
    user.session_version += 1
    session.flush()
