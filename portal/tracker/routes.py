"""The team tracker's pages: projects, a board per project, task lists, task pages and sprints.

Thin on purpose: parse the form, call portal.core.tracker.service, render. A
refused value goes back to the form next to its field, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from portal.charts import velocity_chart
from portal.confirm import ask_to_confirm, confirmed
from portal.core.models import TrackerField, TrackerProject, TrackerSprint, TrackerStatus, TrackerTask
from portal.core.services import analytics
from portal.core.tracker import service, work
from portal.core.tracker.service import InvalidTrackerInput, TaskFilter, TrackerNotFound
from portal.extensions import db
from portal.runner import connection_runner
from portal.sprints.routes import sprint_charts

from .forms import (
    BACKLOG_CHOICE,
    CATEGORY_LABELS,
    FIELD_TYPE_LABELS,
    PRIORITY_LABELS,
    SPRINT_STATE_LABELS,
    ActionForm,
    CommentForm,
    EditProjectForm,
    LinkForm,
    MoveToSprintForm,
    NewFieldForm,
    NewProjectForm,
    NewStatusForm,
    SprintForm,
    StatusChangeForm,
    TaskFilterForm,
    TaskForm,
    WorklogForm,
)
from .safe_markdown import render_markdown

bp = Blueprint("tracker", __name__)
T = TypeVar("T")

PAGE_SIZE = 25
BOARD_COLUMN_LIMIT = 50


@bp.app_template_filter("markdown")
def markdown_filter(text: str | None):
    return render_markdown(text)


@bp.app_template_filter("number")
def number_filter(value: float | None) -> str:
    return service.format_number(value)


@bp.app_template_filter("duration")
def duration_filter(seconds: int | None) -> str:
    return work.format_duration(seconds)


@bp.context_processor
def labels() -> dict[str, Any]:
    return {
        "category_labels": CATEGORY_LABELS,
        "priority_labels": PRIORITY_LABELS,
        "sprint_state_labels": SPRINT_STATE_LABELS,
    }


# --- lookups ------------------------------------------------------------------------------------


def _found(find: Callable[..., T], *args: Any, belongs: Callable[[T], bool] | None = None) -> T:
    """What `find(db.session, *args)` finds; also the 404 page when it doesn't `belong` where the
    address says (a status of another project, a link of another task). TrackerNotFound from `find`
    becomes the 404 page, with its message, in the app's error handler."""
    found = find(db.session, *args)
    if belongs is not None and not belongs(found):
        abort(404)
    return found


def _page_number() -> int:
    value = request.args.get("page", "1")
    return max(1, int(value)) if value.isdigit() else 1


def _show_refusal(form: FlaskForm, refusal: InvalidTrackerInput) -> None:
    """Put the service's messages next to the form's fields (or above the form), rolling back.

    A field the form itself already found a problem with keeps that one message.
    """
    db.session.rollback()
    for name, message in refusal.field_errors.items():
        form_field = form._fields.get(name)
        if form_field is None:
            form.form_errors.append(message)
        elif not form_field.errors:
            form_field.errors = [*form_field.errors, message]


def _attempt(form: FlaskForm, form_ok: bool, operation: Callable[[], T]) -> T | None:
    """Run the service's `operation` even when the form found problems, so that the service's own
    (a taken key, an unknown parent, an end before the start ...) show with them on the first submit.

    Its writes are kept (for the caller to commit) only when neither complained; else rolled back.
    """
    try:
        result = operation()
    except InvalidTrackerInput as refusal:
        _show_refusal(form, refusal)
        return None
    if not form_ok:
        db.session.rollback()
        return None
    return result


def _optional_int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


# --- projects -----------------------------------------------------------------------------------


@bp.route("/projects")
@login_required
def projects():
    page = _page_number()
    found = service.list_projects(db.session, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    open_counts = dict(
        db.session.execute(
            select(TrackerTask.project_id, func.count(TrackerTask.id))
            .join(TrackerTask.status)
            .where(TrackerStatus.category != "done")
            .group_by(TrackerTask.project_id)
        ).all()
    )
    return render_template(
        "tracker/projects.html", found=found, page=page, page_size=PAGE_SIZE, open_counts=open_counts
    )


@bp.route("/projects/new", methods=["GET", "POST"])
@login_required
def new_project():
    form = NewProjectForm()
    if form.is_submitted():
        project = _attempt(
            form,
            form.validate(),
            lambda: service.create_project(
                db.session,
                key=form.key.data,
                name=form.name.data,
                description=form.description.data,
                actor_id=current_user.id,
            ),
        )
        if project is not None:
            db.session.commit()
            flash(f"Project {project.key} is ready: add its first tasks.", "success")
            return redirect(url_for("tracker.board", key=project.key))
    return render_template("tracker/project_form.html", form=form, project=None)


@bp.route("/projects/<key>/edit", methods=["GET", "POST"])
@login_required
def edit_project(key: str):
    project = _found(service.get_project, key)
    form = EditProjectForm(data={"name": project.name, "description": project.description})
    if form.is_submitted():
        saved = _attempt(
            form,
            form.validate(),
            lambda: service.update_project(
                db.session, project, name=form.name.data, description=form.description.data
            ),
        )
        if saved is not None:
            db.session.commit()
            flash("Project saved.", "success")
            return redirect(url_for("tracker.board", key=project.key))
    return _render_project_settings(project, form, NewStatusForm(formdata=None))


@bp.post("/projects/<key>/statuses")
@login_required
def add_status(key: str):
    project = _found(service.get_project, key)
    status_form = NewStatusForm()
    if status_form.is_submitted():
        status = _attempt(
            status_form,
            status_form.validate(),
            lambda: service.add_status(
                db.session, project, name=status_form.name.data, category=status_form.category.data
            ),
        )
        if status is not None:
            db.session.commit()
            flash(f"Status {status.name!r} added.", "success")
            return redirect(url_for("tracker.edit_project", key=project.key))
    form = EditProjectForm(formdata=None, data={"name": project.name, "description": project.description})
    return _render_project_settings(project, form, status_form)


@bp.post("/projects/<key>/statuses/<int:status_id>/delete")
@login_required
def delete_status(key: str, status_id: int):
    project = _found(service.get_project, key)
    if not ActionForm().validate_on_submit():
        abort(400)
    status = _found(service.get_status, status_id, belongs=lambda s: s.project_id == project.id)
    if not confirmed():
        return ask_to_confirm(
            f"Remove the status {status.name!r} from {project.key}?",
            detail="Its board column goes with it. A status that still holds tasks is kept.",
            button="Remove",
            cancel_url=url_for("tracker.edit_project", key=project.key),
        )
    try:
        service.delete_status(db.session, status)
    except InvalidTrackerInput as refusal:
        db.session.rollback()
        flash(str(refusal.field_errors.get("status", refusal)), "error")
    else:
        db.session.commit()
        flash(f"Status {status.name!r} removed.", "success")
    return redirect(url_for("tracker.edit_project", key=project.key))


@bp.post("/projects/<key>/fields")
@login_required
def add_field(key: str):
    project = _found(service.get_project, key)
    field_form = NewFieldForm()
    if field_form.is_submitted():
        added = _attempt(
            field_form,
            field_form.validate(),
            lambda: work.add_field(
                db.session,
                project,
                name=field_form.name.data,
                type=field_form.type.data,
                allowed=(field_form.allowed.data or "").splitlines(),
            ),
        )
        if added is not None:
            db.session.commit()
            flash(f"Field {added.name!r} added: set it on the task form.", "success")
            return redirect(url_for("tracker.edit_project", key=project.key, _anchor="fields"))
    form = EditProjectForm(formdata=None, data={"name": project.name, "description": project.description})
    return _render_project_settings(project, form, NewStatusForm(formdata=None), field_form)


@bp.post("/projects/<key>/fields/<int:field_id>/delete")
@login_required
def delete_field(key: str, field_id: int):
    project = _found(service.get_project, key)
    if not ActionForm().validate_on_submit():
        abort(400)
    field = _found(work.get_field, field_id, belongs=lambda found: found.project_id == project.id)
    if not confirmed():
        return ask_to_confirm(
            f"Remove the field {field.name!r} from {project.key}?",
            detail="Every task's value of it goes with it. This can't be undone.",
            button="Remove",
            cancel_url=url_for("tracker.edit_project", key=project.key, _anchor="fields"),
        )
    name = field.name
    work.delete_field(db.session, field)
    db.session.commit()
    flash(f"Field {name!r} removed.", "success")
    return redirect(url_for("tracker.edit_project", key=project.key, _anchor="fields"))


def _render_project_settings(
    project: TrackerProject, form: FlaskForm, status_form: FlaskForm, field_form: FlaskForm | None = None
):
    return render_template(
        "tracker/project_form.html",
        form=form,
        project=project,
        status_form=status_form,
        statuses=service.project_statuses(db.session, project),
        field_form=field_form or NewFieldForm(formdata=None),
        fields=work.list_fields(db.session, project),
        field_type_labels=FIELD_TYPE_LABELS,
        action=ActionForm(),
    )


def _move_form(project: TrackerProject, sprints: list[TrackerSprint]) -> MoveToSprintForm:
    form = MoveToSprintForm(formdata=request.form if request.method == "POST" else None)
    form.sprint.choices = [SelectChoice(BACKLOG_CHOICE, "Backlog (no sprint)")] + [
        SelectChoice(str(s.id), f"{s.name} ({SPRINT_STATE_LABELS[s.state].lower()})")
        for s in sprints
        if s.state != "closed"
    ]
    return form


def _move_to_sprint(form: MoveToSprintForm, project: TrackerProject):
    """Move the ticked tasks, all or none: a refusal is shown next to the form and nothing moves.

    Returns the redirect back to the page on success, None when the form is to be shown again.
    """
    if not form.validate_on_submit():
        return None
    target = None
    if form.sprint.data != BACKLOG_CHOICE:
        target = service.get_sprint(db.session, int(form.sprint.data))
    results = work.move_to_sprint(db.session, form.tasks.data, target, actor_id=current_user.id)
    refused = [f"{result.key}: {result.error}" for result in results if result.refusal is not None]
    if refused:
        db.session.rollback()
        form.tasks.errors = [*form.tasks.errors, *refused]
        return None
    db.session.commit()
    where = target.name if target is not None else "the backlog"
    moved = f"{len(results)} tasks" if len(results) != 1 else results[0].key
    flash(f"Moved {moved} to {where}.", "success")
    return redirect(request.full_path.rstrip("?"))


@bp.route("/projects/<key>", methods=["GET", "POST"])
@login_required
def board(key: str):
    project = _found(service.get_project, key)
    sprints = service.list_sprints(db.session, project, limit=200).items
    move_form = _move_form(project, sprints)
    if request.method == "POST":
        moved = _move_to_sprint(move_form, project)
        if moved is not None:
            return moved
    chosen = request.args.get("sprint")
    if chosen is None:  # by default the board shows the running sprint, when there is one
        sprint = next((s for s in sprints if s.state == "active"), None)
    else:
        sprint = next((s for s in sprints if str(s.id) == chosen), None)
    columns = service.board_columns(
        db.session, project, sprint_id=sprint.id if sprint else None, per_column=BOARD_COLUMN_LIMIT
    )
    return render_template(
        "tracker/board.html",
        project=project,
        sprints=sprints,
        sprint=sprint,
        columns=columns,
        move_form=move_form,
    )


# --- task list ----------------------------------------------------------------------------------


@bp.route("/projects/<key>/tasks", methods=["GET", "POST"])
@login_required
def task_list(key: str):
    project = _found(service.get_project, key)
    statuses = service.project_statuses(db.session, project)
    sprints = service.list_sprints(db.session, project, limit=200).items
    move_form = _move_form(project, sprints)
    if request.method == "POST":
        moved = _move_to_sprint(move_form, project)
        if moved is not None:
            return moved
    form = TaskFilterForm(formdata=request.args)
    form.status.choices = [SelectChoice("", "Any status"), SelectChoice("open", "Not done")] + [
        SelectChoice(str(s.id), s.name) for s in statuses
    ]
    form.assignee.choices = [
        SelectChoice("", "Anyone"),
        SelectChoice("me", "Me"),
        SelectChoice("none", "Unassigned"),
    ] + [SelectChoice(str(u.id), u.display_name) for u in service.assignable_users(db.session)]
    form.sprint.choices = [SelectChoice("", "Any sprint"), SelectChoice("none", "No sprint")] + [
        SelectChoice(str(s.id), s.name) for s in sprints
    ]
    form.validate()
    status_value, assignee_value, sprint_value = form.status.data, form.assignee.data, form.sprint.data
    task_filter = TaskFilter(
        project_id=project.id,
        status_ids=(int(status_value),) if status_value and status_value.isdigit() else (),
        categories=frozenset({"todo", "in_progress"}) if status_value == "open" else frozenset(),
        assignee_id=current_user.id if assignee_value == "me" else _optional_int(assignee_value),
        unassigned=assignee_value == "none",
        sprint_id=_optional_int(sprint_value),
        no_sprint=sprint_value == "none",
        text=form.text.data if not form.text.errors else None,
        blocked=request.args.get("blocked") == "yes",
    )
    page = _page_number()
    found = service.find_tasks(db.session, task_filter, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    filters = {name: value for name, value in request.args.items() if name != "page" and value}
    return render_template(
        "tracker/task_list.html",
        project=project,
        form=form,
        found=found,
        page=page,
        page_size=PAGE_SIZE,
        filters=filters,
        move_form=move_form,
    )


# --- task forms ---------------------------------------------------------------------------------


def _fill_task_choices(form: TaskForm, project: TrackerProject, task: TrackerTask | None) -> None:
    form.status.choices = [
        SelectChoice(str(s.id), s.name) for s in service.project_statuses(db.session, project)
    ]
    people = service.assignable_users(db.session)
    form.assignee.choices = [SelectChoice("", "Unassigned")] + [
        SelectChoice(str(u.id), u.display_name) for u in people
    ]
    if task is not None and task.assignee is not None and task.assignee not in people:
        # A disabled person stays selectable on their own tasks, so other edits still save.
        form.assignee.choices.append(
            SelectChoice(str(task.assignee.id), f"{task.assignee.display_name} (disabled)")
        )
    epics = service.list_epics(db.session, project, limit=500).items
    form.epic.choices = [SelectChoice("", "No epic")] + [
        SelectChoice(str(e.id), f"{e.key} {e.title}") for e in epics if task is None or e.id != task.id
    ]
    sprints = service.list_sprints(db.session, project, limit=200).items
    form.sprint.choices = [SelectChoice("", "No sprint")] + [
        SelectChoice(str(s.id), f"{s.name} ({SPRINT_STATE_LABELS[s.state].lower()})")
        for s in sprints
        if s.state != "closed" or (task is not None and task.sprint_id == s.id)
    ]


def _task_form_values(form: TaskForm, project: TrackerProject) -> dict[str, Any]:
    """The service's task fields from the form (an unknown parent key is put on the form as an error)."""
    parent_id = None
    parent_key = (form.parent.data or "").strip()
    if parent_key:
        try:
            parent_id = service.get_task(db.session, parent_key).id
        except TrackerNotFound:
            form.parent.errors = [*form.parent.errors, f"No task with the key {parent_key}."]
    return {
        "title": form.title.data,
        "description": form.description.data,
        "type": form.type.data,
        "status_id": _optional_int(form.status.data),
        "priority": form.priority.data,
        "assignee_id": _optional_int(form.assignee.data),
        "due_date": form.due.data,
        "estimate_hours": form.estimate_hours.data,
        "story_points": form.story_points.data,
        "parent_id": parent_id,
        "epic_id": _optional_int(form.epic.data),
        "sprint_id": _optional_int(form.sprint.data),
    }


def _task_form_class(fields: list[TrackerField]) -> type[TaskForm]:
    """TaskForm with an input per custom field of the project, named `cf_<id>`."""
    inputs: dict[str, Any] = {}
    for custom in fields:
        if custom.type == "option":
            choices = [SelectChoice("", "Not set")] + [SelectChoice(value, value) for value in custom.allowed]
            inputs[f"cf_{custom.id}"] = SelectField(custom.name, choices=choices)
        elif custom.type == "date":
            inputs[f"cf_{custom.id}"] = DateField(custom.name, validators=[Optional()])
        else:
            inputs[f"cf_{custom.id}"] = StringField(custom.name, validators=[Optional(), Length(max=2_000)])
    return type("ProjectTaskForm", (TaskForm,), inputs)


def _field_form_value(field: TrackerField, value: str) -> Any:
    return date.fromisoformat(value) if field.type == "date" else value


def _with_custom_fields(
    form: TaskForm, project: TrackerProject, fields: list[TrackerField], save: Callable[[], TrackerTask]
) -> TrackerTask:
    """Save the task and its custom fields, refusing both together: every problem is shown at once."""
    problems: dict[str, str] = {}
    by_name = {field.name: f"cf_{field.id}" for field in fields}
    try:
        values = {field.name: form[f"cf_{field.id}"].data for field in fields}
        checked = work.check_field_values(db.session, project, values)
    except InvalidTrackerInput as refusal:
        problems.update({by_name.get(name, name): message for name, message in refusal.field_errors.items()})
        checked = {}
    try:
        task = save()
    except InvalidTrackerInput as refusal:
        problems = {**refusal.field_errors, **problems}
    if problems:
        raise InvalidTrackerInput(problems)
    work.set_field_values(db.session, task, checked, actor_id=current_user.id)
    return task


@bp.route("/projects/<key>/tasks/new", methods=["GET", "POST"])
@login_required
def new_task(key: str):
    project = _found(service.get_project, key)
    initial = {
        "status": str(service.initial_status(db.session, project).id),
        "sprint": request.args.get("sprint", ""),
        "epic": request.args.get("epic", ""),
    }
    custom = work.list_fields(db.session, project)
    form = _task_form_class(custom)(data=initial)
    _fill_task_choices(form, project, None)
    if form.is_submitted():
        form_ok = form.validate()
        values = _task_form_values(form, project)
        title = values.pop("title")
        task = _attempt(
            form,
            form_ok and not form.parent.errors,
            lambda: _with_custom_fields(
                form,
                project,
                custom,
                lambda: service.create_task(
                    db.session, project, title=title, actor_id=current_user.id, **values
                ),
            ),
        )
        if task is not None:
            db.session.commit()
            flash(f"{task.key} created.", "success")
            return redirect(url_for("tracker.task", key=task.key))
    return render_template("tracker/task_form.html", form=form, project=project, task=None)


@bp.route("/tasks/<key>/edit", methods=["GET", "POST"])
@login_required
def edit_task(key: str):
    task = _found(service.get_task, key)
    project = task.project
    custom = work.list_fields(db.session, project)
    form = _task_form_class(custom)(
        data={
            **{
                f"cf_{field.id}": _field_form_value(field, value)
                for field, value in work.field_values(db.session, task)
            },
            "title": task.title,
            "description": task.description,
            "type": task.type,
            "status": str(task.status_id),
            "priority": task.priority,
            "assignee": str(task.assignee_id or ""),
            "due": task.due_date,
            "estimate_hours": task.estimate_hours,
            "story_points": task.story_points,
            "parent": task.parent.key if task.parent else "",
            "epic": str(task.epic_id or ""),
            "sprint": str(task.sprint_id or ""),
        }
    )
    _fill_task_choices(form, project, task)
    if form.is_submitted():
        form_ok = form.validate()
        values = _task_form_values(form, project)
        saved = _attempt(
            form,
            form_ok and not form.parent.errors,
            lambda: _with_custom_fields(
                form,
                project,
                custom,
                lambda: service.update_task(db.session, task, values, actor_id=current_user.id),
            ),
        )
        if saved is not None:
            db.session.commit()
            flash(f"{task.key} saved.", "success")
            return redirect(url_for("tracker.task", key=task.key))
    return render_template(
        "tracker/task_form.html", form=form, project=project, task=task, action=ActionForm()
    )


@bp.post("/tasks/<key>/delete")
@login_required
def delete_task(key: str):
    task = _found(service.get_task, key)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not confirmed():
        return ask_to_confirm(
            f"Delete {task.key} {task.title}?",
            detail="Its comments and history go with it. This can't be undone.",
            button="Delete",
            cancel_url=url_for("tracker.task", key=task.key),
        )
    project_key, task_key = task.project.key, task.key
    service.delete_task(db.session, task, actor_id=current_user.id)
    db.session.commit()
    flash(f"{task_key} deleted.", "success")
    return redirect(url_for("tracker.task_list", key=project_key))


# --- the task page ------------------------------------------------------------------------------


def _status_form(task: TrackerTask, formdata: Any = None) -> StatusChangeForm:
    form = StatusChangeForm(formdata=formdata, data={"status": str(task.status_id)})
    form.status.choices = [
        SelectChoice(str(s.id), s.name) for s in service.project_statuses(db.session, task.project)
    ]
    return form


def _render_task(task: TrackerTask, **forms: FlaskForm):
    """The task page; `forms` are the ones posted back with errors, the others start empty."""
    children = []
    if task.type == "epic":
        children = service.find_tasks(
            db.session, TaskFilter(epic_id=task.id, sort="key", descending=False), limit=200
        ).items
    subtasks = service.find_tasks(
        db.session, TaskFilter(parent_id=task.id, sort="key", descending=False), limit=200
    ).items
    worklogs = work.list_worklogs(db.session, task, limit=500)
    return render_template(
        "tracker/task.html",
        task=task,
        project=task.project,
        comments=service.list_comments(db.session, task, limit=500).items,
        history=service.task_history(db.session, task),
        children=children,
        subtasks=subtasks,
        links=work.task_links(db.session, task),
        worklogs=worklogs,
        logged=work.format_duration(work.logged_seconds(db.session, task)),
        fields=work.field_values(db.session, task),
        action=ActionForm(),
        comment_form=forms.get("comment_form") or CommentForm(formdata=None),
        status_form=forms.get("status_form") or _status_form(task),
        link_form=forms.get("link_form") or LinkForm(formdata=None),
        worklog_form=forms.get("worklog_form") or WorklogForm(formdata=None),
    )


@bp.route("/tasks/<key>")
@login_required
def task(key: str):
    task = _found(service.get_task, key)
    if key != task.key:
        return redirect(url_for("tracker.task", key=task.key))
    return _render_task(task)


@bp.post("/tasks/<key>/status")
@login_required
def change_status(key: str):
    task = _found(service.get_task, key)
    form = _status_form(task, formdata=request.form)
    if form.validate_on_submit():
        status = db.session.get(TrackerStatus, int(form.status.data))
        if status is None:  # deleted since the form was drawn
            abort(404)
        try:
            service.set_task_status(db.session, task, status, actor_id=current_user.id)
        except InvalidTrackerInput as refusal:
            _show_refusal(form, refusal)
        else:
            db.session.commit()
            flash(f"{task.key} is now in {status.name}.", "success")
            return redirect(url_for("tracker.task", key=task.key))
    return _render_task(task, status_form=form)


@bp.post("/tasks/<key>/comments")
@login_required
def add_comment(key: str):
    task = _found(service.get_task, key)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            comment = service.add_comment(db.session, task, body=form.body.data, author_id=current_user.id)
        except InvalidTrackerInput as refusal:
            _show_refusal(form, refusal)
        else:
            db.session.commit()
            flash("Comment added.", "success")
            return redirect(url_for("tracker.task", key=task.key, _anchor=f"comment-{comment.id}"))
    return _render_task(task, comment_form=form)


@bp.post("/tasks/<key>/links")
@login_required
def add_link(key: str):
    task = _found(service.get_task, key)
    form = LinkForm()
    if form.is_submitted():
        form_ok = form.validate()
        other = None
        if form.other.data and not form.other.errors:
            try:
                other = service.get_task(db.session, form.other.data)
            except TrackerNotFound:
                form.other.errors = [*form.other.errors, f"No task with the key {form.other.data.strip()}."]
        if other is not None:
            kind, outward = work.LINK_CHOICES.get(form.kind.data, ("", True))
            link = _attempt(
                form,
                form_ok,
                lambda: work.link_tasks(
                    db.session, task, other, kind=kind, outward=outward, actor_id=current_user.id
                ),
            )
            if link is not None:
                db.session.commit()
                flash(f"{task.key} {form.kind.data} {other.key}.", "success")
                return redirect(url_for("tracker.task", key=task.key, _anchor="links"))
    return _render_task(task, link_form=form)


@bp.post("/tasks/<key>/links/<int:link_id>/delete")
@login_required
def remove_link(key: str, link_id: int):
    task = _found(service.get_task, key)
    if not ActionForm().validate_on_submit():
        abort(400)
    link = _found(work.get_link, link_id, belongs=lambda found: task.id in (found.source_id, found.target_id))
    other = link.target if link.source_id == task.id else link.source
    if not confirmed():
        return ask_to_confirm(
            f"Remove the link between {task.key} and {other.key}?",
            detail="Both tasks stay; only the link goes.",
            button="Remove",
            cancel_url=url_for("tracker.task", key=task.key, _anchor="links"),
        )
    work.unlink_tasks(db.session, link, actor_id=current_user.id)
    db.session.commit()
    flash(f"The link to {other.key} is removed.", "success")
    return redirect(url_for("tracker.task", key=task.key, _anchor="links"))


@bp.post("/tasks/<key>/worklogs")
@login_required
def log_work(key: str):
    task = _found(service.get_task, key)
    form = WorklogForm()
    if form.is_submitted():
        worklog = _attempt(
            form,
            form.validate(),
            lambda: work.log_work(
                db.session,
                task,
                time=form.time.data,
                user_id=current_user.id,
                started_on=form.started.data,
                comment=form.comment.data,
            ),
        )
        if worklog is not None:
            db.session.commit()
            flash(f"Logged {work.format_duration(worklog.seconds)} on {task.key}.", "success")
            return redirect(url_for("tracker.task", key=task.key, _anchor="worklogs"))
    return _render_task(task, worklog_form=form)


# --- sprints ------------------------------------------------------------------------------------


@bp.route("/projects/<key>/sprints")
@login_required
def sprints(key: str):
    project = _found(service.get_project, key)
    found = service.list_sprints(db.session, project, limit=500)
    totals = {
        sprint_id: (count, points)
        for sprint_id, count, points in db.session.execute(
            select(TrackerTask.sprint_id, func.count(TrackerTask.id), func.sum(TrackerTask.story_points))
            .where(TrackerTask.project_id == project.id, TrackerTask.sprint_id.is_not(None))
            .group_by(TrackerTask.sprint_id)
        ).all()
    }
    runner = connection_runner()
    result = runner.run(runner.local, lambda adapter: analytics.project_velocity(adapter, project.key))
    bars = velocity_chart("velocity", result, title=f"Velocity of {project.name}") if result else None
    return render_template(
        "tracker/sprints.html",
        project=project,
        sprints=found.items,
        totals=totals,
        velocity=result,
        velocity_svg=bars,
    )


@bp.route("/sprints/<int:sprint_id>")
@login_required
def sprint(sprint_id: int):
    tracker_sprint = _found(service.get_sprint, sprint_id)
    runner = connection_runner()
    found, chart, drawn, _, _, notes = runner.run(
        runner.local, lambda adapter: sprint_charts(adapter, str(sprint_id), with_velocity=False)
    )
    return render_template(
        "tracker/sprint.html",
        project=tracker_sprint.project,
        tracker_sprint=tracker_sprint,
        sprint=found,
        burndown=chart,
        burndown_svg=drawn,
        notes=notes,
    )


def _sprint_values(form: SprintForm) -> dict[str, Any]:
    return {
        "name": form.name.data,
        "goal": form.goal.data,
        "start_date": form.start_date.data,
        "end_date": form.end_date.data,
        "state": form.state.data,
    }


def _sprint_form(project: TrackerProject, sprint: TrackerSprint | None, **kwargs: Any) -> SprintForm:
    form = SprintForm(**kwargs)
    others = service.list_sprints(db.session, project, limit=200).items
    form.move_open_to.choices = [SelectChoice(BACKLOG_CHOICE, "The backlog")] + [
        SelectChoice(str(s.id), s.name) for s in others if s.state != "closed" and s != sprint
    ]
    return form


@bp.route("/projects/<key>/sprints/new", methods=["GET", "POST"])
@login_required
def new_sprint(key: str):
    project = _found(service.get_project, key)
    form = _sprint_form(project, None)
    if form.is_submitted():
        sprint = _attempt(
            form, form.validate(), lambda: service.create_sprint(db.session, project, **_sprint_values(form))
        )
        if sprint is not None:
            db.session.commit()
            flash(f"{sprint.name} created.", "success")
            return redirect(url_for("tracker.sprints", key=project.key))
    return render_template("tracker/sprint_form.html", form=form, project=project, sprint=None)


def _save_sprint(sprint: TrackerSprint, form: SprintForm) -> TrackerSprint:
    """Save the form; closing a sprint goes through close_sprint, which moves its open tasks first."""
    values = _sprint_values(form)
    if values["state"] != "closed" or sprint.state == "closed":
        return service.update_sprint(db.session, sprint, **values)
    service.update_sprint(db.session, sprint, **{**values, "state": sprint.state})
    target = None
    if form.move_open_to.data != BACKLOG_CHOICE:
        target = service.get_sprint(db.session, int(form.move_open_to.data))
    return work.close_sprint(
        db.session, sprint, move_open_to=target, backlog=target is None, actor_id=current_user.id
    )


@bp.route("/sprints/<int:sprint_id>/edit", methods=["GET", "POST"])
@login_required
def edit_sprint(sprint_id: int):
    sprint = _found(service.get_sprint, sprint_id)
    project = sprint.project
    form = _sprint_form(
        project,
        sprint,
        data={
            "name": sprint.name,
            "goal": sprint.goal,
            "start_date": sprint.start_date,
            "end_date": sprint.end_date,
            "state": sprint.state,
        },
    )
    if form.is_submitted():
        saved = _attempt(form, form.validate(), lambda: _save_sprint(sprint, form))
        if saved is not None:
            db.session.commit()
            flash(f"{sprint.name} saved.", "success")
            return redirect(url_for("tracker.sprints", key=project.key))
    return render_template("tracker/sprint_form.html", form=form, project=project, sprint=sprint)
