"""Alembic environment: one migration chain for the whole app."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection

from teahub.db.engine import make_engine
from teahub.db.models import metadata
from teahub.db.sealing import Sealed, SealedDate

config = context.config


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Sealed columns are plain text in the database: migrations say so, without teahub's type."""
    if kind == "type" and isinstance(obj, (Sealed, SealedDate)):
        return "sa.Text()"
    return False


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
