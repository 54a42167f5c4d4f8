"""personal data sealed at rest: identities, contacts, birthday and a new address; keyed hash indexes

Existing clear values are sealed with the configured data key (TEAHUB_DATA_KEY or the key file) in this
migration, so it needs the same key as the application that will read them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:10:00
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import op

from teahub.db.sealing import INDEX_CHARS, blind_index, seal, unseal

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def _rewrite(table: str, columns: dict[str, str], change) -> None:  # type: ignore[no-untyped-def]
    """Apply `change(purpose, value)` to every non-null value of `columns` ({column: purpose}) of `table`."""
    conn = op.get_bind()
    t = sa.table(table, sa.column("id"), *(sa.column(c) for c in columns))
    rows = conn.execute(sa.select(t.c.id, *(t.c[c] for c in columns))).all()
    for row in rows:
        values = {c: change(p, getattr(row, c)) for c, p in columns.items() if getattr(row, c) is not None}
        if values:
            conn.execute(t.update().where(t.c.id == row.id).values(**values))


def upgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('birth_month', sa.SmallInteger(), nullable=True))
        batch_op.alter_column('birthday', existing_type=sa.Date(), type_=sa.Text(), existing_nullable=True,
                              postgresql_using='birthday::text')
        batch_op.create_index(batch_op.f('ix_customers_birth_month'), ['birth_month'], unique=False)
        batch_op.create_check_constraint('birth_month', 'birth_month is null or birth_month between 1 and 12')

    with op.batch_alter_table('customer_identities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('value_hash', sa.String(length=INDEX_CHARS), nullable=True))
        batch_op.add_column(sa.Column('last4_hash', sa.String(length=INDEX_CHARS), nullable=True))
        batch_op.alter_column('value', existing_type=sa.String(length=128), type_=sa.Text(), existing_nullable=False)
        batch_op.drop_constraint('uq_customer_identities_kind_value', type_='unique')
        batch_op.drop_index('ix_customer_identities_phone_last4')
        batch_op.drop_column('phone_last4')

    with op.batch_alter_table('customer_contacts', schema=None) as batch_op:
        batch_op.alter_column('phone', existing_type=sa.String(length=32), type_=sa.Text(), existing_nullable=True)
        batch_op.alter_column('email', existing_type=sa.String(length=128), type_=sa.Text(), existing_nullable=True)

    conn = op.get_bind()
    customers = sa.table('customers', sa.column('id'), sa.column('birthday'), sa.column('birth_month'))
    for row in conn.execute(sa.select(customers.c.id, customers.c.birthday)
                            .where(customers.c.birthday.is_not(None))).all():
        day = date.fromisoformat(str(row.birthday)[:10])
        conn.execute(customers.update().where(customers.c.id == row.id)
                     .values(birthday=seal('customer.birthday', day.isoformat()), birth_month=day.month))

    identities = sa.table('customer_identities', sa.column('id'), sa.column('kind'), sa.column('value'),
                          sa.column('value_hash'), sa.column('last4_hash'))
    for row in conn.execute(sa.select(identities.c.id, identities.c.kind, identities.c.value)).all():
        conn.execute(identities.update().where(identities.c.id == row.id).values(
            value=seal('customer.identity', row.value),
            value_hash=blind_index('identity', f'{row.kind}:{row.value}'),
            last4_hash=blind_index('phone.last4', row.value[-4:]) if row.kind == 'phone' else None))

    _rewrite('customer_contacts', {'phone': 'contact.phone', 'email': 'contact.email'}, seal)

    with op.batch_alter_table('crm_leads', schema=None) as batch_op:
        batch_op.alter_column('phone', existing_type=sa.String(length=32), type_=sa.Text(), existing_nullable=True)
        batch_op.alter_column('email', existing_type=sa.String(length=128), type_=sa.Text(), existing_nullable=True)
        batch_op.add_column(sa.Column('phone_hash', sa.String(length=INDEX_CHARS), nullable=True))
        batch_op.add_column(sa.Column('email_hash', sa.String(length=INDEX_CHARS), nullable=True))
        batch_op.create_index(batch_op.f('ix_crm_leads_phone_hash'), ['phone_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_leads_email_hash'), ['email_hash'], unique=False)
    leads = sa.table('crm_leads', sa.column('id'), sa.column('phone'), sa.column('email'), sa.column('phone_hash'),
                     sa.column('email_hash'))
    for row in conn.execute(sa.select(leads.c.id, leads.c.phone, leads.c.email)).all():
        values = {}
        for kind in ('phone', 'email'):
            clear = getattr(row, kind)
            if clear is not None:
                values[kind] = seal(f'lead.{kind}', clear)
                values[f'{kind}_hash'] = blind_index('lead', f'{kind}:{clear}')
        if values:
            conn.execute(leads.update().where(leads.c.id == row.id).values(**values))

    with op.batch_alter_table('customer_identities', schema=None) as batch_op:
        batch_op.alter_column('value_hash', existing_type=sa.String(length=INDEX_CHARS), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_customer_identities_kind_value_hash'),
                                          ['kind', 'value_hash'])
        batch_op.create_index(batch_op.f('ix_customer_identities_last4_hash'), ['last4_hash'], unique=False)


def downgrade() -> None:
    _rewrite('crm_leads', {'phone': 'lead.phone', 'email': 'lead.email'}, unseal)
    with op.batch_alter_table('crm_leads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crm_leads_email_hash'))
        batch_op.drop_index(batch_op.f('ix_crm_leads_phone_hash'))
        batch_op.drop_column('email_hash')
        batch_op.drop_column('phone_hash')
        batch_op.alter_column('email', existing_type=sa.Text(), type_=sa.String(length=128), existing_nullable=True)
        batch_op.alter_column('phone', existing_type=sa.Text(), type_=sa.String(length=32), existing_nullable=True)

    _rewrite('customer_contacts', {'phone': 'contact.phone', 'email': 'contact.email'}, unseal)
    _rewrite('customer_identities', {'value': 'customer.identity'}, unseal)
    _rewrite('customers', {'birthday': 'customer.birthday'}, unseal)

    with op.batch_alter_table('customer_contacts', schema=None) as batch_op:
        batch_op.alter_column('email', existing_type=sa.Text(), type_=sa.String(length=128), existing_nullable=True)
        batch_op.alter_column('phone', existing_type=sa.Text(), type_=sa.String(length=32), existing_nullable=True)

    with op.batch_alter_table('customer_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_identities_last4_hash'))
        batch_op.drop_constraint(batch_op.f('uq_customer_identities_kind_value_hash'), type_='unique')
        batch_op.add_column(sa.Column('phone_last4', sa.String(length=4), nullable=True))
        batch_op.alter_column('value', existing_type=sa.Text(), type_=sa.String(length=128), existing_nullable=False)
        batch_op.drop_column('last4_hash')
        batch_op.drop_column('value_hash')
    identities = sa.table('customer_identities', sa.column('id'), sa.column('kind'), sa.column('value'),
                          sa.column('phone_last4'))
    op.get_bind().execute(identities.update().where(identities.c.kind == 'phone')
                          .values(phone_last4=sa.func.substr(identities.c.value, sa.func.length(identities.c.value) - 3)))
    with op.batch_alter_table('customer_identities', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_customer_identities_kind_value', ['kind', 'value'])
        batch_op.create_index('ix_customer_identities_phone_last4', ['phone_last4'], unique=False)

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_customers_birth_month'), type_='check')
        batch_op.drop_index(batch_op.f('ix_customers_birth_month'))
        batch_op.alter_column('birthday', existing_type=sa.Text(), type_=sa.Date(), existing_nullable=True,
                              postgresql_using='birthday::date')
        batch_op.drop_column('birth_month')
        batch_op.drop_column('address')
