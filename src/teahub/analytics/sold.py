"""What every customer report counts: sold orders, their revenue, and who the customer is.

An order is sold once it is paid (or shipped on credit): statuses paid, allocated, shipped, completed. Its
revenue is what its lines earn less what was refunded. The reports read it from the order row
(total - shipping fee - refunded amount), which equals the sum of its lines' net_amount - refunded_amount
(the order's discount is spread over its lines; refunds are paid per line), so the per-customer
aggregates need no join to the lines.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, cast, func, select, text
from sqlalchemy.orm import Session

from teahub.analytics import rules
from teahub.analytics.profit import SOLD
from teahub.customers.models import Customer
from teahub.db.uow import UnitOfWork
from teahub.errors import NotFound
from teahub.sales.models import Order

ORDER_REVENUE: ColumnElement[int] = Order.total - Order.shipping_fee - Order.refunded_amount
IS_SOLD = Order.status.in_(SOLD)


def customer_header(uow: UnitOfWork, customer_id: int) -> dict[str, Any]:
    """Id, name, kind (person, company) and home store of a customer, or NotFound."""
    row = uow.session.execute(
        select(Customer.id, Customer.name, Customer.kind, Customer.home_store).where(Customer.id == customer_id)
    ).first()
    if row is None:
        raise NotFound(f"no customer {customer_id}", field="customer_id")
    return {"customer_id": row.id, "name": row.name, "kind": row.kind, "home_store": row.home_store}


def customer_names(uow: UnitOfWork, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(uow.session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids))).all())


def month_index(session: Session, column: Any) -> ColumnElement[int]:
    """year x 12 + month - 1 of a UTC timestamp column, in China time (UTC+8, no daylight saving)."""
    if session.get_bind().dialect.name == "postgresql":
        local = func.timezone("Asia/Shanghai", column)
        return cast(func.extract("year", local) * 12 + func.extract("month", local) - 1, Integer)
    year = cast(func.strftime("%Y", column, "+8 hours"), Integer)
    month = cast(func.strftime("%m", column, "+8 hours"), Integer)
    return year * 12 + month - 1


def epoch_days(session: Session, column: Any) -> ColumnElement[Any]:
    """A UTC timestamp column as days since 1970-01-01 (a float: cheap to fetch and compare)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", column), Float) / 86400.0
    return func.julianday(column) - 2440587.5


def whole_days(session: Session, later: datetime, column: Any) -> ColumnElement[int]:
    """Whole days from a timestamp column to a later moment (floored), computed in the database so that every
    report counts them alike."""
    span = rules.epoch_day(later) - epoch_days(session, column)
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(span), Integer)
    return cast(span, Integer)  # truncates: the span is never negative here


# Whole-population reports aggregate a million rows: on PostgreSQL give their transaction room to sort and hash
# in memory, and skip JIT compilation (it costs more than it saves on these one-off statements).
_REPORT_SETTINGS = ("SET LOCAL work_mem = '64MB'", "SET LOCAL jit = off")


def for_reports(session: Session) -> None:
    """Tune the current read transaction for a whole-population report (PostgreSQL; nothing on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        for statement in _REPORT_SETTINGS:
            session.execute(text(statement))
