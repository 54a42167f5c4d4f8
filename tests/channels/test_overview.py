"""The operators' overview of the shops: pull checkpoint, stock push state and inbox counts per shop."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from teahub.channels.models import PullCheckpoint, Shop, ShopStock
from teahub.channels.overview import inbox_totals, shops_overview
from teahub.db.uow import UnitOfWork
from tests import factories as f
from tests.channels import helpers as h

VIRTUAL = "youzan/trade_get_virtual_wait_send.json"


def test_overview_shows_each_shops_pull_push_and_inbox(client: TestClient, uow: UnitOfWork) -> None:
    h.warehouse_with(client, {"8001": 10, "TICKET-PARK": 5})
    h.shop(client, "YZ01", "youzan")
    h.shop(client, "YZ02", "youzan")
    assert h.post_order(client, "YZ01", h.real(VIRTUAL)).status_code == 422  # no mapping yet: failed
    f.ok(client.post("/api/v1/shops/YZ01/sku-mappings", json={"platform_sku_id": "450996611",
                                                              "sku": "TICKET-PARK"}), 201)
    f.ok(client.post("/api/v1/shops/YZ01/sku-mappings", json={"outer_code": "A-8001", "sku": "8001"}), 201)
    through = datetime(2026, 11, 11, 1, 30, tzinfo=UTC)
    failed_at = datetime(2026, 11, 11, 1, 31, tzinfo=UTC)
    with uow:
        shop_id = uow.session.scalar(select(Shop.id).where(Shop.code == "YZ01"))
        uow.session.add(PullCheckpoint(shop_id=shop_id, modified_through=through, last_run_at=through,
                                       last_count=3, last_error=None))
        row = uow.session.get(ShopStock, (shop_id, "8001"))
        assert row is not None  # mapping a SKU marks it for a push
        row.last_error, row.last_error_at, row.attempts = "HTTP 503 from the platform", failed_at, 2
        uow.commit()

    overview = shops_overview(uow)

    assert set(overview) == {"YZ01", "YZ02"}
    one = overview["YZ01"]
    assert one["pull"] == {"modified_through": through, "last_run_at": through, "last_count": 3,
                           "last_error": None}
    assert one["push"]["skus"] == 2 and one["push"]["pending"] == 2 and one["push"]["failing"] == 1
    assert one["push"]["last_error"] == "HTTP 503 from the platform"
    assert one["push"]["last_error_at"] == failed_at and one["push"]["last_pushed_at"] is None
    assert one["inbox"] == {"received": 0, "processed": 0, "failed": 1, "oldest_received_at": None}
    two = overview["YZ02"]
    assert two["pull"] is None and two["push"]["skus"] == 0 and two["push"]["last_error"] is None
    assert two["inbox"] == {"received": 0, "processed": 0, "failed": 0, "oldest_received_at": None}
    assert inbox_totals(uow) == {"received": 0, "processed": 0, "failed": 1}
