"""Who is looking at a page: the session cookie of `/login` (or a bearer token). Without one, a page sends the
browser to the login form and comes back afterwards."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request

from teahub.auth.deps import SESSION_COOKIE, current_principal, session_factory
from teahub.auth.principal import Principal
from teahub.db.uow import UnitOfWork
from teahub.errors import Forbidden, Unauthorized

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def same_origin(request: Request) -> bool:
    """A form or HTMX post must come from a page of this site (the cookie is SameSite=Lax; this checks Origin too,
    when the browser sends it)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", request.url.netloc)


def page_principal(request: Request) -> Principal:
    try:
        principal = current_principal(request)
    except Unauthorized:
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(wanted) from None
    if request.method not in SAFE_METHODS and request.cookies.get(SESSION_COOKIE) and not same_origin(request):
        raise Forbidden("this form was sent from another site", field="origin")
    return principal


def login_url(next_path: str) -> str:
    return "/login" if next_path in ("", "/") else f"/login?next={quote(next_path, safe='/')}"


def page_uow(request: Request, principal: Annotated[Principal, Depends(page_principal)]) -> UnitOfWork:
    return UnitOfWork(session_factory(request), actor=principal.actor)


PagePrincipal = Annotated[Principal, Depends(page_principal)]
PageUow = Annotated[UnitOfWork, Depends(page_uow)]
