"""Pushes taken in by the API: each is checked on arrival (signature, messages) and acknowledged once stored;
the pushes that arrive while a write is under way are stored together in the next one (one transaction, one
statement), so a burst costs a commit per group rather than per push. Nothing is acknowledged before its commit."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session, sessionmaker

from teahub.channels.processing import CheckedPush, check_push, store_pushes
from teahub.channels.shops import ShopInfo, read_shop_info, recent_shop_info
from teahub.db.uow import UnitOfWork
from teahub.errors import NotFound

log = logging.getLogger(__name__)


@dataclass
class _Waiting:
    factory: sessionmaker[Session]
    push: CheckedPush
    stored: asyncio.Future[None]


@dataclass
class _Intake:
    """One per event loop: what waits for the next write, and whether one is under way."""

    waiting: list[_Waiting] = field(default_factory=list)
    writer: asyncio.Task[None] | None = None


_intakes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Intake] = weakref.WeakKeyDictionary()


async def accept(factory: sessionmaker[Session], shop_code: str, body: bytes, headers: Mapping[str, str],
                 query: Mapping[str, str], actor: str) -> dict[str, Any]:
    """The platform's acknowledgement, once the push is stored (Unauthorized when its signature is wrong)."""
    shop = await _shop(UnitOfWork(factory, actor=actor), shop_code)
    push = check_push(shop, body, headers, query)
    loop = asyncio.get_running_loop()
    intake = _intakes.setdefault(loop, _Intake())
    stored: asyncio.Future[None] = loop.create_future()
    intake.waiting.append(_Waiting(factory, push, stored))
    if intake.writer is None:
        intake.writer = loop.create_task(_write(intake))
    await stored
    return push.ack


async def _shop(uow: UnitOfWork, code: str) -> ShopInfo | None:
    shop = recent_shop_info(uow, code)
    if shop is not None:
        return shop
    try:
        return await run_in_threadpool(read_shop_info, uow, code)
    except NotFound:
        return None


async def _write(intake: _Intake) -> None:
    """Store what waits, a group per write, until nothing does."""
    try:
        while intake.waiting:
            group, intake.waiting = intake.waiting, []
            for factory in {id(w.factory): w.factory for w in group}.values():
                await _store_group([w for w in group if w.factory is factory],
                                   UnitOfWork(factory, actor="channels:webhook"))
    finally:
        intake.writer = None


async def _store_group(group: list[_Waiting], uow: UnitOfWork) -> None:
    try:
        await run_in_threadpool(store_pushes, uow, [w.push for w in group])
    except Exception as exc:  # noqa: BLE001 - each push is then tried alone: one cannot fail the others
        if len(group) == 1:
            if not group[0].stored.done():  # its request may have gone (the client hung up)
                group[0].stored.set_exception(exc)
            return
        log.warning("a group of %d pushes could not be stored together; storing them one by one", len(group),
                    exc_info=True)
        for waiting in group:
            await _store_group([waiting], uow)
        return
    for waiting in group:
        if not waiting.stored.done():
            waiting.stored.set_result(None)
