"""Many rows into one table in one statement, for the paths that write in bursts (webhook pushes)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, TextClause, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignoring_conflicts(session: Session, table: Table, columns: Sequence[str], rows: list[dict[str, Any]],
                              conflict: Sequence[str]) -> None:
    """INSERT … ON CONFLICT (`conflict`) DO NOTHING of `rows` (dicts with exactly `columns`), in the caller's
    transaction. On PostgreSQL one statement whatever the number of rows, each column sent as one array
    (`unnest`): psycopg sends arrays from C, where an executemany sends and reads back each row in Python.
    The columns' own types still apply (sealing, UTC times)."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        session.execute(sqlite.insert(table).on_conflict_do_nothing(index_elements=list(conflict)), rows)
        return
    arrays = {}
    for name in columns:
        values = [row[name] for row in rows]
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        arrays[name] = [process(v) for v in values] if process is not None else values
    session.execute(_unnest_insert(table, tuple(columns), tuple(conflict)), arrays)


@functools.cache
def _unnest_insert(table: Table, columns: tuple[str, ...], conflict: tuple[str, ...]) -> TextClause:
    pg = postgresql.dialect()
    arrays = ", ".join(f"CAST(:{name} AS {table.c[name].type.dialect_impl(pg).compile(dialect=pg)}[])"
                       for name in columns)
    return text(f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
                f"ON CONFLICT ({', '.join(conflict)}) DO NOTHING")
