"""Activities (calls, visits, WeChat, tastings, notes) logged on a customer, lead or opportunity, and tasks with a
due time for a user."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select

from teahub.crm.pipeline import events
from teahub.crm.pipeline.models import Activity, CrmTask
from teahub.crm.pipeline.records import (
    activity_view,
    bump,
    check_subjects,
    check_user,
    check_version,
    created,
    jsonable,
    load,
    task_view,
)
from teahub.crm.pipeline.schemas import ActivityIn, TaskIn, TaskPatch
from teahub.db.uow import UnitOfWork
from teahub.errors import ValidationFailed


def _note(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _title(value: str | None) -> str:
    title = " ".join((value or "").split())
    if not title:
        raise ValidationFailed("a title cannot be blank", field="title")
    return title


# -- activities -------------------------------------------------------------------------------------
def log_activity(uow: UnitOfWork, data: ActivityIn, *, by: str) -> dict[str, Any]:
    """Record what happened with a customer, lead or opportunity; `by` is who did it unless the data says."""
    summary = data.summary.strip()
    if not summary:
        raise ValidationFailed("say what happened", field="summary")
    with uow:
        subjects = check_subjects(uow, data.subjects(), required=True)
        now = uow.now()
        activity = Activity(kind=data.kind, **subjects, occurred_at=data.occurred_at or now,
                            by=check_user(uow, data.by or by, "by"), summary=summary, created_at=now,
                            created_by=uow.actor)
        uow.session.add(activity)
        uow.session.flush()
        view = activity_view(activity)
        uow.record_event(events.ACTIVITY_LOGGED, events.ACTIVITY, activity.id, jsonable({"activity": view}),
                         version=1)
        uow.audit(events.ACTIVITY_LOGGED, events.ACTIVITY, activity.id, None, jsonable(view))
        uow.commit()
        return view


def list_activities(uow: UnitOfWork, *, customer_id: int | None = None, lead_id: int | None = None,
                    opportunity_id: int | None = None, kind: str | None = None,
                    after: tuple[datetime, int] | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The record's timeline, latest first (by when it happened)."""
    stmt = select(Activity)
    for column, value in ((Activity.customer_id, customer_id), (Activity.lead_id, lead_id),
                          (Activity.opportunity_id, opportunity_id), (Activity.kind, kind)):
        if value is not None:
            stmt = stmt.where(column == value)
    if after is not None:
        at, last_id = after
        stmt = stmt.where(or_(Activity.occurred_at < at, and_(Activity.occurred_at == at, Activity.id < last_id)))
    with uow.reading():
        rows = uow.session.scalars(stmt.order_by(Activity.occurred_at.desc(), Activity.id.desc()).limit(limit))
        return [activity_view(a) for a in rows]


# -- tasks ------------------------------------------------------------------------------------------
def create_task(uow: UnitOfWork, data: TaskIn, *, default_assignee: str) -> dict[str, Any]:
    title = _title(data.title)
    with uow:
        subjects = check_subjects(uow, data.subjects(), required=False)
        now = uow.now()
        task = CrmTask(title=title, note=_note(data.note), due_at=data.due_at,
                       assignee=check_user(uow, data.assignee or default_assignee, "assignee"), done=False,
                       **subjects, created_by=uow.actor, version=1, created_at=now, updated_at=now)
        uow.session.add(task)
        uow.session.flush()
        view = task_view(task, now)
        created(uow, task, events.TASK_CREATED, events.TASK, view, "task")
        uow.commit()
        return view


def get_task(uow: UnitOfWork, task_id: int) -> dict[str, Any]:
    with uow.reading():
        return task_view(load(uow, CrmTask, task_id), uow.now())


def update_task(uow: UnitOfWork, task_id: int, patch: TaskPatch) -> dict[str, Any]:
    """Change a task; `done: true` completes it (`task.completed`), `done: false` reopens it."""
    sent = patch.model_fields_set - {"version"}
    with uow:
        task = load(uow, CrmTask, task_id, lock=True)
        check_version(task, patch.version)
        now = uow.now()
        before = jsonable(task_view(task, now))
        changed: list[str] = []
        for name in ("title", "due_at", "assignee", "note"):
            if name not in sent:
                continue
            value: Any = getattr(patch, name)
            if name == "title":
                value = _title(value)
            elif name == "assignee":
                if value is None:
                    raise ValidationFailed("a task needs an assignee", field="assignee")
                value = check_user(uow, value, "assignee")
            elif name == "due_at":
                if value is None:
                    raise ValidationFailed("a task needs a due time", field="due_at")
            else:
                value = _note(value)
            if value != getattr(task, name):
                setattr(task, name, value)
                changed.append(name)
        event = events.TASK_UPDATED
        if "done" in sent and patch.done is not None and patch.done != task.done:
            task.done = patch.done
            task.done_at = now if patch.done else None
            changed += ["done", "done_at"]
            event = events.TASK_COMPLETED if patch.done else events.TASK_REOPENED
        if not changed:
            return task_view(task, now)
        bump(uow, task, event, events.TASK, {"task": task_view(task, now), "changed": changed})
        view = task_view(task, now)
        uow.audit(event, events.TASK, task.id, before, jsonable(view))
        uow.commit()
        return view


def list_tasks(uow: UnitOfWork, *, assignee: str | None = None, state: str = "open",
               customer_id: int | None = None, lead_id: int | None = None, opportunity_id: int | None = None,
               after: tuple[datetime, int] | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Tasks by due time, soonest first. `state`: open (not done), overdue (open and past due), done, all."""
    with uow.reading():
        now = uow.now()
        stmt = select(CrmTask)
        if state in ("open", "overdue"):
            stmt = stmt.where(CrmTask.done.is_(False))
        if state == "overdue":
            stmt = stmt.where(CrmTask.due_at < now)
        elif state == "done":
            stmt = stmt.where(CrmTask.done.is_(True))
        for column, value in ((CrmTask.assignee, assignee), (CrmTask.customer_id, customer_id),
                              (CrmTask.lead_id, lead_id), (CrmTask.opportunity_id, opportunity_id)):
            if value is not None:
                stmt = stmt.where(column == value)
        if after is not None:
            at, last_id = after
            stmt = stmt.where(or_(CrmTask.due_at > at, and_(CrmTask.due_at == at, CrmTask.id > last_id)))
        rows = uow.session.scalars(stmt.order_by(CrmTask.due_at, CrmTask.id).limit(limit))
        return [task_view(t, now) for t in rows]
