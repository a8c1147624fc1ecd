"""Sprint work on the team tracker, as the service keeps it: sprints started and closed, moves,
links, logged time, paged history, custom fields and the one-statement board."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from portal.core.models import TrackerFieldValue, TrackerTaskLink, TrackerWorklog
from portal.core.tracker import service, work
from portal.core.tracker.service import InvalidTrackerInput, TaskFilter, TrackerConflict, TrackerNotFound

from .helpers import T0, history, person


def task(session: Session, project, title: str, **values):
    return service.create_task(session, project, title=title, at=T0, **values)


def done(session: Session, project):
    return service.status_named(session, project, "Done")


# --- sprints -------------------------------------------------------------------------------------


def test_starting_fills_missing_dates_and_refuses_a_running_sprint(session, project):
    sprint = service.create_sprint(session, project, name="S1")
    work.start_sprint(session, sprint, at=T0)
    assert sprint.state == "active"
    assert sprint.start_date == T0.date() and sprint.end_date == T0.date() + timedelta(days=13)
    with pytest.raises(InvalidTrackerInput) as caught:
        work.start_sprint(session, sprint)
    assert "only a planned sprint can start" in caught.value.field_errors["state"]


def test_closing_moves_open_tasks_to_the_next_sprint_and_keeps_done_ones(session, project, ana):
    sprint = service.create_sprint(session, project, name="S1", start_date=T0.date(), end_date=T0.date())
    following = service.create_sprint(session, project, name="S2")
    open_task = task(session, project, "Open", sprint_id=sprint.id)
    finished = task(session, project, "Finished", sprint_id=sprint.id, status_id=done(session, project).id)
    with pytest.raises(InvalidTrackerInput) as caught:
        work.close_sprint(session, sprint, move_open_to=None)
    assert "1 open task" in caught.value.field_errors["move_open_to"]
    assert sprint.state == "future" and open_task.sprint_id == sprint.id
    with pytest.raises(InvalidTrackerInput):
        work.close_sprint(session, sprint, move_open_to=sprint)
    work.close_sprint(session, sprint, move_open_to=following, actor_id=ana.id, at=T0)
    assert sprint.state == "closed" and sprint.completed_at == T0
    assert open_task.sprint_id == following.id and finished.sprint_id == sprint.id
    assert ("sprint", "S1", "S2") in history(session, open_task)
    with pytest.raises(InvalidTrackerInput) as caught:
        work.close_sprint(session, sprint, move_open_to=None, backlog=True)
    assert "closed already" in caught.value.field_errors["state"]


def test_moves_give_one_result_per_task_and_refuse_a_closed_sprint(session, project, ana):
    other_project = service.create_project(session, key="OTHER", name="Other")
    sprint = service.create_sprint(session, project, name="S1")
    mine = task(session, project, "Mine")
    theirs = task(session, other_project, "Theirs")
    results = work.move_to_sprint(session, [mine.key, "DEMO-999", theirs.key], sprint, actor_id=ana.id)
    assert [r.key for r in results] == [mine.key, "DEMO-999", theirs.key]
    assert results[0].error is None and mine.sprint_id == sprint.id
    assert isinstance(results[1].refusal, TrackerNotFound)
    assert "is not in DEMO" in results[2].error and theirs.sprint_id is None
    work.move_to_sprint(session, [mine.key], None)
    assert mine.sprint_id is None
    closed = service.create_sprint(
        session, project, name="Old", start_date=T0.date(), end_date=T0.date(), state="closed"
    )
    with pytest.raises(InvalidTrackerInput):
        work.move_to_sprint(session, [mine.key], closed)


# --- links -----------------------------------------------------------------------------------------


def test_links_read_from_both_ends_once_per_pair_and_kind(session, project, ana):
    a, b = task(session, project, "A"), task(session, project, "B")
    link = work.link_tasks(session, b, a, kind="blocks", outward=False, actor_id=ana.id)  # B is blocked by A
    assert (link.source_id, link.target_id) == (a.id, b.id)
    assert [(v.phrase, v.other.key) for v in work.task_links(session, a)] == [("blocks", b.key)]
    assert [(v.phrase, v.other.key) for v in work.task_links(session, b)] == [("is blocked by", a.key)]
    with pytest.raises(TrackerConflict):
        work.link_tasks(session, a, b, kind="blocks")
    work.link_tasks(session, a, b, kind="relates")
    with pytest.raises(TrackerConflict):  # "relates" reads the same both ways
        work.link_tasks(session, b, a, kind="relates")
    with pytest.raises(InvalidTrackerInput):
        work.link_tasks(session, a, a, kind="relates")
    with pytest.raises(InvalidTrackerInput):
        work.link_tasks(session, a, b, kind="follows")
    assert ("link", None, f"is blocked by {a.key}") in history(session, b)
    work.unlink_tasks(session, link, actor_id=ana.id)
    assert ("link", f"blocks {b.key}", None) in history(session, a)
    assert session.scalar(select(func.count(TrackerTaskLink.id))) == 1


def test_blocked_filter_follows_the_blocker_status(session, project):
    blocker, blocked, free = (task(session, project, name) for name in ("Blocker", "Blocked", "Free"))
    work.link_tasks(session, blocker, blocked, kind="blocks")
    work.link_tasks(session, free, blocker, kind="relates")

    def blocked_keys() -> set[str]:
        found = service.find_tasks(session, TaskFilter(project_id=project.id, blocked=True), limit=50)
        return {t.key for t in found.items}

    assert blocked_keys() == {blocked.key}
    service.set_task_status(session, blocker, done(session, project))
    assert blocked_keys() == set()


# --- logged work -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "seconds"),
    [("1h30m", 5400), ("1h 30m", 5400), ("90m", 5400), ("1.5", 5400), (2, 7200), ("45 min", 2700)],
)
def test_durations_are_read_as_people_write_them(given, seconds):
    assert work.parse_duration(given) == seconds


@pytest.mark.parametrize("given", ["", "abc", "0", "-1", "1:30", "25h", "20s", True, float("nan")])
def test_durations_that_are_no_time_are_refused(given):
    with pytest.raises(InvalidTrackerInput) as caught:
        work.parse_duration(given)
    assert "time" in caught.value.field_errors


def test_format_duration():
    assert [work.format_duration(s) for s in (5400, 7200, 2700, 0)] == ["1h 30m", "2h", "45m", "0m"]


def test_log_work_reports_every_problem_at_once_and_writes_nothing(session, project, ana):
    item = task(session, project, "Work")
    with pytest.raises(InvalidTrackerInput) as caught:
        work.log_work(session, item, time="soon", user_id=ana.id, started_on=date(2999, 1, 1), at=T0)
    assert set(caught.value.field_errors) == {"time", "started"}
    assert session.scalar(select(func.count(TrackerWorklog.id))) == 0
    work.log_work(session, item, time="1h30m", user_id=ana.id, comment=" **pairing** ", at=T0)
    work.log_work(session, item, time="30m", user_id=ana.id, started_on=T0.date() - timedelta(days=3), at=T0)
    assert work.logged_seconds(session, item) == 7200
    logs = work.list_worklogs(session, item).items
    assert [w.seconds for w in logs] == [1800, 5400]  # oldest day first
    assert logs[1].comment == "**pairing**"
    assert ("logged time", None, "1h 30m") in history(session, item)


def test_search_worklogs_by_person_days_and_project(session, project, ana):
    bo = person(session, "bo@example.com", "Bo Berg")
    other_project = service.create_project(session, key="OTHER", name="Other")
    here, there = task(session, project, "Here"), task(session, other_project, "There")
    today = T0.date()
    work.log_work(session, here, time=1, user_id=ana.id, started_on=today, at=T0)
    work.log_work(session, there, time=2, user_id=ana.id, started_on=today, at=T0)
    work.log_work(session, here, time=3, user_id=bo.id, started_on=today, at=T0)
    work.log_work(session, here, time=4, user_id=ana.id, started_on=today - timedelta(days=10), at=T0)

    def hours(**kwargs) -> list[float]:
        found = work.search_worklogs(session, user_id=ana.id, **kwargs)
        return sorted(w.hours for w in found.items)

    assert hours(since=today, until=today) == [1, 2]
    assert hours(since=today, until=today, project=project) == [1]
    assert hours(since=today - timedelta(days=10), until=today, project=project) == [1, 4]
    with pytest.raises(InvalidTrackerInput):
        work.search_worklogs(session, user_id=ana.id, since=today, until=today - timedelta(days=1))


# --- history -----------------------------------------------------------------------------------------


def test_history_pages_oldest_first(session, project, ana):
    item = task(session, project, "First", actor_id=ana.id)
    for n in range(4):
        service.update_task(session, item, {"title": f"Title {n}"}, at=T0 + timedelta(minutes=n + 1))
    first = work.task_history(session, item, limit=2)
    second = work.task_history(session, item, offset=2, limit=2)
    assert first.total == 5
    assert [c.field for c in first.items] == ["created", "title"]
    assert [c.new_value for c in second.items] == ["Title 1", "Title 2"]


# --- custom fields --------------------------------------------------------------------------------


def test_custom_fields_are_set_by_name_and_checked_before_writing(session, project, ana):
    size = work.add_field(session, project, name="Size", type="option", allowed=["S", "M", "L", "m"])
    assert size.allowed == ["S", "M", "L"]  # a value repeated in another case is dropped
    work.add_field(session, project, name="Cost", type="number")
    work.add_field(session, project, name="Launch", type="date")
    work.add_field(session, project, name="Notes", type="text")
    item = task(session, project, "Sized")
    with pytest.raises(InvalidTrackerInput) as caught:
        work.set_fields(session, item, {"size": "XL", "cost": "lots", "launch": "soon", "colour": "red"})
    problems = caught.value.field_errors
    assert problems["Size"] == "Choose one of: S, M, L."
    assert problems["Cost"] == "Enter a number." and "2026-12-31" in problems["Launch"]
    assert "Size, Cost, Launch, Notes" in problems["colour"]
    assert session.scalar(select(func.count(TrackerFieldValue.id))) == 0
    work.set_fields(
        session,
        item,
        {"SIZE": "m", "cost": "12.50", "launch": date(2030, 1, 2), "notes": " Hi "},
        actor_id=ana.id,
    )
    values = {field.name: value for field, value in work.field_values(session, item)}
    assert values == {"Size": "M", "Cost": "12.5", "Launch": "2030-01-02", "Notes": "Hi"}
    work.set_fields(session, item, {"size": None, "cost": "12.5"}, actor_id=ana.id)
    assert "Size" not in {field.name for field, _ in work.field_values(session, item)}
    assert ("Size", None, "M") in history(session, item) and ("Size", "M", None) in history(session, item)
    assert [c for c in history(session, item) if c[0] == "Cost"] == [("Cost", None, "12.5")]


def test_field_definitions_are_checked(session, project):
    work.add_field(session, project, name="Size", type="option", allowed=["S", "M"])
    for name, kind, allowed, problem in [
        ("size", "text", (), "name"),
        ("Status", "text", (), "name"),
        ("Flavour", "option", ["only one"], "allowed"),
        ("Colour", "colour", (), "type"),
        ("", "text", (), "name"),
    ]:
        with pytest.raises(InvalidTrackerInput) as caught:
            work.add_field(session, project, name=name, type=kind, allowed=allowed)
        assert problem in caught.value.field_errors, (name, caught.value.field_errors)


# --- the board -----------------------------------------------------------------------------------------


def test_board_reads_every_column_in_one_statement(session, project, database):
    for n in range(3):
        service.add_status(session, project, name=f"Extra {n}", category="in_progress")
    statuses = service.project_statuses(session, project)
    for n in range(5):
        task(session, project, f"Todo {n}", priority="high" if n == 4 else "low")
    task(session, project, "Extra", status_id=statuses[3].id)
    session.flush()
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        columns = service.board_columns(session, project, per_column=2)
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    tasks_statements = [s for s in statements if "tracker_tasks" in s]
    assert len(tasks_statements) == 1, statements
    by_name = {status.name: page for status, page in columns}
    assert [s.name for s, _ in columns] == [s.name for s in statuses]
    assert by_name["To do"].total == 5
    assert [t.title for t in by_name["To do"].items] == ["Todo 4", "Todo 3"]  # high first, then newest
    assert by_name["Extra 0"].total == 1 and by_name["Done"].total == 0 and by_name["Done"].items == []
