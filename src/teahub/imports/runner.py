"""Apply a file's rows in one transaction, each row in a savepoint, and report every bad row.

With `skip_bad` the good rows are committed and the bad ones reported; without it one bad row rolls back the
whole file, so an import either happens completely or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.exc import IntegrityError

from teahub.db.uow import UnitOfWork
from teahub.errors import DomainError, ValidationFailed
from teahub.imports.mapping import KINDS, CellError, ImportKind
from teahub.imports.reader import Row, Table, read_table


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str


@dataclass
class ImportReport:
    kind: str
    total: int
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    committed: bool = False
    existing_label: str = "updated"

    @property
    def bad_rows(self) -> int:
        return len({e.row for e in self.errors})

    @property
    def skipped(self) -> int:
        """Rows that did not make it into the database."""
        return self.bad_rows if self.committed else self.total


def import_kind(name: str) -> ImportKind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValidationFailed(f"cannot import {name!r}; choose one of {', '.join(KINDS)}",
                               field="kind") from None


def import_file(uow: UnitOfWork, kind: str, path: Path, *, skip_bad: bool = False,
                on_start: Callable[[int], None] | None = None,
                on_row: Callable[[], None] | None = None) -> ImportReport:
    """Read `path` and import it as `kind` (products, customers, stock). `on_start` gets the row count and
    `on_row` is called after each row, for progress display."""
    importer = import_kind(kind)
    table = read_table(path)
    missing = importer.missing_columns(table.columns)
    if missing:
        raise ValidationFailed(f"{path.name}: missing required column(s): {', '.join(missing)}",
                               field="columns")
    if on_start:
        on_start(len(table.rows))
    return import_table(uow, importer, table, skip_bad=skip_bad, on_row=on_row)


def import_table(uow: UnitOfWork, importer: ImportKind, table: Table, *, skip_bad: bool = False,
                 on_row: Callable[[], None] | None = None) -> ImportReport:
    report = ImportReport(importer.name, len(table.rows), existing_label=importer.existing)
    with uow:
        for row in table.rows:
            errors, created = _import_row(uow, importer, table.columns, row)
            if errors:
                report.errors.extend(errors)
            elif created:
                report.created += 1
            else:
                report.updated += 1
            if on_row:
                on_row()
        if report.errors and not skip_bad:
            report.created = report.updated = 0
            return report  # leaving `with uow:` uncommitted rolls every row back
        uow.commit()
        report.committed = True
    return report


def _import_row(uow: UnitOfWork, importer: ImportKind, columns: list[str],
                row: Row) -> tuple[list[RowError], bool]:
    """Errors of the row (none when it went in) and whether it created something new."""
    try:
        with uow.savepoint():  # a bad row undoes its own writes and events only
            return [], importer.apply(uow, importer.parse(row.values))
    except CellError as exc:
        return [RowError(row.number, exc.column, exc.reason)], False
    except ValidationError as exc:
        return [RowError(row.number, importer.column_for(".".join(str(p) for p in e["loc"]), columns),
                         _reason(e)) for e in exc.errors()], False
    except DomainError as exc:
        return [RowError(row.number, importer.column_for(exc.field, columns), exc.detail)], False
    except IntegrityError as exc:  # a constraint the service left to the database
        return [RowError(row.number, "", str(exc.orig).splitlines()[0])], False


def _reason(error: ErrorDetails) -> str:
    return "a value is required" if error["type"] == "missing" else error["msg"]
