"""The `teahub` command: set up a database, load demo data, serve, manage users and tokens, import files.

Thin on purpose: each command calls a service (or `teahub.imports`) and prints the answer with Rich.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine

from teahub.analytics.cli import app as crm_app
from teahub.channels.cli import channels_app, shops_app
from teahub.cli_support import database, err, handles_domain_errors, unit_of_work
from teahub.crm.campaigns.cli import campaigns_app, segments_app
from teahub.crm.care.cli import app as care_app
from teahub.crm.pipeline.cli import app as pipeline_app
from teahub.errors import Conflict
from teahub.scheduling.cli import app as worker_app
from teahub.sync.cli import app as sync_app

app = typer.Typer(help="teahub: one system of record for a tea retailer.", no_args_is_help=True,
                  pretty_exceptions_show_locals=False)
user_app = typer.Typer(help="Users, roles and store scope.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
import_app = typer.Typer(help="Import products, customers or stock receipts from .csv or .xlsx.",
                         no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(import_app, name="import")
app.add_typer(worker_app, name="worker", help="The background worker: schedules and reactions to events.")
app.add_typer(pipeline_app, name="pipeline", help="The B2B pipeline: quotes and tasks.")
app.add_typer(crm_app, name="crm", help="Knowing the customer: RFM, lifetime value, recommendations, repurchase.")
app.add_typer(shops_app, name="shops")
app.add_typer(channels_app, name="channels")
app.add_typer(sync_app, name="sync")
crm_app.add_typer(segments_app, name="segments")
crm_app.add_typer(campaigns_app, name="campaigns")
crm_app.add_typer(care_app, name="care")

F = TypeVar("F", bound=Callable[..., Any])


def out() -> Console:
    return Console(highlight=False, soft_wrap=True)


def read_password() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise typer.BadParameter("no password on stdin", param_hint="--password-stdin")
    return password


# -- set-up ---------------------------------------------------------------------------------------
def _init(engine: Engine) -> None:
    from teahub import bootstrap
    from teahub.auth import service as auth

    bootstrap.migrate_and_initialize(engine)
    console = out()
    console.print(f"Database ready: {engine.url.render_as_string(hide_password=True)}", markup=False)
    if auth.list_users(unit_of_work(engine)):
        return
    try:
        auth.add_user(unit_of_work(engine), "admin", "admin")
    except Conflict:
        return  # another `teahub init` made it a moment ago
    console.print("Created user [bold]admin[/bold] (role admin, no password yet).")
    console.print("  set a password:  echo 'a-long-secret' | teahub user passwd admin --password-stdin")
    console.print("  get an API token: teahub token create admin")


@app.command()
@handles_domain_errors
def init() -> None:
    """Create or upgrade the schema, seed reference data and a first admin user. Safe to run again."""
    with database() as engine:
        _init(engine)


@app.command()
@handles_domain_errors
def demo(
    scale: Annotated[int, typer.Option(min=1, help="multiply the amount of demo data")] = 1,
    seed: Annotated[int, typer.Option(help="random seed: the same seed gives the same data")] = 7,
) -> None:
    """Initialize, then load demo data (products, stock, customers, orders) into an empty catalog."""
    from teahub.demo import load_demo

    with database() as engine:
        _init(engine)
        with err().status("loading demo data…"):
            counts = load_demo(engine, scale=scale, seed=seed)
    console = out()
    if counts.get("skipped"):
        console.print("The database already has products: demo data not loaded.")
        return
    table = Table("loaded", "count", title="Demo data")
    for name, count in counts.items():
        table.add_row(str(name), str(count))
    console.print(table)


@app.command()
def keygen() -> None:
    """Print a new data key for TEAHUB_DATA_KEY (seals customers' phone, email, address and birthday).
    Keep it with the database's backups: without it those fields cannot be read."""
    from teahub.db.sealing import new_key_text

    typer.echo(new_key_text())


@app.command()
def backup(target: Annotated[Path, typer.Argument(help="the backup file to write (must not exist)")]) -> None:
    """Copy a SQLite database while teahub runs (SQLite's online backup: a consistent snapshot).
    For PostgreSQL use pg_dump (see README)."""
    import sqlite3

    from teahub.config import get_settings
    from teahub.db.engine import make_engine

    engine = make_engine(get_settings().database_url)
    if engine.dialect.name != "sqlite" or not engine.url.database:
        err().print("This database is not a SQLite file: back it up with pg_dump -Fc (see README).")
        raise typer.Exit(2)
    if target.exists():
        err().print(f"{target} exists already: give a new file name.", markup=False)
        raise typer.Exit(2)
    source = sqlite3.connect(f"file:{engine.url.database}?mode=ro", uri=True)
    try:
        with sqlite3.connect(target) as copy:
            source.backup(copy)
        copy.close()
    finally:
        source.close()
    out().print(f"Backed up {engine.url.database} to {target} ({target.stat().st_size:,} bytes).", markup=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="worker processes")] = 1,
    reload: Annotated[bool, typer.Option("--reload", help="restart on code changes (development)")] = False,
    background: Annotated[bool, typer.Option(
        "--background/--no-background",
        help="also run the background worker (schedules, reactions to events) in this process; turn it off "
             "when `teahub worker run` runs separately")] = True,
    access_log: Annotated[bool, typer.Option(
        "--access-log/--no-access-log",
        help="a line per request on standard output; turn it off behind a proxy that logs requests already")] = True,
) -> None:
    """Serve the API and web UI with uvicorn."""
    import os

    import uvicorn

    # The setting reaches uvicorn's worker processes through their environment.
    os.environ["TEAHUB_EMBEDDED_WORKER"] = "1" if background else "0"
    uvicorn.run("teahub.asgi:app", host=host, port=port, workers=workers, reload=reload, access_log=access_log)


# -- users and tokens -----------------------------------------------------------------------------
@user_app.command("add")
@handles_domain_errors
def user_add(
    name: Annotated[str, typer.Argument(help="user name")],
    role: Annotated[str, typer.Option(help="admin, manager, clerk or integration")],
    store: Annotated[list[str] | None, typer.Option(help="a store (location code) the user acts for; "
                                                         "repeat for several")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                 help="read the password from stdin")] = False,
) -> None:
    """Add a user. Without a password the user can only use API tokens."""
    from teahub.auth import service as auth

    password = read_password() if password_stdin else None
    with database() as engine:
        user = auth.add_user(unit_of_work(engine), name, role, store or [], password=password)
    stores = f" for {', '.join(user['stores'])}" if user["stores"] else ""
    out().print(f"Added user {user['username']} ({user['role']}{stores}).", markup=False)


@user_app.command("set")
@handles_domain_errors
def user_set(
    name: Annotated[str, typer.Argument(help="user name")],
    role: Annotated[str | None, typer.Option(help="admin, manager, clerk or integration")] = None,
    store: Annotated[list[str] | None, typer.Option(help="the stores the user acts for (replaces them); "
                                                         "repeat for several")] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive",
                                                help="may log in (--inactive ends their sessions and tokens)")] = None,
) -> None:
    """Change a user's role, stores, or whether they may log in."""
    from teahub.auth import service as auth

    with database() as engine:
        user = auth.update_user(unit_of_work(engine), name, role=role, stores=store, active=active)
    stores = f" for {', '.join(user['stores'])}" if user["stores"] else ""
    state = "" if user["active"] else ", inactive"
    out().print(f"User {user['username']}: {user['role']}{stores}{state}.", markup=False)


@user_app.command("passwd")
@handles_domain_errors
def user_passwd(
    name: Annotated[str, typer.Argument(help="user name")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                 help="read the password from stdin")] = False,
) -> None:
    """Set a user's password (prompted for unless --password-stdin)."""
    from teahub.auth import service as auth

    password = read_password() if password_stdin else typer.prompt(
        "New password", hide_input=True, confirmation_prompt=True)
    with database() as engine:
        auth.set_password(unit_of_work(engine), name, password)
    out().print(f"Password of {name} set.", markup=False)


@user_app.command("list")
@handles_domain_errors
def user_list() -> None:
    """List the users."""
    from teahub.auth import service as auth

    with database() as engine:
        users = auth.list_users(unit_of_work(engine))
    table = Table("user", "role", "stores", "active", "created")
    for user in users:
        table.add_row(escape(user["username"]), user["role"], escape(", ".join(user["stores"])),
                      "yes" if user["active"] else "no", user["created_at"][:19])
    out().print(table)


@token_app.command("create")
@handles_domain_errors
def token_create(
    name: Annotated[str, typer.Argument(help="the user the token acts as")],
    label: Annotated[str | None, typer.Option(help="what the token is for (default: the user name)")] = None,
) -> None:
    """Create an API token. It is printed once, as the last line: `teahub token create admin | tail -1`."""
    from teahub.auth import service as auth

    with database() as engine:
        token = auth.create_token(unit_of_work(engine), name, label)
    err().print(f"API token for {name} (shown only now; send it as 'Authorization: Bearer <token>'):",
                markup=False)
    typer.echo(token)


# -- imports --------------------------------------------------------------------------------------
FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help=".csv (UTF-8) or .xlsx (first sheet, header row)")]
SkipBad = Annotated[bool, typer.Option("--skip-bad", help="import the good rows and report the bad ones "
                                                          "(default: one bad row imports nothing)")]


def _import(kind: str, path: Path, skip_bad: bool) -> None:
    from teahub.imports.runner import import_file

    console = out()
    with database() as engine, Progress(
        TextColumn(f"importing {kind}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err(), transient=True,
    ) as progress:
        task = progress.add_task(kind, total=None)
        report = import_file(unit_of_work(engine), kind, path, skip_bad=skip_bad,
                             on_start=lambda total: progress.update(task, total=total),
                             on_row=lambda: progress.advance(task))
    if report.errors:
        table = Table("row", "column", "reason", title=escape(f"{report.bad_rows} bad row(s) in {path.name}"))
        for error in report.errors:
            table.add_row(str(error.row), escape(error.column or "-"), escape(error.reason))
        console.print(table)
    console.print(f"{kind}: created {report.created}, {report.existing_label} {report.updated}, "
                  f"skipped {report.skipped} of {report.total} row(s)", markup=False)
    if not report.committed:
        err().print("Nothing imported: fix the rows above, or pass --skip-bad to import the good rows.")
        raise typer.Exit(1)


@import_app.command("products")
@handles_domain_errors
def import_products(file: FileArg, skip_bad: SkipBad = False) -> None:
    """Import products (the catalog fixture format works as is).

    Columns: sku, name (or name_zh), category, unit, list_price (or price_fen) in fen; optionally
    name_en, price_basis, member_price, vip_price, origin, cultivar, grade, season, harvest_year, form,
    shelf_life_days, taste_notes (a|b|c), components (SKU:qty|SKU:qty), active."""
    _import("products", file, skip_bad)


@import_app.command("customers")
@handles_domain_errors
def import_customers(file: FileArg, skip_bad: SkipBad = False) -> None:
    """Import customers.

    Columns: name; optionally phone, email, kind (person/company), company_name, credit_limit
    (fen), payment_terms, birthday (YYYY-MM-DD), tier."""
    _import("customers", file, skip_bad)


@import_app.command("stock")
@handles_domain_errors
def import_stock(file: FileArg, skip_bad: SkipBad = False) -> None:
    """Import stock receipts (one batch arriving at one location per row).

    Columns: location, sku, batch_code, quantity (base unit), unit_cost (fen per base unit); optionally
    produced_on, expires_on, supplier."""
    _import("stock", file, skip_bad)
