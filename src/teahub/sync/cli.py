"""`teahub sync ...` (mounted by teahub.cli)."""

from __future__ import annotations

import json
import logging
import signal
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from teahub.cli_support import cli_unit_of_work, database, handles_domain_errors, out, unit_of_work
from teahub.config import get_settings
from teahub.errors import ValidationFailed
from teahub.sync import service
from teahub.sync.broker import BrokerConfig
from teahub.sync.schemas import TargetIn, TargetPatch

app = typer.Typer(help="Outbound sync to external systems: relay, connectors, dead letters, mappings.",
                  no_args_is_help=True)
targets_app = typer.Typer(help="Sync targets: where events go.", no_args_is_help=True)
dead_app = typer.Typer(help="Events a target gave up on.", no_args_is_help=True)
app.add_typer(targets_app, name="targets")
app.add_typer(dead_app, name="dead-letters")


def _broker() -> BrokerConfig | None:
    return BrokerConfig.from_settings(get_settings())


def _text(value: Any) -> str:
    if value is None:
        return "-"
    return value.isoformat(timespec="seconds") if hasattr(value, "isoformat") else str(value)


def _short(text: str | None, width: int = 70) -> str:
    first = (text or "-").splitlines()[0] if text else "-"
    return first if len(first) <= width else first[: width - 1] + "…"


def _model(model: Any, **data: Any) -> Any:
    try:
        return model(**{k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ValidationFailed(error["msg"], field=".".join(str(p) for p in error["loc"])) from None


# -- status -------------------------------------------------------------------------------------------------
@app.command("status")
@handles_domain_errors
def status(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """The relay's and each target's position, lag, deliveries, failures, retry queue and dead letters."""
    with cli_unit_of_work() as uow:
        data = service.status(uow, _broker())
    console = out()
    if as_json:
        console.print_json(json.dumps(data, default=str))
        return
    relay = data["relay"]
    if relay is not None:
        console.print(f"relay: position {relay['position']} of {data['newest_seq']}, lag {relay['lag_events']} "
                      f"events / {relay['lag_seconds']:.1f}s, published {relay['published']}, "
                      f"last error {escape(_short(relay['last_error']))}", markup=False)
    table = Table("target", "kind", "enabled", "position", "lag", "lag s", "pending", "dead", "delivered",
                  "failures", "last success", "last error", title=f"Sync targets (newest event {data['newest_seq']})")
    for t in data["targets"]:
        table.add_row(escape(t["name"]), t["kind"], "yes" if t["enabled"] else "no", _text(t["position"]),
                      str(t["lag_events"]), f"{t['lag_seconds']:.1f}", str(t["pending"]), str(t["dead_letters"]),
                      str(t["delivered"]), str(t["failures"]), _text(t["last_success_at"]),
                      escape(_short(t["last_error"])))
    console.print(table)


# -- targets ------------------------------------------------------------------------------------------------
@targets_app.command("list")
@handles_domain_errors
def list_targets() -> None:
    """Every target (secrets are never shown)."""
    with cli_unit_of_work() as uow:
        rows = service.list_targets(uow)
    table = Table("name", "kind", "url", "event types", "enabled", "attempts", "timeout")
    for t in rows:
        table.add_row(escape(t["name"]), t["kind"], escape(t["url"]), escape(", ".join(t["event_types"])),
                      "yes" if t["enabled"] else "no", str(t["max_attempts"]), f"{t['timeout_seconds']}s")
    out().print(table)


@targets_app.command("add")
@handles_domain_errors
def add_target(
    name: str,
    url: Annotated[str, typer.Option(help="where events are POSTed")],
    secret: Annotated[str, typer.Option(help="HMAC-SHA256 signing key (16+ characters)", prompt=True,
                                        hide_input=True)],
    event_type: Annotated[list[str], typer.Option("--event-type", "-e", help="order.paid, order.* or *")],
    disabled: Annotated[bool, typer.Option("--disabled", help="add it switched off")] = False,
    max_attempts: Annotated[int | None, typer.Option(help="attempts before a dead letter")] = None,
    timeout: Annotated[int | None, typer.Option(help="seconds per request")] = None,
    from_beginning: Annotated[bool, typer.Option("--from-beginning", help="also send every past event")] = False,
    kind: Annotated[str, typer.Option(help="webhook, odoo, kingdee or yonyou")] = "webhook",
) -> None:
    """Add a target (a webhook, or an ERP: then set its options with `targets options`)."""
    data = _model(TargetIn, name=name, kind=kind, url=url, secret=secret, event_types=event_type,
                  enabled=not disabled, max_attempts=max_attempts, timeout_seconds=timeout,
                  start="beginning" if from_beginning else "end")
    with cli_unit_of_work() as uow:
        target = service.add_target(uow, data)
    out().print(f"added {target['name']} ({target['url']})", markup=False)


@targets_app.command("update")
@handles_domain_errors
def update_target(
    name: str,
    url: Annotated[str | None, typer.Option()] = None,
    secret: Annotated[str | None, typer.Option()] = None,
    event_type: Annotated[list[str] | None, typer.Option("--event-type", "-e")] = None,
    enable: Annotated[bool | None, typer.Option("--enable/--disable")] = None,
    max_attempts: Annotated[int | None, typer.Option()] = None,
    timeout: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Change a target."""
    patch = _model(TargetPatch, url=url, secret=secret, event_types=event_type or None, enabled=enable,
                   max_attempts=max_attempts, timeout_seconds=timeout)
    with cli_unit_of_work() as uow:
        target = service.update_target(uow, name, patch)
    out().print(f"updated {target['name']}", markup=False)


@targets_app.command("remove")
@handles_domain_errors
def remove_target(name: str) -> None:
    """Remove a target with its retry queue, record states and dead letters."""
    with cli_unit_of_work() as uow:
        service.remove_target(uow, name, _broker())
    out().print(f"removed {name}", markup=False)


# -- dead letters -------------------------------------------------------------------------------------------
@dead_app.command("list")
@handles_domain_errors
def list_dead(
    target: Annotated[str | None, typer.Option(help="only this target")] = None,
    include_resolved: Annotated[bool, typer.Option("--all", help="also those resolved by a replay")] = False,
) -> None:
    """Events a target gave up on, with the error."""
    with cli_unit_of_work() as uow:
        rows = service.list_dead_letters(uow, target, include_resolved=include_resolved)
    if not rows:
        out().print("No dead letters.")
        return
    table = Table("id", "target", "seq", "event", "record", "attempts", "failed at", "resolved", "error")
    for r in rows:
        table.add_row(str(r["id"]), escape(r["target"]), str(r["event_seq"]), escape(r["event_type"]),
                      escape(r["record_key"]), str(r["attempts"]), _text(r["failed_at"]), _text(r["resolved_at"]),
                      escape(_short(r["error"], 60)))
    out().print(table)


@dead_app.command("replay")
@handles_domain_errors
def replay(
    dead_letter_id: Annotated[int | None, typer.Argument(help="the dead letter to replay")] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="replay every unresolved dead letter")] = False,
    target: Annotated[str | None, typer.Option(help="with --all: only this target's")] = None,
) -> None:
    """Queue one dead letter (ID) or all of them (--all) for delivery again."""
    if (dead_letter_id is None) == (not replay_all):
        raise ValidationFailed("give a dead letter id or --all", field="dead_letter_id")
    with cli_unit_of_work() as uow:
        summary = service.replay_dead_letters(uow, dead_letter_id, target=target)
    out().print(f"queued {summary['replayed']} dead letter(s) for delivery: {summary['ids']}", markup=False)


# -- running ------------------------------------------------------------------------------------------------
@app.command("run")
def run(once: Annotated[bool, typer.Option("--once", help="one pass (relay, every target), then exit")] = False,
        ) -> None:
    """Relay the outbox to RabbitMQ (with TEAHUB_BROKER_URL) and deliver every target's events, until stopped."""
    from teahub.sync.delivery import deliver_all
    from teahub.sync.relay import relay
    from teahub.sync.runtime import SyncRuntime

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    broker = _broker()
    with database() as engine:
        if once:
            uow = unit_of_work(engine)
            summary: dict[str, Any] = {"relay": relay(uow, broker).as_dict() if broker else None}
            summary["targets"] = deliver_all(uow, broker=broker)
            out().print_json(json.dumps(summary))
            return
        runtime = SyncRuntime(engine, broker)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: runtime.stop.set())
        runtime.run()


# -- ERP connectors: options, mappings, reconciliation -------------------------------------------------------
def _read_data(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc.strerror}", field=what) from None
    try:
        return yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"{path} is not YAML or JSON: {exc}", field=what) from None


@targets_app.command("options")
@handles_domain_errors
def set_options(name: str, file: Annotated[Path, typer.Argument(help="a YAML or JSON file of options")]) -> None:
    """Replace a target's connector options (database, company, mappings, lookups) from a file."""
    from teahub.sync.erp.options import set_options as store_options

    options = _read_data(file, "file")
    if not isinstance(options, dict):
        raise ValidationFailed("the options file holds an object", field="file")
    with cli_unit_of_work() as uow:
        store_options(uow, name, options)
    out().print(f"options of {name} set", markup=False)


@app.command("mappings")
@handles_domain_errors
def list_mappings() -> None:
    """The mappings teahub ships."""
    from teahub.sync import mappings

    table = Table("name", "version", "target", "record")
    for m in mappings.listing():
        table.add_row(m["name"], str(m["version"]), m["target"], m["record"])
    out().print(table)


@app.command("preview")
@handles_domain_errors
def preview(
    mapping: Annotated[str, typer.Argument(help="a shipped mapping (odoo-order) or a YAML file")],
    sample: Annotated[Path | None, typer.Option(help="a record as YAML or JSON")] = None,
    order: Annotated[int | None, typer.Option(help="a stored order's id")] = None,
    customer: Annotated[int | None, typer.Option(help="a stored customer's id")] = None,
    lookups: Annotated[Path | None, typer.Option(help="lookup tables as YAML or JSON {table: {key: value}}")] = None,
    target: Annotated[str | None, typer.Option(help="use this target's options and lookups")] = None,
) -> None:
    """Print the document MAPPING makes of a record, without sending it."""
    from teahub.sync import mappings

    loaded = mappings.resolve(mapping)
    given = [x for x in (sample, order, customer) if x is not None]
    if len(given) != 1:
        raise ValidationFailed("give one of --sample, --order, --customer", field="sample")
    record_id = order if order is not None else customer
    if record_id is not None and (loaded.record == "order") != (order is not None):
        raise ValidationFailed(f"{loaded.name} maps {loaded.record}s", field="order" if order else "customer")
    data = _read_data(sample, "sample") if sample is not None else None
    if sample is not None and not isinstance(data, dict):
        raise ValidationFailed("the sample file holds one record (an object)", field="sample")
    tables = _read_data(lookups, "lookups") if lookups is not None else None
    with cli_unit_of_work() as uow:
        options: dict[str, Any] = {}
        if target is not None:
            from teahub.sync.delivery import load_target

            found = [t for t in service.list_targets(uow) if t["name"] == target]
            if not found:
                raise ValidationFailed(f"no sync target {target!r}", field="target")
            loaded_target = load_target(uow, found[0]["id"])
            options = dict(loaded_target.config.options) if loaded_target else {}
        tables = {**(options.get("lookups") or {}), **(tables or {})}
        result = mappings.preview(uow, loaded, sample=data, record_id=record_id, lookups=tables, options=options)
    out().print(f"# {result['mapping']} v{result['version']} ({result['target']} {result['record']})", markup=False)
    out().print_json(json.dumps(result["document"], ensure_ascii=False))


@app.command("reconcile")
@handles_domain_errors
def reconcile(
    target: Annotated[str | None, typer.Option(help="only this target (default: every enabled ERP target)")] = None,
    days: Annotated[int, typer.Option(help="records sent in the last N days")] = 7,
    repair: Annotated[bool, typer.Option("--repair/--no-repair", help="re-queue missing records")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Compare what teahub sent to each ERP with what the ERP has; report and repair differences."""
    from teahub.sync.reconcile import reconcile_all

    with cli_unit_of_work() as uow:
        reports = reconcile_all(uow, target=target, days=days, repair=repair)
    console = out()
    if as_json:
        console.print_json(json.dumps(reports, default=str))
        return
    for r in reports:
        console.print(f"{r['target']} ({r['kind']}): checked {r['checked']}, missing {len(r['missing'])}, "
                      f"different {len(r['different'])}, re-queued {r['repaired']}", markup=False)
        for m in r["missing"]:
            console.print(f"  missing   {m['record_key']} {m['reference']}", markup=False)
        for d in r["different"]:
            console.print(f"  different {d['record_key']} {d['reference']}: {'; '.join(d['problems'])}",
                          markup=False)
        for e in r["errors"]:
            console.print(f"  error     {e}", markup=False)
