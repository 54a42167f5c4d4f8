"""Reads for administrators: the API tokens of each user (never the token itself: only its prefix). The audit log
is read with `auth.service.audit_entries`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from teahub.auth.models import ApiToken, User
from teahub.db.uow import UnitOfWork


def list_tokens(uow: UnitOfWork, username: str | None = None) -> list[dict[str, Any]]:
    """API tokens (of one user, or all), newest first: name, prefix, when made and revoked."""
    with uow.reading():
        stmt = (select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
                .order_by(ApiToken.id.desc()))
        if username is not None:
            stmt = stmt.where(User.username == username)
        return [{"id": t.id, "username": name, "name": t.name, "prefix": t.prefix, "created_at": t.created_at,
                 "revoked_at": t.revoked_at} for t, name in uow.session.execute(stmt)]
