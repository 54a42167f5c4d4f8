"""Templates: one Jinja2 environment with the translator, the formatting filters and the navigation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape

from teahub import __version__
from teahub.auth.principal import Principal
from teahub.web import formatting
from teahub.web.i18n import LANGUAGE_COOKIE, LANGUAGES, pick, translator


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str  # English source string, translated in the template
    roles: tuple[str, ...]


# The same roles the API asks for: a link a user could not use is not shown.
NAV = (
    NavItem("/", "Dashboard", ("admin", "manager", "clerk")),
    NavItem("/pos", "Counter", ("admin", "manager", "clerk")),
    NavItem("/orders", "Orders", ("admin", "manager", "clerk")),
    NavItem("/customers", "Customers", ("admin", "manager", "clerk")),
    NavItem("/products", "Catalog", ("admin", "manager", "clerk")),
    NavItem("/stock", "Stock", ("admin", "manager", "clerk")),
    NavItem("/crm", "CRM", ("admin", "manager", "clerk")),
    NavItem("/integrations", "Integrations", ("admin", "manager", "integration")),
    NavItem("/admin", "Admin", ("admin",)),
)


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("teahub.web", "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(money=formatting.money, weight=formatting.weight, qty=formatting.quantity,
                       local_time=formatting.local_time, local_date=formatting.local_date,
                       percent=formatting.percent)
    env.globals.update(version=__version__, languages=LANGUAGES)
    return env


templates = Jinja2Templates(env=_environment())


def language_of(request: Request) -> str:
    return pick(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"))


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def navigate(request: Request, url: str) -> Response:
    """After a form post (or to the login page): HTMX is told to go there, a plain request is redirected."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def render(request: Request, template: str, principal: Principal | None = None, *, status_code: int = 200,
           headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    language = language_of(request)
    nav = [item for item in NAV if principal is not None and principal.role in item.roles]
    return templates.TemplateResponse(
        request, template, {"principal": principal, "_": translator(language), "lang": language, "nav": nav,
                            "current_path": request.url.path, **context},
        status_code=status_code, headers=headers)
