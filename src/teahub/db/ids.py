"""Ids given up front to many new rows, so that a flush writes them without asking the database for them back."""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

# Below this many new rows of a table, the extra query costs more than it saves.
MANY = 20


def assign_ids(session: Session) -> None:
    """On PostgreSQL, the session's new rows (tables with a single integer id from a sequence, MANY or more new rows
    of the table) get their ids from the sequence now, in one query per table. The flush then writes each table
    with one short prepared statement for all its rows, instead of a multi-row INSERT … RETURNING whose thousands
    of placeholders psycopg parses in Python every time. Elsewhere (SQLite) nothing changes."""
    if session.get_bind().dialect.name != "postgresql":
        return
    waiting: defaultdict[Any, list[Any]] = defaultdict(list)
    for obj in session.new:  # in the order they were added: ids keep following the order rows were made in
        table = _sequenced_table(type(obj))
        if table is not None and obj.id is None:
            waiting[table].append(obj)
    for table, objects in waiting.items():
        if len(objects) < MANY:
            continue
        sequence = func.pg_get_serial_sequence(table.fullname, "id")
        ids = list(session.scalars(select(func.nextval(sequence))
                                   .select_from(func.generate_series(1, len(objects)))))
        if None in ids:
            continue  # no sequence behind this id: the database gives it at insert, as usual
        for obj, new_id in zip(objects, ids, strict=True):
            obj.id = new_id


@functools.cache
def _sequenced_table(cls: type) -> Any:
    """The table of a mapped class whose single primary key is an integer `id` the database numbers, or None."""
    mapper = inspect(cls)
    key = mapper.primary_key
    if len(key) == 1 and key[0].name == "id" and key[0].autoincrement in (True, "auto") and _integer(key[0]):
        return mapper.local_table
    return None


def _integer(column: Any) -> bool:
    try:
        return column.type.python_type is int
    except NotImplementedError:
        return False
