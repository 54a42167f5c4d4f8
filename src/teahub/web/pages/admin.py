"""Administration at `/admin` (admins only, as the API's users, tokens and audit routes): users with their role and
stores, adding one, API tokens (made for a user and shown once), and the audit log a page at a time."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from teahub.auth import service as auth
from teahub.auth.listing import list_tokens
from teahub.auth.models import ROLES
from teahub.auth.schemas import TokenIn, UserIn
from teahub.errors import ValidationFailed
from teahub.inventory import service as inventory
from teahub.web.forms import blank, validated
from teahub.web.rendering import is_htmx, render
from teahub.web.session import PagePrincipal, PageUow

router = APIRouter()
ADMIN = ("admin",)
AUDIT_PAGE = 50


def _users_context(uow: PageUow) -> dict[str, Any]:
    tokens: dict[str, list[dict[str, Any]]] = {}
    for token in list_tokens(uow):
        tokens.setdefault(token["username"], []).append(token)
    return {"users": auth.list_users(uow), "tokens": tokens, "roles": ROLES,
            "locations": inventory.list_locations(uow)}


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, principal: PagePrincipal, uow: PageUow) -> Response:
    principal.require_role(*ADMIN)
    return render(request, "admin/index.html", principal, page_title="Admin", tab="users", **_users_context(uow))


@router.post("/admin/users", response_class=HTMLResponse)
def add_user(request: Request, principal: PagePrincipal, uow: PageUow,
             username: Annotated[str, Form(max_length=64)], role: Annotated[str, Form(max_length=16)],
             stores: Annotated[list[str] | None, Form()] = None,
             password: Annotated[str, Form(max_length=256)] = "") -> Response:
    principal.require_role(*ADMIN)
    data = validated(UserIn, username=username.strip(), role=role, stores=[s for s in stores or [] if s],
                    password=blank(password))
    known = {loc["code"] for loc in inventory.list_locations(uow)}
    unknown = [code for code in data.stores if code not in known]
    if unknown:
        raise ValidationFailed(f"no location {', '.join(unknown)}", field="stores")
    user = auth.add_user(uow, data.username, data.role, data.stores, data.password)
    if not is_htmx(request):
        return RedirectResponse("/admin", status_code=303)
    return render(request, "admin/_users.html", principal, added=user, **_users_context(uow))


@router.post("/admin/users/{username}", response_class=HTMLResponse)
def update_user(request: Request, username: str, principal: PagePrincipal, uow: PageUow,
                role: Annotated[str, Form(max_length=16)], stores: Annotated[list[str] | None, Form()] = None,
                active: Annotated[str | None, Form(max_length=8)] = None) -> Response:
    """A user's role, stores and whether they may log in (`PATCH /api/v1/users/{username}`)."""
    principal.require_role(*ADMIN)
    user = auth.update_user(uow, username, role=role, stores=[s for s in stores or [] if s],
                            active=active is not None)
    return render(request, "admin/_users.html", principal, changed=user, **_users_context(uow))


@router.post("/admin/users/{username}/tokens", response_class=HTMLResponse)
def create_token(request: Request, username: str, principal: PagePrincipal, uow: PageUow,
                 name: Annotated[str, Form(max_length=64)] = "") -> Response:
    """A new API token for the user, shown this once (only its hash is kept)."""
    principal.require_role(*ADMIN)
    body = validated(TokenIn, name=blank(name))
    token = auth.create_token(uow, username, body.name)
    return render(request, "admin/_token.html", principal, username=username, token=token,
                  name=body.name or username)


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, principal: PagePrincipal, uow: PageUow, actor: str | None = None,
               entity_type: str | None = None, entity_id: str | None = None, action: str | None = None,
               before: Annotated[int | None, Query(ge=1)] = None) -> Response:
    principal.require_role(*ADMIN)
    filters = {"actor": blank(actor), "entity_type": blank(entity_type), "entity_id": blank(entity_id),
               "action": blank(action)}
    rows = auth.audit_entries(uow, **filters, before=before, newest_first=True, limit=AUDIT_PAGE + 1)
    older = rows[AUDIT_PAGE - 1]["id"] if len(rows) > AUDIT_PAGE else None
    for row in rows:
        for side in ("before", "after"):
            row[f"{side}_json"] = json.dumps(row[side], ensure_ascii=False, indent=2, default=str)
    return render(request, "admin/audit.html", principal, page_title="Audit log", tab="audit",
                  entries=rows[:AUDIT_PAGE], filters=filters, before=before, older=older)
