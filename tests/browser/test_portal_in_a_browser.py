"""The portal in a real browser: the journeys people take, and every page at 390 px and 1280 px with no
serious accessibility problem."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
from playwright.sync_api import expect
from sqlalchemy import select

from portal.core import keys as key_service
from portal.core.models import McpApiKey, TrackerSprint, User
from portal.core.tracker import service as tracker
from portal.extensions import db
from tests.conftest import PASSWORD
from tests.fakes.clickup import ClickUpFake
from tests.worker.harness import mcp_client

from .conftest import screenshot
from .pages import check_page, sign_in

KEY_RE = re.compile(r"^mcp_[0-9a-f]{64}$")


def nav(page, name: str) -> None:
    """Follow a link of the main navigation."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def make_user(app, email="ana@example.com", name="Ana Silva", **kwargs) -> int:
    from portal.core import accounts

    with app.app_context():
        user = accounts.create_user(db.session, email=email, password=PASSWORD, display_name=name, **kwargs)
        db.session.commit()
        return user.id


def mint(app, user_id: int, name: str = "laptop") -> tuple[int, str]:
    with app.app_context():
        minted = key_service.mint_key(db.session, db.session.get(User, user_id), name=name)
        db.session.commit()
        return minted.record.id, minted.raw_key


def key_state(app, key_id: int) -> str:
    with app.app_context():
        return db.session.get(McpApiKey, key_id).state()


# --- journeys -------------------------------------------------------------------------------------


def test_first_sign_up_becomes_the_administrator_who_adds_a_member(page, context, app):
    page.goto("/")
    assert page.url.endswith("/login")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Your name").fill("Ana Silva")
    page.get_by_label("Email").fill("ana@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("administrator").first).to_be_visible()
    nav(page, "Team")
    # Every problem at once, next to its field.
    page.get_by_label("Email").fill("ana@example.com")
    page.get_by_label("Temporary password").fill("short")
    page.get_by_role("button", name="Add member").click()
    assert page.locator("#email-error").inner_text() == "An account with this email already exists."
    assert page.locator("#temporary_password-error").inner_text() == "Use at least 10 characters."
    assert page.get_by_label("Email").get_attribute("aria-invalid") == "true"
    page.get_by_label("Name").fill("Bo Berg")
    page.get_by_label("Email").fill("bo@example.com")
    page.get_by_label("Temporary password").fill("temporary pass 1")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_text("bo@example.com can now sign in")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="ana@example.com")
    assert "never" not in row.inner_text()  # signing up was a sign-in
    screenshot(page, "journey-team")

    member = context.browser.new_context(base_url=page.url.split("/admin")[0])
    bo = member.new_page()
    sign_in(bo, "bo@example.com", "temporary pass 1")
    assert bo.url.endswith("/account")
    expect(bo.get_by_role("heading", name="Choose your own password")).to_be_visible()
    member.close()


def test_a_new_key_is_copied_and_revoked_after_confirming(page, app):
    make_user(app)
    sign_in(page)
    nav(page, "MCP keys")
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Create key").click()
    raw = page.locator("#raw-key").inner_text().strip()
    assert KEY_RE.match(raw)
    page.bring_to_front()  # the clipboard answers a focused page only
    page.get_by_role("button", name="Copy").first.click()
    # The button says Copied once the browser has finished writing to the clipboard.
    page.get_by_role("button", name="Copied").wait_for()
    assert page.evaluate("async () => await navigator.clipboard.readText()") == raw
    screenshot(page, "journey-key-created")
    page.get_by_role("link", name="Done").click()
    with app.app_context():
        key_id = db.session.scalar(select(McpApiKey.id))

    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    page.get_by_role("button", name="Revoke").click()
    assert questions == ["Revoke the key 'laptop'? Clients using it are refused from then on."]
    assert key_state(app, key_id) == "active"  # said no: nothing happened
    page.once("dialog", lambda dialog: answer(dialog, True))
    page.get_by_role("button", name="Revoke").click()
    page.wait_for_url("**/keys/")
    expect(page.get_by_text("Key 'laptop' is revoked")).to_be_visible()
    assert key_state(app, key_id) == "revoked"


def test_without_javascript_destroying_asks_on_a_page(chromium, portal, app):
    user = make_user(app)
    key_id, _ = mint(app, user, "desk")
    context = chromium.new_context(java_script_enabled=False, base_url=portal.url)
    try:
        page = context.new_page()
        sign_in(page)
        page.goto("/keys/")
        page.get_by_role("button", name="Revoke").click()
        expect(page.get_by_role("heading", name="Revoke the key 'desk'?")).to_be_visible()
        assert key_state(app, key_id) == "active"
        screenshot(page, "confirm-revoke-without-javascript")
        page.get_by_role("button", name="Revoke").click()
        expect(page.get_by_text("Key 'desk' is revoked")).to_be_visible()
        assert key_state(app, key_id) == "revoked"
        # Forms work without JavaScript too: a new key is made and shown.
        page.get_by_label("Name").fill("no script")
        page.get_by_role("button", name="Create key").click()
        assert KEY_RE.match(page.locator("#raw-key").inner_text().strip())
    finally:
        context.close()


def test_a_connection_with_a_bad_token_shows_the_error_next_to_the_field(page, app):
    make_user(app)
    fake = ClickUpFake()
    fake.start()
    try:
        sign_in(page)
        nav(page, "Connections")
        page.get_by_role("link", name="Add a connection").click()
        page.get_by_role("link", name="ClickUp").click()
        assert page.get_by_label("Base URL").input_value() == "https://api.clickup.com"
        page.get_by_label("Display name").fill("Acme ClickUp")
        page.get_by_label("Slug").fill("acme-clickup")
        page.get_by_label("Base URL").fill(fake.base_url)
        page.get_by_label("API token").fill("pk_81000001_WRONGWRONGWRONGWRONGWRONG00")
        page.get_by_role("button", name="Test and save").click()
        error = page.locator("#token-error")
        expect(error).to_be_visible()
        assert "token" in error.inner_text().lower()
        assert page.get_by_label("API token").get_attribute("aria-describedby") == "token-error"
        check_page(page, "connection-bad-token")
    finally:
        fake.stop()


def test_the_board_and_a_status_change(page, app):
    make_user(app)
    sign_in(page)
    nav(page, "Projects")
    page.get_by_role("link", name="New project").first.click()
    page.get_by_label("Key").fill("WEB")
    page.get_by_label("Name").fill("Website")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("link", name="create the first task")).to_be_visible()  # no dead end
    page.get_by_role("link", name="New task").click()
    page.get_by_label("Title").fill("Write the launch post")
    page.get_by_label("Story points").fill("3")
    page.get_by_role("button", name="Create task").click()
    page.get_by_role("link", name="Website").click()
    to_do = page.get_by_role("region", name="To do")
    expect(to_do.get_by_role("link", name=re.compile("Write the launch post"))).to_be_visible()
    to_do.get_by_role("link", name=re.compile("Write the launch post")).click()
    page.get_by_label("Move to").select_option(label="In progress")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_text("WEB-1 is now in In progress.")).to_be_visible()
    page.get_by_role("link", name="Website").first.click()
    in_progress = page.get_by_role("region", name="In progress")
    expect(in_progress.get_by_role("link", name=re.compile("Write the launch post"))).to_be_visible()
    assert page.get_by_role("region", name="To do").get_by_role("link").count() == 0
    check_page(page, "board")


def test_activity_shows_the_tool_calls_made_through_the_worker(page, app, browser_worker):
    user = make_user(app)
    key_id, raw = mint(app, user, "laptop")
    with app.app_context():
        project = tracker.create_project(db.session, key="WEB", name="Website", actor_id=user)
        tracker.create_task(db.session, project, title="Real task", actor_id=user)
        db.session.commit()

    async def use_the_key():
        async with mcp_client(browser_worker.url, raw) as client:
            assert not (await client.call_tool("whoami", {})).is_error
            assert not (await client.call_tool("get_task", {"task": "local:WEB-1"})).is_error
            assert (await client.call_tool("get_task", {"task": "local:WEB-404"})).is_error

    # Playwright's sync API keeps an event loop on this thread: the MCP client gets a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(anyio.run, use_the_key).result()
    sign_in(page)
    nav(page, "Activity")
    table = page.locator("table.activity")
    # The worker writes its audit rows in batches: wait for them, then read.
    for _ in range(50):
        if table.count() and table.get_by_text("local:WEB-404").count():
            break
        page.wait_for_timeout(200)
        page.reload()
    rows = page.locator("table.activity tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    tool_rows = [t for t in texts if "tool call" in t]
    assert len(tool_rows) == 3
    assert "local:WEB-404" in tool_rows[0] and "not found" in tool_rows[0]  # newest first
    assert all("laptop" in t for t in tool_rows)
    page.get_by_label("Outcome").select_option(label="Failed")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"outcome=error"))
    failed = [
        page.locator("table.activity tbody tr").nth(i).inner_text()
        for i in range(page.locator("table.activity tbody tr").count())
    ]
    assert len(failed) == 1 and "local:WEB-404" in failed[0]
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert "local:WEB-404" in exported and "local:WEB-1," not in exported
    check_page(page, "activity")
    # The key's own page charts today's calls, the failed one in the other colour.
    page.goto(f"/keys/{key_id}")
    chart = page.get_by_role("img", name="Calls per day of laptop")
    expect(chart).to_be_visible()
    assert chart.locator("rect.failed").count() == 1 and chart.locator("rect.ok").count() == 1
    fill = lambda css: page.evaluate(  # noqa: E731
        "(selector) => getComputedStyle(document.querySelector(selector)).fill", css
    )
    assert fill("svg.sparkline rect.failed") != fill("svg.sparkline rect.ok")
    check_page(page, "key")


def test_sprint_charts_are_drawn_with_a_text_alternative(page, app, runner):
    make_user(app, is_admin=True)
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        sprints = {s.name: s.id for s in db.session.scalars(select(TrackerSprint))}
    sign_in(page)
    page.goto(f"/sprints/{sprints['Sprint 2']}")
    chart = page.get_by_role("img", name="Burndown of Sprint 2")
    expect(chart).to_be_visible()
    assert chart.locator("polyline.remaining").count() == 1
    assert chart.locator("polyline.ideal").count() == 1
    page.get_by_text("Burndown as a table").click()
    assert page.get_by_role("table").filter(has_text="Ideal").get_by_role("row").count() > 5
    check_page(page, "tracker-sprint")
    page.goto("/projects/DEMO/sprints")
    velocity = page.get_by_role("img", name=re.compile("Velocity of"))
    assert velocity.locator("rect.committed").count() >= 1 and velocity.locator("rect.completed").count() >= 1
    check_page(page, "tracker-sprints")
    nav(page, "Sprints")
    page.get_by_role("link", name="Sprint 2").click()
    expect(page.get_by_role("img", name="Burndown of Sprint 2")).to_be_visible()
    check_page(page, "sprint")
    nav(page, "Dashboard")
    expect(page.get_by_role("img", name="Burndown of Sprint 2")).to_be_visible()
    check_page(page, "dashboard-with-sprint")


# --- every page -------------------------------------------------------------------------------------


def test_every_page_fits_a_phone_and_a_desktop_and_has_no_serious_accessibility_problem(page, app, runner):
    ana = make_user(app, is_admin=True)
    make_user(app, email="bo@example.com", name="Bo Berg")
    long_name = "k" * 80  # one unbroken word as long as a key name may be
    key_id, raw = mint(app, ana, long_name)
    mint(app, ana, "laptop")
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        sprint_id = db.session.scalar(select(TrackerSprint.id).where(TrackerSprint.name == "Sprint 2"))
    fake = ClickUpFake()
    fake.start()
    try:
        from tests.worker import worlds

        worlds.add_connection(
            app,
            ana,
            provider="clickup",
            slug="acme-clickup-with-a-long-slug-1234567890"[:40],
            url=fake.base_url,
            token=fake.token,
            options={"team_id": fake.team.id},
        )
        slug = "acme-clickup-with-a-long-slug-1234567890"[:40]
        with app.app_context():
            from portal.core.models import ProviderConnection

            row = db.session.scalar(select(ProviderConnection))
            row.name = "N" * 120  # an unbroken connection name as long as allowed
            db.session.commit()
        sign_in(page)
        pages = {
            "dashboard": "/",
            "projects": "/projects",
            "board": "/projects/DEMO",
            "tasks": "/projects/DEMO/tasks",
            "task": "/tasks/DEMO-1",
            "task-with-links-and-logged-time": "/tasks/DEMO-2",
            "task-edit": "/tasks/DEMO-1/edit",
            "task-new": "/projects/DEMO/tasks/new",
            "project-settings": "/projects/DEMO/edit",
            "project-new": "/projects/new",
            "tracker-sprints": "/projects/DEMO/sprints",
            "tracker-sprint": f"/sprints/{sprint_id}",
            "sprint-edit": f"/sprints/{sprint_id}/edit",
            "sprint-new": "/projects/DEMO/sprints/new",
            "sprints": "/sprints",
            "sprint": f"/sprints/local/{sprint_id}",
            "connections": "/connections/",
            "connection-new": "/connections/new",
            "connection-edit": f"/connections/{slug}/edit",
            "keys": "/keys/",
            "key": f"/keys/{key_id}",
            "activity": "/activity",
            "team-activity": "/admin/activity",
            "team": "/admin/users",
            "oauth-clients": "/admin/oauth-clients",
            "account": "/account",
            "not-found": "/no/such/page",
        }
        for name, url in pages.items():
            page.goto(url)
            check_page(page, f"page-{name}")
        # The pages a POST answers with: a confirmation (as without JavaScript), a new key shown once, a
        # reset password.
        page.goto("/keys/")
        page.evaluate(
            "() => document.querySelectorAll('[data-confirm]').forEach(f => f.removeAttribute('data-confirm'))"
        )
        page.get_by_role("row").filter(has_text="laptop").get_by_role("button", name="Revoke").click()
        expect(page.get_by_role("heading", name="Revoke the key 'laptop'?")).to_be_visible()
        check_page(page, "page-confirm")
        page.goto("/keys/")
        page.get_by_label("Name").fill("phone " + "x" * 60)
        page.get_by_role("button", name="Create key").click()
        check_page(page, "page-key-created")
        page.goto("/admin/users")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("row").filter(has_text="bo@example.com").get_by_role(
            "button", name="Reset password"
        ).click()
        expect(page.locator("#temporary-password")).to_be_visible()
        check_page(page, "page-password-reset")
        # Form errors of the sprint-work controls, shown next to their fields.
        page.goto("/tasks/DEMO-2")
        page.get_by_label("Time spent").fill("a while")
        page.get_by_role("button", name="Log time").click()
        expect(page.locator("#time-error")).to_be_visible()
        check_page(page, "page-task-worklog-error")
        page.goto("/projects/DEMO/tasks")
        page.get_by_role("button", name="Move to sprint").click()
        expect(page.get_by_text("Tick the tasks to move first.")).to_be_visible()
        check_page(page, "page-tasks-move-error")
        page.goto("/activity?start=2026-03-10&end=2026-03-01")
        expect(page.get_by_text("The end date is before the start date.")).to_be_visible()
        check_page(page, "page-activity-bad-filter")
        # Signed out.
        page.get_by_role("button", name="Sign out").click()
        check_page(page, "page-login")
    finally:
        fake.stop()
