"""Stock: by location (`/stock`), batches with expiry and who bought them (`/stock/batches`, `/stock/batch`),
transfers, stock counts and imports from Excel. Reads and changes respect roles and store scope exactly as
`teahub.inventory.routes` does: clerks see their stores; managers their stores and the warehouses they draw on;
admins and managers move, count and receive stock."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from teahub.analytics import quality
from teahub.auth.principal import Principal
from teahub.catalog import service as catalog
from teahub.db.uow import UnitOfWork
from teahub.errors import Forbidden, ValidationFailed
from teahub.imports import reader, runner
from teahub.inventory import movement_history, overview
from teahub.inventory import service as inventory
from teahub.inventory.schemas import StockCountIn, ThresholdIn, TransferIn
from teahub.web.forms import validated
from teahub.web.rendering import is_htmx, navigate, render
from teahub.web.session import PagePrincipal, PageUow

router = APIRouter()
STOCK_ROLES = ("admin", "manager")  # who moves, counts and receives stock (as the API)
TRACE_ROLES = ("admin", "manager")  # who sees who bought a batch (as the recall report)
IMPORT_ROLES = {"products": ("admin",), "stock": STOCK_ROLES}  # as POST /products and /stock/receipts
MAX_UPLOAD = 10 * 1024 * 1024
Text = Annotated[str, Form(max_length=200)]
Lines = Annotated[list[str] | None, Form(max_length=500)]  # one value per line of a form (transfer, count)


# -- who may see what (the rules of teahub.inventory.routes) --------------------------------------------------
def fragment_wanted(request: Request) -> bool:
    """An HTMX call wants the part it swaps; a history restore wants the whole page."""
    return is_htmx(request) and request.headers.get("hx-history-restore-request") != "true"


def read_scope(principal: Principal, uow: UnitOfWork) -> frozenset[str] | None:
    """The locations whose stock a user reads (None: all): their stores, and for a manager the warehouses too."""
    scope = principal.store_scope
    if scope is not None and principal.role == "manager":
        scope = scope | {loc["code"] for loc in inventory.list_locations(uow, kind="warehouse")}
    return scope


def require_stock_view(principal: Principal, uow: UnitOfWork, code: str, field: str = "location") -> None:
    """As GET /api/v1/stock?location=: a manager may look at a warehouse they draw on; others need the store."""
    if (principal.role == "manager" and not principal.can_act_for(code)
            and inventory.get_location(uow, code, field).kind == "warehouse"):
        return
    principal.require_store(code, field)


def _may_draw_from(principal: Principal, uow: UnitOfWork, code: str, field: str) -> None:
    """As POST /api/v1/stock/transfers: managers may draw on warehouses for their stores."""
    require_stock_view(principal, uow, code, field)


def _visible_locations(principal: Principal, uow: UnitOfWork) -> list[dict[str, Any]]:
    scope = read_scope(principal, uow)
    return [loc for loc in inventory.list_locations(uow) if scope is None or loc["code"] in scope]


def _own_locations(principal: Principal, uow: UnitOfWork) -> list[dict[str, Any]]:
    """Where a user may receive, count and send stock to."""
    return [loc for loc in inventory.list_locations(uow) if principal.can_act_for(loc["code"])]


def _whole(value: str, field: str) -> int:
    try:
        return int(value.strip().replace(",", ""))
    except ValueError:
        raise ValidationFailed("give a whole number", field=field) from None


def _product_choices(uow: UnitOfWork) -> list[dict[str, Any]]:
    return [p for p in catalog.list_products(uow, active=True, limit=2000) if not p["is_gift_box"]]


# -- stock by location ----------------------------------------------------------------------------------------
@router.get("/stock", response_class=HTMLResponse)
def stock(request: Request, principal: PagePrincipal, uow: PageUow, location: str | None = None,
          q: str | None = None, below: bool = False) -> Response:
    locations = _visible_locations(principal, uow)
    location = location or None
    if location is None:
        if not locations:
            raise Forbidden("you have no store to look at; ask an admin for store access", field="location")
        stores = [loc for loc in locations if principal.can_act_for(loc["code"])] or locations
        location = stores[0]["code"]
    require_stock_view(principal, uow, location)
    items = overview.location_stock(uow, location, q=q, below_only=below)
    context = _levels_context(principal, location, items, q=q or "", below=below)
    if fragment_wanted(request):
        return render(request, "stock/_levels.html", principal, **context)
    here = inventory.get_location(uow, location)
    return render(request, "stock/index.html", principal, page_title="Stock", locations=locations,
                  here=here, products=_product_choices(uow) if context["may_change"] else [], **context)


def _levels_context(principal: Principal, location: str, items: list[dict[str, Any]], *, q: str = "",
                    below: bool = False) -> dict[str, Any]:
    return {
        "location": location, "items": items, "q": q, "below": below,
        "may_change": principal.has_role(*STOCK_ROLES) and principal.can_act_for(location),
        "totals": {"skus": len(items), "below": sum(1 for i in items if i["below"]),
                   "near": sum(i["near_expiry"] for i in items), "expired": sum(1 for i in items if i["expired"])},
    }


@router.post("/stock/thresholds", response_class=HTMLResponse)
def set_threshold(request: Request, principal: PagePrincipal, uow: PageUow, location: Text, sku: Text,
                  minimum: Text) -> Response:
    principal.require_role(*STOCK_ROLES)
    principal.require_store(location)
    inventory.set_threshold(uow, validated(ThresholdIn, location=location, sku=sku.strip(),
                                                   minimum=_whole(minimum, "minimum")))
    if fragment_wanted(request):
        items = overview.location_stock(uow, location)
        return render(request, "stock/_levels.html", principal,
                      **_levels_context(principal, location, items), saved_sku=sku.strip())
    return RedirectResponse(f"/stock?location={location}", status_code=303)


# -- batches --------------------------------------------------------------------------------------------------
@router.get("/stock/batches", response_class=HTMLResponse)
def batches(request: Request, principal: PagePrincipal, uow: PageUow, q: str | None = None,
            expiring: str | None = None, empty: bool = False, page: int = 0) -> Response:
    days = _whole(expiring, "expiring") if expiring else None
    size = 100
    rows = overview.batch_list(uow, scope=read_scope(principal, uow), q=(q or "").strip() or None,
                               expiring_within_days=days, with_empty=empty, offset=max(page, 0) * size,
                               limit=size + 1)
    context: dict[str, Any] = {"rows": rows[:size], "more": len(rows) > size, "page": max(page, 0), "q": q or "",
               "expiring": expiring or "", "empty": empty, "near_days": overview.NEAR_EXPIRY_DAYS}
    if fragment_wanted(request):
        return render(request, "stock/_batch_rows.html", principal, **context)
    return render(request, "stock/batches.html", principal, page_title="Batches", **context)


@router.get("/stock/batch", response_class=HTMLResponse)
def batch(request: Request, principal: PagePrincipal, uow: PageUow, sku: str, code: str) -> Response:
    scope = read_scope(principal, uow)
    detail = overview.batch_detail(uow, sku, code, scope=scope)
    buyers = None
    if principal.has_role(*TRACE_ROLES):  # as GET /api/v1/reports/quality/batches/{sku}/{code}/buyers
        # Only roles that see personal data get here; the list names customers, no phone or address.
        buyers = quality.batch_buyers(uow, sku, code)
    movements = inventory.ledger_entries(uow, sku=sku, batch_code=code, scope=principal.store_scope, limit=200)
    return render(request, "stock/batch.html", principal, page_title="Batch", batch=detail, buyers=buyers,
                  movements=movements)


# -- transfers ------------------------------------------------------------------------------------------------
@router.get("/stock/transfers", response_class=HTMLResponse)
def transfers(request: Request, principal: PagePrincipal, uow: PageUow, before: int | None = None,
              made: int | None = None) -> Response:
    size = 50
    rows = movement_history.transfer_list(uow, scope=read_scope(principal, uow), before_id=before, limit=size + 1)
    may_move = principal.has_role(*STOCK_ROLES)
    return render(request, "stock/transfers.html", principal, page_title="Transfers", transfers=rows[:size],
                  next=rows[size - 1]["id"] if len(rows) > size else None, may_move=may_move, made=made,
                  sources=_visible_locations(principal, uow) if may_move else [],
                  targets=_own_locations(principal, uow) if may_move else [],
                  products=_product_choices(uow) if may_move else [])


@router.post("/stock/transfers", response_class=HTMLResponse)
def create_transfer(request: Request, principal: PagePrincipal, uow: PageUow, from_location: Text = "",
                    to_location: Text = "", sku: Lines = None, quantity: Lines = None, batch_code: Lines = None,
                    note: Text = "") -> Response:
    principal.require_role(*STOCK_ROLES)
    if not from_location:
        raise ValidationFailed("choose where the stock comes from", field="from_location")
    if not to_location:
        raise ValidationFailed("choose where the stock goes", field="to_location")
    _may_draw_from(principal, uow, from_location, "from_location")
    principal.require_store(to_location, "to_location")
    lines = []
    for i, (line_sku, line_quantity, line_batch) in enumerate(zip(sku or [], quantity or [], batch_code or [],
                                                                  strict=False)):
        line_sku, line_quantity, line_batch = line_sku.strip(), line_quantity.strip(), line_batch.strip()
        if not line_sku and not line_quantity:
            continue
        lines.append({"sku": line_sku, "quantity": _whole(line_quantity, f"lines.{i}.quantity"),
                      "batch_code": line_batch or None})
    if not lines:
        raise ValidationFailed("add at least one line: a SKU and a quantity", field="lines")
    made = inventory.transfer_stock(uow, validated(TransferIn, from_location=from_location, to_location=to_location,
                                                   lines=lines, note=note.strip() or None))
    return navigate(request, f"/stock/transfers?made={made['id']}")


# -- stock counts ---------------------------------------------------------------------------------------------
@router.get("/stock/counts", response_class=HTMLResponse)
def counts(request: Request, principal: PagePrincipal, uow: PageUow, before: int | None = None,
           done: int | None = None) -> Response:
    size = 30
    rows = movement_history.count_list(uow, scope=read_scope(principal, uow), before_id=before, limit=size + 1)
    may_count = principal.has_role(*STOCK_ROLES)
    return render(request, "stock/counts.html", principal, page_title="Stock counts", counts=rows[:size],
                  next=rows[size - 1]["id"] if len(rows) > size else None, may_count=may_count, done=done,
                  locations=_own_locations(principal, uow) if may_count else [])


@router.get("/stock/counts/new", response_class=HTMLResponse)
def count_sheet(request: Request, principal: PagePrincipal, uow: PageUow, location: str) -> Response:
    principal.require_role(*STOCK_ROLES)
    principal.require_store(location)
    items = overview.location_stock(uow, location)
    lines = [{"sku": i["sku"], "name": i["name"], "unit": i["unit"], **b}
             for i in items for b in i["batches"] if b["on_hand"] or b["reserved"]]
    return render(request, "stock/count_sheet.html", principal, page_title="Stock count",
                  here=inventory.get_location(uow, location), lines=lines)


@router.post("/stock/counts", response_class=HTMLResponse)
def post_count(request: Request, principal: PagePrincipal, uow: PageUow, location: Text = "", sku: Lines = None,
               batch_code: Lines = None, counted: Lines = None, note: Text = "") -> Response:
    principal.require_role(*STOCK_ROLES)
    principal.require_store(location)
    lines = []
    for i, (line_sku, line_batch, line_counted) in enumerate(zip(sku or [], batch_code or [], counted or [],
                                                                 strict=False)):
        if line_counted.strip() == "":
            continue  # not counted: left as it is
        lines.append({"sku": line_sku, "batch_code": line_batch or None,
                      "counted": _whole(line_counted, f"lines.{i}.counted")})
    if not lines:
        raise ValidationFailed("enter the counted quantity of at least one batch", field="counted")
    result = inventory.count_stock(uow, validated(StockCountIn, location=location, lines=lines,
                                                       note=note.strip() or None))
    return navigate(request, f"/stock/counts?done={result['id']}")


# -- imports from Excel -----------------------------------------------------------------------------------------
@router.get("/stock/imports", response_class=HTMLResponse)
def import_form(request: Request, principal: PagePrincipal) -> Response:
    principal.require_role(*STOCK_ROLES)
    return render(request, "stock/imports.html", principal, page_title="Import", kinds=_kinds(principal),
                  report=None)


def _kinds(principal: Principal) -> list[str]:
    return [kind for kind, roles in IMPORT_ROLES.items() if principal.role in roles]


@router.post("/stock/imports", response_class=HTMLResponse)
def run_import(request: Request, principal: PagePrincipal, uow: PageUow,
               kind: Annotated[str, Form(max_length=20)], file: Annotated[UploadFile, File()],
               skip_bad: Annotated[bool, Form()] = False) -> Response:
    if kind not in IMPORT_ROLES:
        raise ValidationFailed(f"cannot import {kind!r}; choose one of {', '.join(IMPORT_ROLES)}", field="kind")
    principal.require_role(*IMPORT_ROLES[kind])
    name = re.sub(r"[^\w.\- ]", "_", Path(file.filename or "").name)[-100:]
    if not name.strip(". "):
        raise ValidationFailed("choose a file to import", field="file")
    content = file.file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise ValidationFailed("the file is larger than 10 MB: split it", field="file")
    with tempfile.TemporaryDirectory(prefix="teahub-import-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        if kind == "stock" and principal.store_scope is not None:
            _require_rows_in_scope(principal, path)
        report = runner.import_file(uow, kind, path, skip_bad=skip_bad)
    context: dict[str, Any] = {"report": report, "file_name": name, "kinds": _kinds(principal)}
    if fragment_wanted(request):
        return render(request, "stock/_import_report.html", principal, **context)
    return render(request, "stock/imports.html", principal, page_title="Import", **context)


def _require_rows_in_scope(principal: Principal, path: Path) -> None:
    """As POST /api/v1/stock/receipts: every row receives at a location the user acts for."""
    table = reader.read_table(path)
    refused = [(row.number, row.values.get("location", "")) for row in table.rows
               if row.values.get("location") and not principal.can_act_for(row.values["location"])]
    if refused:
        rows = ", ".join(f"{number} ({code})" for number, code in refused[:20])
        raise Forbidden(f"you may not receive stock at the location of row(s) {rows}", field="location")
