"""audit entity ids up to 160 characters: a composite id such as SKU@location (64 + 1 + 32) did not fit in 64

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 03:02:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.alter_column('entity_id', existing_type=sa.String(length=64), type_=sa.String(length=160),
                              existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.alter_column('entity_id', existing_type=sa.String(length=160), type_=sa.String(length=64),
                              existing_nullable=False)
