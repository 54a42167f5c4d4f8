"""ERP targets that take orders take their cancellation too (order.cancelled), as new ones do: an order cancelled
in teahub is voided in Kingdee, Odoo and Yonyou U8

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 06:45:00
"""
from __future__ import annotations

import json
from fnmatch import fnmatchcase

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

ERP_KINDS = ("odoo", "kingdee", "yonyou")
CANCELLED = "order.cancelled"


def _covers(patterns: list[str], event_type: str) -> bool:
    return any(fnmatchcase(event_type, p) for p in patterns)  # as sync.rules.matches reads them


def upgrade() -> None:
    connection = op.get_bind()
    targets = sa.table("sync_targets", sa.column("id", sa.BigInteger), sa.column("kind", sa.String),
                       sa.column("event_types", sa.JSON))
    rows = connection.execute(sa.select(targets.c.id, targets.c.event_types)
                              .where(targets.c.kind.in_(ERP_KINDS))).all()
    for target_id, event_types in rows:
        patterns = json.loads(event_types) if isinstance(event_types, str) else list(event_types or [])
        takes_orders = any(p == "*" or p.startswith("order.") for p in patterns)
        if takes_orders and not _covers(patterns, CANCELLED):
            connection.execute(targets.update().where(targets.c.id == target_id)
                               .values(event_types=[*patterns, CANCELLED]))


def downgrade() -> None:
    pass  # the extra event type is harmless to older versions, which ignore cancellations
