from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session, sessionmaker

from teahub.auth import service
from teahub.auth.deps import SESSION_COOKIE, CurrentPrincipal, Uow, session_factory
from teahub.auth.schemas import AuditOut, LoginIn, LoginOut, TokenIn, TokenOut, UserIn, UserOut, UserPatch
from teahub.db.uow import UnitOfWork
from teahub.pagination import MAX_LIMIT, Page, cursor_int, page

router = APIRouter(tags=["auth"])
Factory = Annotated[sessionmaker[Session], Depends(session_factory)]


@router.post("/auth/login", response_model=LoginOut)
def login(body: LoginIn, request: Request, response: Response, factory: Factory) -> dict:  # type: ignore[type-arg]
    hours = request.app.state.settings.session_hours
    secret, principal = service.login(UnitOfWork(factory, actor=f"user:{body.username}"), body.username,
                                      body.password, hours)
    response.set_cookie(SESSION_COOKIE, secret, httponly=True, samesite="lax", max_age=hours * 3600)
    users = service.list_users(UnitOfWork(factory))
    return {"token": secret, "user": next(u for u in users if u["id"] == principal.user_id)}


@router.post("/auth/logout", status_code=204)
def logout(request: Request, response: Response, factory: Factory) -> None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        service.logout(UnitOfWork(factory), cookie)
    response.delete_cookie(SESSION_COOKIE)


@router.get("/auth/me", response_model=UserOut)
def me(principal: CurrentPrincipal, uow: Uow) -> dict:  # type: ignore[type-arg]
    return next(u for u in service.list_users(uow) if u["id"] == principal.user_id)


@router.post("/users", response_model=UserOut, status_code=201)
def add_user(body: UserIn, principal: CurrentPrincipal, uow: Uow) -> dict:  # type: ignore[type-arg]
    principal.require_role("admin")
    return service.add_user(uow, body.username, body.role, body.stores, body.password)


@router.patch("/users/{username}", response_model=UserOut)
def update_user(username: str, body: UserPatch, principal: CurrentPrincipal, uow: Uow) -> dict:  # type: ignore[type-arg]
    principal.require_role("admin")
    return service.update_user(uow, username, role=body.role, stores=body.stores, active=body.active)


@router.get("/users", response_model=Page[UserOut])
def list_users(principal: CurrentPrincipal, uow: Uow) -> dict:  # type: ignore[type-arg]
    principal.require_role("admin")
    return {"items": service.list_users(uow), "next": None}


@router.post("/users/{username}/tokens", response_model=TokenOut, status_code=201)
def create_token(username: str, body: TokenIn, principal: CurrentPrincipal, uow: Uow) -> dict:  # type: ignore[type-arg]
    principal.require_role("admin")
    return {"token": service.create_token(uow, username, body.name)}


@router.get("/audit", response_model=Page[AuditOut])
def audit(principal: CurrentPrincipal, uow: Uow,
          entity_type: str | None = None, entity_id: str | None = None, actor: str | None = None,
          cursor: str | None = None, limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50) -> dict:  # type: ignore[type-arg]
    principal.require_role("admin", "manager")
    rows = service.audit_entries(uow, entity_type=entity_type, entity_id=entity_id, actor=actor,
                                 after=cursor_int(cursor), limit=limit + 1)
    return page(rows, limit)
