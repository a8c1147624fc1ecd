"""The portal's everyday fixes: confirmation before destroying, password resets, every form error at
once, and the small things (ClickUp's address, 8 rather than 8.0, the first sign-in recorded)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from portal.core import accounts
from portal.core.models import AuditEvent, McpApiKey, ProviderConnection, TrackerStatus, TrackerTask, User
from portal.core.tracker import service
from portal.extensions import db
from tests.conftest import PASSWORD, AuthActions, post_form
from tests.portal.tracker.test_pages import error_for, status_id, task_form

KEY_RE = re.compile(r"mcp_[0-9a-f]{64}")


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def one(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(model).where(*where))


def how_many(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def admin(client, auth) -> int:
    user_id = auth.create_user()
    auth.login()
    return user_id


def make_key(client, name="laptop") -> McpApiKey:
    post_form(client, "/keys/", {"name": name, "client": "cursor", "expires": "90", "toolsets": ["tasks"]})


def with_project(app, user_id) -> None:
    with app.app_context():
        project = service.create_project(db.session, key="WEB", name="Website", actor_id=user_id)
        service.create_task(db.session, project, title="Doomed", actor_id=user_id)
        service.add_status(db.session, project, name="Review", category="in_progress")
        db.session.commit()


# --- confirmation before destroying --------------------------------------------------------------


def destructive_actions(app, admin_id):
    """(url, page its button is on, question on the confirmation page, did it happen?)."""
    bo_id = accounts_user(app, "bo@example.com")
    key = one(app, McpApiKey, McpApiKey.name == "laptop")
    desk = one(app, McpApiKey, McpApiKey.name == "desk")
    review = status_id(app, "Review")
    return [
        (
            f"/keys/{key.id}/rotate",
            "/keys/",
            "Rotate the key 'laptop'?",
            lambda: one(app, McpApiKey, McpApiKey.id == key.id).revoked_at is not None,
        ),
        (
            f"/keys/{desk.id}/revoke",
            "/keys/",
            "Revoke the key 'desk'?",
            lambda: one(app, McpApiKey, McpApiKey.id == desk.id).revoked_at is not None,
        ),
        (
            "/connections/acme-clickup/delete",
            "/connections/",
            "Delete the connection Acme ClickUp (acme-clickup)?",
            lambda: how_many(app, ProviderConnection) == 0,
        ),
        (
            f"/admin/users/{bo_id}/disable",
            "/admin/users",
            "Disable bo@example.com?",
            lambda: not one(app, User, User.id == bo_id).is_active,
        ),
        (
            "/tasks/WEB-1/delete",
            "/tasks/WEB-1/edit",
            "Delete WEB-1 Doomed?",
            lambda: how_many(app, TrackerTask) == 0,
        ),
        (
            f"/projects/WEB/statuses/{review}/delete",
            "/projects/WEB/edit",
            "Remove the status 'Review' from WEB?",
            lambda: how_many(app, TrackerStatus, TrackerStatus.name == "Review") == 0,
        ),
    ]


def accounts_user(app, email: str) -> int:
    return one(app, User, User.email == email).id


def test_every_destroying_button_asks_first_without_javascript(client, app, admin, auth):
    from tests.fakes.clickup import ClickUpFake
    from tests.portal.test_connections_pages import add_clickup

    auth.create_user(email="bo@example.com", name="Bo")
    make_key(client)
    make_key(client, "desk")
    with_project(app, admin)
    fake = ClickUpFake()
    fake.start()
    try:
        add_clickup(client, fake.base_url)
    finally:
        fake.stop()
    for url, page, question, happened in destructive_actions(app, admin):
        button_page = text(client.get(page))
        # The button carries its question for the script; the script itself is a static file (CSP).
        assert f'action="{url}" class="inline" data-confirm=' in button_page, url
        assert '<script src="/static/confirm.js"></script>' in button_page
        asked = post_form(client, url, {}, page=page)
        html = text(asked)
        assert asked.status_code == 200 and question in html, url
        assert not happened(), f"{url} acted before it was confirmed"
        # The page's own form posts to the same address, confirmed, with a fresh CSRF token.
        assert f'<form method="post" action="{url}">' in html and 'name="confirmed" value="yes"' in html
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        done = client.post(url, data={"csrf_token": token, "confirmed": "yes"})
        assert done.status_code in (200, 302), url
        assert happened(), f"{url} did not act once confirmed"


def test_the_confirm_script_is_static_and_sends_the_confirmation(client, admin):
    script = client.get("/static/confirm.js")
    assert script.status_code == 200
    body = script.get_data(as_text=True)
    script.close()
    assert "window.confirm(" in body and '"confirmed"' in body and '"yes"' in body
    # The policy forbids inline scripts, so this file is the only way the question is asked in the page.
    assert "script-src 'self'" in client.get("/keys/").headers["Content-Security-Policy"]


# --- passwords -----------------------------------------------------------------------------------


def test_an_admin_resets_a_password_shown_once_and_every_session_ends(client, app, admin, auth):
    auth.create_user(email="bo@example.com", name="Bo")
    bo = app.test_client()
    AuthActions(bo, app).login("bo@example.com", PASSWORD)
    assert bo.get("/keys/").status_code == 200
    bo_id = accounts_user(app, "bo@example.com")

    page = post_form(client, f"/admin/users/{bo_id}/password", {"confirmed": "yes"}, page="/admin/users")
    html = text(page)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    temporary = re.search(r'<code id="temporary-password">([^<]+)</code>', html).group(1)
    assert len(temporary) >= accounts.MIN_PASSWORD_LENGTH
    # Bo's session is over; the old password no longer works, the temporary one must be changed.
    assert bo.get("/keys/").status_code == 302
    assert AuthActions(app.test_client(), app).login("bo@example.com", PASSWORD).status_code == 200
    fresh = app.test_client()
    signed = AuthActions(fresh, app).login("bo@example.com", temporary)
    assert signed.headers["Location"] == "/account"
    assert fresh.get("/keys/").headers["Location"] == "/account"
    # Shown once: nowhere else, and only a hash is stored.
    assert temporary not in text(client.get("/admin/users"))
    stored = one(app, User, User.id == bo_id)
    assert stored.must_change_password and temporary not in stored.password_hash
    assert one(app, AuditEvent, AuditEvent.kind == "password_reset").target == "bo@example.com"


def test_reset_password_asks_first_and_not_for_oneself(client, app, admin, auth):
    auth.create_user(email="bo@example.com", name="Bo")
    bo_id = accounts_user(app, "bo@example.com")
    before = one(app, User, User.id == bo_id).password_hash
    asked = post_form(client, f"/admin/users/{bo_id}/password", {}, page="/admin/users")
    assert "Reset the password of bo@example.com?" in text(asked)
    assert one(app, User, User.id == bo_id).password_hash == before
    own = post_form(client, f"/admin/users/{admin}/password", {"confirmed": "yes"}, page="/admin/users")
    assert own.status_code == 302
    assert one(app, User, User.id == admin).must_change_password is False


def test_reset_password_from_the_command_line(runner, app, auth):
    auth.create_user(email="bo@example.com", name="Bo")
    generated = runner.invoke(args=["reset-password", "Bo@Example.com"])
    assert generated.exit_code == 0, generated.output
    temporary = generated.stdout.strip().splitlines()[0]
    assert len(temporary) >= accounts.MIN_PASSWORD_LENGTH
    with app.app_context():
        assert accounts.authenticate(db.session, "bo@example.com", temporary) is not None
    given = runner.invoke(
        args=["reset-password", "bo@example.com", "--password-stdin"], input="chosen by admin\n"
    )
    assert given.exit_code == 0 and "chosen by admin" not in given.output
    with app.app_context():
        user = accounts.authenticate(db.session, "bo@example.com", "chosen by admin")
        assert user is not None and user.must_change_password
    short = runner.invoke(args=["reset-password", "bo@example.com", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and short.output.strip() == "Error: Use at least 10 characters."
    nobody = runner.invoke(args=["reset-password", "nobody@example.com"])
    assert nobody.exit_code == 1 and "No account" in nobody.output


# --- every error at once -------------------------------------------------------------------------


def test_the_member_form_shows_every_problem_on_the_first_submit(client, app, admin):
    response = post_form(
        client,
        "/admin/users",
        {"display_name": "x" * 121, "email": "ana@example.com", "temporary_password": "short"},
    )
    html = text(response)
    assert error_for(html, "email") == "An account with this email already exists."
    assert error_for(html, "temporary_password") == "Use at least 10 characters."
    assert error_for(html, "display_name")
    assert how_many(app, User) == 1


def test_the_key_form_reports_a_taken_name_with_the_other_problems(client, app, admin):
    make_key(client)
    response = post_form(client, "/keys/", {"name": "laptop", "client": "cursor", "expires": "12"})
    html = text(response)
    assert "already have a key named 'laptop'" in error_for(html, "name")
    assert error_for(html, "expires") == "Not a valid choice."
    assert how_many(app, McpApiKey) == 1


def test_the_task_form_shows_field_and_service_problems_together(client, app, admin):
    with_project(app, admin)
    response = post_form(
        client,
        "/projects/WEB/tasks/new",
        task_form(app, title="", estimate_hours="lots", parent="WEB-99", due="someday"),
    )
    html = text(response)
    assert error_for(html, "title") == "Enter a title."
    assert error_for(html, "estimate_hours") == "Not a valid float value."
    assert error_for(html, "due") == "Not a valid date value."
    assert error_for(html, "parent") == "No task with the key WEB-99."
    assert how_many(app, TrackerTask) == 1  # only the one made before


def test_the_project_form_reports_a_taken_key_with_a_missing_name(client, app, admin):
    with_project(app, admin)
    html = text(post_form(client, "/projects/new", {"key": "web", "name": "", "description": ""}))
    assert error_for(html, "key") == "The key WEB is taken by another project."
    assert error_for(html, "name") == "Enter a project name."


def test_the_sprint_form_reports_dates_in_the_wrong_order_with_a_missing_name(client, app, admin):
    with_project(app, admin)
    html = text(
        post_form(
            client,
            "/projects/WEB/sprints/new",
            {"name": "", "goal": "", "start_date": "2026-03-10", "end_date": "2026-03-01", "state": "future"},
        )
    )
    assert error_for(html, "name") == "Enter a sprint name."
    assert error_for(html, "end_date") == "The end date is before the start date."


def test_a_valid_form_still_saves(client, app, admin):
    with_project(app, admin)
    response = post_form(client, "/projects/WEB/tasks/new", task_form(app, title="Fine", estimate_hours="8"))
    assert response.status_code == 302
    assert how_many(app, TrackerTask) == 2


# --- small things --------------------------------------------------------------------------------


def test_numbers_show_without_a_trailing_point_zero_in_forms(client, app, admin):
    with_project(app, admin)
    with app.app_context():
        project = service.get_project(db.session, "WEB")
        service.create_task(db.session, project, title="Sized", estimate_hours=8.0, story_points=2.5)
        db.session.commit()
    html = text(client.get("/tasks/WEB-2/edit"))
    assert 'name="estimate_hours" type="number"' in html or 'id="estimate_hours"' in html
    assert re.search(r'id="estimate_hours"[^>]* value="8"', html)
    assert re.search(r'id="story_points"[^>]* value="2.5"', html)
    assert 'value="8.0"' not in html


def test_the_clickup_form_starts_with_its_one_address(client, admin):
    html = text(client.get("/connections/new?type=clickup"))
    assert re.search(r'id="base_url"[^>]* value="https://api.clickup.com"', html)
    jira = text(client.get("/connections/new?type=jira"))
    assert not re.search(r'id="base_url"[^>]* value="https', jira)


def test_signing_up_counts_as_the_first_sign_in(client, app):
    response = post_form(
        client,
        "/signup",
        {"display_name": "Ana", "email": "ana@example.com", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert response.status_code == 302
    team = text(client.get("/admin/users"))
    row = team[team.index("ana@example.com") :]
    row = row[: row.index("</tr>")]
    assert "never" not in row and re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", row)
    assert one(app, AuditEvent, AuditEvent.kind == "login").client_ip


def test_retired_keys_are_folded_away(client, app, admin):
    make_key(client, "old")
    make_key(client, "current")
    old = one(app, McpApiKey, McpApiKey.name == "old")
    post_form(client, f"/keys/{old.id}/revoke", {"confirmed": "yes"}, page="/keys/")
    html = text(client.get("/keys/"))
    folded = html[html.index('<details class="snippet retired-keys">') :]
    live = html[: html.index('<details class="snippet retired-keys">')]
    assert "Show revoked and expired keys (1)" in folded and ">old<" in folded
    assert ">old<" not in live and "current" in live


@pytest.mark.parametrize("path", ["/keys/{n}", "/sprints/{n}", "/sprints/{n}/edit"])
def test_an_id_beyond_any_row_is_not_found_rather_than_a_database_error(client, auth, path):
    auth.create_user()
    auth.login()
    assert client.get(path.format(n=2**31 - 1)).status_code == 404  # the largest id a row can have
    assert client.get(path.format(n=2**31)).status_code == 404  # more than PostgreSQL's INTEGER holds
    assert client.get(path.format(n="9" * 30)).status_code == 404  # more than SQLite can bind
