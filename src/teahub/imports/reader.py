"""Read a .csv (UTF-8, with or without BOM) or .xlsx (first sheet) file into rows of text keyed by header."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from teahub.errors import ValidationFailed

SUPPORTED = (".csv", ".xlsx")


@dataclass(frozen=True)
class Row:
    number: int  # as in the file: the header is row 1
    values: dict[str, str]  # normalized column name -> stripped text ("" when empty)


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[Row]


def normalize_header(name: str) -> str:
    return "_".join(name.replace("\ufeff", "").strip().lower().split())


def read_table(path: Path) -> Table:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_table(path)
    if suffix == ".xlsx":
        return _xlsx_table(path)
    raise ValidationFailed(f"{path.name}: unsupported file type; use {' or '.join(SUPPORTED)}", field="file")


def _csv_table(path: Path) -> Table:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _table(path.name, _csv_records(csv.reader(handle)))
    except UnicodeDecodeError as exc:
        raise ValidationFailed(f"{path.name} is not UTF-8 text (save it as \"CSV UTF-8\"): {exc.reason}",
                               field="file") from exc


def _csv_records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    while True:
        start = reader.line_num + 1  # physical line where the next record begins
        try:
            record = next(reader)
        except StopIteration:
            return
        yield start, record


def _xlsx_table(path: Path) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a damaged file
        raise ValidationFailed(f"{path.name} is not a readable .xlsx workbook: {exc}", field="file") from exc
    try:
        sheet = workbook.worksheets[0]
        records = (
            (number, [cell_text(v) for v in values])
            for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
        )
        return _table(path.name, records)
    finally:
        workbook.close()


def _table(name: str, records: Iterable[tuple[int, list[str]]]) -> Table:
    iterator = iter(records)
    header = next(iterator, None)
    if header is None:
        raise ValidationFailed(f"{name} is empty: the first row must name the columns", field="file")
    columns = [normalize_header(h) for h in header[1]]
    named = [c for c in columns if c]
    duplicates = sorted({c for c in named if named.count(c) > 1})
    if duplicates:
        raise ValidationFailed(f"{name}: column(s) named twice: {', '.join(duplicates)}", field="columns")
    rows = []
    for number, cells in iterator:
        texts = [c.strip() for c in cells]
        if not any(texts):
            continue
        values = {col: (texts[i] if i < len(texts) else "") for i, col in enumerate(columns) if col}
        rows.append(Row(number, values))
    return Table(named, rows)


def cell_text(value: Any) -> str:
    """A spreadsheet cell as the text a CSV would hold (integral floats without ".0", dates in ISO 8601)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()
