"""Many counters or channels creating the same person at once end with one customer."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine

from teahub.customers import service
from teahub.customers.schemas import CustomerIn
from teahub.db.engine import make_session_factory
from teahub.db.uow import UnitOfWork
from tests.customers.helpers import counts, events

THREADS = 16
PHONE_FORMATS = ["13812345678", "138 1234 5678", "+86 138-1234-5678", "8613812345678"]


def _all_at_once(engine: Engine, work: Any) -> list[Any]:
    factory = make_session_factory(engine)
    start = threading.Barrier(THREADS)

    def one(n: int) -> Any:
        uow = UnitOfWork(factory, actor=f"test:thread-{n}")
        start.wait()
        return work(uow, n)

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(one, range(THREADS)))


def test_sixteen_concurrent_creates_of_one_phone_end_with_one_customer(engine: Engine, uow: UnitOfWork) -> None:
    results = _all_at_once(engine, lambda u, n: service.create_customer(
        u, CustomerIn(name=f"王芳{n}", phone=PHONE_FORMATS[n % len(PHONE_FORMATS)])))
    ids = {view["id"] for view, _created in results}
    assert len(ids) == 1
    assert sum(created for _view, created in results) == 1
    written = counts(uow)
    assert written["customers"] == 1
    assert written["customer_identities"] == 1
    assert len(events(uow, "customer.created")) == 1


def test_sixteen_concurrent_orders_of_one_marketplace_buyer_resolve_to_one_customer(
        engine: Engine, uow: UnitOfWork) -> None:
    ref = {"name": "淘宝买家", "identities": [{"kind": "taobao", "value": "AAHk5d-EAAeGwJedwSHbQX"}]}

    def resolve(u: UnitOfWork, _n: int) -> int:
        with u:
            info = service.resolve_customer(u, ref)
            u.commit()
            return info.id

    assert len(set(_all_at_once(engine, resolve))) == 1
    assert counts(uow)["customers"] == 1
