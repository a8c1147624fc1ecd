"""The team tracker's rules, as the service keeps them for every caller (pages and adapter alike)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.core.models import TrackerComment, TrackerTaskChange
from portal.core.tracker import service
from portal.core.tracker.service import InvalidTrackerInput, TaskFilter, TrackerNotFound

from .helpers import T0, history, person


def statuses(session: Session, project) -> dict[str, object]:
    return {s.name: s for s in service.project_statuses(session, project)}


# --- projects and statuses -------------------------------------------------------------------


def test_new_project_has_an_upper_case_key_and_the_default_statuses(session, project, ana):
    assert project.key == "DEMO" and project.created_by_id == ana.id
    assert [(s.name, s.category) for s in service.project_statuses(session, project)] == [
        ("To do", "todo"),
        ("In progress", "in_progress"),
        ("Done", "done"),
    ]
    assert service.get_project(session, "Demo").id == project.id


@pytest.mark.parametrize(
    ("key", "name", "field"),
    [
        ("D", "Name", "key"),
        ("1AB", "Name", "key"),
        ("TOOLONGKEY1", "Name", "key"),
        ("DEMO", "Dup", "key"),
        ("OK", " ", "name"),
    ],
)
def test_project_input_is_checked_field_by_field(session, project, key, name, field):
    with pytest.raises(InvalidTrackerInput) as caught:
        service.create_project(session, key=key, name=name)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_statuses_can_be_added_renamed_and_removed_when_unused(session, project):
    review = service.add_status(session, project, name="Review", category="in_progress")
    assert [s.name for s in service.project_statuses(session, project)][-1] == "Review"
    with pytest.raises(InvalidTrackerInput) as caught:
        service.add_status(session, project, name="review", category="todo")
    assert caught.value.field == "name"
    with pytest.raises(InvalidTrackerInput) as caught:
        service.add_status(session, project, name="Blocked", category="stuck")
    assert caught.value.field == "category"
    task = service.create_task(session, project, title="In review", status_id=review.id)
    with pytest.raises(InvalidTrackerInput) as caught:
        service.delete_status(session, review)
    assert "1 task is in 'Review'" in caught.value.field_errors["status"]
    service.update_task(session, task, {"status_id": statuses(session, project)["To do"].id})
    service.delete_status(session, review)
    assert "Review" not in statuses(session, project)


def test_making_a_status_done_gives_its_tasks_done_at(session, project):
    review = service.add_status(session, project, name="Review", category="in_progress")
    task = service.create_task(session, project, title="Waiting", status_id=review.id)
    service.update_status(session, review, name="Accepted", category="done", at=T0)
    session.refresh(task)
    assert task.done_at == T0
    service.update_status(session, review, name="Accepted", category="in_progress", at=T0)
    session.refresh(task)
    assert task.done_at is None


# --- tasks --------------------------------------------------------------------------------------


def test_task_numbers_count_up_per_project_and_are_never_reused(session, project, ana):
    other = service.create_project(session, key="OPS", name="Operations")
    first = service.create_task(session, project, title="One")
    second = service.create_task(session, project, title="Two")
    elsewhere = service.create_task(session, other, title="Elsewhere")
    assert (first.key, second.key, elsewhere.key) == ("DEMO-1", "DEMO-2", "OPS-1")
    service.delete_task(session, second)
    assert service.create_task(session, project, title="Three").key == "DEMO-3"
    with pytest.raises(TrackerNotFound):
        service.get_task(session, "DEMO-2")


def test_a_new_task_starts_in_to_do_with_its_reporter_and_a_created_entry(session, project, ana):
    task = service.create_task(session, project, title="  Write docs  ", actor_id=ana.id, at=T0)
    assert task.title == "Write docs"
    assert task.status.name == "To do" and task.reporter_id == ana.id
    assert task.priority == "none" and task.type == "task"
    assert task.created_at == task.updated_at == T0
    assert history(session, task) == [("created", None, "DEMO-1")]


def test_every_field_change_is_recorded_with_old_and_new_text(session, project, ana):
    bo = person(session, "bo@example.com", "Bo Berg")
    epic = service.create_task(session, project, title="Epic", type="epic")
    parent = service.create_task(session, project, title="Parent")
    sprint = service.create_sprint(session, project, name="Sprint 7")
    task = service.create_task(session, project, title="Task", at=T0)
    changes = {
        "title": "Renamed",
        "description": "Now **bold**",
        "type": "bug",
        "status_id": statuses(session, project)["In progress"].id,
        "priority": "high",
        "assignee_id": bo.id,
        "due_date": date(2025, 4, 1),
        "estimate_hours": 2.5,
        "story_points": 3.0,
        "parent_id": parent.id,
        "epic_id": epic.id,
        "sprint_id": sprint.id,
    }
    later = T0 + timedelta(hours=1)
    service.update_task(session, task, changes, actor_id=ana.id, at=later)
    recorded = service.task_history(session, task)[1:]
    assert all(c.user_id == ana.id and c.at == later for c in recorded)
    assert [(c.field, c.old_value, c.new_value) for c in recorded] == [
        ("title", "Task", "Renamed"),
        ("description", None, "Now **bold**"),
        ("type", "task", "bug"),
        ("status", "To do", "In progress"),
        ("priority", "none", "high"),
        ("assignee", None, "Bo Berg"),
        ("due", None, "2025-04-01"),
        ("estimate_hours", None, "2.5"),
        ("story_points", None, "3"),
        ("parent", None, parent.key),
        ("epic", None, epic.key),
        ("sprint", None, "Sprint 7"),
    ]
    assert task.updated_at == later
    # Clearing is a change too; setting the same values again is none.
    service.update_task(session, task, {"assignee_id": None, "title": "Renamed "}, actor_id=ana.id)
    assert history(session, task)[-1] == ("assignee", "Bo Berg", None)
    assert len(service.task_history(session, task)) == 1 + 12 + 1


def test_done_at_is_set_on_entering_done_and_cleared_on_leaving(session, project):
    by_name = statuses(session, project)
    shipped = service.add_status(session, project, name="Shipped", category="done")
    task = service.create_task(session, project, title="Ship it")
    service.set_task_status(session, task, by_name["In progress"], at=T0)
    assert task.done_at is None
    service.set_task_status(session, task, by_name["Done"], at=T0 + timedelta(days=1))
    assert task.done_at == T0 + timedelta(days=1)
    # From one done status to another: it was done all along.
    service.set_task_status(session, task, shipped, at=T0 + timedelta(days=2))
    assert task.done_at == T0 + timedelta(days=1)
    service.set_task_status(session, task, by_name["To do"], at=T0 + timedelta(days=3))
    assert task.done_at is None
    service.set_task_status(session, task, by_name["Done"], at=T0 + timedelta(days=4))
    assert task.done_at == T0 + timedelta(days=4)
    created_done = service.create_task(
        session, project, title="Already done", status_id=by_name["Done"].id, at=T0
    )
    assert created_done.done_at == T0


def test_a_refused_update_changes_nothing(session, project):
    task = service.create_task(session, project, title="Stable", at=T0)
    with pytest.raises(InvalidTrackerInput) as caught:
        service.update_task(session, task, {"title": "Changed", "story_points": -1, "priority": "urgent"})
    assert set(caught.value.field_errors) == {"story_points", "priority"}
    session.refresh(task)
    assert task.title == "Stable" and task.updated_at == T0
    assert history(session, task) == [("created", None, "DEMO-1")]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 256}, "title"),
        ({"type": "saga"}, "type"),
        ({"estimate_hours": "lots"}, "estimate_hours"),
        ({"estimate_hours": float("nan")}, "estimate_hours"),
        ({"story_points": 5000}, "story_points"),
        ({"due_date": "tomorrow"}, "due"),
        ({"status_id": 999999}, "status"),
        ({"assignee_id": 999999}, "assignee"),
        ({"sprint_id": 999999}, "sprint"),
        ({"parent_id": 999999}, "parent"),
        ({"epic_id": 999999}, "epic"),
    ],
)
def test_bad_values_name_their_field(session, project, changes, field):
    task = service.create_task(session, project, title="Target")
    with pytest.raises(InvalidTrackerInput) as caught:
        service.update_task(session, task, changes)
    assert list(caught.value.field_errors) == [field]


def test_references_must_stay_inside_the_project(session, project):
    other = service.create_project(session, key="OPS", name="Operations")
    foreign_task = service.create_task(session, other, title="Theirs")
    foreign_sprint = service.create_sprint(session, other, name="Their sprint")
    foreign_status = statuses(session, other)["Done"]
    with pytest.raises(InvalidTrackerInput) as caught:
        service.create_task(
            session,
            project,
            title="Mine",
            parent_id=foreign_task.id,
            sprint_id=foreign_sprint.id,
            status_id=foreign_status.id,
        )
    assert set(caught.value.field_errors) == {"parent", "sprint", "status"}


def test_inactive_people_cant_be_assigned(session, project):
    gone = person(session, "gone@example.com", "Gone", active=False)
    with pytest.raises(InvalidTrackerInput) as caught:
        service.create_task(session, project, title="Nobody", assignee_id=gone.id)
    assert caught.value.field == "assignee"
    assert [u.display_name for u in service.assignable_users(session)] == ["Ana Silva"]


def test_epic_rules(session, project):
    epic = service.create_task(session, project, title="Epic", type="epic")
    plain = service.create_task(session, project, title="Plain")
    child = service.create_task(session, project, title="Child", epic_id=epic.id)
    assert child.epic.key == epic.key
    with pytest.raises(InvalidTrackerInput) as caught:
        service.update_task(session, child, {"epic_id": plain.id})
    assert caught.value.field_errors == {"epic": "Choose an epic of DEMO."}
    with pytest.raises(InvalidTrackerInput) as caught:
        service.update_task(session, epic, {"epic_id": epic.id})
    assert caught.value.field == "epic"
    other_epic = service.create_task(session, project, title="Other epic", type="epic")
    with pytest.raises(InvalidTrackerInput) as caught:
        service.update_task(session, other_epic, {"epic_id": epic.id})
    assert caught.value.field_errors == {"epic": "An epic can't belong to another epic."}
    with pytest.raises(InvalidTrackerInput) as caught:
        service.update_task(session, child, {"type": "epic"})
    assert caught.value.field == "epic"
    with pytest.raises(InvalidTrackerInput) as caught:
        service.update_task(session, epic, {"type": "story"})
    assert "holds 1 task" in caught.value.field_errors["type"]


def test_parent_loops_are_refused(session, project):
    top = service.create_task(session, project, title="Top")
    middle = service.create_task(session, project, title="Middle", parent_id=top.id)
    bottom = service.create_task(session, project, title="Bottom", parent_id=middle.id)
    for parent in (bottom, top):
        with pytest.raises(InvalidTrackerInput) as caught:
            service.update_task(session, top, {"parent_id": parent.id})
        assert caught.value.field == "parent"


def test_deleting_a_task_releases_its_children_in_their_history(session, project, ana):
    epic = service.create_task(session, project, title="Epic", type="epic")
    child = service.create_task(session, project, title="Child", epic_id=epic.id, parent_id=None)
    sub = service.create_task(session, project, title="Sub", parent_id=epic.id)
    service.add_comment(session, epic, body="Bye", author_id=ana.id)
    epic_id = epic.id
    service.delete_task(session, epic, actor_id=ana.id)
    session.refresh(child)
    session.refresh(sub)
    assert child.epic_id is None and sub.parent_id is None
    assert history(session, child)[-1] == ("epic", "DEMO-1", None)
    assert history(session, sub)[-1] == ("parent", "DEMO-1", None)
    assert session.scalar(select(func.count(TrackerComment.id)).where(TrackerComment.task_id == epic_id)) == 0
    assert (
        session.scalar(select(func.count(TrackerTaskChange.id)).where(TrackerTaskChange.task_id == epic_id))
        == 0
    )


# --- sprints -------------------------------------------------------------------------------------


def test_closing_a_sprint_records_completion_and_closed_sprints_take_no_tasks(session, project):
    start, end = date(2025, 3, 3), date(2025, 3, 14)
    sprint = service.create_sprint(
        session, project, name="S1", start_date=start, end_date=end, state="active"
    )
    assert sprint.completed_at is None
    service.update_sprint(
        session, sprint, name="S1", goal="Ship", start_date=start, end_date=end, state="closed", at=T0
    )
    assert sprint.completed_at == T0 and sprint.goal == "Ship"
    with pytest.raises(InvalidTrackerInput) as caught:
        service.create_task(session, project, title="Late", sprint_id=sprint.id)
    assert "closed" in caught.value.field_errors["sprint"]
    service.update_sprint(
        session, sprint, name="S1", goal=None, start_date=start, end_date=end, state="active"
    )
    assert sprint.completed_at is None


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": "", "state": "future"}, "name"),
        ({"name": "S", "state": "running"}, "state"),
        ({"name": "S", "state": "active", "start_date": date(2025, 3, 3)}, "end_date"),
        (
            {"name": "S", "state": "future", "start_date": date(2025, 3, 3), "end_date": date(2025, 3, 1)},
            "end_date",
        ),
    ],
)
def test_sprint_input_is_checked(session, project, values, field):
    with pytest.raises(InvalidTrackerInput) as caught:
        service.create_sprint(session, project, **values)
    assert caught.value.field == field


def test_sprints_list_running_then_planned_then_closed(session, project):
    closed = service.create_sprint(
        session, project, name="Old", start_date=date(2025, 1, 1), end_date=date(2025, 1, 14), state="closed"
    )
    planned = service.create_sprint(session, project, name="Next")
    running = service.create_sprint(
        session, project, name="Now", start_date=date(2025, 2, 1), end_date=date(2025, 2, 14), state="active"
    )
    assert [s.id for s in service.list_sprints(session, project).items] == [running.id, planned.id, closed.id]
    assert [s.id for s in service.list_sprints(session, project, state="closed").items] == [closed.id]


# --- queries and comments ---------------------------------------------------------------------------


def test_find_tasks_filters_and_pages(session, project, ana):
    bo = person(session, "bo@example.com", "Bo Berg")
    sprint = service.create_sprint(session, project, name="S")
    done = statuses(session, project)["Done"]
    made = [
        service.create_task(session, project, title=f"Item {n}", at=T0 + timedelta(minutes=n))
        for n in range(5)
    ]
    service.update_task(session, made[0], {"assignee_id": bo.id, "sprint_id": sprint.id}, at=T0)
    service.update_task(session, made[1], {"status_id": done.id, "description": "needle 50%"}, at=T0)

    def keys(**kwargs) -> list[str]:
        return [
            t.key
            for t in service.find_tasks(session, TaskFilter(project_id=project.id, **kwargs), limit=50).items
        ]

    assert keys(assignee_id=bo.id) == ["DEMO-1"]
    assert set(keys(unassigned=True)) == {"DEMO-2", "DEMO-3", "DEMO-4", "DEMO-5"}
    assert keys(sprint_id=sprint.id) == ["DEMO-1"]
    assert "DEMO-1" not in keys(no_sprint=True)
    assert keys(categories=frozenset({"done"})) == ["DEMO-2"]
    assert keys(status_names=("DONE",)) == ["DEMO-2"]
    assert keys(text="NEEDLE 50%") == ["DEMO-2"]
    assert keys(text="50_") == []  # LIKE wildcards in the text are plain characters
    assert keys(text="demo-4") == ["DEMO-4"]
    assert keys(sort="key", descending=False) == ["DEMO-1", "DEMO-2", "DEMO-3", "DEMO-4", "DEMO-5"]
    assert keys(sort="created")[0] == "DEMO-5"

    pages = [
        service.find_tasks(session, TaskFilter(sort="key"), offset=offset, limit=2) for offset in (0, 2, 4)
    ]
    assert [p.total for p in pages] == [5, 5, 5]
    assert [t.key for p in pages for t in p.items] == ["DEMO-5", "DEMO-4", "DEMO-3", "DEMO-2", "DEMO-1"]
    with pytest.raises(InvalidTrackerInput):
        service.find_tasks(session, TaskFilter(sort="random"))


def test_comments_list_oldest_first_and_touch_the_task(session, project, ana):
    task = service.create_task(session, project, title="Discuss", at=T0)
    service.add_comment(session, task, body="second", author_id=ana.id, at=T0 + timedelta(hours=2))
    service.add_comment(session, task, body="first", author_id=ana.id, at=T0 + timedelta(hours=1))
    assert [c.body for c in service.list_comments(session, task).items] == ["first", "second"]
    assert task.updated_at == T0 + timedelta(hours=1)  # the latest call's time
    with pytest.raises(InvalidTrackerInput) as caught:
        service.add_comment(session, task, body=" \n ", author_id=ana.id)
    assert caught.value.field == "body"
