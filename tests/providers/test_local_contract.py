"""The provider contract, and the team tracker's own mapping rules, over the test database.

The tracker makes no outbound requests, so the contract's network tests (address
guard, HTTP faults) skip themselves; everything else runs as for every vendor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache

import pytest
from sqlalchemy import or_, select

from portal.core import accounts
from portal.core.db import Database
from portal.core.models import TrackerField, TrackerFieldValue, TrackerSprint, TrackerTaskLink, User
from portal.core.providers import errors
from portal.core.providers.base import (
    ME,
    ConnectionConfig,
    LinkKind,
    LinkType,
    PageRequest,
    Priority,
    PriorityLevel,
    SprintChanges,
    SprintDraft,
    SprintState,
    Status,
    StatusCategory,
    TaskChanges,
    TaskDraft,
    TaskQuery,
    TaskSort,
    WorklogDraft,
    WorklogQuery,
)
from portal.core.providers.local import LocalAdapter
from portal.core.providers.local.parse import parse_priority
from portal.core.providers.registry import build_adapter
from portal.core.tracker import service, work
from tests.contract.suite import TEST_POLICY, ContractEnv, ProviderContract, SprintWorkContract, _all_pages

SLUG = "local"
PORTAL_URL = "http://127.0.0.1:5000"
PASSWORD = "correct horse battery"
NO_SUCH_USER = 987654
SIZE_FIELD = "T-shirt size"


@dataclass
class TrackerWorld:
    database: Database
    owner_id: int
    other_id: int
    project_key: str
    sprint_id: int
    epic_key: str


@cache
def _password_hash() -> str:
    # Hashing is slow on purpose; these people never sign in, one hash serves them all.
    return accounts.hash_password(PASSWORD)


def add_person(session, email: str, name: str) -> User:
    person = User(email=email, display_name=name, password_hash=_password_hash())
    session.add(person)
    session.flush()
    return person


@pytest.fixture
def world(app) -> TrackerWorld:
    from portal.extensions import db

    with app.app_context():
        database = Database.from_engine(db.engine)
    with database.session() as session:
        owner = add_person(session, "ana@example.com", "Ana Silva")
        other = add_person(session, "bo@example.com", "Bo Berg")
        project = service.create_project(session, key="CON", name="Contract", actor_id=owner.id)
        service.create_project(session, key="OTH", name="Other project", actor_id=owner.id)
        today = date.today()
        sprint = service.create_sprint(
            session,
            project,
            name="Sprint 1",
            start_date=today - timedelta(days=3),
            end_date=today + timedelta(days=10),
            state="active",
        )
        for n in range(2):
            service.create_task(
                session,
                project,
                title=f"Sprint work {n}",
                sprint_id=sprint.id,
                story_points=3,
                actor_id=owner.id,
            )
        epic = service.create_task(session, project, title="Big thing", type="epic", actor_id=owner.id)
        service.create_task(
            session, project, title="Part of the big thing", epic_id=epic.id, actor_id=owner.id
        )
        work.add_field(session, project, name=SIZE_FIELD, type="option", allowed=["S", "M", "L"])
        return TrackerWorld(database, owner.id, other.id, project.key, sprint.id, epic.key)


def make_local_adapter(world: TrackerWorld, user_id: int | None = None) -> LocalAdapter:
    config = ConnectionConfig(
        slug=SLUG, base_url=PORTAL_URL, token="", user_id=world.owner_id if user_id is None else user_id
    )
    return LocalAdapter(config, TEST_POLICY, database=world.database)


@pytest.fixture
def adapter(world: TrackerWorld) -> LocalAdapter:
    return make_local_adapter(world)


@pytest.fixture
def contract_env(world: TrackerWorld, adapter: LocalAdapter) -> ContractEnv:
    def make_adapter(token: str | None = None, policy=None) -> LocalAdapter:
        # The tracker has no tokens: "other credentials" means acting as a user who doesn't exist.
        return make_local_adapter(world, NO_SUCH_USER if token else None)

    def seed_tasks(count: int, title_prefix: str = "Seeded", assignee_id: str | None = None) -> list[str]:
        with world.database.session() as session:
            project = service.get_project(session, world.project_key)
            return [
                service.create_task(
                    session,
                    project,
                    title=f"{title_prefix} {n}",
                    assignee_id=int(assignee_id) if assignee_id else None,
                    actor_id=world.owner_id,
                ).key
                for n in range(count)
            ]

    return ContractEnv(
        adapter=adapter,
        slug=SLUG,
        project_id=world.project_key,
        other_user_id=str(world.other_id),
        other_user_name="Bo Berg",
        make_adapter=make_adapter,
        seed_tasks=seed_tasks,
        sprint_id=str(world.sprint_id),
        epic_id=world.epic_key,
        extra={"missing_task_id": "CON-999999", "option_field": SIZE_FIELD},
        probe=TrackerProbe(world),
        unsupported=frozenset({"native_query"}),
        vendor="the team tracker",
    )


class TrackerProbe:
    """The tracker's own tables, read (and, for history, written) beside the adapter."""

    def __init__(self, world: TrackerWorld):
        self.world = world

    def sprint_of(self, task_id: str) -> str | None:
        with self.world.database.session() as session:
            sprint_id = service.get_task(session, task_id).sprint_id
            return str(sprint_id) if sprint_id is not None else None

    def sprint(self, sprint_id: str) -> dict:
        with self.world.database.session() as session:
            sprint = session.get(TrackerSprint, int(sprint_id))
            return {"name": sprint.name, "state": SprintState(sprint.state), "goal": sprint.goal}

    def linked(self, task_id: str) -> set[str]:
        with self.world.database.session() as session:
            task = service.get_task(session, task_id)
            links = session.scalars(
                select(TrackerTaskLink).where(
                    or_(TrackerTaskLink.source_id == task.id, TrackerTaskLink.target_id == task.id)
                )
            ).all()
            return {(link.target if link.source_id == task.id else link.source).key for link in links}

    def logged_hours(self, task_id: str) -> float:
        with self.world.database.session() as session:
            return work.logged_seconds(session, service.get_task(session, task_id)) / 3600

    def field_value(self, task_id: str, field_id: str):
        with self.world.database.session() as session:
            task = service.get_task(session, task_id)
            field = session.get(TrackerField, int(field_id.removeprefix("cf_")))
            return session.scalar(
                select(TrackerFieldValue.value).where(
                    TrackerFieldValue.task_id == task.id, TrackerFieldValue.field_id == field.id
                )
            )

    def retitle(self, task_id: str, title: str) -> None:
        with self.world.database.session() as session:
            task = service.get_task(session, task_id)
            service.update_task(session, task, {"title": title}, actor_id=self.world.other_id)


class TestLocalContract(ProviderContract, SprintWorkContract):
    network = False


# --- what the contract does not cover: the tracker's own mapping --------------------------------


def test_registry_builds_the_local_adapter(world: TrackerWorld):
    config = ConnectionConfig(slug=SLUG, base_url=PORTAL_URL, token="", user_id=world.owner_id)
    adapter = build_adapter("local", config, TEST_POLICY, database=world.database)
    assert isinstance(adapter, LocalAdapter)
    result = adapter.check()
    assert result.user.id == str(world.owner_id)
    assert result.summary == "Connected to the team tracker on 127.0.0.1:5000 as Ana Silva, ana@example.com"


def test_disabled_user_is_authentication_failed_everywhere(world: TrackerWorld, adapter: LocalAdapter):
    with world.database.session() as session:
        accounts.set_active(session, session.get(User, world.owner_id), False)
    with pytest.raises(errors.AuthenticationFailed):
        adapter.check()
    with pytest.raises(errors.AuthenticationFailed):
        adapter.list_projects(PageRequest())
    with pytest.raises(errors.AuthenticationFailed):
        adapter.create_task(world.project_key, TaskDraft(title="Not allowed"))


def test_urls_point_at_the_portal_pages(world: TrackerWorld, adapter: LocalAdapter):
    project = adapter.get_project(world.project_key)
    assert project.url == f"{PORTAL_URL}/projects/CON"
    task = adapter.create_task(world.project_key, TaskDraft(title="Linked"))
    assert task.url == f"{PORTAL_URL}/tasks/{task.key}"
    assert task.key.startswith("CON-") and task.id == task.key
    sprint = adapter.get_sprint(str(world.sprint_id))
    assert sprint.url == f"{PORTAL_URL}/projects/CON/tasks?sprint={world.sprint_id}"
    comment = adapter.add_comment(task.id, "Hello")
    assert comment.url == f"{task.url}#comment-{comment.id}"


def test_task_keys_match_case_insensitively_and_junk_is_not_found(world: TrackerWorld, adapter: LocalAdapter):
    task = adapter.create_task(world.project_key, TaskDraft(title="Keyed"))
    assert adapter.get_task(task.key.lower()).id == task.id
    for junk in ("999999", "CON", "CON-", "-1", "NOPE-1", ""):
        with pytest.raises(errors.NotFound):
            adapter.get_task(junk)
    with pytest.raises(errors.NotFound):
        adapter.get_sprint("not-a-number")
    with pytest.raises(errors.NotFound):
        adapter.get_project("NOPE")


def test_priorities_map_one_to_one(adapter: LocalAdapter, world: TrackerWorld):
    priorities = adapter.list_priorities(world.project_key)
    assert [p.level for p in priorities] == [
        PriorityLevel.HIGHEST,
        PriorityLevel.HIGH,
        PriorityLevel.MEDIUM,
        PriorityLevel.LOW,
        PriorityLevel.LOWEST,
    ]
    assert parse_priority("none") is None
    assert parse_priority("urgent").level == PriorityLevel.UNKNOWN
    lowest = priorities[-1]
    task = adapter.create_task(world.project_key, TaskDraft(title="Low", priority=lowest))
    assert task.priority.level == PriorityLevel.LOWEST
    cleared = adapter.update_task(task.id, TaskChanges(priority=None))
    assert cleared.priority is None
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.create_task(
            world.project_key,
            TaskDraft(title="Odd", priority=Priority(id="x", name="Blocker", level=PriorityLevel.UNKNOWN)),
        )
    assert "priority" in caught.value.field_errors


def test_statuses_are_matched_by_name_and_done_at_follows(world: TrackerWorld, adapter: LocalAdapter):
    task = adapter.create_task(world.project_key, TaskDraft(title="Flow"))
    assert task.done_at is None
    # A Status carrying only a name (another project's, or typed by a person) is enough.
    done = adapter.set_task_status(
        task.id, Status(ref="", id="", name="done", category=StatusCategory.UNKNOWN)
    )
    assert done.status.name == "Done" and done.status.category == StatusCategory.DONE
    assert done.done_at is not None and done.done_at.tzinfo is not None
    back = adapter.set_task_status(
        task.id, Status(ref="", id="", name="In progress", category=StatusCategory.UNKNOWN)
    )
    assert back.done_at is None
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.set_task_status(task.id, Status(ref="", id="", name="Blocked", category=StatusCategory.TODO))
    assert "To do, In progress, Done" in caught.value.field_errors["status"]


def test_query_by_status_names_sort_and_unassigned(world: TrackerWorld, adapter: LocalAdapter):
    first = adapter.create_task(world.project_key, TaskDraft(title="Sorted A", due=date(2030, 1, 2)))
    second = adapter.create_task(world.project_key, TaskDraft(title="Sorted B", due=date(2030, 1, 1)))
    adapter.assign_task(second.id, ME)
    done = Status(ref="", id="", name="Done", category=StatusCategory.DONE)
    adapter.set_task_status(first.id, done)
    found = adapter.list_tasks(
        TaskQuery(project_id=world.project_key, statuses=(done,)), PageRequest(limit=100)
    ).items
    assert [t.id for t in found] == [first.id]
    found = adapter.list_tasks(
        TaskQuery(project_id=world.project_key, text="Sorted", sort=TaskSort.DUE, descending=False),
        PageRequest(limit=100),
    ).items
    assert [t.id for t in found] == [second.id, first.id]
    unassigned = adapter.list_tasks(
        TaskQuery(project_id=world.project_key, text="Sorted", unassigned=True), PageRequest(limit=100)
    ).items
    assert [t.id for t in unassigned] == [first.id]
    mine = adapter.list_tasks(TaskQuery(assignee=ME, text="Sorted"), PageRequest(limit=100)).items
    assert mine[0].assignee.name == "Ana Silva"


def test_epics_parents_and_sprints_through_changes(world: TrackerWorld, adapter: LocalAdapter):
    parent = adapter.create_task(world.project_key, TaskDraft(title="Parent"))
    child = adapter.create_task(
        world.project_key,
        TaskDraft(
            title="Child",
            parent_id=parent.id,
            sprint_id=str(world.sprint_id),
            story_points=5,
            estimate_hours=2.5,
        ),
    )
    assert child.parent_ref == f"{SLUG}:{parent.id}"
    assert child.sprint_ref == f"{SLUG}:{world.sprint_id}"
    assert child.story_points == 5 and child.estimate_hours == 2.5
    moved = adapter.update_task(child.id, TaskChanges(epic_id=world.epic_key, parent_id=None, sprint_id=None))
    assert (
        moved.epic_ref == f"{SLUG}:{world.epic_key}" and moved.parent_ref is None and moved.sprint_ref is None
    )
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.update_task(child.id, TaskChanges(epic_id=parent.id))
    assert "epic_id" in caught.value.field_errors
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.update_task(child.id, TaskChanges(parent_id="CON-99999"))
    assert "parent_id" in caught.value.field_errors
    with pytest.raises(errors.NotSupported):
        adapter.create_task(world.project_key, TaskDraft(title="Labelled", labels=("ui",)))
    with pytest.raises(errors.NotFound):
        adapter.get_epic(parent.id)


def test_sprints_carry_whole_days_and_filter_by_state(world: TrackerWorld, adapter: LocalAdapter):
    sprint = adapter.get_sprint(str(world.sprint_id))
    assert sprint.state == SprintState.ACTIVE
    assert sprint.start == datetime.combine(date.today() - timedelta(days=3), datetime.min.time(), UTC)
    assert sprint.end.date() == date.today() + timedelta(days=10)
    assert adapter.list_sprints(world.project_key, SprintState.CLOSED, PageRequest()).items == []
    active = adapter.list_sprints(world.project_key, SprintState.ACTIVE, PageRequest()).items
    assert [s.id for s in active] == [str(world.sprint_id)]
    tasks = adapter.sprint_tasks(str(world.sprint_id))
    assert {t.story_points for t in tasks} == {3}


def test_comments_page_oldest_first_with_authors(world: TrackerWorld, adapter: LocalAdapter):
    task = adapter.create_task(world.project_key, TaskDraft(title="Talk"))
    for n in range(3):
        adapter.add_comment(task.id, f"Note {n}")
    pages = _all_pages(lambda page: adapter.list_comments(task.id, page), limit=2)
    assert [c.body for c in pages] == ["Note 0", "Note 1", "Note 2"]
    assert all(c.author.name == "Ana Silva" for c in pages)
    with pytest.raises(errors.InvalidInput):
        adapter.add_comment(task.id, "   ")


def test_deleted_task_numbers_are_not_reused(world: TrackerWorld, adapter: LocalAdapter):
    first = adapter.create_task(world.project_key, TaskDraft(title="Gone soon"))
    adapter.delete_task(first.id)
    second = adapter.create_task(world.project_key, TaskDraft(title="Next"))
    assert int(second.key.split("-")[1]) == int(first.key.split("-")[1]) + 1
    with pytest.raises(errors.NotFound):
        adapter.delete_task(first.id)


def test_bad_cursor_and_user_ids_are_invalid_input(world: TrackerWorld, adapter: LocalAdapter):
    with pytest.raises(errors.InvalidInput):
        adapter.list_projects(PageRequest(cursor="abc"))
    with pytest.raises(errors.InvalidInput):
        adapter.assign_task(adapter.create_task(world.project_key, TaskDraft(title="X")).id, "bo")
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.assign_task(
            adapter.create_task(world.project_key, TaskDraft(title="Y")).id, str(NO_SUCH_USER)
        )
    assert "assignee_id" in caught.value.field_errors


def test_an_unreachable_database_is_unavailable(world: TrackerWorld, tmp_path):
    missing = Database(f"sqlite:///{tmp_path / 'no such folder' / 'tracker.sqlite3'}")
    config = ConnectionConfig(slug=SLUG, base_url=PORTAL_URL, token="", user_id=world.owner_id)
    adapter = LocalAdapter(config, TEST_POLICY, database=missing)
    with pytest.raises(errors.Unavailable) as caught:
        adapter.check()
    assert "no such folder" not in str(caught.value)
    missing.dispose()


def test_query_edges(world: TrackerWorld, adapter: LocalAdapter):
    unknown_only = TaskQuery(project_id=world.project_key, categories=frozenset({StatusCategory.UNKNOWN}))
    assert adapter.list_tasks(unknown_only, PageRequest()).items == []
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.list_tasks(TaskQuery(updated_since=datetime(2025, 1, 1)), PageRequest())
    assert "updated_since" in caught.value.field_errors
    recent = adapter.list_tasks(
        TaskQuery(project_id=world.project_key, updated_since=datetime.now(UTC) - timedelta(hours=1)),
        PageRequest(limit=100),
    )
    assert recent.total == 4  # the world's two sprint tasks, the epic and its child


# --- sprint work: what the contract leaves to each provider ---------------------------------------


def test_closing_into_another_sprint_and_refused_state_changes(world: TrackerWorld, adapter: LocalAdapter):
    planned = adapter.create_sprint(world.project_key, SprintDraft(name="Next"))
    started = adapter.update_sprint(
        str(world.sprint_id), SprintChanges(goal="Finish the basics", name="Sprint one")
    )
    assert started.name == "Sprint one" and started.goal == "Finish the basics"
    closed = adapter.update_sprint(
        str(world.sprint_id), SprintChanges(state=SprintState.CLOSED, move_open_to=planned.id)
    )
    assert closed.state == SprintState.CLOSED
    assert {t.title for t in adapter.sprint_tasks(planned.id)} == {"Sprint work 0", "Sprint work 1"}
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.update_sprint(str(world.sprint_id), SprintChanges(state=SprintState.ACTIVE, name="Back"))
    assert "state" in caught.value.field_errors
    assert adapter.get_sprint(str(world.sprint_id)).name == "Sprint one", "a refused change writes nothing"
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.update_sprint(planned.id, SprintChanges(state=SprintState.CLOSED, move_open_to="424242"))
    assert "move_open_to" in caught.value.field_errors
    with pytest.raises(errors.InvalidInput):  # a closed sprint takes no tasks
        adapter.move_to_sprint(["CON-1"], str(world.sprint_id))


def test_links_by_type_name_and_their_readings(world: TrackerWorld, adapter: LocalAdapter):
    first = adapter.create_task(world.project_key, TaskDraft(title="Original"))
    copy = adapter.create_task(world.project_key, TaskDraft(title="Copy"))
    duplicates = LinkType(id="", name="duplicates", outward="", inward="")
    link = adapter.link_tasks(copy.id, first.id, duplicates)
    assert link.kind == LinkKind.DUPLICATES and link.label == "duplicates"
    assert link.other_key == first.key and link.other_title == "Original" and link.other_done is False
    (seen,) = adapter.list_links(first.id)
    assert seen.kind == LinkKind.DUPLICATED_BY and seen.label == "is duplicated by" and seen.id == link.id
    with pytest.raises(errors.Conflict):
        adapter.link_tasks(copy.id, first.id, duplicates)
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.link_tasks(copy.id, first.id, LinkType(id="clones", name="Clones", outward="", inward=""))
    assert "Blocks, Relates, Duplicates" in caught.value.field_errors["kind"]
    with pytest.raises(errors.NotFound):
        adapter.unlink_tasks("not-a-link")
    history = _all_pages(lambda page: adapter.task_history(first.id, page), limit=10)
    assert [(e.field, e.new) for e in history][-1] == ("link", f"is duplicated by {copy.key}")
    assert history[-1].author.name == "Ana Silva"


def test_worklogs_of_another_person_and_started_days(world: TrackerWorld, adapter: LocalAdapter):
    task = adapter.create_task(world.project_key, TaskDraft(title="Timed"))
    days_ago = datetime.now(UTC) - timedelta(days=2)
    logged = adapter.log_work(task.id, WorklogDraft(hours=0.25, started=days_ago))
    assert logged.started.date() == days_ago.date() and logged.extra["seconds"] == 900
    assert logged.author.name == "Ana Silva"
    bo = make_local_adapter(world, world.other_id)
    bo.log_work(task.id, WorklogDraft(hours=1))
    query = WorklogQuery(user_id=str(world.other_id), since=date.today(), until=date.today())
    found = adapter.search_worklogs(query, PageRequest()).items
    assert [(w.hours, w.author.name) for w in found] == [(1, "Bo Berg")]
    with pytest.raises(errors.InvalidInput):
        adapter.search_worklogs(
            WorklogQuery(user_id="bo", since=date.today(), until=date.today()), PageRequest()
        )


def test_custom_fields_by_id_or_name_and_shown_on_the_task(world: TrackerWorld, adapter: LocalAdapter):
    fields = {f.name: f for f in adapter.list_fields(world.project_key)}
    size = fields[SIZE_FIELD]
    assert size.id.startswith("cf_") and size.allowed == ("S", "M", "L")
    assert fields["Status"].allowed == ("To do", "In progress", "Done")
    task = adapter.create_task(world.project_key, TaskDraft(title="Sized", fields={"t-shirt SIZE": "l"}))
    assert task.extra["fields"] == {SIZE_FIELD: "L"}
    assert adapter.get_task(task.id).extra["fields"] == {SIZE_FIELD: "L"}
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.update_task(task.id, TaskChanges(title="Renamed", fields={size.id: "XXL"}))
    assert caught.value.field_errors[SIZE_FIELD] == "Choose one of: S, M, L."
    assert adapter.get_task(task.id).title == "Sized", "nothing is written when a field is refused"
    with pytest.raises(errors.InvalidInput) as caught:
        adapter.update_task(task.id, TaskChanges(fields={"title": "Sneaky"}))
    assert "own argument" in caught.value.field_errors["title"]
    with pytest.raises(errors.InvalidInput):
        adapter.create_task(world.project_key, TaskDraft(title="Odd", fields={"Colour": "red"}))


def test_native_queries_are_refused_with_what_to_use_instead(adapter: LocalAdapter):
    with pytest.raises(errors.NotSupported) as caught:
        adapter.list_tasks(TaskQuery(native_query="project = CON"), PageRequest())
    assert "team tracker" in str(caught.value) and "blocked" in str(caught.value)


def test_no_sprint_work_operation_is_refused(adapter: LocalAdapter):
    from portal.core.providers.base import ProviderAdapter
    from portal.core.providers.lacking import LacksSprintWork

    assert isinstance(adapter, ProviderAdapter)
    assert not isinstance(adapter, LacksSprintWork)
    operations = [name for name in vars(LacksSprintWork) if not name.startswith("_")]
    assert operations and all(callable(getattr(adapter, name)) for name in operations)
