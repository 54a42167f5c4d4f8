"""`teahub shops stock|resync` and `teahub channels reconcile` against the simulators."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.channels import helpers as h
from tests.channels.live import Sim
from tests.channels.simulators.base import TOKEN
from tests.conftest import DATABASES, fresh_database
from tests.test_cli import Cli

SKU = "LJ-MQ26-250"


@pytest.fixture(params=DATABASES)
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cli]:
    from teahub.bootstrap import initialize

    for url, engine in fresh_database(request.param, tmp_path):
        initialize(engine)
        yield Cli(url, engine)


def test_stock_resync_and_reconcile_from_the_command_line(cli: Cli, sim: Sim) -> None:
    from teahub.catalog import service as catalog
    from teahub.catalog.schemas import ProductIn
    from teahub.inventory import service as inventory
    from teahub.inventory.schemas import LocationIn, ReceiptIn

    server, platforms = sim
    uow = cli.uow()
    inventory.create_location(uow, LocationIn(code="WH01", name="杭州仓", kind="warehouse"))
    catalog.create_product(uow, ProductIn.model_validate({
        "sku": SKU, "name": "明前龙井 250g", "category": "teaware", "unit": "piece", "prices": {"list": 100}}))
    inventory.receive_stock(uow, ReceiptIn(location="WH01", sku=SKU, batch_code="T1", quantity=20, unit_cost=0))
    cli.ok("shops", "add", "PDD1", "--platform", "pdd", "--name", "拼多多店", "--location", "WH01", "--app-key",
           h.APP_KEY, "--app-secret", h.SECRET, "--api-url", server.url("pdd"), "--access-token", TOKEN,
           "--ratio", "0.5", "--safety-stock", "1")
    cli.ok("shops", "map", "PDD1", "--sku", SKU, "--platform-sku-id", "9001", "--item-id", "8001")
    before = cli.ok("shops", "stock", "PDD1").output
    assert SKU in before and "yes" in before  # a new mapping is pending
    resync = cli.ok("shops", "resync", "PDD1")
    assert "1 pushed" in resync.output
    assert platforms["pdd"].stock == [{"goods_id": "8001", "sku_id": "9001", "quantity": 9, "update_type": 1}]
    view = json.loads(cli.ok("shops", "stock", "PDD1", "--json").output)
    assert view["items"][0]["pushed_quantity"] == 9 and view["items"][0]["dirty"] is False
    platforms["pdd"].refuse_stock = 1
    failed = cli("shops", "resync", "PDD1")
    assert failed.exit_code == 1 and "1 failed" in failed.output
    assert "库存更新失败" in cli.ok("shops", "stock", "PDD1").output
    report = json.loads(cli.ok("channels", "reconcile", "--shop", "PDD1", "--days", "1").output)
    assert report["PDD1"]["checked"] == 0 and report["PDD1"]["differences"] == []
