from sqlalchemy import select

from portal.core.models import User
from portal.extensions import db
from tests.conftest import PASSWORD, AuthActions, post_form


def member(app, email) -> User:
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == email))


def add_member(client, email="bo@example.com", password="temporary pass 1", is_admin=False):
    data = {"display_name": "Bo", "email": email, "temporary_password": password}
    if is_admin:
        data["is_admin"] = "y"
    return post_form(client, "/admin/users", data)


def test_admin_adds_a_member_who_must_change_the_password(client, app, auth):
    auth.create_user()
    auth.login()
    response = add_member(client)
    assert response.status_code == 302
    bo = member(app, "bo@example.com")
    assert bo.must_change_password and not bo.is_admin

    other = app.test_client()
    bo_auth = AuthActions(other, app)
    response = bo_auth.login("bo@example.com", "temporary pass 1")
    assert response.headers["Location"] == "/account"
    # Until the password is changed, every page leads back to the account page.
    assert other.get("/keys/").headers["Location"] == "/account"
    response = post_form(
        other,
        "/account",
        {"current_password": "temporary pass 1", "password": "my own password", "confirm": "my own password"},
    )
    assert response.status_code == 302
    assert other.get("/keys/").status_code == 200
    assert not member(app, "bo@example.com").must_change_password


def test_admin_form_errors_write_nothing(client, app, auth):
    auth.create_user()
    auth.login()
    response = add_member(client, email="ana@example.com")
    assert "already exists" in response.get_data(as_text=True)
    response = add_member(client, email="bo@example.com", password="short")
    assert "at least 10 characters" in response.get_data(as_text=True)
    assert member(app, "bo@example.com") is None


def test_disabling_a_member_shuts_them_out_at_once(client, app, auth):
    auth.create_user()
    auth.create_user(email="bo@example.com", name="Bo")
    bo_client = app.test_client()
    AuthActions(bo_client, app).login("bo@example.com", PASSWORD)
    assert bo_client.get("/account").status_code == 200

    auth.login()
    bo_id = member(app, "bo@example.com").id
    response = post_form(client, f"/admin/users/{bo_id}/disable", {"confirmed": "yes"}, page="/admin/users")
    assert response.status_code == 302
    assert not member(app, "bo@example.com").is_active
    assert bo_client.get("/account").status_code == 302  # their session is gone
    relogin = AuthActions(app.test_client(), app).login("bo@example.com", PASSWORD)
    assert relogin.status_code == 200  # refused

    post_form(client, f"/admin/users/{bo_id}/enable", {}, page="/admin/users")
    assert member(app, "bo@example.com").is_active
    assert AuthActions(app.test_client(), app).login("bo@example.com", PASSWORD).status_code == 302


def test_grant_and_remove_admin_keeps_one_admin(client, app, auth):
    ana_id = auth.create_user()
    auth.create_user(email="bo@example.com", name="Bo")
    auth.login()
    bo_id = member(app, "bo@example.com").id
    post_form(client, f"/admin/users/{bo_id}/admin", {}, page="/admin/users")
    assert member(app, "bo@example.com").is_admin
    post_form(client, f"/admin/users/{bo_id}/admin", {}, page="/admin/users")
    assert not member(app, "bo@example.com").is_admin
    # The only admin can't demote themselves through the page (no button) nor the URL.
    response = post_form(
        client, f"/admin/users/{ana_id}/admin", {}, page="/admin/users", follow_redirects=True
    )
    assert "only administrator" in response.get_data(as_text=True)
    assert member(app, "ana@example.com").is_admin


def test_admin_pages_are_hidden_from_members(client, app, auth):
    auth.create_user()
    auth.create_user(email="bo@example.com", name="Bo")
    auth.login("bo@example.com", PASSWORD)
    assert client.get("/admin/users").status_code == 404


def test_admin_actions_need_csrf(client, app, auth):
    auth.create_user()
    auth.create_user(email="bo@example.com", name="Bo")
    auth.login()
    bo_id = member(app, "bo@example.com").id
    assert client.post(f"/admin/users/{bo_id}/disable").status_code == 400
    assert member(app, "bo@example.com").is_active
