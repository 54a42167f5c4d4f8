"""What a fresh database needs before anyone uses it: the schema, the category tree, a first admin."""

from __future__ import annotations

from sqlalchemy import Engine

from teahub.db.engine import make_session_factory
from teahub.db.uow import UnitOfWork


def initialize(engine: Engine) -> None:
    """Seed the reference data every teahub has. Idempotent."""
    from teahub.catalog import service as catalog_service
    from teahub.loyalty import service as loyalty_service

    factory = make_session_factory(engine)
    catalog_service.ensure_default_categories(UnitOfWork(factory, actor="system"))
    loyalty_service.ensure_default_programme(UnitOfWork(factory, actor="system"))


def migrate_and_initialize(engine: Engine) -> None:
    from teahub.db import migrate

    migrate.upgrade(engine)
    initialize(engine)
