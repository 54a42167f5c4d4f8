"""customer name initials: the pinyin initials of each name (张三丰 → "zsf"), for the search box

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:10:18.538420
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_initials', sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_customers_name_initials'), ['name_initials'], unique=False)

    # Existing customers get their initials now; new and renamed ones get them from the model as they are saved.
    from teahub.customers.pinyin import initials_of

    customers = sa.table('customers', sa.column('id', sa.BigInteger), sa.column('name', sa.String),
                         sa.column('name_initials', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(customers.c.id, customers.c.name)).all()
    changes = [{"row_id": row.id, "initials": initials_of(row.name or "")} for row in rows]
    if changes:
        connection.execute(customers.update().where(customers.c.id == sa.bindparam("row_id"))
                           .values(name_initials=sa.bindparam("initials")), changes)


def downgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_name_initials'))
        batch_op.drop_column('name_initials')
