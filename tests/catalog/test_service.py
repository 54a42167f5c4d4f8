"""The catalog service as other capabilities call it: product facts, upsert for imports, transactions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from teahub.bootstrap import initialize
from teahub.catalog import service
from teahub.catalog.rules import Component, price_for
from teahub.catalog.schemas import ProductIn, ProductPatch
from teahub.db.engine import make_session_factory
from teahub.db.outbox import OutboxEvent
from teahub.db.uow import UnitOfWork
from teahub.errors import Conflict, ValidationFailed
from tests.catalog.factories import longjing_can, loose_tea, teaware


@pytest.fixture
def catalog(engine: Engine, uow: UnitOfWork) -> UnitOfWork:
    initialize(engine)
    service.create_product(uow, ProductIn.model_validate(longjing_can()))
    service.create_product(uow, ProductIn.model_validate(loose_tea()))
    service.create_product(uow, ProductIn.model_validate(teaware(sku="CAKE-2019", category="puerh_raw")))
    service.create_product(uow, ProductIn.model_validate({
        "sku": "BOX", "name": "礼盒", "category": "giftbox", "unit": "piece", "prices": {"list": 99900},
        "components": [{"sku": "TGY-AX-QX-L", "quantity": 125}, {"sku": "LJ-MQ26-250", "quantity": 2}]}))
    return uow


@contextmanager
def count_queries(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def count_events(uow: UnitOfWork) -> int:
    with uow.reading():
        return int(uow.session.scalar(select(func.count()).select_from(OutboxEvent)) or 0)


def test_get_products_answers_the_facts_other_capabilities_need(catalog: UnitOfWork) -> None:
    infos = service.get_products(catalog, ["LJ-MQ26-250", "TGY-AX-QX-L", "CAKE-2019", "BOX", "NOPE"])
    assert set(infos) == {"LJ-MQ26-250", "TGY-AX-QX-L", "CAKE-2019", "BOX"}
    loose = infos["TGY-AX-QX-L"]
    assert (loose.unit, loose.price_basis, loose.list_price, loose.category) == ("g", 500, 52000, "oolong")
    assert loose.ages is False
    assert loose.shelf_life_days == 720
    assert infos["CAKE-2019"].ages is True
    assert infos["LJ-MQ26-250"].member_price == 62800
    box = infos["BOX"]
    assert box.is_gift_box is True
    assert box.components == (Component(infos["LJ-MQ26-250"].id, "LJ-MQ26-250", 2),
                              Component(loose.id, "TGY-AX-QX-L", 125))
    assert price_for(infos["LJ-MQ26-250"], "vip", datetime.now(UTC)) == (62800, "member")


def test_get_products_by_id_answers_the_same_facts(catalog: UnitOfWork) -> None:
    by_sku = service.get_products(catalog, ["LJ-MQ26-250", "BOX"])
    by_id = service.get_products_by_id(catalog, [p.id for p in by_sku.values()] + [999_999])
    assert by_id == {p.id: p for p in by_sku.values()}
    assert service.get_products_by_id(catalog, []) == {}


def test_get_products_takes_at_most_two_queries(catalog: UnitOfWork, engine: Engine) -> None:
    with count_queries(engine) as plain:
        service.get_products(catalog, ["LJ-MQ26-250", "TGY-AX-QX-L", "CAKE-2019"])
    assert len(plain) == 1
    with count_queries(engine) as with_box:
        service.get_products(catalog, ["LJ-MQ26-250", "BOX"])
    assert len(with_box) == 2


def test_get_products_reads_inside_the_callers_transaction(catalog: UnitOfWork) -> None:
    with catalog:
        service.update_product(catalog, "LJ-MQ26-250", ProductPatch(active=False))
        assert service.get_products(catalog, ["LJ-MQ26-250"])["LJ-MQ26-250"].active is False
        # the outer transaction is left without committing: nothing of it stays
    assert service.get_products(catalog, ["LJ-MQ26-250"])["LJ-MQ26-250"].active is True


def test_a_service_call_inside_another_services_transaction_commits_with_it(catalog: UnitOfWork) -> None:
    events_before = count_events(catalog)
    with pytest.raises(RuntimeError), catalog:
        service.create_product(catalog, ProductIn.model_validate(teaware(sku="NEW")))
        raise RuntimeError("the outer use case fails after the catalog call")
    assert service.get_products(catalog, ["NEW"]) == {}
    assert count_events(catalog) == events_before
    with catalog:
        service.create_product(catalog, ProductIn.model_validate(teaware(sku="NEW")))
        catalog.commit()
    assert "NEW" in service.get_products(catalog, ["NEW"])


def test_upsert_creates_then_updates_by_sku(catalog: UnitOfWork) -> None:
    created, was_created = service.upsert_product(catalog, ProductIn.model_validate(teaware(sku="CUP")))
    assert was_created is True
    assert created["version"] == 1
    updated, was_created = service.upsert_product(
        catalog, ProductIn.model_validate(teaware(sku="CUP", prices={"list": 19800})))
    assert was_created is False
    assert updated["prices"]["list"] == 19800
    assert updated["version"] == 2
    assert updated["id"] == created["id"]


def test_upsert_keeps_optional_parts_the_import_does_not_carry(catalog: UnitOfWork) -> None:
    existing = service.get_product(catalog, "TGY-AX-QX-L")
    view, created = service.upsert_product(catalog, ProductIn.model_validate({
        "sku": "TGY-AX-QX-L", "name": "安溪铁观音 清香型", "category": "oolong", "unit": "g",
        "prices": {"list": 56000}}))
    assert created is False
    assert view["tea"] == existing["tea"]
    assert view["name_en"] == existing["name_en"]
    assert view["price_basis"] == 500
    assert view["prices"]["list"] == 56000
    box, _ = service.upsert_product(catalog, ProductIn.model_validate({
        "sku": "BOX", "name": "礼盒 2026", "category": "giftbox", "unit": "piece", "prices": {"list": 99900}}))
    assert len(box["components"]) == 2


def test_upsert_of_an_unchanged_row_records_nothing(catalog: UnitOfWork) -> None:
    before = count_events(catalog)
    view, created = service.upsert_product(catalog, ProductIn.model_validate(longjing_can()))
    assert created is False
    assert view["version"] == 1
    assert count_events(catalog) == before


def test_upsert_refuses_what_create_refuses(catalog: UnitOfWork) -> None:
    with pytest.raises(ValidationFailed) as err:
        service.upsert_product(catalog, ProductIn.model_validate(longjing_can(category="coffee")))
    assert err.value.field == "category"
    with pytest.raises(ValidationFailed) as err:
        service.upsert_product(catalog, ProductIn.model_validate(teaware(sku="X", price_basis=2)))
    assert err.value.field == "price_basis"


def test_create_of_an_existing_sku_is_a_conflict(catalog: UnitOfWork) -> None:
    with pytest.raises(Conflict) as err:
        service.create_product(catalog, ProductIn.model_validate(longjing_can()))
    assert err.value.field == "sku"


def test_concurrent_changes_of_one_product_get_distinct_versions(catalog: UnitOfWork, engine: Engine) -> None:
    factory = make_session_factory(engine)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def change(i: int) -> None:
        try:
            start.wait()
            service.update_product(UnitOfWork(factory, actor=f"t{i}"), "LJ-MQ26-250",
                                   ProductPatch.model_validate({"prices": {"vip": 50000 + i}}))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=change, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    product = service.get_product(catalog, "LJ-MQ26-250")
    assert product["version"] == 9
    with catalog.reading():
        versions = list(catalog.session.scalars(
            select(OutboxEvent.version).where(OutboxEvent.aggregate_type == "product",
                                              OutboxEvent.aggregate_id == str(product["id"]))
            .order_by(OutboxEvent.version)))
    assert versions == list(range(1, 10))
