"""The dashboard at `/`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from teahub.web.rendering import render
from teahub.web.session import PagePrincipal

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, principal: PagePrincipal) -> Response:
    return render(request, "dashboard/index.html", principal, page_title="Dashboard")
