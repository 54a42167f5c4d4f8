"""Log in (a form with `username` and `password`), log out, and switch the language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from teahub.auth import service
from teahub.auth.deps import SESSION_COOKIE, session_factory
from teahub.db.uow import UnitOfWork
from teahub.errors import Unauthorized
from teahub.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from teahub.web.rendering import render

router = APIRouter()


def _local(path: str | None) -> str:
    """Only a path of this site: never send a user elsewhere after logging in."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:  # noqa: A002 - the query parameter's name
    return render(request, "login.html", next_path=_local(next))


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, username: Annotated[str, Form(max_length=100)],
          password: Annotated[str, Form(max_length=200)], next: Annotated[str, Form()] = "/") -> Response:  # noqa: A002
    factory = session_factory(request)
    hours = request.app.state.settings.session_hours
    try:
        secret, _principal = service.login(UnitOfWork(factory, actor=f"user:{username}"), username, password, hours)
    except Unauthorized:
        return render(request, "login.html", next_path=_local(next), username=username,
                      error="Wrong user name or password", status_code=200)
    answer = RedirectResponse(_local(next), status_code=303)
    answer.set_cookie(SESSION_COOKIE, secret, httponly=True, samesite="lax", max_age=hours * 3600)
    return answer


@router.post("/logout")
def logout(request: Request) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        service.logout(UnitOfWork(session_factory(request)), cookie)
    answer = RedirectResponse("/login", status_code=303)
    answer.delete_cookie(SESSION_COOKIE)
    return answer


@router.get("/lang/{language}")
def switch_language(language: str, next: str = "/") -> Response:  # noqa: A002
    answer = RedirectResponse(_local(next), status_code=303)
    if language in LANGUAGES:
        answer.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, samesite="lax")
    return answer
