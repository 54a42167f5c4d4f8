"""Statements that differ in spelling between SQLite and PostgreSQL but not in meaning."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_unless_exists(session: Session, model: type[Any], values: dict[str, Any],
                         conflict_columns: Sequence[str], returning: Any = None) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING [RETURNING x]: the returned value is None when the row existed (or a
    concurrent transaction inserted it first; PostgreSQL waits for that one to commit or roll back)."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = module.insert(model).values(**values).on_conflict_do_nothing(index_elements=list(conflict_columns))
    if returning is None:
        session.execute(stmt)
        return None
    return session.execute(stmt.returning(returning)).scalar()
