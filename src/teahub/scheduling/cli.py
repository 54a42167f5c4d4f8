"""`teahub worker ...`: run the background runner, see what it is doing, deal with parked events."""

from __future__ import annotations

import json
import logging
import signal
import threading
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from teahub.cli_support import database, out, unit_of_work
from teahub.config import get_settings
from teahub.scheduling.failures import list_failures, retry_failures
from teahub.scheduling.options import WorkerOptions
from teahub.scheduling.registry import load_tasks
from teahub.scheduling.status import status

app = typer.Typer(help="The background runner: scheduled jobs and event subscriptions.", no_args_is_help=True)

ACTOR = "cli"


def _short(text: str | None, width: int = 80) -> str:
    if not text:
        return "-"
    first = text.splitlines()[0]
    return first if len(first) <= width else first[: width - 1] + "…"


@app.command("run")
def run(
    once: Annotated[bool, typer.Option("--once", help="one pass (due jobs, pending events), then exit")] = False,
    poll: Annotated[float, typer.Option(min=0.05, help="seconds between passes when idle")] = 1.0,
) -> None:
    """Run due jobs and event subscriptions until stopped (Ctrl-C or SIGTERM). Run as many as you like."""
    from teahub.worker import Runner

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    options = WorkerOptions.from_settings(get_settings())
    with database() as engine:
        runner = Runner(engine, options=options)
        if once:
            out().print_json(json.dumps(runner.run_once()))
            return
        from teahub.sync import runtime as sync_runtime
        from teahub.sync.broker import BrokerConfig

        stop = threading.Event()
        sync_thread, sync_stop = sync_runtime.start(engine, BrokerConfig.from_settings(get_settings()))
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: (stop.set(), sync_stop.set()))
        runner.run_forever(stop, poll)
        sync_stop.set()
        sync_thread.join(timeout=10)


@app.command("status")
def show_status(
    as_json: Annotated[bool, typer.Option("--json", help="print the status as JSON")] = False,
) -> None:
    """Each job's last run, each subscription's position, lag, last error and parked failures."""
    load_tasks()
    with database() as engine:
        data = status(unit_of_work(engine))
    console = out()
    if as_json:
        console.print_json(json.dumps(data))
        return
    jobs = Table("job", "cadence", "last slot", "status", "finished", "result / error", title="Jobs")
    for job in data["jobs"]:
        run = job["last_run"] or {}
        outcome = run.get("error") or (json.dumps(run["result"], ensure_ascii=False) if run.get("result") else "")
        jobs.add_row(escape(job["name"]), escape(job["cadence"] or "(not registered)"), run.get("slot") or "-",
                     run.get("status") or "never run", run.get("finished_at") or "-", escape(_short(outcome)))
    console.print(jobs)
    subs = Table("subscription", "position", "lag", "attempts", "retry at", "failures", "last error",
                 title=f"Subscriptions (newest event {data['newest_seq']})")
    for sub in data["subscriptions"]:
        subs.add_row(escape(sub["name"]), _text(sub["position"]), _text(sub["lag"]), str(sub["attempts"]),
                     sub["retry_at"] or "-", str(sub["failures"]), escape(_short(sub["last_error"])))
    console.print(subs)


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


@app.command("failures")
def failures(
    subscription: Annotated[str | None, typer.Option(help="only this subscription")] = None,
    include_resolved: Annotated[bool, typer.Option("--all", help="also those resolved by a retry")] = False,
) -> None:
    """Events a subscription gave up on after its attempts ran out."""
    with database() as engine:
        rows = list_failures(unit_of_work(engine), subscription, include_resolved=include_resolved)
    console = out()
    if not rows:
        console.print("No failed events.")
        return
    table = Table("id", "subscription", "seq", "event", "attempts", "failed at", "resolved", "error")
    for row in rows:
        table.add_row(str(row["id"]), escape(row["subscription"]), str(row["event_seq"]),
                      escape(row["event_type"]), str(row["attempts"]), row["failed_at"],
                      row["resolved_at"] or "-", escape(_short(row["error"], 60)))
    console.print(table)


@app.command("retry-failures")
def retry(
    subscription: Annotated[str | None, typer.Option(help="only this subscription")] = None,
) -> None:
    """Run the handler again for each parked event; those that succeed are resolved."""
    load_tasks()
    with database() as engine:
        summary = retry_failures(unit_of_work(engine), subscription)
    out().print(f"resolved {summary['resolved']}, failed again {summary['failed']}, "
                 f"skipped {summary['skipped']} (subscription not registered or busy)", markup=False)
    if summary["failed"]:
        raise typer.Exit(1)
