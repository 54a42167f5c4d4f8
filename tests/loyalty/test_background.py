"""Through the background runner: a member's points and tier follow their orders without anyone asking."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from teahub import worker
from teahub.scheduling.registry import load_tasks
from tests import factories as f

SKU = "LJ-MQ26-250"
PHONE = "13812345678"


def drain(app: Any) -> None:
    load_tasks()
    for _ in range(10):  # until every subscription has caught up
        summary = worker.run_once(app.state.engine)
        if all(s["state"] != "more" for s in summary["subscriptions"]):
            return


def test_the_worker_earns_points_once_and_moves_the_tier(client: TestClient, app: Any) -> None:
    f.location(client, "BJ01")
    f.product(client, SKU, list_price=68800, member=62800)
    f.receive(client, SKU, 100, unit_cost=30000)
    wang = f.ok(client.post("/api/v1/customers", json={"name": "王芳", "phone": PHONE}), 201)
    drain(app)  # the first pass also runs today's scheduled jobs; get them out of the way
    order = f.ok(f.pos_sale(client, [(SKU, 4)], pay=4 * 62800, phone=PHONE), 201)
    drain(app)
    drain(app)
    answer = f.ok(client.get(f"/api/v1/customers/{wang['id']}/points"))
    assert answer["balance"] == 2512 and len(answer["entries"]) == 1
    assert f.ok(client.get(f"/api/v1/customers/{wang['id']}"))["tier"] == "silver"
    f.ok(client.post(f"/api/v1/orders/{order['id']}/refunds", json={"lines": [{"sku": SKU, "quantity": 3}]}), 201)
    drain(app)
    assert f.ok(client.get(f"/api/v1/customers/{wang['id']}/points"))["balance"] == 628
    assert f.ok(client.get(f"/api/v1/customers/{wang['id']}"))["tier"] == "member"
