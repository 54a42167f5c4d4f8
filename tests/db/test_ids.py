"""Many new rows get their ids up front on PostgreSQL (from their sequence), in the order they were made, and the
rows written later still get fresh ones; SQLite gives ids at insert as before."""

from __future__ import annotations

from sqlalchemy import select

from teahub.customers.models import Customer
from teahub.db.ids import MANY, assign_ids
from teahub.db.uow import UnitOfWork


def test_many_new_rows_get_ids_in_the_order_they_were_made_and_later_rows_fresh_ones(uow: UnitOfWork) -> None:
    names = [f"茶友 {i:02d}" for i in range(MANY + 5)]
    with uow:
        made = [Customer(name=name) for name in names]
        uow.session.add_all(made)
        assign_ids(uow.session)
        given_up_front = [customer.id for customer in made]
        postgresql = uow.session.get_bind().dialect.name == "postgresql"
        uow.commit()
    if postgresql:
        assert None not in given_up_front
        assert given_up_front == sorted(given_up_front)
    else:
        assert given_up_front == [None] * len(names)
    with uow:
        uow.session.add(Customer(name="后来的茶友"))  # one row: the database gives its id at insert
        uow.commit()
    with uow.reading():
        rows = uow.session.execute(select(Customer.id, Customer.name).order_by(Customer.id)).all()
    assert [name for _, name in rows] == [*names, "后来的茶友"]
    assert len({row_id for row_id, _ in rows}) == len(rows)


def test_a_few_new_rows_are_left_to_the_database(uow: UnitOfWork) -> None:
    with uow:
        few = [Customer(name=f"茶友 {i}") for i in range(MANY - 1)]
        uow.session.add_all(few)
        assign_ids(uow.session)
        assert [customer.id for customer in few] == [None] * len(few)
        uow.commit()
    assert all(customer.id is not None for customer in few)
