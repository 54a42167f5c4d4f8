"""Figures about the whole population that a per-customer read compares against (RFM breakpoints, annual
churn, co-purchase counts, product facts), remembered per database and process for a few minutes.

Analytics writes nothing to the other capabilities' tables, and its own (models.py) only from nightly jobs,
so what is expensive to aggregate for a read is kept here, in memory: a
customer's own figures are always read fresh; only the yardstick they are scored against may be up to
`TTL_SECONDS` old (a new customer's first order moves a quintile breakpoint by a hair). The CLV report
recomputes churn and refreshes it; the RFM report scores everyone in SQL and needs no yardstick.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from teahub.db.uow import UnitOfWork

T = TypeVar("T")
TTL_SECONDS = 300.0

_remembered: weakref.WeakKeyDictionary[Any, dict[Hashable, tuple[float, Any]]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _store(uow: UnitOfWork) -> dict[Hashable, tuple[float, Any]]:
    bind = uow.session.get_bind()
    with _lock:
        return _remembered.setdefault(bind, {})


def remembered(uow: UnitOfWork, key: Hashable, compute: Callable[[], T], *, fresh: bool = False) -> T:
    """The value remembered for key on this database, computed now when missing, too old or `fresh`.
    Call inside `uow.reading()`."""
    store = _store(uow)
    now = time.monotonic()
    hit = store.get(key)
    if hit is not None and not fresh and now - hit[0] < TTL_SECONDS:
        return hit[1]  # type: ignore[no-any-return]
    value = compute()
    store[key] = (now, value)
    return value


def forget(uow: UnitOfWork) -> None:
    """Drop what is remembered for this database (tests, or after bulk changes)."""
    with uow.reading():
        _store(uow).clear()
