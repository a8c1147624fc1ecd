"""The tracker pages of sprint work: links and logged time on the task page, moving tasks to a sprint
from the board and the task list, and closing a sprint from its form."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import func, select

from portal.core.models import TrackerTaskLink, TrackerWorklog
from portal.core.tracker import service, work
from portal.extensions import db
from tests.conftest import post_form

from .test_pages import add_task, error_for, task_form


def add_sprint(app, name: str, **values) -> int:
    with app.app_context():
        sprint = service.create_sprint(
            db.session, service.get_project(db.session, "WEB"), name=name, **values
        )
        db.session.commit()
        return sprint.id


def sprint_of(app, key: str) -> int | None:
    with app.app_context():
        return service.get_task(db.session, key).sprint_id


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def alerts(html: str) -> list[str]:
    return [unescape(m) for m in re.findall(r'<p class="error"[^>]*role="alert">([^<]*)</p>', html)]


# --- links -------------------------------------------------------------------------------------------


def test_link_and_unlink_on_the_task_page(client, app, project):
    blocked, blocker = add_task(app, "Ship"), add_task(app, "Review")
    page = f"/tasks/{blocked}"
    response = post_form(
        client, f"{page}/links", {"kind": "is blocked by", "other": blocker.lower()}, page=page
    )
    assert response.status_code == 302
    with app.app_context():
        link = db.session.scalar(select(TrackerTaskLink))
        assert service.get_task(db.session, blocker).id == link.source_id and link.kind == "blocks"
        link_id = link.id
    html = client.get(page).get_data(as_text=True)
    assert f"{blocked} is blocked by" in html and f"/tasks/{blocker}" in html
    assert f"{blocker} blocks" in client.get(f"/tasks/{blocker}").get_data(as_text=True)

    again = post_form(client, f"{page}/links", {"kind": "is blocked by", "other": blocker}, page=page)
    assert f"already is blocked by {blocker}" in error_for(again.get_data(as_text=True), "other")
    unknown = post_form(client, f"{page}/links", {"kind": "relates to", "other": "WEB-99"}, page=page)
    assert error_for(unknown.get_data(as_text=True), "other") == "No task with the key WEB-99."
    assert count(app, TrackerTaskLink) == 1

    remove = f"{page}/links/{link_id}/delete"
    asked = post_form(client, remove, {}, page=page)
    assert asked.status_code == 200 and "Remove the link between" in asked.get_data(as_text=True)
    assert count(app, TrackerTaskLink) == 1
    assert client.post(remove, data={"confirmed": "yes"}).status_code == 400  # no CSRF token
    done = post_form(client, remove, {"confirmed": "yes"}, page=page)
    assert done.status_code == 302 and count(app, TrackerTaskLink) == 0
    assert "removed the link" in client.get(page).get_data(as_text=True)


def test_a_link_is_removed_only_through_one_of_its_tasks(client, app, project):
    a, b, c = add_task(app, "A"), add_task(app, "B"), add_task(app, "C")
    with app.app_context():
        link = work.link_tasks(
            db.session, service.get_task(db.session, a), service.get_task(db.session, b), kind="relates"
        )
        db.session.commit()
        link_id = link.id
    response = post_form(
        client, f"/tasks/{c}/links/{link_id}/delete", {"confirmed": "yes"}, page=f"/tasks/{c}"
    )
    assert response.status_code == 404
    response = post_form(client, f"/tasks/{a}/links/9999/delete", {"confirmed": "yes"}, page=f"/tasks/{a}")
    assert response.status_code == 404
    assert count(app, TrackerTaskLink) == 1


# --- logged time -----------------------------------------------------------------------------------


def test_log_time_and_see_the_total(client, app, project):
    key = add_task(app, "Build")
    page = f"/tasks/{key}"
    for time in ("1h30m", "0.5"):
        response = post_form(
            client, f"{page}/worklogs", {"time": time, "started": "", "comment": "Did **it**"}, page=page
        )
        assert response.status_code == 302
    with app.app_context():
        assert sorted(db.session.scalars(select(TrackerWorklog.seconds))) == [1800, 5400]
    html = client.get(page).get_data(as_text=True)
    assert "2h in all" in html and "<strong>1h 30m</strong>" in html and "<strong>it</strong>" in html


def test_bad_time_and_day_are_shown_together_and_nothing_is_logged(client, app, project):
    key = add_task(app, "Build")
    page = f"/tasks/{key}"
    response = post_form(
        client, f"{page}/worklogs", {"time": "a while", "started": "yesterday", "comment": ""}, page=page
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "1h30m" in error_for(html, "time")
    assert error_for(html, "started")
    assert count(app, TrackerWorklog) == 0


# --- moving tasks to a sprint -------------------------------------------------------------------------


def test_move_ticked_tasks_from_the_board_into_a_sprint(client, app, project):
    first, second = add_task(app, "First"), add_task(app, "Second")
    sprint_id = add_sprint(app, "Sprint 1")
    board = "/projects/WEB?sprint=all"
    html = client.get(board).get_data(as_text=True)
    assert f'value="{first}" form="move-tasks"' in html and "Move to sprint" in html
    response = post_form(client, board, {"tasks": [first, second], "sprint": str(sprint_id)})
    assert response.status_code == 302 and response.headers["Location"] == board
    assert sprint_of(app, first) == sprint_id and sprint_of(app, second) == sprint_id
    response = post_form(client, "/projects/WEB", {"tasks": [first], "sprint": "backlog"}, page=board)
    assert response.status_code == 302
    assert sprint_of(app, first) is None and sprint_of(app, second) == sprint_id


def test_a_move_that_can_not_be_done_whole_moves_nothing(client, app, project, signed_in):
    mine = add_task(app, "Mine")
    with app.app_context():
        other = service.create_project(db.session, key="OPS", name="Ops", actor_id=signed_in)
        foreign = service.create_task(db.session, other, title="Theirs").key
        db.session.commit()
    sprint_id = add_sprint(app, "Sprint 1")
    response = post_form(
        client, "/projects/WEB/tasks", {"tasks": [mine, foreign, "WEB-99"], "sprint": str(sprint_id)}
    )
    assert response.status_code == 200
    messages = alerts(response.get_data(as_text=True))
    assert any(m.startswith(f"{foreign}:") and "not in WEB" in m for m in messages), messages
    assert any(m.startswith("WEB-99:") for m in messages), messages
    assert sprint_of(app, mine) is None and sprint_of(app, foreign) is None
    nothing = post_form(client, "/projects/WEB/tasks", {"sprint": str(sprint_id)})
    assert "Tick the tasks to move first." in alerts(nothing.get_data(as_text=True))
    closed_id = add_sprint(app, "Old", start_date=None, end_date=None)
    with app.app_context():
        service.get_sprint(db.session, closed_id).state = "closed"
        db.session.commit()
    refused = post_form(client, "/projects/WEB/tasks", {"tasks": [mine], "sprint": str(closed_id)})
    assert refused.status_code == 200 and error_for(refused.get_data(as_text=True), "sprint")
    assert sprint_of(app, mine) is None


def test_move_from_the_task_list_keeps_its_filters(client, app, project):
    key = add_task(app, "Listed")
    sprint_id = add_sprint(app, "Sprint 1")
    listing = "/projects/WEB/tasks?text=Listed"
    assert f'value="{key}" form="move-tasks"' in client.get(listing).get_data(as_text=True)
    response = post_form(client, listing, {"tasks": [key], "sprint": str(sprint_id)})
    assert response.status_code == 302 and response.headers["Location"] == listing
    assert sprint_of(app, key) == sprint_id


def test_blocked_tasks_can_be_listed(client, app, project):
    blocked, blocker, free = add_task(app, "Blocked"), add_task(app, "Blocker"), add_task(app, "Free")
    with app.app_context():
        work.link_tasks(
            db.session,
            service.get_task(db.session, blocker),
            service.get_task(db.session, blocked),
            kind="blocks",
        )
        db.session.commit()
    html = client.get("/projects/WEB/tasks?blocked=yes").get_data(as_text=True)
    assert f">{blocked}</a>" in html and f">{blocker}</a>" not in html and f">{free}</a>" not in html


# --- closing a sprint from its form ----------------------------------------------------------------


def test_closing_a_sprint_moves_its_open_tasks_where_the_form_says(client, app, project):
    sprint_id = add_sprint(app, "Sprint 1", start_date=None, end_date=None)
    next_id = add_sprint(app, "Sprint 2")
    with app.app_context():
        key = service.create_task(
            db.session, service.get_project(db.session, "WEB"), title="Unfinished", sprint_id=sprint_id
        ).key
        db.session.commit()
    data = {"name": "Sprint 1", "goal": "", "start_date": "2030-01-01", "end_date": "2030-01-14"}
    response = post_form(
        client, f"/sprints/{sprint_id}/edit", {**data, "state": "closed", "move_open_to": str(next_id)}
    )
    assert response.status_code == 302
    assert sprint_of(app, key) == next_id
    with app.app_context():
        assert service.get_sprint(db.session, sprint_id).state == "closed"


# --- custom fields ----------------------------------------------------------------------------------


def test_custom_fields_are_added_in_settings_and_set_on_the_task_form(client, app, project):
    settings = "/projects/WEB/edit"
    refused = post_form(
        client, "/projects/WEB/fields", {"name": "Size", "type": "option", "allowed": "Only\n"}, page=settings
    )
    assert "at least two values" in error_for(refused.get_data(as_text=True), "allowed")
    for data in (
        {"name": "Size", "type": "option", "allowed": "S\r\nM\r\n\r\nL"},
        {"name": "Cost", "type": "number", "allowed": ""},
    ):
        assert post_form(client, "/projects/WEB/fields", data, page=settings).status_code == 302
    with app.app_context():
        fields = {f.name: f for f in work.list_fields(db.session, service.get_project(db.session, "WEB"))}
        size, cost = fields["Size"].id, fields["Cost"].id
        assert fields["Size"].allowed == ["S", "M", "L"]
    key = add_task(app, "Sized")
    edit = f"/tasks/{key}/edit"
    form_page = client.get(edit).get_data(as_text=True)
    assert f'name="cf_{size}"' in form_page and f'name="cf_{cost}"' in form_page
    bad = post_form(client, edit, task_form(app, "", **{f"cf_{size}": "M", f"cf_{cost}": "lots"}))
    html = bad.get_data(as_text=True)
    assert error_for(html, "title") == "Enter a title." and error_for(html, f"cf_{cost}") == "Enter a number."
    with app.app_context():
        assert work.field_values(db.session, service.get_task(db.session, key)) == []
    good = post_form(client, edit, task_form(app, "Sized", **{f"cf_{size}": "M", f"cf_{cost}": "12.50"}))
    assert good.status_code == 302
    html = client.get(f"/tasks/{key}").get_data(as_text=True)
    assert "<dt>Size</dt><dd>M</dd>" in html and "<dt>Cost</dt><dd>12.5</dd>" in html
    assert '<option selected value="M">' in client.get(edit).get_data(as_text=True)

    remove = f"/projects/WEB/fields/{size}/delete"
    asked = post_form(client, remove, {}, page=settings)
    assert "Remove the field &#39;Size&#39;" in asked.get_data(as_text=True)
    assert post_form(client, remove, {"confirmed": "yes"}, page=settings).status_code == 302
    with app.app_context():
        values = work.field_values(db.session, service.get_task(db.session, key))
        assert [(f.name, v) for f, v in values] == [("Cost", "12.5")]
