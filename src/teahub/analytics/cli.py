"""`teahub crm ...`: RFM segments, lifetime value, what to offer a customer, whose tea is running out.

A Typer app of its own (`app`), mounted by the main CLI. Each command calls one analytics function and
prints a table, or the function's answer as JSON with --json.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from teahub.analytics import clv as clv_
from teahub.analytics import recommendations, repurchase
from teahub.analytics import rfm as rfm_
from teahub.analytics.rules import SEGMENTS
from teahub.cli_support import handles_domain_errors, out
from teahub.config import get_settings
from teahub.db.engine import make_engine, make_session_factory
from teahub.db.uow import UnitOfWork

app = typer.Typer(help="Knowing the customer: RFM segments, lifetime value, recommendations, repurchase due.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False)
F = TypeVar("F", bound=Callable[..., Any])
AsJson = Annotated[bool, typer.Option("--json", help="print the answer as JSON")]


@contextmanager
def _uow() -> Iterator[UnitOfWork]:
    settings = get_settings()
    engine = make_engine(settings.database_url, pool_size=1, max_overflow=0, echo=settings.log_sql)
    try:
        yield UnitOfWork(make_session_factory(engine), actor="cli")
    finally:
        engine.dispose()


def _json(answer: dict[str, Any]) -> None:
    typer.echo(json.dumps(answer, ensure_ascii=False, default=str, indent=2))


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


@app.command()
@handles_domain_errors
def rfm(
    segment: Annotated[str | None, typer.Option(help=f"list this segment's customers: {', '.join(SEGMENTS)}")] = None,
    window_days: Annotated[int, typer.Option(min=1, help="frequency and monetary count this many days")] = 365,
    limit: Annotated[int, typer.Option(min=1, max=500, help="customers listed")] = 20,
    as_json: AsJson = False,
) -> None:
    """Customers by RFM segment; with --segment, that segment's customers and their scores."""
    if segment is not None and segment not in SEGMENTS:
        raise typer.BadParameter(f"one of {', '.join(SEGMENTS)}", param_hint="--segment")
    with _uow() as uow:
        answer = rfm_.rfm_report(uow, window_days=window_days, segment=segment, limit=limit)
    if as_json:
        return _json(answer)
    table = Table("segment", "customers", "share", f"revenue {window_days} d",
                  title=f"RFM of {answer['customers']} customers")
    for s in answer["segments"]:
        table.add_row(s["label"], str(s["customers"]), f"{s['share']:.1%}", _yuan(s["monetary"]))
    out().print(table)
    if segment is not None:
        members = Table("id", "name", "R", "F", "M", "days since", "orders", "revenue", title=SEGMENTS[segment])
        for c in answer["items"]:
            members.add_row(str(c["customer_id"]), escape(c["name"]), str(c["r"]), str(c["f"]), str(c["m"]),
                            str(c["recency_days"]), str(c["frequency"]), _yuan(c["monetary"]))
        out().print(members)


@app.command()
@handles_domain_errors
def clv(
    limit: Annotated[int, typer.Option(min=1, max=500, help="customers listed")] = 20,
    as_json: AsJson = False,
) -> None:
    """The customers of highest lifetime value: historic + predicted gross profit."""
    with _uow() as uow:
        answer = clv_.clv_report(uow, limit=limit)
    if as_json:
        return _json(answer)
    observed = "observed" if answer["churn_observed"] else "assumed"
    table = Table("id", "name", "orders", "revenue", "gross profit", "orders/yr", "predicted", "CLV",
                  title=f"Lifetime value (annual churn {answer['annual_churn']:.0%} {observed}, "
                        f"{answer['expected_years']:.1f} years ahead)")
    for c in answer["items"]:
        table.add_row(str(c["customer_id"]), escape(c["name"]), str(c["orders"]), _yuan(c["revenue"]),
                      _yuan(c["gross_profit"]), str(c["orders_per_year"]), _yuan(c["predicted_value"]),
                      _yuan(c["clv"]))
    out().print(table)


@app.command()
@handles_domain_errors
def recommend(
    customer_id: Annotated[int, typer.Argument(min=1, help="the customer's id")],
    limit: Annotated[int, typer.Option(min=1, max=500, help="items listed")] = 10,
    exclude_days: Annotated[int, typer.Option(min=0, help="leave out what they bought in these days")] = 30,
    as_json: AsJson = False,
) -> None:
    """What to offer a customer now: in stock near them, not just bought."""
    with _uow() as uow:
        answer = recommendations.for_customer(uow, customer_id, limit=limit, exclude_days=exclude_days)
    if as_json:
        return _json(answer)
    table = Table("sku", "name", "why", "because of", "score", "available",
                  title=f"For {escape(answer['name'])} (stock at {', '.join(answer['stock_at']) or 'nowhere'})")
    for r in answer["items"]:
        table.add_row(escape(r["sku"]), escape(r["name"]), r["reason"].replace("_", " "),
                      escape(r["because_sku"] or ""), f"{r['score']:.3f}", str(r["available"]))
    out().print(table)


@app.command("repurchase-due")
@handles_domain_errors
def repurchase_due(
    within_days: Annotated[int, typer.Option(min=0, help="tea likely finished within these days")] = 7,
    overdue_days: Annotated[int, typer.Option(min=0, help="and finished at most these days ago")] = 30,
    limit: Annotated[int, typer.Option(min=1, max=500, help="rows listed")] = 50,
    as_json: AsJson = False,
) -> None:
    """Customers whose tea is likely finished soon: who to remind to buy again."""
    with _uow() as uow:
        answer = repurchase.repurchase_due(uow, within_days=within_days, overdue_days=overdue_days, limit=limit)
    if as_json:
        return _json(answer)
    table = Table("customer", "name", "tea", "bought", "grams", "g/day", "basis", "due", "days left",
                  title=f"Repurchase due: {answer['total']} customer x tea")
    for d in answer["items"]:
        table.add_row(str(d["customer_id"]), escape(d["customer_name"]), escape(d["sku"]),
                      str(d["last_bought_at"])[:10], str(d["grams"]), f"{d['grams_per_day']:.1f}", d["basis"],
                      str(d["due_on"]), str(d["days_left"]))
    out().print(table)
