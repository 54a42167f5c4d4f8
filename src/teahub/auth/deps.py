"""FastAPI dependencies: who is calling, and a unit of work acting in their name."""

from __future__ import annotations

import time
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from teahub.auth import service
from teahub.auth.passwords import digest
from teahub.auth.principal import Principal
from teahub.db.uow import UnitOfWork
from teahub.errors import Forbidden, Unauthorized

SESSION_COOKIE = "teahub_session"
# A token's principal is remembered briefly so that a busy counter does not pay a lookup per call.
_CACHE_SECONDS = 5.0
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def session_factory(request: Request) -> sessionmaker[Session]:
    return request.app.state.session_factory  # type: ignore[no-any-return]


def current_principal(request: Request) -> Principal:
    factory = session_factory(request)
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        cache: dict[str, tuple[float, Principal]] = request.app.state.token_cache
        key = digest(credentials)
        hit = cache.get(key)
        now = time.monotonic()
        if hit and hit[0] > now:
            return hit[1]
        principal = service.authenticate_token(UnitOfWork(factory), credentials.strip())
        cache[key] = (now + _CACHE_SECONDS, principal)
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        if request.method not in _SAFE_METHODS and not _same_origin(request):
            # The browser sends the cookie with whatever page asks; a change must come from teahub's own pages.
            raise Forbidden("a logged-in browser may change things only from teahub's own pages", field="origin")
        return service.authenticate_session(UnitOfWork(factory), cookie)
    raise Unauthorized("send `Authorization: Bearer TOKEN` or log in")


def _same_origin(request: Request) -> bool:
    """Origin (or Referer) names this host, or the browser sent neither (not a cross-site request then)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", request.url.netloc)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def get_uow(request: Request, principal: CurrentPrincipal) -> UnitOfWork:
    return UnitOfWork(session_factory(request), actor=principal.actor)


Uow = Annotated[UnitOfWork, Depends(get_uow)]
