"""Reads for administrators: the audit log newest first (a page at a time, by actor or entity), and the API
tokens of each user (never the token itself: only its prefix)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from teahub.auth.models import ApiToken, AuditEntry, User
from teahub.db.uow import UnitOfWork


def audit_log(uow: UnitOfWork, *, actor: str | None = None, entity_type: str | None = None,
              entity_id: str | None = None, action: str | None = None, before: int | None = None,
              limit: int = 50) -> list[dict[str, Any]]:
    """Audit entries newest first, older than entry `before` when given; ask for limit+1 to know that more
    exist."""
    with uow.reading():
        stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if before:
            stmt = stmt.where(AuditEntry.id < before)
        if actor:
            stmt = stmt.where(AuditEntry.actor == actor)
        if entity_type:
            stmt = stmt.where(AuditEntry.entity_type == entity_type)
        if entity_id:
            stmt = stmt.where(AuditEntry.entity_id == entity_id)
        if action:
            stmt = stmt.where(AuditEntry.action == action)
        return [{"id": r.id, "at": r.at, "actor": r.actor, "action": r.action, "entity_type": r.entity_type,
                 "entity_id": r.entity_id, "before": r.before, "after": r.after}
                for r in uow.session.scalars(stmt)]


def list_tokens(uow: UnitOfWork, username: str | None = None) -> list[dict[str, Any]]:
    """API tokens (of one user, or all), newest first: name, prefix, when made and revoked."""
    with uow.reading():
        stmt = (select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
                .order_by(ApiToken.id.desc()))
        if username is not None:
            stmt = stmt.where(User.username == username)
        return [{"id": t.id, "username": name, "name": t.name, "prefix": t.prefix, "created_at": t.created_at,
                 "revoked_at": t.revoked_at} for t, name in uow.session.execute(stmt)]
