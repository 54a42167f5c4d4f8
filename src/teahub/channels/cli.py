"""`teahub shops ...` and `teahub channels ...` (mounted by teahub.cli)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from teahub.channels import service
from teahub.channels.schemas import AllocationIn, ShopIn, SkuMappingIn
from teahub.cli_support import cli_unit_of_work, handles_domain_errors, out

shops_app = typer.Typer(help="Shops on the marketplaces and their settings.", no_args_is_help=True)
channels_app = typer.Typer(help="Inbound orders from the marketplaces: inbox, replay, pull.", no_args_is_help=True)


def _print_json(data: Any) -> None:
    out().print_json(json.dumps(data, default=str, ensure_ascii=False))


@shops_app.command("add")
@handles_domain_errors
def add_shop(
    code: str, platform: Annotated[str, typer.Option(help="tmall, taobao, jd, pdd, douyin or youzan")],
    name: Annotated[str, typer.Option()], location: Annotated[str, typer.Option(help="the location it ships from")],
    app_key: Annotated[str, typer.Option()],
    app_secret: Annotated[str, typer.Option(prompt=True, hide_input=True, help="asked for when not given")],
    access_token: Annotated[str | None, typer.Option()] = None,
    api_url: Annotated[str | None, typer.Option(help="the platform's gateway (sandbox); its own by default")] = None,
    ratio: Annotated[str, typer.Option(help="share of available stock shown, 0 to 1")] = "1",
    safety_stock: Annotated[int, typer.Option(min=0)] = 0,
    cap: Annotated[int | None, typer.Option(min=0)] = None,
) -> None:
    """Add a shop; its secret is stored sealed and never shown."""
    data = ShopIn.model_validate({
        "code": code, "platform": platform, "name": name, "location": location, "app_key": app_key,
        "app_secret": app_secret, "access_token": access_token, "api_url": api_url,
        "allocation": AllocationIn(ratio=Decimal(ratio), safety_stock=safety_stock, cap=cap)})
    with cli_unit_of_work() as uow:
        shop = service.create_shop(uow, data)
    out().print(f"shop {escape(shop['code'])} ({shop['platform']}) added, shipping from {escape(shop['location'])}")


@shops_app.command("list")
@handles_domain_errors
def list_shops(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    with cli_unit_of_work() as uow:
        shops = service.list_shops(uow)
    if as_json:
        _print_json(shops)
        return
    table = Table("code", "platform", "name", "location", "ratio", "safety", "cap", "pull", "active")
    for s in shops:
        a = s["allocation"]
        table.add_row(escape(s["code"]), s["platform"], escape(s["name"]), escape(s["location"]), str(a["ratio"]),
                      str(a["safety_stock"]), str(a["cap"] if a["cap"] is not None else "-"),
                      "yes" if s["pull_enabled"] else "no", "yes" if s["active"] else "no")
    out().print(table)


@shops_app.command("map")
@handles_domain_errors
def map_sku(
    shop: str, sku: Annotated[str, typer.Option(help="the teahub SKU")],
    platform_sku_id: Annotated[str | None, typer.Option(help="the platform's SKU id (item id without SKUs)")] = None,
    outer_code: Annotated[str | None, typer.Option(help="the merchant code the platform sends")] = None,
    units: Annotated[int, typer.Option(min=1, help="teahub base units per platform piece")] = 1,
    item_id: Annotated[str | None, typer.Option(help="the platform's item id (num_iid, goods_id) for stock")] = None,
) -> None:
    """Map a platform SKU of a shop to a teahub SKU."""
    data = SkuMappingIn(platform_sku_id=platform_sku_id, outer_code=outer_code, sku=sku, units_per_item=units,
                        item_id=item_id)
    with cli_unit_of_work() as uow:
        mapping = service.add_mapping(uow, shop, data)
    key = mapping["platform_sku_id"] or mapping["outer_code"]
    out().print(f"{escape(shop)}: {escape(key)} → {escape(mapping['sku'])} (mapping {mapping['id']})")


@shops_app.command("mappings")
@handles_domain_errors
def list_mappings(shop: str) -> None:
    with cli_unit_of_work() as uow:
        rows = service.list_mappings(uow, shop)
    table = Table("id", "platform sku id", "outer code", "sku", "units")
    for m in rows:
        table.add_row(str(m["id"]), escape(m["platform_sku_id"] or "-"), escape(m["outer_code"] or "-"),
                      escape(m["sku"]), str(m["units_per_item"]))
    out().print(table)


@shops_app.command("unmap")
@handles_domain_errors
def unmap(shop: str, mapping_id: int) -> None:
    with cli_unit_of_work() as uow:
        service.delete_mapping(uow, shop, mapping_id)
    out().print(f"mapping {mapping_id} of {escape(shop)} removed")


@shops_app.command("stock")
@handles_domain_errors
def stock(shop: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """What the shop shows of each mapped SKU, what was pushed, and what is pending or failing."""
    with cli_unit_of_work() as uow:
        view = service.shop_stock(uow, shop)
    if as_json:
        _print_json(view)
        return
    table = Table("sku", "available", "shows", "pushed", "pushed at", "pending", "last error")
    for i in view["items"]:
        table.add_row(escape(i["sku"]), str(i["available"]), str(i["quantity"]),
                      "-" if i["pushed_quantity"] is None else str(i["pushed_quantity"]),
                      i["pushed_at"].isoformat(timespec="seconds") if i["pushed_at"] else "-",
                      "yes" if i["dirty"] else "no", escape(i["last_error"] or ""))
    out().print(table)


@shops_app.command("resync")
@handles_domain_errors
def resync(shop: str) -> None:
    """Push every mapped SKU's figure to the shop now, changed or not."""
    with cli_unit_of_work() as uow:
        result = service.resync_shop(uow, shop)
    out().print(f"{escape(shop)}: {result['marked']} SKUs, {result['pushed']} pushed ({result['calls']} calls), "
                f"{result['unchanged']} unchanged, {result['failed']} failed")
    if result["failed"]:
        raise typer.Exit(1)


@channels_app.command("reconcile")
@handles_domain_errors
def reconcile(shop: Annotated[str | None, typer.Option(help="one shop; every active shop when omitted")] = None,
              days: Annotated[int, typer.Option(min=1, max=90, help="orders modified in the last N days")] = 3
              ) -> None:
    """Compare each shop's recent orders with teahub's, repair what can be, print what still differs (JSON)."""
    with cli_unit_of_work() as uow:
        results = {shop: service.reconcile_shop(uow, shop, days=days)} if shop else \
            service.reconcile_all(uow, days=days)["shops"]
    _print_json(results)
    if any(r.get("error") or r.get("differences") for r in results.values()):
        raise typer.Exit(1)


@channels_app.command("inbox")
@handles_domain_errors
def inbox(shop: Annotated[str | None, typer.Option()] = None,
          state: Annotated[str | None, typer.Option(help="received, processed or failed")] = None,
          limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
          as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Inbound messages, newest first, with their state and reason."""
    with cli_unit_of_work() as uow:
        rows = service.list_inbox(uow, shop=shop, state=state, limit=limit)
    if as_json:
        _print_json(rows)
        return
    table = Table("id", "shop", "source", "kind", "topic", "order id", "state", "reason")
    for r in rows:
        table.add_row(str(r["id"]), escape(r["shop"]), r["source"], r["kind"], escape(r["topic"] or "-"),
                      escape(r["external_id"] or "-"), r["state"], escape(r["reason"] or r["note"] or ""))
    out().print(table)


@channels_app.command("receive")
@handles_domain_errors
def receive(shop: str, path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Take in one order document (as the platform's order-detail API answers it) from a file."""
    with cli_unit_of_work() as uow:
        outcome = service.receive_order(uow, shop, path.read_bytes(), source="api")
    if outcome.error is not None:
        where = f" ({outcome.error.field})" if outcome.error.field else ""
        out().print(f"inbox {outcome.inbox_id}: failed{escape(where)}: {escape(outcome.error.detail)}")
        raise typer.Exit(1)
    order = outcome.order or {}
    out().print(f"inbox {outcome.inbox_id}: processed; order {order.get('number')} {order.get('status')} "
                f"{order.get('total')} fen")


@channels_app.command("replay")
@handles_domain_errors
def replay(inbox_id: Annotated[int | None, typer.Argument(help="one message; all failed ones when omitted")] = None,
           shop: Annotated[str | None, typer.Option(help="only this shop's failed messages")] = None) -> None:
    """Process failed inbox messages again (after adding a SKU mapping, receiving stock, …)."""
    with cli_unit_of_work() as uow:
        outcomes = [service.replay(uow, inbox_id)] if inbox_id is not None else service.replay_failed(uow, shop=shop)
    for o in outcomes:
        reason = f": {o.error.detail}" if o.error else ""
        out().print(f"inbox {o.inbox_id}: {o.state}{escape(reason)}")
    failed = sum(o.state == "failed" for o in outcomes)
    out().print(f"{len(outcomes)} replayed, {len(outcomes) - failed} processed, {failed} failed")
    if failed:
        raise typer.Exit(1)


@channels_app.command("pull")
@handles_domain_errors
def pull(shop: Annotated[str | None, typer.Option(help="one shop; every active shop when omitted")] = None,
         since: Annotated[str | None, typer.Option(help="from this UTC time (ISO 8601) instead of the checkpoint")]
         = None) -> None:
    """Pull orders modified since each shop's checkpoint from the platforms now."""
    from datetime import datetime

    start = datetime.fromisoformat(since) if since else None
    with cli_unit_of_work() as uow:
        results = {shop: service.pull_shop(uow, shop, since=start)} if shop else service.pull_all(uow)["shops"]
    _print_json(results)
