"""One transaction per file, one savepoint per row: all or nothing, or the good rows with --skip-bad."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from teahub.bootstrap import initialize
from teahub.catalog.models import Product
from teahub.db.outbox import OutboxEvent
from teahub.db.uow import UnitOfWork
from teahub.errors import ValidationFailed
from teahub.imports.mapping import ImportKind
from teahub.imports.reader import Row, Table
from teahub.imports.runner import RowError, import_file, import_table
from tests.imports import CATALOG_CSV as FIXTURE

HEADER = "sku,name,category,unit,price_basis,list_price,member_price,origin,grade,harvest_year\n"


@pytest.fixture
def shop(engine: Engine) -> Engine:
    initialize(engine)
    return engine


def products_in(uow: UnitOfWork) -> int:
    with uow.reading():
        return int(uow.session.scalar(select(func.count()).select_from(Product)) or 0)


def write(tmp_path: Path, text: str, name: str = "products.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_fixture_imports_then_reimports_as_updates(shop: Engine, uow: UnitOfWork) -> None:
    seen: list[int] = []
    report = import_file(uow, "products", FIXTURE, on_start=seen.append, on_row=lambda: seen.append(-1))
    assert (report.created, report.updated, report.errors, report.committed) == (52, 0, [], True)
    assert seen == [52] + [-1] * 52
    assert products_in(uow) == 52

    again = import_file(uow, "products", FIXTURE)
    assert (again.created, again.updated, again.skipped) == (0, 52, 0)
    assert products_in(uow) == 52


def test_one_bad_row_imports_nothing_and_reports_every_bad_row(shop: Engine, uow: UnitOfWork,
                                                               tmp_path: Path) -> None:
    path = write(tmp_path, HEADER
                 + "LJ-1,龙井,green,g,500,68000,62000,浙江杭州,特级,2026\n"
                 + "LJ-2,龙井二,green,g,500,abc,,浙江杭州,一级,2026\n"
                 + "LJ-3,龙井三,nosuchcategory,piece,1,1000,,,,\n"
                 + "LJ-4,龙井四,green,piece,1,1000,,,,\n")
    report = import_file(uow, "products", path)
    assert not report.committed
    assert report.errors[0] == RowError(3, "list_price", "'abc' is not a whole number")
    assert report.errors[1].row == 4 and report.errors[1].column == "category"
    assert "nosuchcategory" in report.errors[1].reason
    assert (report.created, report.updated, report.skipped, report.bad_rows) == (0, 0, 4, 2)
    assert products_in(uow) == 0


def test_skip_bad_commits_the_good_rows(shop: Engine, uow: UnitOfWork, tmp_path: Path) -> None:
    path = write(tmp_path, HEADER
                 + "LJ-1,龙井,green,g,500,68000,62000,浙江杭州,特级,2026\n"
                 + "LJ-2,,green,g,500,68000,,,,\n"
                 + "LJ-3,龙井三,green,kg,1,1000,,,,\n"
                 + "LJ-4,龙井四,green,piece,1,1000,,,,\n")
    report = import_file(uow, "products", path, skip_bad=True)
    assert report.committed
    assert [(e.row, e.column) for e in report.errors] == [(3, "name"), (4, "unit")]
    assert report.errors[0].reason == "a value is required"
    assert (report.created, report.updated, report.skipped) == (2, 0, 2)
    assert products_in(uow) == 2


def test_a_file_without_a_required_column_is_refused_before_any_row(shop: Engine, uow: UnitOfWork,
                                                                    tmp_path: Path) -> None:
    path = write(tmp_path, "sku,name,unit,colour\nLJ-1,龙井,g,green\n")
    with pytest.raises(ValidationFailed, match="missing required column.*category.*list_price or price_fen"):
        import_file(uow, "products", path)
    assert products_in(uow) == 0


def test_unknown_kind_is_refused(shop: Engine, uow: UnitOfWork, tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="cannot import 'orders'"):
        import_file(uow, "orders", write(tmp_path, "sku\nA\n"))


def test_the_same_sku_twice_in_one_file_creates_then_updates(shop: Engine, uow: UnitOfWork,
                                                             tmp_path: Path) -> None:
    path = write(tmp_path, HEADER
                 + "LJ-1,龙井,green,g,500,68000,,,,\n"
                 + "LJ-1,龙井,green,g,500,70000,,,,\n")
    report = import_file(uow, "products", path)
    assert (report.created, report.updated) == (1, 1)
    assert products_in(uow) == 1


class EventPerRow(ImportKind):
    """Records an event for every row, then refuses the rows whose n is odd."""

    name = "event-per-row"
    fields = {"n": ("n",)}
    required = ("n",)

    def parse(self, values: dict[str, str]) -> Any:
        return int(values["n"])

    def apply(self, uow: UnitOfWork, data: Any) -> bool:
        uow.record_event("test.row", "row", data, {"n": data})
        if data % 2:
            raise ValidationFailed("odd", field="n")
        return True


def test_a_bad_row_leaves_no_events_behind(engine: Engine, uow: UnitOfWork) -> None:
    table = Table(["n"], [Row(i + 1, {"n": str(i)}) for i in range(1, 6)])
    report = import_table(uow, EventPerRow(), table, skip_bad=True)
    assert [(e.row, e.column, e.reason) for e in report.errors] == [(2, "n", "odd"), (4, "n", "odd"), (6, "n", "odd")]
    with uow.reading():
        payloads = uow.session.scalars(select(OutboxEvent.payload).where(OutboxEvent.type == "test.row")).all()
    assert sorted(p["n"] for p in payloads) == [2, 4]
