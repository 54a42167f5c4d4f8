"""What every command-line group shares: the database from settings, a unit of work acting as the CLI,
consoles, and turning a domain error into a message and exit status 1."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine

from teahub.config import get_settings
from teahub.db.engine import make_engine, make_session_factory
from teahub.db.uow import UnitOfWork
from teahub.errors import DomainError

ACTOR = "cli"
F = TypeVar("F", bound=Callable[..., Any])


def out() -> Console:
    return Console(highlight=False, soft_wrap=True)


def err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def handles_domain_errors(command: F) -> F:
    """A domain error ends the command with its message on stderr and exit status 1, not a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DomainError as exc:
            where = f" ({exc.field})" if exc.field else ""
            err().print(f"[red]error{escape(where)}:[/red] {escape(exc.detail)}")
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def database() -> Iterator[Engine]:
    settings = get_settings()
    engine = make_engine(settings.database_url, pool_size=settings.pool_size, max_overflow=settings.max_overflow,
                         echo=settings.log_sql)
    try:
        yield engine
    finally:
        engine.dispose()


def unit_of_work(engine: Engine) -> UnitOfWork:
    return UnitOfWork(make_session_factory(engine), actor=ACTOR)


@contextmanager
def cli_unit_of_work() -> Iterator[UnitOfWork]:
    """A unit of work on the configured database, for one command."""
    with database() as engine:
        yield unit_of_work(engine)
