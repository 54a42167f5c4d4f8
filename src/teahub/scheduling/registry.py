"""What the background runner runs: scheduled jobs and event subscriptions, registered by each capability's
`tasks.py` (found by `load_tasks`).

    # teahub/loyalty/tasks.py
    from teahub.scheduling import Daily, register_job, subscribe

    register_job(name="loyalty.expire_points", cadence=Daily(at=time(19, 0)), run=service.expire_points)
    subscribe("loyalty.award_on_payment", ["order.paid"], award_points_for_order)
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from fnmatch import fnmatchcase
from typing import Any, Literal

from teahub.db.uow import UnitOfWork
from teahub.scheduling.cadence import Cadence

JobFunction = Callable[[UnitOfWork], "dict[str, Any] | None"]
Handler = Callable[[UnitOfWork, dict[str, Any]], None]
Start = Literal["beginning", "end"]

NAME_MAX = 100
# The capabilities whose `tasks.py` is imported when it exists, in this order.
CAPABILITIES = ("scheduling", "catalog", "inventory", "customers", "sales", "loyalty", "crm.pipeline",
                "crm.aftersales", "crm.campaigns", "crm.care", "analytics", "channels", "sync")


@dataclass(frozen=True)
class Job:
    name: str
    cadence: Cadence
    run: JobFunction
    # How long a claim holds before another worker may take the slot over (None: the runner's default).
    lease: timedelta | None = None


@dataclass(frozen=True)
class Subscription:
    name: str
    event_types: tuple[str, ...]  # exact types or patterns: "order.*", "*"
    handler: Handler
    # Where a new cursor starts: after the newest event ("end", so adding a subscription to a live system
    # does not replay history) or before the first one ("beginning").
    start: Start = "end"
    max_attempts: int | None = None  # None: the runner's default

    def matches(self, event_type: str) -> bool:
        return any(fnmatchcase(event_type, pattern) for pattern in self.event_types)


@dataclass
class Registry:
    jobs: dict[str, Job] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)

    def register_job(self, *, name: str, cadence: Cadence, run: JobFunction,
                     lease: timedelta | None = None) -> Job:
        _check_name(name, self.jobs, "job")
        if lease is not None and lease <= timedelta(0):
            raise ValueError("a lease must be positive")
        job = Job(name=name, cadence=cadence, run=run, lease=lease)
        self.jobs[name] = job
        return job

    def subscribe(self, name: str, event_types: Iterable[str], handler: Handler, *, start: Start = "end",
                  max_attempts: int | None = None) -> Subscription:
        _check_name(name, self.subscriptions, "subscription")
        types = (event_types,) if isinstance(event_types, str) else tuple(event_types)
        if not types:
            raise ValueError("a subscription needs at least one event type")
        if start not in ("beginning", "end"):
            raise ValueError("start is 'beginning' or 'end'")
        if max_attempts is not None and max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        subscription = Subscription(name=name, event_types=types, handler=handler, start=start,
                                    max_attempts=max_attempts)
        self.subscriptions[name] = subscription
        return subscription


def _check_name(name: str, taken: dict[str, Any], what: str) -> None:
    if not name or len(name) > NAME_MAX:
        raise ValueError(f"a {what} name has 1 to {NAME_MAX} characters")
    if name in taken:
        raise ValueError(f"{what} {name!r} is already registered")


# The registry the worker uses; capabilities register into it when their tasks.py is imported.
default_registry = Registry()


def register_job(*, name: str, cadence: Cadence, run: JobFunction, lease: timedelta | None = None) -> Job:
    """Run `run(uow)` once per slot of `cadence`, on one worker, however many workers run. `run` opens its own
    transactions (`with uow: ...; uow.commit()`) and may return a JSON-able dict, kept as the run's result.
    A run that dies is taken over once its lease ran out, so `run` must be safe to repeat."""
    return default_registry.register_job(name=name, cadence=cadence, run=run, lease=lease)


def subscribe(name: str, event_types: Iterable[str], handler: Handler, *, start: Start = "end",
              max_attempts: int | None = None) -> Subscription:
    """Call `handler(uow, event)` for each outbox event whose type matches, in seq order. The handler writes in
    `uow` (already in a transaction); the subscription's cursor moves in that same transaction, so each event
    has exactly one effect. A handler that raises is retried with backoff, then parked as a failure."""
    return default_registry.subscribe(name, event_types, handler, start=start, max_attempts=max_attempts)


def load_tasks(capabilities: Iterable[str] = CAPABILITIES) -> list[str]:
    """Import `teahub.<capability>.tasks` for each capability that has one; returns the modules imported.
    Safe to call again (Python imports a module once). An error inside a tasks module is not hidden."""
    loaded = []
    for capability in capabilities:
        module = f"teahub.{capability}.tasks"
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:  # the capability's package itself is missing
            found = False
        if found:
            importlib.import_module(module)
            loaded.append(module)
    return loaded
