"""`teahub pipeline ...`: jobs of the B2B pipeline to run by hand or from a scheduler (mounted by teahub.cli)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from teahub.cli_support import cli_unit_of_work
from teahub.crm.pipeline import service, tasks

app = typer.Typer(help="The B2B pipeline: leads, opportunities, quotes, tasks.", no_args_is_help=True)



@app.command("expire-quotes")
def expire_quotes() -> None:
    """Mark every sent quote past its validity as expired (emits quote.expired)."""
    with cli_unit_of_work() as uow:
        count = tasks.expire_stale_quotes(uow)
    Console(highlight=False).print(f"{count} quote(s) expired")


@app.command("overdue-tasks")
def overdue_tasks(assignee: Annotated[str | None, typer.Option(help="only this user's")] = None) -> None:
    """Open tasks past their due time, soonest due first."""
    with cli_unit_of_work() as uow:
        rows = service.list_tasks(uow, assignee=assignee, state="overdue", limit=500)
    table = Table("id", "due (UTC)", "assignee", "title")
    for row in rows:
        table.add_row(str(row["id"]), row["due_at"].strftime("%Y-%m-%d %H:%M"), row["assignee"], row["title"])
    Console(highlight=False, soft_wrap=True).print(table if rows else "no overdue tasks")
