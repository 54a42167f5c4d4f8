"""The same request sent many times at once makes one order, whoever wins the race."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine

from teahub.db.engine import make_session_factory
from teahub.db.uow import UnitOfWork
from teahub.inventory import service as inventory
from teahub.sales import service as sales
from teahub.sales.schemas import OrderIn
from teahub.sales.views import list_orders
from tests.sales.test_no_overselling import SKU, arrange

COPIES = 12


def race(engine: Engine, order: OrderIn, key: str | None) -> tuple[Counter[int], set[int]]:
    factory = make_session_factory(engine)
    barrier = threading.Barrier(COPIES)

    def send(_: int) -> tuple[int, int]:
        barrier.wait()
        view, status = sales.place_order(UnitOfWork(factory, actor="user:pos"), order, caller="user:pos",
                                         idempotency_key=key)
        return status, view["id"]

    with ThreadPoolExecutor(COPIES) as pool:
        answers = list(pool.map(send, range(COPIES)))
    return Counter(status for status, _ in answers), {order_id for _, order_id in answers}


def test_one_idempotency_key_sent_concurrently_makes_one_order(engine: Engine) -> None:
    uow = arrange(engine)
    order = OrderIn.model_validate({"channel": "pos", "location": "BJ01", "lines": [{"sku": SKU, "quantity": 1}],
                                    "payments": [{"method": "cash", "amount": 68800}]})
    statuses, ids = race(engine, order, "till-7-sale-42")
    assert len(ids) == 1
    assert statuses == {201: COPIES}  # every copy gets the first answer again
    assert len(list_orders(uow)) == 1
    assert inventory.stock_levels(uow, sku=SKU, location="BJ01")[0]["on_hand"] == 9


def test_one_channel_order_pushed_concurrently_is_stored_once(engine: Engine) -> None:
    uow = arrange(engine)
    order = OrderIn.model_validate({"channel": "jd", "external_id": "301234567890", "status": "paid",
                                    "platform_modified_at": "2026-11-20T10:00:00Z",
                                    "lines": [{"sku": SKU, "quantity": 2, "unit_price": 60000}]})
    statuses, ids = race(engine, order, None)
    assert len(ids) == 1
    assert statuses[201] == 1 and statuses[200] == COPIES - 1
    assert inventory.stock_levels(uow, sku=SKU, location="WH01")[0]["reserved"] == 2
