"""Builds the FastAPI app: each capability's router under /api/v1, and one problem+json error handler."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from starlette.exceptions import HTTPException as StarletteHTTPException

from teahub import __version__
from teahub.config import Settings, get_settings
from teahub.db.engine import make_engine, make_session_factory
from teahub.errors import DomainError

PROBLEM_JSON = "application/problem+json"
STATUS_BY_KIND = {"invalid": 422, "not_found": 404, "conflict": 409, "forbidden": 403, "unauthorized": 401}


def problem(status: int, title: str, detail: str, *, type_: str = "about:blank",
            field: str | None = None, errors: list[dict[str, Any]] | None = None,
            **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    if field is not None:
        body["field"] = field
    if errors:
        body["errors"] = errors
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _slug(name: str) -> str:
    return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


async def domain_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = STATUS_BY_KIND.get(exc.kind, 422)
    errors = [{"field": exc.field, "reason": exc.detail}] if exc.field else None
    return problem(status, exc.title, exc.detail, type_=f"urn:teahub:problem:{_slug(type(exc).__name__)}",
                   field=exc.field, errors=errors, **exc.extra)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def validation_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _field_path(e.get("loc", ())), "reason": e.get("msg", "invalid")} for e in exc.errors()]
    first = errors[0] if errors else {"field": "body", "reason": "invalid"}
    return problem(422, "Invalid input", f"{first['field']}: {first['reason']}",
                   type_="urn:teahub:problem:validation-failed", field=first["field"], errors=errors)


async def http_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, str(exc.detail), str(exc.detail))


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url, pool_size=settings.pool_size,
                                   max_overflow=settings.max_overflow, echo=settings.log_sql)
    app = FastAPI(title="teahub", version=__version__, openapi_url="/openapi.json",
                  description="One system of record for a tea retailer.")
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.token_cache = {}

    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)

    from teahub.auth.routes import router as auth_router
    from teahub.catalog.routes import router as catalog_router
    from teahub.customers.routes import router as customers_router
    from teahub.inventory.routes import router as inventory_router
    from teahub.sales.routes import router as sales_router
    from teahub.sync.routes import router as sync_router

    for router in (auth_router, catalog_router, inventory_router, customers_router, sales_router,
                   sync_router):
        app.include_router(router, prefix="/api/v1")

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        return {"status": "ok", "version": __version__}

    return app
