"""`teahub shops` / `teahub channels` commands, and twins arriving at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests import factories as f
from tests.channels import helpers as h
from tests.conftest import DATABASES, fresh_database
from tests.test_cli import Cli


@pytest.fixture(params=DATABASES)
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cli]:
    # The tables as the models define them (`teahub init` runs the migrations, which follow these models).
    from teahub.bootstrap import initialize

    for url, engine in fresh_database(request.param, tmp_path):
        initialize(engine)
        yield Cli(url, engine)


def test_shops_and_replay_from_the_command_line(cli: Cli, tmp_path: Path) -> None:
    from teahub.catalog import service as catalog
    from teahub.catalog.schemas import ProductIn
    from teahub.inventory import service as inventory
    from teahub.inventory.schemas import LocationIn, ReceiptIn

    uow = cli.uow()
    inventory.create_location(uow, LocationIn(code="WH01", name="杭州仓", kind="warehouse"))
    catalog.create_product(uow, ProductIn.model_validate({
        "sku": "TICKET-PARK", "name": "门票", "category": "teaware", "unit": "piece", "prices": {"list": 1}}))
    inventory.receive_stock(uow, ReceiptIn(location="WH01", sku="TICKET-PARK", batch_code="T1", quantity=5,
                                           unit_cost=0))
    added = cli.ok("shops", "add", "YZ01", "--platform", "youzan", "--name", "有赞微商城", "--location", "WH01",
                   "--app-key", h.APP_KEY, "--app-secret", h.SECRET, "--ratio", "0.5", "--safety-stock", "2")
    assert "YZ01" in added.output and h.SECRET not in added.output
    listed = cli.ok("shops", "list")
    assert "YZ01" in listed.output and "0.5" in listed.output and h.SECRET not in listed.output
    document = tmp_path / "virtual.json"
    document.write_bytes(h.real("youzan/trade_get_virtual_wait_send.json"))
    failed = cli("channels", "receive", "YZ01", str(document))
    assert failed.exit_code == 1 and "450996611" in failed.output
    assert "failed" in cli.ok("channels", "inbox", "--shop", "YZ01").output
    cli.ok("shops", "map", "YZ01", "--sku", "TICKET-PARK", "--platform-sku-id", "450996611")
    replayed = cli.ok("channels", "replay", "--shop", "YZ01")
    assert "1 replayed, 1 processed, 0 failed" in replayed.output


def test_the_same_push_at_the_same_moment_has_one_effect(client: TestClient) -> None:
    h.warehouse_with(client, {"8001": 10, "8002": 10})
    h.shop(client, "YZ01", "youzan")
    import json

    data = json.loads(h.real("youzan/trade_get_closed_partly_refunded.json"))["data"]
    answers: list[int] = []

    def send() -> None:
        answers.append(h.youzan_push(client, "YZ01", data, version=1553567396, msg_id="same").status_code)

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [200, 200, 200]
    [summary] = h.orders(client, "youzan")
    order = f.ok(client.get(f"/api/v1/orders/{summary['id']}"))
    assert order["refunded_amount"] == 100 and len(order["refunds"]) == 2
    assert [m["state"] for m in h.inbox(client, "YZ01")] == ["processed"]
    assert f.stock(client, "8001", "WH01")["on_hand"] == 7
