"""Who is looking at a page: the session cookie of `/login` (or a bearer token). Without one, a page sends the
browser to the login form and comes back afterwards."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from teahub.auth.deps import current_principal, session_factory
from teahub.auth.principal import Principal
from teahub.db.uow import UnitOfWork
from teahub.errors import Unauthorized


class LoginRequired(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def page_principal(request: Request) -> Principal:
    """The API's principal (a form posted from another site is refused there, as any cookie-borne change is)."""
    try:
        return current_principal(request)
    except Unauthorized:
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(wanted) from None


def login_url(next_path: str) -> str:
    return "/login" if next_path in ("", "/") else f"/login?next={quote(next_path, safe='/')}"


def page_uow(request: Request, principal: Annotated[Principal, Depends(page_principal)]) -> UnitOfWork:
    return UnitOfWork(session_factory(request), actor=principal.actor)


PagePrincipal = Annotated[Principal, Depends(page_principal)]
PageUow = Annotated[UnitOfWork, Depends(page_uow)]
