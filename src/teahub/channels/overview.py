"""How each shop is doing, for the operators' overview: how far its orders have been pulled (the checkpoint and
the last run), the state of the stock pushed to it (pending, failing, the last push and the last error) and its
inbox by state. A read only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from teahub.channels.models import InboxMessage, PullCheckpoint, Shop, ShopStock, SkuMapping
from teahub.db.uow import UnitOfWork


def _empty_push() -> dict[str, Any]:
    return {"skus": 0, "pending": 0, "failing": 0, "last_pushed_at": None, "last_error": None,
            "last_error_at": None}


def shops_overview(uow: UnitOfWork) -> dict[str, dict[str, Any]]:
    """Per shop code: `pull` (modified_through, last_run_at, last_count, last_error; None before the first
    pull), `push` (mapped SKUs, pending and failing pushes, the last push, the newest error) and `inbox`
    (messages per state, and when the oldest still waiting to be processed came)."""
    with uow.reading():
        session = uow.session
        codes = dict(session.execute(select(Shop.id, Shop.code)).all())
        answer: dict[str, dict[str, Any]] = {
            code: {"pull": None, "push": _empty_push(),
                   "inbox": {"received": 0, "processed": 0, "failed": 0, "oldest_received_at": None}}
            for code in codes.values()}
        for checkpoint in session.scalars(select(PullCheckpoint)):
            answer[codes[checkpoint.shop_id]]["pull"] = {
                "modified_through": checkpoint.modified_through, "last_run_at": checkpoint.last_run_at,
                "last_count": checkpoint.last_count, "last_error": checkpoint.last_error}
        for shop_id, skus in session.execute(select(SkuMapping.shop_id, func.count(func.distinct(SkuMapping.sku)))
                                             .group_by(SkuMapping.shop_id)):
            answer[codes[shop_id]]["push"]["skus"] = int(skus)
        rows = session.execute(select(
            ShopStock.shop_id,
            func.count(ShopStock.dirty_since),
            func.count(ShopStock.last_error),
            func.max(ShopStock.pushed_at),
            func.max(ShopStock.last_error_at),
        ).group_by(ShopStock.shop_id))
        for shop_id, pending, failing, pushed_at, error_at in rows:
            push = answer[codes[shop_id]]["push"]
            push.update(pending=int(pending), failing=int(failing), last_pushed_at=pushed_at, last_error_at=error_at)
        for shop_id, error in _newest_errors(uow):
            answer[codes[shop_id]]["push"]["last_error"] = error
        for shop_id, state, count, oldest in session.execute(
                select(InboxMessage.shop_id, InboxMessage.state, func.count(), func.min(InboxMessage.received_at))
                .group_by(InboxMessage.shop_id, InboxMessage.state)):
            answer[codes[shop_id]]["inbox"][state] = int(count)
            if state == "received":
                answer[codes[shop_id]]["inbox"]["oldest_received_at"] = oldest
        return answer


def _newest_errors(uow: UnitOfWork) -> list[tuple[int, str]]:
    """The newest push error of each shop that has one (inside the caller's read)."""
    newest = (select(ShopStock.shop_id, func.max(ShopStock.last_error_at).label("at"))
              .where(ShopStock.last_error.is_not(None)).group_by(ShopStock.shop_id).subquery())
    found: dict[int, str] = {}
    for shop_id, error in uow.session.execute(
            select(ShopStock.shop_id, ShopStock.last_error)
            .join(newest, (newest.c.shop_id == ShopStock.shop_id) & (newest.c.at == ShopStock.last_error_at))
            .order_by(ShopStock.shop_id, ShopStock.sku)):
        if error is not None:
            found.setdefault(int(shop_id), str(error))
    return sorted(found.items())


def inbox_totals(uow: UnitOfWork) -> dict[str, int]:
    """Inbound messages of every shop, per state."""
    with uow.reading():
        counts = dict(uow.session.execute(select(InboxMessage.state, func.count())
                                          .group_by(InboxMessage.state)).all())
    return {state: int(counts.get(state, 0)) for state in ("received", "processed", "failed")}
