"""`teahub crm care ...` (mounted under the crm group by teahub.cli): run the daily rules, show the rules'
settings, list queued messages."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from teahub.cli_support import cli_unit_of_work, handles_domain_errors, out
from teahub.crm.care import service
from teahub.crm.care.rules import DAILY_RULES, MESSAGE_STATUSES, OUTCOMES

app = typer.Typer(help="Care rules: thank-you, birthday, repurchase due, win-back, CSAT survey messages.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False)
AsJson = Annotated[bool, typer.Option("--json", help="print the answer as JSON")]


def _json(answer: Any) -> None:
    typer.echo(json.dumps(answer, ensure_ascii=False, default=str, indent=2))


@app.command()
@handles_domain_errors
def run(
    rule: Annotated[str | None, typer.Option(help=f"only this daily rule: {', '.join(DAILY_RULES)}")] = None,
    as_json: AsJson = False,
) -> None:
    """Run the daily care rules now; a message already queued for the same cause is not queued again."""
    with cli_unit_of_work() as uow:
        answer = service.run_daily(uow, only=rule)
    if as_json:
        return _json(answer)
    table = Table("rule", "enabled", *OUTCOMES, title=f"Care rules as of {answer['as_of'][:16]} UTC")
    for name, counts in answer["rules"].items():
        table.add_row(name, "yes" if counts["enabled"] else "no", *(str(counts[o]) for o in OUTCOMES))
    out().print(table)


@app.command("rules")
@handles_domain_errors
def rules_(as_json: AsJson = False) -> None:
    """The care rules and the frequency cap in force."""
    with cli_unit_of_work() as uow:
        rows, cap = service.list_rules(uow), service.get_policy(uow)
    if as_json:
        return _json({"rules": rows, "policy": cap})
    table = Table("rule", "enabled", "channel", "template", "days", "trigger",
                  title=f"Care rules (at most {cap['max_messages']} messages per customer "
                        f"in {cap['window_days']} days)")
    for r in rows:
        table.add_row(r["name"], "yes" if r["enabled"] else "no", r["channel"], escape(r["template"]),
                      "" if r["days"] is None else str(r["days"]), escape(r["trigger"]))
    out().print(table)


@app.command()
@handles_domain_errors
def messages(
    customer: Annotated[int | None, typer.Option(min=1, help="only this customer's")] = None,
    status: Annotated[str | None, typer.Option(help=f"only those {' / '.join(MESSAGE_STATUSES)}")] = None,
    source: Annotated[str | None, typer.Option(help="only from this source, e.g. care:birthday")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="messages listed (the latest)")] = 50,
    as_json: AsJson = False,
) -> None:
    """Outgoing customer messages, oldest first."""
    with cli_unit_of_work() as uow:
        rows = service.list_messages(uow, customer_id=customer, status=status, source=source, limit=limit,
                                     newest_first=True)
    rows.reverse()
    if as_json:
        return _json(rows)
    if not rows:
        out().print("no messages")
        return None
    table = Table("id", "queued (UTC)", "customer", "channel", "template", "source", "status")
    for m in rows:
        table.add_row(str(m["id"]), m["created_at"].strftime("%Y-%m-%d %H:%M"), str(m["customer_id"]),
                      m["channel"], escape(m["template"]), escape(m["source"]), m["status"])
    out().print(table)
    return None
