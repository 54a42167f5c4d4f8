"""Mounts the web UI on the API's app: static files, the login pages, every module of `teahub.web.pages`, and the
error pages (a page shows a problem in the user's language; the API keeps answering problem+json)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from teahub.errors import DomainError, ValidationFailed
from teahub.web import pages
from teahub.web.problems import page_problem
from teahub.web.rendering import navigate
from teahub.web.session import LoginRequired, login_url

# Paths that belong to the API side: their errors stay problem+json.
API_PREFIXES = ("/api/", "/metrics", "/health", "/openapi.json", "/docs", "/redoc", "/static/")

Handler = Callable[[Request, Exception], Awaitable[Response]]


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(API_PREFIXES)


async def refuse_nul_in_forms(request: Request) -> None:
    """PostgreSQL cannot store NUL in text: a form field carrying one is refused, as the API refuses it."""
    if request.method in ("GET", "HEAD"):
        return
    if "form" in request.headers.get("content-type", ""):
        for name, value in (await request.form()).multi_items():
            if isinstance(value, str) and "\x00" in value:
                raise ValidationFailed("text must not contain NUL characters", field=name)


def mount(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(packages=[("teahub.web", "static")]), name="static")
    for module in pkgutil.iter_modules(pages.__path__):
        router = getattr(importlib.import_module(f"{pages.__name__}.{module.name}"), "router", None)
        if router is not None:
            app.include_router(router, include_in_schema=False, dependencies=[Depends(refuse_nul_in_forms)])
    app.add_exception_handler(LoginRequired, _to_login)
    for error in (DomainError, RequestValidationError, StarletteHTTPException):
        _pages_first(app, error)


async def _to_login(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return navigate(request, login_url(exc.next_path))


def _pages_first(app: FastAPI, error: type[Exception]) -> None:
    """Pages get an HTML problem; everything else keeps the handler the API installed."""
    api_handler: Any = app.exception_handlers[error]

    async def handler(request: Request, exc: Exception) -> Response:
        if is_page(request):
            return page_problem(request, exc)
        return await api_handler(request, exc)  # type: ignore[no-any-return]

    app.add_exception_handler(error, handler)
