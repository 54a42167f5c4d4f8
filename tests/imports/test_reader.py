"""Reading .csv and .xlsx files into rows of text."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from teahub.errors import ValidationFailed
from teahub.imports.reader import cell_text, read_table


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_csv_with_or_without_bom_reads_the_same(tmp_path: Path, encoding: str) -> None:
    table = read_table(write(tmp_path / "p.csv", "SKU, List Price ,name\nA-1,100,龙井\n", encoding))
    assert table.columns == ["sku", "list_price", "name"]
    assert [(r.number, r.values) for r in table.rows] == [(2, {"sku": "A-1", "list_price": "100", "name": "龙井"})]


def test_row_numbers_are_the_lines_of_the_file_and_blank_rows_are_skipped(tmp_path: Path) -> None:
    text = 'sku,note\nA,x\n\n,\nB,"two\nlines"\nC,y\n'
    table = read_table(write(tmp_path / "p.csv", text))
    assert [(r.number, r.values["sku"]) for r in table.rows] == [(2, "A"), (5, "B"), (7, "C")]


def test_short_rows_read_missing_cells_as_empty(tmp_path: Path) -> None:
    table = read_table(write(tmp_path / "p.csv", "sku,name,grade\nA,茶\n"))
    assert table.rows[0].values == {"sku": "A", "name": "茶", "grade": ""}


def test_xlsx_first_sheet_cells_read_as_csv_text(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["sku", "price_fen", "weight", "produced_on", "phone", "active", None])
    sheet.append(["A-1", 128000.0, 2.5, datetime(2026, 4, 1), 13812345678, True, None])
    sheet.append([None, None, None, None, None, None, None])
    sheet.append(["B-2", 5, None, date(2025, 1, 2), "138 1234 5678", False, None])
    book.create_sheet("ignored").append(["nope"])
    book.save(tmp_path / "p.xlsx")

    table = read_table(tmp_path / "p.xlsx")
    assert table.columns == ["sku", "price_fen", "weight", "produced_on", "phone", "active"]
    assert [(r.number, r.values) for r in table.rows] == [
        (2, {"sku": "A-1", "price_fen": "128000", "weight": "2.5", "produced_on": "2026-04-01",
             "phone": "13812345678", "active": "true"}),
        (4, {"sku": "B-2", "price_fen": "5", "weight": "", "produced_on": "2025-01-02",
             "phone": "138 1234 5678", "active": "false"}),
    ]


def test_cell_text_keeps_times_of_day() -> None:
    assert cell_text(datetime(2026, 4, 1, 9, 30)) == "2026-04-01T09:30:00"
    assert cell_text(None) == ""


@pytest.mark.parametrize(("name", "content", "message"), [
    ("p.txt", b"sku\nA\n", "unsupported file type"),
    ("p.csv", "sku,name\nA,龙井\n".encode("gbk"), "not UTF-8"),
    ("p.csv", b"", "empty"),
    ("p.csv", b"sku,SKU\nA,B\n", "named twice: sku"),
    ("p.xlsx", b"not a workbook", "not a readable .xlsx"),
])
def test_unreadable_files_are_refused_with_a_reason(tmp_path: Path, name: str, content: bytes,
                                                      message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValidationFailed, match=message):
        read_table(path)
