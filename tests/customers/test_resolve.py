"""resolve_customer: how sales turns an order's `customer` object into a customer, inside its transaction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, event

from teahub.customers import service
from teahub.customers.schemas import CustomerIn
from teahub.db.uow import UnitOfWork
from teahub.errors import NotFound, ValidationFailed
from tests.customers.helpers import counts, events


def _new(uow: UnitOfWork, **fields: Any) -> dict[str, Any]:
    view, created = service.create_customer(uow, CustomerIn(**fields))
    assert created
    return view


def test_resolve_by_id_answers_what_sales_needs(uow: UnitOfWork) -> None:
    made = _new(uow, name="某公司", kind="company", credit_limit=500000, payment_terms="monthly")
    info = service.resolve_customer(uow, {"id": made["id"]})
    assert info == service.CustomerInfo(made["id"], "某公司", "company", None, 500000, "monthly")
    with pytest.raises(NotFound) as err:
        service.resolve_customer(uow, {"id": 999999})
    assert err.value.field == "customer.id"


def test_resolve_by_phone_finds_the_customer_in_one_query(uow: UnitOfWork, engine: Engine) -> None:
    made = _new(uow, name="王芳", phone="13812345678")
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        info = service.resolve_customer(uow, {"phone": "138 1234 5678", "name": "别名"})
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert (info.id, info.name, info.tier) == (made["id"], "王芳", "member")
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1, statements


def test_resolve_by_marketplace_identity_creates_once_then_finds(uow: UnitOfWork) -> None:
    ref = {"name": "淘宝买家", "identities": [{"kind": "taobao", "value": "AAHk5d-EAAeG"}]}
    first = service.resolve_customer(uow, ref)
    assert (first.name, first.tier) == ("淘宝买家", None)
    assert service.resolve_customer(uow, ref).id == first.id
    assert counts(uow)["customers"] == 1
    assert len(events(uow, "customer.created")) == 1


def test_resolve_attaches_a_new_identity_to_the_customer_found(uow: UnitOfWork) -> None:
    made = _new(uow, name="王芳", phone="13812345678")
    info = service.resolve_customer(uow, {"phone": "13812345678",
                                          "identities": [{"kind": "wechat_openid", "value": "o6_bmjrPTlm6"}]})
    assert info.id == made["id"]
    assert {"kind": "wechat_openid", "value": "o6_bmjrPTlm6"} in service.get_customer(uow, made["id"])["identities"]


def test_resolve_is_part_of_the_callers_transaction(uow: UnitOfWork) -> None:
    """Sales resolves inside its own `with uow:`; when the order is refused, the new customer goes too."""
    with uow:
        info = service.resolve_customer(uow, {"phone": "13812345678"})
        assert info.id is not None
        # no commit: the order failed
    assert counts(uow)["customers"] == 0
    with uow:
        info = service.resolve_customer(uow, {"phone": "13812345678"})
        uow.commit()
    assert service.get_customer(uow, info.id)["phone"] == "+8613812345678"


@pytest.mark.parametrize("ref, field", [
    ({"phone": "12345"}, "customer.phone"),
    ({"email": "nope"}, "customer.email"),
    ({"identities": [{"kind": "pdd", "value": "1****5"}]}, "customer.identities.0.value"),
    ({"identities": [{"kind": "fax", "value": "x"}]}, "customer.identities.0.kind"),
    ({"id": "seven"}, "customer.id"),
    ({"name": "只有名字"}, "customer"),
    ({}, "customer"),
])
def test_a_bad_reference_names_the_field_under_customer_and_writes_nothing(
        uow: UnitOfWork, ref: dict[str, Any], field: str) -> None:
    before = counts(uow)
    with pytest.raises(ValidationFailed) as err:
        service.resolve_customer(uow, ref)
    assert err.value.field == field
    assert counts(uow) == before


def test_lock_customer_refuses_an_unknown_customer(uow: UnitOfWork) -> None:
    made = _new(uow, name="某公司", kind="company")
    with uow:
        service.lock_customer(uow, made["id"])
    with pytest.raises(NotFound), uow:
        service.lock_customer(uow, 999999)
