"""Builds the FastAPI app: each capability's router under /api/v1, and one problem+json error handler."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, text
from starlette.exceptions import HTTPException as StarletteHTTPException

from teahub import __version__
from teahub.config import Settings, get_settings
from teahub.db.engine import make_engine, make_session_factory
from teahub.errors import DomainError, ValidationFailed

PROBLEM_JSON = "application/problem+json"


class ProblemField(BaseModel):
    field: str
    reason: str


class Problem(BaseModel):
    """RFC 9457 problem details; `field` names the input at fault. Extension members may follow."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    field: str | None = None
    errors: list[ProblemField] | None = None


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": description, "content": {PROBLEM_JSON: {}}}
    for status, description in ((401, "Not authenticated"), (403, "Not allowed for this user or store"),
                                (404, "Not found"), (409, "Conflicts with the current state"),
                                (422, "Invalid input"))
}
STATUS_BY_KIND = {"invalid": 422, "not_found": 404, "conflict": 409, "forbidden": 403, "unauthorized": 401}


def problem(status: int, title: str, detail: str, *, type_: str = "about:blank",
            field: str | None = None, errors: list[dict[str, Any]] | None = None,
            extra: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    if field is not None:
        body["field"] = field
    if errors:
        body["errors"] = errors
    # Extension members never shadow the standard ones.
    body.update({k: v for k, v in (extra or {}).items() if v is not None and k not in body})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _slug(name: str) -> str:
    return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


async def domain_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = STATUS_BY_KIND.get(exc.kind, 422)
    errors = [{"field": exc.field, "reason": exc.detail}] if exc.field else None
    return problem(status, exc.title, exc.detail, type_=f"urn:teahub:problem:{_slug(type(exc).__name__)}",
                   field=exc.field, errors=errors, extra=exc.extra)


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


def _problems_as_problem_json(app: FastAPI) -> None:
    """Document error answers under application/problem+json, the media type they are sent with."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status.startswith("4") and PROBLEM_JSON in content and "application/json" in content:
                        content[PROBLEM_JSON] = content.pop("application/json")
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


async def refuse_nul_characters(request: Request) -> None:
    """PostgreSQL cannot store NUL in text, so no input may carry one (SQLite would keep it silently)."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    if b"%00" in raw_path or "\x00" in request.url.path:
        raise ValidationFailed("text must not contain NUL characters", field="path")
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            raise ValidationFailed("text must not contain NUL characters", field=name.replace("\x00", ""))
    body = await request.body()
    if b"\\u0000" in body or b"\x00" in body:
        raise ValidationFailed("text must not contain NUL characters", field=_nul_path(body))


def _nul_path(body: bytes) -> str:
    """The dotted path of the first JSON string holding a NUL, so the problem names the field."""
    try:
        document = json.loads(body)
    except ValueError:
        return "body"

    def walk(value: Any, path: str) -> str | None:
        if isinstance(value, str):
            return path if "\x00" in value else None
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in items:
            if isinstance(key, str) and "\x00" in key:
                return f"{path}.{key}".lstrip(".")
            found = walk(item, f"{path}.{key}".lstrip("."))
            if found:
                return found
        return None

    return walk(document, "") or "body"


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """With the embedded worker on, schedules and event reactions run in a thread of this process."""
    if not app.state.settings.embedded_worker:
        yield
        return
    from teahub import worker
    from teahub.scheduling.registry import load_tasks
    from teahub.sync import runtime as sync_runtime
    from teahub.sync.broker import BrokerConfig

    load_tasks()
    thread, stop = worker.start_embedded(app.state.engine)
    # The sync loops relay and deliver within moments instead of at the runner's 5-second jobs.
    sync_thread, sync_stop = sync_runtime.start(app.state.engine, BrokerConfig.from_settings(app.state.settings))
    try:
        yield
    finally:
        stop.set()
        sync_stop.set()
        thread.join(timeout=10)
        sync_thread.join(timeout=10)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url, pool_size=settings.pool_size,
                                   max_overflow=settings.max_overflow, echo=settings.log_sql)
    app = FastAPI(title="teahub", version=__version__, openapi_url="/openapi.json",
                  description="One system of record for a tea retailer.",
                  lifespan=_lifespan)
    bind(app, settings, engine)

    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)

    from teahub.analytics.routes import router as analytics_router
    from teahub.auth.routes import router as auth_router
    from teahub.catalog.routes import router as catalog_router
    from teahub.channels.routes import router as channels_router
    from teahub.crm.aftersales.routes import router as aftersales_router
    from teahub.crm.campaigns.routes import router as campaigns_router
    from teahub.crm.care.routes import router as care_router
    from teahub.crm.pipeline.routes import router as pipeline_router
    from teahub.customers.routes import router as customers_router
    from teahub.inventory.routes import router as inventory_router
    from teahub.loyalty.routes import router as loyalty_router
    from teahub.sales.routes import router as sales_router
    from teahub.scheduling.routes import router as worker_router
    from teahub.sync.routes import metrics_router
    from teahub.sync.routes import router as sync_router

    # Health first: load balancers ask it every few seconds.
    @app.get("/health", tags=["health"])
    def health(request: Request) -> dict[str, str]:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("select 1"))
        return {"status": "ok", "version": __version__}

    # Routes are matched one after the other (tens of microseconds per router passed): the busiest first, the
    # platforms' pushes and the stores' sales.
    for router in (channels_router, sales_router, auth_router, catalog_router, inventory_router, customers_router,
                   sync_router, analytics_router, loyalty_router, pipeline_router, aftersales_router,
                   campaigns_router, care_router, worker_router):
        app.include_router(router, prefix="/api/v1", responses=PROBLEM_RESPONSES,
                           dependencies=[Depends(refuse_nul_characters)])

    app.include_router(metrics_router, responses=PROBLEM_RESPONSES)
    _problems_as_problem_json(app)

    from teahub.web.app import mount as mount_web

    mount_web(app)

    return app


def bind(app: FastAPI, settings: Settings, engine: Engine) -> None:
    """Point an app at a database: everything the app knows of it is here (the tests reuse one app per
    process for the database of each test: building the routes costs far more than a test's requests)."""
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.token_cache = {}
