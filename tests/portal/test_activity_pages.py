"""Activity pages, key usage and the Sprints page, read through the portal."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from portal.core import keys as key_service
from portal.core.models import AuditEvent, McpApiKey, User, utcnow
from portal.core.services import activity
from portal.extensions import db
from tests.conftest import PASSWORD, AuthActions, post_form


@pytest.fixture
def ana(client, auth) -> int:
    user_id = auth.create_user()
    auth.login()
    return user_id


def mint(app, user_id: int, name: str) -> int:
    with app.app_context():
        minted = key_service.mint_key(db.session, db.session.get(User, user_id), name=name)
        db.session.commit()
        return minted.record.id


def calls(app, user_id: int, key_id: int, *rows: tuple) -> None:
    """rows: (tool, ok, target, days ago)."""
    with app.app_context():
        for tool, ok, target, days_ago in rows:
            db.session.add(
                AuditEvent(
                    at=utcnow() - timedelta(days=days_ago, minutes=1),
                    user_id=user_id,
                    key_id=key_id,
                    kind="tool_call",
                    tool=tool,
                    target=target,
                    ok=ok,
                    error_class=None if ok else "not_found",
                    duration_ms=12,
                    client_ip="127.0.0.1",
                )
            )
        db.session.commit()


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def targets(html: str) -> list[str]:
    return re.findall(r'<td class="target wrap-anywhere">([^<]*)</td>', html)


def test_activity_shows_my_events_newest_first_and_filters_them(client, app, ana, auth):
    laptop = mint(app, ana, "laptop")
    desk = mint(app, ana, "desk")
    calls(
        app,
        ana,
        laptop,
        ("list_tasks", True, "local:WEB", 3),
        ("get_task", False, "local:WEB-9", 2),
        ("whoami", True, None, 0),
    )
    calls(app, ana, desk, ("get_task", True, "local:WEB-1", 1))
    bo = auth.create_user(email="bo@example.com", name="Bo")
    calls(app, bo, mint(app, bo, "bo key"), ("get_task", True, "local:SECRET-1", 0))

    html = text(client.get("/activity", query_string={"kind": "tool_call"}))
    assert targets(html) == ["—", "local:WEB-1", "local:WEB-9", "local:WEB"]  # newest first
    assert "SECRET" not in html  # another member's activity is never shown
    assert targets(text(client.get("/activity", query_string={"kind": "tool_call", "key": desk}))) == [
        "local:WEB-1"
    ]
    assert targets(text(client.get("/activity", query_string={"kind": "tool_call", "outcome": "error"}))) == [
        "local:WEB-9"
    ]
    assert targets(text(client.get("/activity", query_string={"kind": "tool_call", "tool": "get_task"}))) == [
        "local:WEB-1",
        "local:WEB-9",
    ]
    assert targets(
        text(client.get("/activity", query_string={"kind": "tool_call", "connection": "local"}))
    ) == [
        "local:WEB-1",
        "local:WEB-9",
        "local:WEB",
    ]
    two_days = text(
        client.get(
            "/activity",
            query_string={
                "kind": "tool_call",
                "period": "7d",
                "start": (utcnow() - timedelta(days=2)).date().isoformat(),
            },
        )
    )
    assert targets(two_days) == ["—", "local:WEB-1", "local:WEB-9"]
    # Key changes are activity too.
    changes = text(client.get("/activity", query_string={"kind": "keys"}))
    assert changes.count("key created") == 2
    assert text(client.get("/activity")).count("key created") == 2  # unfiltered: everything of mine


def test_activity_pages_and_a_bad_filter_says_what_to_fix(client, app, ana):
    key_id = mint(app, ana, "busy")
    calls(app, ana, key_id, *[("whoami", True, f"t{n}", 0) for n in range(activity.PAGE_SIZE + 5)])
    first = text(client.get("/activity", query_string={"kind": "tool_call"}))
    assert len(targets(first)) == activity.PAGE_SIZE and "Page 1 of 2" in first
    second = text(client.get("/activity", query_string={"kind": "tool_call", "page": 2}))
    assert len(targets(second)) == 5 and 'rel="prev"' in second
    assert set(targets(first)).isdisjoint(targets(second))
    bad = client.get("/activity", query_string={"start": "2026-03-10", "end": "2026-03-01"})
    assert bad.status_code == 400 and "The end date is before the start date." in text(bad)
    assert "Traceback" not in text(client.get("/activity", query_string={"start": "soon"}))


def test_csv_export_has_the_filtered_rows_and_no_formulas(client, app, ana):
    key_id = mint(app, ana, "=HYPERLINK(evil)")
    calls(app, ana, key_id, ("get_task", True, "=cmd|' /C calc'!A0", 0), ("whoami", False, None, 0))
    response = client.get("/activity/export.csv", query_string={"tool": "get_task"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == list(activity.CSV_COLUMNS)
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["tool"] == "get_task" and row["member"] == "ana@example.com" and row["outcome"] == "ok"
    assert row["target"].startswith("'=") and row["key_or_app"].startswith(
        "'="
    )  # a spreadsheet shows them as text
    assert datetime.strptime(row["time_utc"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) <= utcnow()


def test_team_activity_is_for_administrators_and_filters_by_member(client, app, ana, auth):
    bo = auth.create_user(email="bo@example.com", name="Bo")
    calls(app, bo, mint(app, bo, "bo key"), ("get_task", True, "local:BO-1", 0))
    calls(app, ana, mint(app, ana, "ana key"), ("get_task", True, "local:ANA-1", 0))
    everyone = text(client.get("/admin/activity", query_string={"kind": "tool_call"}))
    assert targets(everyone) == ["local:ANA-1", "local:BO-1"] or set(targets(everyone)) == {
        "local:ANA-1",
        "local:BO-1",
    }
    assert "bo@example.com" in everyone
    only_bo = text(client.get("/admin/activity", query_string={"kind": "tool_call", "member": bo}))
    assert targets(only_bo) == ["local:BO-1"]
    exported = client.get("/admin/activity/export.csv", query_string={"member": bo, "kind": "tool_call"})
    assert "local:BO-1" in exported.get_data(as_text=True) and "ANA-1" not in exported.get_data(as_text=True)
    bo_client = app.test_client()
    AuthActions(bo_client, app).login("bo@example.com", PASSWORD)
    assert bo_client.get("/admin/activity").status_code == 404
    assert bo_client.get("/admin/activity/export.csv").status_code == 404


def test_a_failed_sign_in_to_my_account_is_in_my_activity(client, app, ana):
    stranger = app.test_client()
    AuthActions(stranger, app).login("ana@example.com", "wrong password!")
    html = text(client.get("/activity", query_string={"kind": "sign_ins"}))
    assert "sign-in failed" in html and "signed in" in html


def test_keys_show_their_last_use_and_calls_per_day_with_failures_apart(client, app, ana):
    key_id = mint(app, ana, "laptop")
    calls(app, ana, key_id, ("whoami", True, None, 0), ("whoami", True, None, 0), ("get_task", False, "x", 0))
    calls(app, ana, key_id, ("whoami", True, None, 3))
    calls(app, ana, key_id, ("whoami", True, None, 20))  # older than the chart
    with app.app_context():
        db.session.get(McpApiKey, key_id).last_used_at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
        db.session.commit()
        series = activity.calls_per_day(db.session, [key_id])[key_id]
    assert len(series) == 14 and series[-1].ok == 2 and series[-1].errors == 1
    assert series[-4].ok == 1 and sum(d.calls for d in series) == 4
    html = text(client.get("/keys/"))
    assert "2026-01-02 03:04" in html
    chart = html[html.index(f'aria-labelledby="usage-{key_id}-title') :]
    chart = chart[: chart.index("</svg>")]
    assert chart.count('class="failed"') == 1 and chart.count('class="ok"') == 2
    assert "4 calls from" in chart and "1 of them failed" in chart

    page = client.get(f"/keys/{key_id}")
    detail = text(page)
    assert page.status_code == 200 and "Recent activity" in detail and "get_task" in detail
    assert f'href="/activity?key={key_id}"' in detail
    bo_client = app.test_client()
    auth = AuthActions(bo_client, app)
    auth.create_user(email="bo@example.com", name="Bo")
    auth.login("bo@example.com", PASSWORD)
    assert bo_client.get(f"/keys/{key_id}").status_code == 404


def test_an_unused_key_page_says_how_to_use_it(client, app, ana):
    key_id = mint(app, ana, "fresh")
    assert "has not been used yet" in text(client.get(f"/keys/{key_id}"))


def test_the_sprints_page_lists_running_sprints_and_explains_when_there_are_none(client, app, ana):
    assert "No sprint is running" in text(client.get("/sprints"))
    post_form(client, "/projects/new", {"key": "WEB", "name": "Website", "description": ""})
    post_form(
        client,
        "/projects/WEB/sprints/new",
        {
            "name": "Sprint 1",
            "goal": "",
            "start_date": "2026-03-02",
            "end_date": "2026-03-13",
            "state": "active",
        },
    )
    html = text(client.get("/sprints"))
    with app.app_context():
        from portal.core.models import TrackerSprint

        sprint_id = db.session.scalar(select(TrackerSprint.id))
    assert f'href="/sprints/local/{sprint_id}"' in html and "Sprint 1" in html and "Website" in html
    detail = text(client.get(f"/sprints/local/{sprint_id}"))
    assert "Burndown" in detail and "No closed sprint in this project yet" in detail
    assert client.get("/sprints/local/99999").status_code == 404
    assert client.get(f"/sprints/nope/{sprint_id}").status_code == 404


def test_a_new_projects_empty_pages_say_what_to_do(client, app, ana):
    post_form(client, "/projects/new", {"key": "WEB", "name": "Website", "description": ""})
    tasks = text(client.get("/projects/WEB/tasks"))
    assert 'href="/projects/WEB/tasks/new"' in tasks.split('<section class="card">', 1)[1]
    sprints = text(client.get("/projects/WEB/sprints"))
    assert "create the first one" in sprints
    assert "Nothing recorded yet" in text(
        client.get("/activity", query_string={"kind": "tool_call"})
    ) or "No events match" in text(client.get("/activity", query_string={"kind": "tool_call"}))


def test_the_getting_started_cards_stay_until_there_is_a_key(client, app, ana):
    assert "Getting started" in text(client.get("/"))
    mint(app, ana, "first")
    assert "Getting started" not in text(client.get("/"))


def test_calls_made_through_an_oauth_grant_name_the_app_and_can_be_filtered(client, app, ana):
    from portal.core.models import OAuthClient, OAuthGrant

    with app.app_context():
        oauth_client = OAuthClient(client_id="cid-1", kind="registered", client_name="Claude")
        db.session.add(oauth_client)
        db.session.flush()
        grant = OAuthGrant(
            user_id=ana,
            client_pk=oauth_client.id,
            client_name="Claude",
            client_id="cid-1",
            scope="mcp",
            resource="http://127.0.0.1:8080/mcp",
        )
        db.session.add(grant)
        db.session.flush()
        grant_id = grant.id
        db.session.add(
            AuditEvent(
                user_id=ana, grant_id=grant_id, kind="tool_call", tool="whoami", target="via-app", ok=True
            )
        )
        db.session.commit()
    calls(app, ana, mint(app, ana, "laptop"), ("whoami", True, "via-key", 0))
    html = text(client.get("/activity", query_string={"kind": "tool_call"}))
    row = html[html.index("via-app") - 600 : html.index("via-app")]
    assert "app: Claude" in row
    only_app = text(client.get("/activity", query_string={"kind": "tool_call", "grant": grant_id}))
    assert targets(only_app) == ["via-app"]
    exported = client.get("/activity/export.csv", query_string={"grant": grant_id}).get_data(as_text=True)
    assert "app: Claude" in exported and "via-key" not in exported
