"""`teahub crm segments ...` and `teahub crm campaigns ...` (mounted under the crm group by teahub.cli)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from teahub.analytics import campaigns as results
from teahub.cli_support import cli_unit_of_work, handles_domain_errors, out
from teahub.crm.campaigns import service

segments_app = typer.Typer(help="Customer segments defined by rules.", no_args_is_help=True)
campaigns_app = typer.Typer(help="Campaigns: coupons or messages to a segment, and their results.",
                            no_args_is_help=True)

AsJson = Annotated[bool, typer.Option("--json", help="print the answer as JSON")]
Id = Annotated[int, typer.Argument(min=1, help="its id")]
Limit = Annotated[int, typer.Option(min=1, max=500, help="rows listed")]


def _json(answer: Any) -> None:
    typer.echo(json.dumps(answer, ensure_ascii=False, default=str, indent=2))


def _yuan(fen: int | None) -> str:
    if fen is None:
        return "-"
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def _outcomes(outcomes: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in outcomes.items() if n) or "none"


# -- segments ----------------------------------------------------------------------------------------------
@segments_app.command("list")
@handles_domain_errors
def list_segments(limit: Limit = 100, as_json: AsJson = False) -> None:
    """Segments by id (read one with `show` for its size)."""
    with cli_unit_of_work() as uow:
        rows = service.list_segments(uow, limit=limit)
    if as_json:
        return _json(rows)
    table = Table("id", "name", "rules", "version", "updated (UTC)")
    for s in rows:
        table.add_row(str(s["id"]), escape(s["name"]), escape(json.dumps(s["rules"], ensure_ascii=False)),
                      str(s["version"]), _when(s["updated_at"]))
    out().print(table if rows else "no segments")


@segments_app.command("show")
@handles_domain_errors
def show_segment(segment_id: Id, members: Limit = 20, as_json: AsJson = False) -> None:
    """A segment, its size now and its first members."""
    with cli_unit_of_work() as uow:
        segment = service.get_segment(uow, segment_id)
        first = service.segment_members(uow, segment_id, limit=members)
    if as_json:
        return _json({**segment, "members": first})
    console = out()
    console.print(f"segment {segment['id']}: {escape(segment['name'])} (version {segment['version']})")
    if segment["description"]:
        console.print(escape(segment["description"]))
    console.print(f"rules: {escape(json.dumps(segment['rules'], ensure_ascii=False))}")
    console.print(f"size: {segment['size']} customer(s)")
    table = Table("id", "name", "tier")
    for m in first:
        table.add_row(str(m["id"]), escape(m["name"]), m["tier"] or "-")
    if first:
        console.print(table)


# -- campaigns ---------------------------------------------------------------------------------------------
@campaigns_app.command("list")
@handles_domain_errors
def list_campaigns(limit: Limit = 100, as_json: AsJson = False) -> None:
    """Campaigns, newest first."""
    with cli_unit_of_work() as uow:
        rows = service.list_campaigns(uow, limit=limit)
    if as_json:
        return _json(rows)
    table = Table("id", "name", "segment", "kind", "offer", "status", "launched (UTC)", "recipients")
    for c in rows:
        offer = c["coupon_code"] if c["kind"] == "coupon" else f"{c['message']['channel']}:{c['message']['template']}"
        table.add_row(str(c["id"]), escape(c["name"]), escape(c["segment"] or str(c["segment_id"])), c["kind"],
                      escape(offer), c["status"], _when(c["launched_at"]), str(c["recipients"]))
    out().print(table if rows else "no campaigns")


@campaigns_app.command("launch")
@handles_domain_errors
def launch(campaign_id: Id, as_json: AsJson = False) -> None:
    """Launch a campaign (or resume a launch that stopped): each recipient gets the coupon or the message once."""
    with cli_unit_of_work() as uow:
        campaign = service.launch_campaign(uow, campaign_id)
    if as_json:
        return _json(campaign)
    out().print(f"campaign {campaign['id']} {escape(campaign['name'])}: {campaign['status']}, "
                f"{campaign['recipients']} recipient(s): {_outcomes(campaign['outcomes'])}"
                + (f", {campaign['pending']} pending" if campaign["pending"] else ""))


@campaigns_app.command("results")
@handles_domain_errors
def show_results(campaign_id: Id, as_json: AsJson = False) -> None:
    """Outcomes, and the orders, revenue and gross profit a campaign brought."""
    with cli_unit_of_work() as uow:
        answer = results.campaign_results(uow, campaign_id)
    if as_json:
        return _json(answer)
    table = Table("figure", "value", title=f"Campaign {answer['campaign_id']}: {escape(answer['name'])} "
                                           f"({answer['kind']}, {answer['status']})")
    rate = answer["conversion_rate"]
    rows = [("recipients", str(answer["recipients"])), ("outcomes", _outcomes(answer["outcomes"])),
            ("reached", str(answer["reached"]))]
    if answer["kind"] == "coupon":
        rows += [("redemptions", str(answer["redemptions"])), ("discount", _yuan(answer["discount"]))]
    else:
        rows += [("attribution", f"{answer['attribution_days']} days, until {_when(answer['attribution_ends_at'])}")]
    rows += [("orders", str(answer["orders"])), ("buyers", str(answer["buyers"])),
             ("revenue", _yuan(answer["revenue"])), ("gross profit", _yuan(answer["gross_profit"])),
             ("conversion", f"{rate:.1%}" if rate is not None else "-")]
    for name, value in rows:
        table.add_row(name, value)
    out().print(table)
