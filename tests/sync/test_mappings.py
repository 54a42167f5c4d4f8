"""YAML mappings: paths, renames, value maps, defaults, formats, expressions (no eval), lookups; validation
errors naming the file, line and key; preview through the CLI and the API without sending anything."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from teahub.config import get_settings
from teahub.scheduling.registry import default_registry
from teahub.sync import cli, mappings, tasks
from teahub.sync.mapping_rules import MappingRuleError, compile_expression
from teahub.sync.mappings import MappingError, load_text
from tests.sync.erp_helpers import sale, shop

MAPPING = """\
version: 4
target: kingdee
record: order
lookups:
  materials: {LJ: "01.001"}
fields:
  FBillNo: {from: number, required: true}
  FDate: {from: placed_at, format: {datetime: "%Y-%m-%d %H:%M", tz: Asia/Shanghai}}
  FState: {from: status, map: {paid: A, cancelled: Z}, default: X}
  FChannel: {from: channel, format: upper}
  FAmount: {from: total, format: yuan}
  FOrg.FNumber: {value: "100"}
  FNote: {expr: "concat('teahub ', number, ' / ', len(lines), ' lines')"}
  FFirst: lines[0].sku
  FTotalQty: {expr: "sum(lines[].quantity)"}
  FMissing: {from: nowhere, default: none-given}
  Entries[]:
    from: lines[]
    fields:
      Material.FNumber: {from: sku, lookup: materials, default: "99.999"}
      Qty: quantity
      Price: {expr: "round(net_amount / quantity / 100, 2)"}
      Order: $.number
"""

SAMPLE: dict[str, Any] = {"number": "SO00000007", "placed_at": "2026-03-01T16:30:00+00:00", "status": "paid",
                          "channel": "pos", "total": 1280,
                          "lines": [{"sku": "LJ", "quantity": 3, "net_amount": 1000},
                                    {"sku": "OTHER", "quantity": 1, "net_amount": 280}]}


def test_every_kind_of_field_maps() -> None:
    mapping = load_text(MAPPING, "k.yaml")
    assert (mapping.name, mapping.version, mapping.label) == ("k", 4, "k@v4")
    assert mapping.apply(SAMPLE) == {
        "FBillNo": "SO00000007", "FDate": "2026-03-02 00:30", "FState": "A", "FChannel": "POS", "FAmount": "12.80",
        "FOrg": {"FNumber": "100"}, "FNote": "teahub SO00000007 / 2 lines", "FFirst": "LJ", "FTotalQty": 4,
        "FMissing": "none-given",
        "Entries": [{"Material": {"FNumber": "01.001"}, "Qty": 3, "Price": 3.33, "Order": "SO00000007"},
                    {"Material": {"FNumber": "99.999"}, "Qty": 1, "Price": 2.8, "Order": "SO00000007"}]}
    # Unmapped values take the default; a target's lookups win over the mapping's.
    other = mapping.apply({**SAMPLE, "status": "shipped"}, {"materials": {"LJ": "02.000"}})
    assert other["FState"] == "X" and other["Entries"][0]["Material"]["FNumber"] == "02.000"


def test_a_record_the_mapping_cannot_map_is_an_error_naming_the_field() -> None:
    mapping = load_text(MAPPING.replace(", default: X", "").replace(', default: "99.999"', ""), "k.yaml")
    with pytest.raises(mappings.ApplyError, match=r"fields\.FState: value 'shipped' is not in its map"):
        mapping.apply({**SAMPLE, "status": "shipped"})
    with pytest.raises(mappings.ApplyError, match="'OTHER' is not in lookup table 'materials'"):
        mapping.apply(SAMPLE)
    with pytest.raises(mappings.ApplyError, match="FBillNo: required"):
        load_text(MAPPING).apply({**SAMPLE, "number": None})


@pytest.mark.parametrize(("text", "line", "key", "message"), [
    ("version: 1\ntarget: odoo\nrecord: order\nfields:\n  a: [unclosed\n", 6, "", "not valid YAML"),
    ("version: 1\ntarget: odoo\nrecord: order\ncolour: red\nfields: {a: b}\n", 4, "colour", "unknown key"),
    ("version: 1\ntarget: sap\nrecord: order\nfields: {a: b}\n", 2, "target", "odoo"),
    ("version: 1\ntarget: odoo\nrecord: order\nfields:\n  a: b\n  c: {from: 'lines[x].sku'}\n", 6, "fields.c.from",
     "bad path"),
    ("version: 1\ntarget: odoo\nrecord: order\nfields:\n  a: b\n\n  c:\n    from: total\n    format: dollars\n", 9,
     "fields.c.format", "unknown format"),
    ("version: 1\ntarget: odoo\nrecord: order\nfields:\n  c: {from: placed_at, format: {date: '%Y', tz: Mars/Base}}\n",
     5, "fields.c.format", "unknown time zone"),
    ("version: 1\ntarget: odoo\nrecord: order\nfields:\n  c: {expr: \"__import__('os')\"}\n", 5, "fields.c.expr",
     "unknown function __import__()"),
    ("version: 1\ntarget: odoo\nrecord: order\nfields:\n  c: {expr: \"total; 1\"}\n", 5, "fields.c.expr",
     "cannot read expression"),
    ("version: 1\ntarget: odoo\nrecord: order\nfields:\n  c: {expr: \"system(1)\"}\n", 5, "fields.c.expr",
     "unknown function system()"),
    ("version: 1\ntarget: odoo\nrecord: order\nfields:\n  c: {from: a, value: 1}\n", 5, "fields.c", "exactly one"),
    ("version: 1\ntarget: odoo\nrecord: order\nfields:\n  l[]:\n    from: lines\n    fields: {a: b}\n", 6,
     "fields.l[].from", "must end with []"),
    ("version: 0\ntarget: odoo\nrecord: order\nfields: {a: b}\n", 1, "version", "greater than or equal to 1"),
])
def test_a_bad_mapping_names_the_file_line_and_key(text: str, line: int, key: str, message: str) -> None:
    with pytest.raises(MappingError) as caught:
        load_text(text, "custom.yaml")
    error = caught.value
    assert error.detail.startswith(f"custom.yaml, line {line}") and message in error.detail, error.detail
    assert error.extra["line"] == line and error.extra["key"] == key and error.field == "mapping"


def test_expressions_are_parsed_not_evaluated() -> None:
    run, paths = compile_expression("if(total > 100, concat('big ', total), 'small') ")
    assert run(lambda p: {"total": 150}[p.text]) == "big 150" and [p.text for p in paths] == ["total", "total"]
    for bad in ("total.__class__", "(1", "1 +", "lambda: 1", "open('x')", "total; 1"):
        with pytest.raises(MappingRuleError):
            compile_expression(bad)[0](lambda p: None)


def test_the_shipped_mappings_load() -> None:
    assert {(m["name"], m["target"], m["record"]) for m in mappings.listing()} == {
        ("odoo-order", "odoo", "order"), ("odoo-customer", "odoo", "customer"),
        ("kingdee-order", "kingdee", "order"), ("yonyou-order", "yonyou", "order")}
    assert "sync.reconcile" in default_registry.jobs and tasks.reconcile_job is not None


def invoke(db_url: str, *args: str) -> Any:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli.app, list(args), env={"TEAHUB_DATABASE_URL": db_url, "COLUMNS": "200",
                                                            "NO_COLOR": "1"})
    finally:
        get_settings.cache_clear()


def test_preview_through_the_cli(client: TestClient, db_url: str, tmp_path: Path) -> None:
    sample = tmp_path / "order.json"
    sample.write_text(json.dumps(SAMPLE))
    custom = tmp_path / "custom.yaml"
    custom.write_text(MAPPING)
    shown = invoke(db_url, "preview", str(custom), "--sample", str(sample))
    assert shown.exit_code == 0, shown.output
    assert "custom v4" in shown.output and '"FAmount": "12.80"' in shown.output

    shop(client)
    order = sale(client)
    lookups = tmp_path / "lookups.yaml"
    lookups.write_text("materials: {LJ-MQ26-250: '01.001', DHP-WYS-100: '01.002'}\n")
    stored = invoke(db_url, "preview", "kingdee-order", "--order", str(order["id"]), "--lookups", str(lookups))
    assert stored.exit_code == 0, stored.output
    document = json.loads(stored.output.split("\n", 1)[1])
    assert document["FBillNo"] == order["number"] and len(document["FSaleOrderEntry"]) == 2
    customer = invoke(db_url, "preview", "odoo-customer", "--customer", str(order["customer_id"]))
    assert customer.exit_code == 0 and "13800138000" in customer.output  # the clear phone, read at preview

    custom.write_text(MAPPING.replace("format: upper", "format: shouty"))
    broken = invoke(db_url, "preview", str(custom), "--sample", str(sample))
    assert broken.exit_code == 1 and "line 10" in broken.output and "fields.FChannel.format" in broken.output


def test_preview_through_the_api(client: TestClient) -> None:
    ok = client.post("/api/v1/sync/mappings/preview", json={"mapping": MAPPING, "sample": SAMPLE})
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 4 and ok.json()["document"]["FAmount"] == "12.80"
    bad = client.post("/api/v1/sync/mappings/preview", json={"mapping": MAPPING.replace("required", "needed"),
                                                              "sample": SAMPLE})
    assert bad.status_code == 422 and bad.json()["field"] == "mapping"
    assert bad.json()["line"] == 7 and "unknown key 'needed'" in bad.json()["detail"]
    unmappable = client.post("/api/v1/sync/mappings/preview",
                             json={"mapping": MAPPING, "sample": {**SAMPLE, "number": None}})
    assert unmappable.status_code == 422 and unmappable.json()["field"] == "sample"
    assert client.get("/api/v1/sync/mappings").json()[0]["name"] == "kingdee-order"
