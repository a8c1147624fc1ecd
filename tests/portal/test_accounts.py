from sqlalchemy import func, select

from portal.core.models import AuditEvent, User
from portal.extensions import db
from tests.conftest import PASSWORD, post_form


def signup(client, email="ana@example.com", password=PASSWORD, confirm=None, name="Ana Silva"):
    return post_form(
        client,
        "/signup",
        {"display_name": name, "email": email, "password": password, "confirm": confirm or password},
    )


def users(app) -> list[User]:
    with app.app_context():
        return db.session.scalars(select(User).order_by(User.id)).all()


def test_first_signup_creates_the_admin_and_signs_in(client, app):
    response = signup(client)
    assert response.status_code == 302
    (user,) = users(app)
    assert user.is_admin and user.email == "ana@example.com"
    assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash
    dashboard = client.get("/")
    assert "Hello, Ana Silva" in dashboard.get_data(as_text=True)


def test_signup_is_closed_after_the_first_account(client, app, auth):
    auth.create_user()
    page = client.get("/signup")
    assert page.status_code == 403
    assert "Sign-up is closed" in page.get_data(as_text=True)
    data = {"email": "eve@example.com", "password": PASSWORD, "confirm": PASSWORD}
    response = post_form(client, "/signup", data, page="/login")
    assert response.status_code == 403
    assert len(users(app)) == 1


def test_signup_open_with_allow_signup(app_config, schema, database_url):
    from portal.app import create_app
    from tests.conftest import empty_tables

    app = create_app({**app_config, "ALLOW_SIGNUP": "1"})
    try:
        client = app.test_client()
        assert signup(client, "first@example.com").status_code == 302
        client.post("/logout", data={})
        client = app.test_client()
        assert signup(client, "second@example.com").status_code == 302
        second = [u for u in users(app) if u.email == "second@example.com"][0]
        assert not second.is_admin
    finally:
        with app.app_context():
            db.engine.dispose()
        empty_tables(database_url)


def test_bad_signup_input_is_reported_next_to_the_field_and_writes_nothing(client, app, auth):
    cases = [
        ({"email": "not-an-email"}, "Enter a valid email address"),
        ({"password": "short", "confirm": "short"}, "at least 10 characters"),
        ({"confirm": "something else entirely"}, "The passwords don&#39;t match."),
    ]
    for change, message in cases:
        data = {
            "display_name": "X",
            "email": "x@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
            **change,
        }
        response = post_form(client, "/signup", data)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert message in html, change
        assert 'aria-invalid="true"' in html
    assert users(app) == []


def test_signup_reports_every_problem_on_the_first_submit(client, app):
    data = {"display_name": "X", "email": "not-an-email", "password": "short", "confirm": "other"}
    html = post_form(client, "/signup", data).get_data(as_text=True)
    # The form's own check (confirmation) and both account rules (email, password) at once.
    assert "Enter a valid email address" in html
    assert "at least 10 characters" in html
    assert "The passwords don&#39;t match." in html
    assert html.count('aria-invalid="true"') == 3
    assert users(app) == []


def test_duplicate_email_is_refused_case_insensitively(client, app):
    from portal.core import accounts

    with app.app_context():
        accounts.create_user(db.session, email="Ana@Example.com", password=PASSWORD)
        db.session.commit()
    with app.app_context():
        try:
            accounts.create_user(db.session, email="ANA@example.COM", password=PASSWORD)
        except accounts.AccountError as exc:
            assert exc.field == "email" and "already exists" in exc.message
        else:
            raise AssertionError("duplicate accepted")
    assert [u.email for u in users(app)] == ["ana@example.com"]


def test_login_and_logout(client, auth):
    auth.create_user()
    response = auth.login()
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/account").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/account").status_code == 302


def test_failed_login_does_not_say_whether_the_email_exists(client, auth):
    auth.create_user()
    wrong_password = auth.login(password="wrong password!").get_data(as_text=True)
    unknown_email = auth.login(email="nobody@example.com").get_data(as_text=True)
    message = "That email and password don&#39;t match an active account."
    assert message in wrong_password and message in unknown_email


def test_failed_logins_are_audited_without_the_password(client, app, auth):
    auth.create_user()
    auth.login(password="a wrong password")
    auth.login()
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.kind for e in events] == ["login_failed", "login"]
    assert events[0].client_ip == "127.0.0.1" and not events[0].ok
    assert all("a wrong password" not in str(vars(e)) for e in events)


def test_repeated_failed_logins_are_refused_for_a_while(client, auth, app):
    auth.create_user()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert auth.login(password="wrong password!").status_code == 200
    response = auth.login()  # even the right password waits
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_next_redirects_only_within_the_site(client, auth):
    auth.create_user()
    response = auth.login(next_url="/account")
    assert response.headers["Location"] == "/account"
    client.post("/logout")
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example", "https:/evil.example"):
        auth.logout()
        response = auth.login(next_url=evil)
        assert response.status_code == 302
        assert response.headers["Location"] == "/", evil


def test_forms_without_a_csrf_token_are_rejected(client, auth, app):
    auth.create_user()
    response = client.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_change_password_ends_other_sessions(app, auth):
    auth.create_user()
    other = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(other, app).login()
    assert other.get("/account").status_code == 200
    auth.login()
    response = post_form(
        auth._client,
        "/account",
        {"current_password": PASSWORD, "password": "a brand new password", "confirm": "a brand new password"},
    )
    assert response.status_code == 302
    assert auth._client.get("/account").status_code == 200  # this session continues
    assert other.get("/account").status_code == 302  # the other one is signed out


def test_session_cookie_flags(client, auth):
    auth.create_user()
    response = auth.login()
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_have_error_pages_and_healthz(client):
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "Not found" in missing.get_data(as_text=True)
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json["database"] == "ok"


def test_first_user_count(app):
    from portal.core import accounts

    with app.app_context():
        assert accounts.user_count(db.session) == 0
        assert db.session.scalar(select(func.count(User.id))) == 0
