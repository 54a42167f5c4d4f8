"""Errors on pages: the API's problem details (title, field, reason), shown in the user's language."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from teahub.errors import DomainError

STATUS_BY_KIND = {"invalid": 422, "not_found": 404, "conflict": 409, "forbidden": 403, "unauthorized": 401}


def problem_of(exc: Exception) -> dict[str, Any]:
    """The same fields the API's problem+json carries."""
    if isinstance(exc, DomainError):
        return {"status": STATUS_BY_KIND.get(exc.kind, 422), "title": exc.title, "detail": exc.detail,
                "field": exc.field}
    if isinstance(exc, RequestValidationError):
        errors = exc.errors()
        first = errors[0] if errors else {}
        field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "form"))
        return {"status": 422, "title": "Invalid input", "detail": first.get("msg", "invalid"),
                "field": field or None}
    if isinstance(exc, StarletteHTTPException):
        return {"status": exc.status_code, "title": str(exc.detail), "detail": None, "field": None}
    return {"status": 500, "title": "Something went wrong", "detail": None, "field": None}


def page_problem(request: Request, exc: Exception) -> HTMLResponse:
    from teahub.web.rendering import is_htmx, render
    from teahub.web.session import page_principal

    problem = problem_of(exc)
    principal = None
    if problem["status"] != 401:
        try:
            principal = page_principal(request)
        except Exception:  # noqa: BLE001 - the error page shows without a menu then
            principal = None
    template = "_problem.html" if is_htmx(request) else "problem.html"
    return render(request, template, principal, status_code=problem["status"], problem=problem)
