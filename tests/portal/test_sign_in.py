"""Signing in and out: the throttles per account and per address, sessions that really end,
fresh sessions at sign-in, CSRF tokens that expire, and the current-password check."""

from __future__ import annotations

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from portal.core.models import AuditEvent, User
from portal.extensions import db
from tests.conftest import PASSWORD, AuthActions, csrf_token, post_form

WRONG = "not the password!"


@pytest.fixture
def limits(app):
    app.config.update(LOGIN_MAX_FAILURES=3, LOGIN_MAX_ADDRESS_FAILURES=8)
    return app.config


def client_at(app, address: str, forwarded_for: str | None = None):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    if forwarded_for:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def audit(app, kind: str) -> list[AuditEvent]:
    with app.app_context():
        return db.session.scalars(
            select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)
        ).all()


def test_an_account_is_locked_after_its_failures_even_for_the_right_password(client, auth, limits):
    auth.create_user()
    for _ in range(3):
        assert auth.login(password=WRONG).status_code == 200
    refused = auth.login()
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 300
    assert "Too many failed sign-ins to this account" in refused.get_data(as_text=True)
    assert not signed_in(client)


def test_own_sign_ins_do_not_reset_the_count_of_guesses_at_another_account(app, auth, limits):
    """A member can't guess a colleague's password without limit by signing in as themselves in between."""
    auth.create_user("ana@example.com")
    auth.create_user("bo@example.com", name="Bo")
    attacker = client_at(app, "198.51.100.20")
    bo = AuthActions(attacker, app)
    for _ in range(3):
        assert bo.login("ana@example.com", WRONG).status_code == 200
        assert bo.login("bo@example.com").status_code == 302  # bo's own, successful sign-in
        bo.logout()
    assert bo.login("ana@example.com", WRONG).status_code == 429
    assert bo.login("ana@example.com", PASSWORD).status_code == 429  # even the right guess now waits
    assert not signed_in(attacker)


def test_one_locked_account_does_not_stop_another_behind_the_same_address(app, auth, limits):
    auth.create_user("ana@example.com")
    auth.create_user("bo@example.com", name="Bo")
    office = [client_at(app, "203.0.113.7") for _ in range(2)]
    ana, bo = AuthActions(office[0], app), AuthActions(office[1], app)
    for _ in range(3):
        ana.login("ana@example.com", WRONG)
    assert ana.login("ana@example.com").status_code == 429
    assert bo.login("bo@example.com").status_code == 302 and signed_in(office[1])


def test_an_address_spraying_many_accounts_is_locked_out(app, auth, limits):
    auth.create_user("ana@example.com")
    sprayer = AuthActions(client_at(app, "198.51.100.66"), app)
    for i in range(8):  # two guesses each at four accounts: no account reaches its own limit
        sprayer.login(f"user{i // 2}@example.com", WRONG)
    refused = sprayer.login("ana@example.com")
    assert refused.status_code == 429
    assert "Too many failed sign-ins from your address" in refused.get_data(as_text=True)
    # Someone else, elsewhere, signs in to the same account.
    elsewhere = client_at(app, "192.0.2.44")
    assert AuthActions(elsewhere, app).login("ana@example.com").status_code == 302


def test_behind_a_trusted_proxy_each_client_is_counted_by_its_own_address(app_config, schema, database_url):
    from portal.app import create_app
    from tests.conftest import empty_tables

    app = create_app({**app_config, "FORWARDED_ALLOW_IPS": "10.0.0.0/8"})
    app.config.update(LOGIN_MAX_FAILURES=50, LOGIN_MAX_ADDRESS_FAILURES=3)
    try:
        AuthActions(app.test_client(), app).create_user()
        sprayer = AuthActions(client_at(app, "10.0.0.2", "198.51.100.66"), app)
        for _ in range(3):
            sprayer.login(password=WRONG)
        assert sprayer.login().status_code == 429
        colleague = client_at(app, "10.0.0.2", "198.51.100.67")
        assert AuthActions(colleague, app).login().status_code == 302
        # An address the client wrote itself, through an unlisted peer, is not believed.
        forger = AuthActions(client_at(app, "203.0.113.5", "198.51.100.67"), app)
        forger.login(password=WRONG)
        addresses = [e.client_ip for e in audit(app, "login_failed")]
        assert addresses[:3] == ["198.51.100.66"] * 3 and addresses[-1] == "203.0.113.5"
    finally:
        with app.app_context():
            db.engine.dispose()
        empty_tables(database_url)


def test_failures_are_audited_with_the_address_and_a_mistyped_password_is_never_kept(app, auth):
    auth.create_user()
    client = client_at(app, "198.51.100.9")
    actions = AuthActions(client, app)
    actions.login("ana@example.com", WRONG)
    actions.login("my secret passphrase", PASSWORD)  # the password typed into the email field
    failures = audit(app, "login_failed")
    assert [(e.target, e.client_ip, e.ok) for e in failures] == [
        ("ana@example.com", "198.51.100.9", False),
        (None, "198.51.100.9", False),
    ]
    with app.app_context():
        every_row = " ".join(str(vars(e)) for e in db.session.scalars(select(AuditEvent)))
    assert "my secret passphrase" not in every_row and WRONG not in every_row


def test_signing_out_ends_the_session_and_the_remember_me_cookie_on_the_server(app, auth):
    auth.create_user()
    browser = app.test_client()
    token = csrf_token(browser, "/login")
    response = browser.post(
        "/login",
        data={"email": "ana@example.com", "password": PASSWORD, "remember": "y", "csrf_token": token},
    )
    assert response.status_code == 302
    cookies = {c.key: c.value for c in browser._cookies.values()}
    assert {"session", "remember_token"} <= set(cookies)
    signed_out = AuthActions(browser, app).logout()
    assert signed_out.status_code == 302
    # The browser is told to drop its remember-me cookie, too.
    assert any(
        h.startswith("remember_token=;") and "1970" in h for h in signed_out.headers.getlist("Set-Cookie")
    )
    # Someone who kept a copy of either cookie from before the sign-out gets nothing with it.
    for name in ("session", "remember_token"):
        replay = app.test_client()
        replay.set_cookie(name, cookies[name])
        assert not signed_in(replay), name
    with app.app_context():
        assert db.session.scalar(select(User.session_version)) == 2


def test_the_session_is_new_after_signing_in(app, auth):
    auth.create_user()
    browser = app.test_client()
    before = csrf_token(browser, "/login")
    assert post_form(browser, "/login", {"email": "ana@example.com", "password": PASSWORD}).status_code == 302
    # A token issued to the pre-sign-in session (one an attacker could have planted) no longer works.
    stale = browser.post("/logout", data={"csrf_token": before})
    assert stale.status_code == 400 and signed_in(browser)
    assert csrf_token(browser, "/account") != before


def test_csrf_tokens_expire_after_four_hours(app, auth, monkeypatch):
    auth.create_user()
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 4 * 3600
    browser = app.test_client()
    token = csrf_token(browser, "/login")
    issued = TimestampSigner.get_timestamp

    def later(hours):
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: issued(self) + int(hours * 3600))

    later(3.9)
    data = {"email": "ana@example.com", "password": WRONG, "csrf_token": token}
    assert browser.post("/login", data=data).status_code == 200
    later(4.1)
    expired = browser.post("/login", data={**data, "password": PASSWORD})
    assert expired.status_code == 400 and "form expired" in expired.get_data(as_text=True)
    assert not signed_in(browser)


def test_a_temporary_password_cannot_be_changed_to_itself(app, auth, client):
    auth.create_user(password="temporary pass 1", must_change_password=True)
    auth.login(password="temporary pass 1")
    same = {
        "current_password": "temporary pass 1",
        "password": "temporary pass 1",
        "confirm": "temporary pass 1",
    }
    response = post_form(client, "/account", same)
    assert response.status_code == 200
    assert "this one is the password you have now" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User.must_change_password)) is True
    changed = {
        "current_password": "temporary pass 1",
        "password": "my own password",
        "confirm": "my own password",
    }
    assert post_form(client, "/account", changed).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User.must_change_password)) is False


def test_the_current_password_check_is_throttled(app, auth, client, limits):
    auth.create_user()
    auth.login()
    new = {"password": "a brand new password", "confirm": "a brand new password"}
    for _ in range(3):
        wrong = post_form(client, "/account", {"current_password": WRONG, **new})
        assert wrong.status_code == 200 and "not your current password" in wrong.get_data(as_text=True)
    refused = post_form(client, "/account", {"current_password": PASSWORD, **new})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many wrong current passwords" in refused.get_data(as_text=True)
    # The password did not change: the old one still signs in elsewhere.
    assert AuthActions(app.test_client(), app).login().status_code == 302
