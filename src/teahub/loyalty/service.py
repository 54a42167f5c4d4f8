"""Loyalty use cases: the programme and its tiers, the points ledger (earn, spend, return, reverse, expire,
adjust) and tier recomputation. Sales calls spend/return inside its order transaction; earning, reversal and
tier changes react to order events (see tasks.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from teahub.db.uow import UnitOfWork
from teahub.errors import Conflict, NotFound, ValidationFailed
from teahub.loyalty import rules
from teahub.loyalty.events import POINTS_CHANGED, TIER_CHANGED
from teahub.loyalty.models import PointsAccount, PointsEntry, Programme, Tier

DEFAULT_TIERS = (
    # code, name, name_en, rank, threshold (fen over 12 months), price list, multiplier ‰
    ("member", "普通会员", "Member", 1, 0, "member", 1000),
    ("silver", "银卡", "Silver", 2, 200_000, "member", 1200),
    ("gold", "金卡", "Gold", 3, 500_000, "vip", 1500),
    ("vip", "黑金", "Black", 4, 2_000_000, "vip", 2000),
)
LOWEST_TIER = "member"


class InsufficientPoints(Conflict):
    title = "Not enough points"


# -- programme and tiers ---------------------------------------------------------------------------------


def ensure_default_programme(uow: UnitOfWork) -> None:
    """1 point per whole yuan paid, 100 points worth 1 yuan, points kept two years; four tiers. Idempotent."""
    with uow:
        if uow.session.get(Programme, 1) is None:
            uow.session.add(Programme(id=1, points_per_yuan=1, point_value_fen=1, expiry_days=730))
        if uow.session.scalar(select(func.count()).select_from(Tier)) == 0:
            for code, name, name_en, rank, threshold, price_list, multiplier in DEFAULT_TIERS:
                uow.session.add(Tier(code=code, name=name, name_en=name_en, rank=rank, threshold=threshold,
                                     price_list=price_list, multiplier_permille=multiplier, active=True))
        uow.commit()


@dataclass(frozen=True)
class ProgrammeInfo:
    points_per_yuan: int
    point_value_fen: int
    expiry_days: int


def programme(uow: UnitOfWork) -> ProgrammeInfo:
    with uow.reading():
        found = uow.session.get(Programme, 1)
        if found is None:
            raise NotFound("the points programme is not set up: run `teahub init`")
        return ProgrammeInfo(found.points_per_yuan, found.point_value_fen, found.expiry_days)


def _tier_view(t: Tier) -> dict[str, Any]:
    return {"code": t.code, "name": t.name, "name_en": t.name_en, "rank": t.rank, "threshold": t.threshold,
            "price_list": t.price_list, "multiplier_permille": t.multiplier_permille, "active": t.active}


def list_tiers(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow.reading():
        return [_tier_view(t) for t in uow.session.scalars(select(Tier).order_by(Tier.rank))]


def _rules(uow: UnitOfWork) -> list[rules.TierRule]:
    return [rules.TierRule(t["code"], t["rank"], t["threshold"], t["price_list"], t["multiplier_permille"])
            for t in list_tiers(uow) if t["active"]]


def save_tier(uow: UnitOfWork, code: str, values: dict[str, Any]) -> dict[str, Any]:
    """Create or change a tier (admin)."""
    with uow:
        tier = uow.session.get(Tier, code)
        before = _tier_view(tier) if tier else None
        if tier is None:
            missing = [k for k in ("name", "rank", "threshold", "price_list", "multiplier_permille") if k not in values]
            if missing:
                raise ValidationFailed(f"a new tier needs {', '.join(missing)}", field=missing[0])
            tier = Tier(code=code, active=True, **values)
            uow.session.add(tier)
        else:
            for key, value in values.items():
                setattr(tier, key, value)
        rank_taken = uow.session.scalar(select(Tier.code).where(Tier.rank == tier.rank, Tier.code != code))
        if rank_taken:
            raise Conflict(f"tier {rank_taken} already has rank {tier.rank}", field="rank")
        uow.session.flush()
        view = _tier_view(tier)
        uow.audit("tier.saved", "tier", code, before, view)
        uow.commit()
        return view


def price_list_for(uow: UnitOfWork, tier_code: str | None) -> str:
    """The price list a customer of this tier pays (list when not a member)."""
    if not tier_code:
        return "list"
    with uow.reading():
        found = uow.session.scalar(select(Tier.price_list).where(Tier.code == tier_code, Tier.active))
        return found or "list"


def tier_exists(uow: UnitOfWork, tier_code: str) -> bool:
    with uow.reading():
        return uow.session.get(Tier, tier_code) is not None


def tier_rank(uow: UnitOfWork, tier_code: str | None) -> int:
    if not tier_code:
        return 0
    with uow.reading():
        return uow.session.scalar(select(Tier.rank).where(Tier.code == tier_code)) or 0


# -- the ledger ------------------------------------------------------------------------------------------


def _account(uow: UnitOfWork, customer_id: int) -> PointsAccount:
    """The member's account row, created when missing, locked for the rest of the transaction."""
    dialect = uow.session.get_bind().dialect.name
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(PointsAccount)
    uow.session.execute(ins.values(customer_id=customer_id, balance=0, version=0).on_conflict_do_nothing())
    account = uow.session.scalar(select(PointsAccount).where(PointsAccount.customer_id == customer_id)
                                 .with_for_update().execution_options(populate_existing=True))
    assert account is not None
    return account


def _post(uow: UnitOfWork, customer_id: int, kind: str, points: int, document: str, *,
          order_id: int | None = None, note: str | None = None, expires_in_days: int | None = None,
          allow_negative: bool = True) -> dict[str, Any] | None:
    """Write one ledger entry and move the balance with it. Answers None when the document already has its
    entry of this kind (nothing is written twice)."""
    if points == 0:
        return None
    account = _account(uow, customer_id)
    if uow.session.scalar(select(PointsEntry.id).where(PointsEntry.kind == kind, PointsEntry.document == document)):
        return None
    if not allow_negative and account.balance + points < 0:
        raise InsufficientPoints(f"the balance is {account.balance} points; {-points} wanted", field="points",
                                 balance=account.balance)
    now = uow.now()
    entry = PointsEntry(customer_id=customer_id, kind=kind, points=points, document=document, order_id=order_id,
                        at=now, note=note,
                        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None)
    uow.session.add(entry)
    account.balance += points
    account.version += 1
    uow.session.flush()
    view = _entry_view(entry)
    uow.record_event(POINTS_CHANGED, "points", customer_id, {**view, "balance": account.balance},
                     version=account.version)
    return view


def _entry_view(e: PointsEntry) -> dict[str, Any]:
    return {"id": e.id, "customer_id": e.customer_id, "kind": e.kind, "points": e.points, "document": e.document,
            "order_id": e.order_id, "at": e.at, "expires_at": e.expires_at, "note": e.note}


def points_value(uow: UnitOfWork, points: int) -> int:
    """What these points pay, in fen."""
    return points * programme(uow).point_value_fen


def spend_points(uow: UnitOfWork, customer_id: int, points: int, document: str, order_id: int | None = None,
                 field: str = "points") -> int:
    """Pay with points (any part of the balance). Answers the fen they are worth. Refused beyond the balance."""
    if points <= 0:
        raise ValidationFailed("spend a positive number of points", field=field)
    with uow:
        try:
            _post(uow, customer_id, "spend", -points, document, order_id=order_id, allow_negative=False)
        except InsufficientPoints as refused:
            refused.field = field
            raise
        uow.commit()
        return points_value(uow, points)


def return_points(uow: UnitOfWork, customer_id: int, points: int, document: str, order_id: int | None = None
                  ) -> None:
    """Points paid for an order come back when the order is refunded or cancelled."""
    with uow:
        _post(uow, customer_id, "return", points, document, order_id=order_id)
        uow.commit()


def adjust_points(uow: UnitOfWork, customer_id: int, points: int, reason: str, document: str) -> dict[str, Any]:
    with uow:
        entry = _post(uow, customer_id, "adjust", points, document, note=reason)
        if entry is None:
            raise Conflict("this adjustment was already made", field="document")
        uow.audit("points.adjusted", "customer", customer_id, None, {"points": points, "reason": reason})
        uow.commit()
        return entry


def move_points(uow: UnitOfWork, from_id: int, to_id: int, document: str, *, points: int | None = None) -> int:
    """Move points between members (a merge, or its reversal): the whole balance unless told how many.
    Answers the points moved."""
    with uow:
        amount = _account(uow, from_id).balance if points is None else points
        if amount:
            _post(uow, from_id, "adjust", -amount, f"{document}:out", note=f"moved to customer {to_id}")
            _post(uow, to_id, "adjust", amount, f"{document}:in", note=f"moved from customer {from_id}")
        uow.commit()
        return amount


def balance(uow: UnitOfWork, customer_id: int) -> int:
    with uow.reading():
        return int(uow.session.scalar(select(PointsAccount.balance)
                                      .where(PointsAccount.customer_id == customer_id)) or 0)


def points_of(uow: UnitOfWork, customer_id: int, *, before_id: int | None = None, limit: int = 50
              ) -> dict[str, Any]:
    """The balance and the ledger, newest first."""
    with uow.reading():
        stmt = select(PointsEntry).where(PointsEntry.customer_id == customer_id)
        if before_id:
            stmt = stmt.where(PointsEntry.id < before_id)
        entries = [_entry_view(e) for e in uow.session.scalars(stmt.order_by(PointsEntry.id.desc()).limit(limit))]
        return {"customer_id": customer_id, "balance": balance(uow, customer_id), "entries": entries}


def ledger_sum(uow: UnitOfWork, customer_id: int) -> int:
    with uow.reading():
        return int(uow.session.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0))
                                      .where(PointsEntry.customer_id == customer_id)) or 0)


# -- reactions to orders ----------------------------------------------------------------------------------


def settle_order_points(uow: UnitOfWork, event: dict[str, Any]) -> None:
    """Keep an order's earned points in line with it: earn once when it is paid, take back the refunded
    share when money goes back (refund or cancellation). Idempotent per document."""
    payload = event["payload"]
    customer_id = payload.get("customer_id")
    if customer_id is None:
        return
    order_id = int(payload["id"])
    cash_paid = int(payload.get("cash_paid", 0))
    with uow:
        earned = _order_points(uow, order_id, "earn")
        if event["type"] in ("order.paid", "order.payment_received", "order.completed") and not earned \
                and payload.get("balance_due", 0) == 0 and cash_paid > 0:
            tier = _customer_tier(uow, customer_id)
            if tier is not None:  # only members earn
                rule = next((t for t in _rules(uow) if t.code == tier), None)
                settings = programme(uow)
                points = rules.points_earned(cash_paid, points_per_yuan=settings.points_per_yuan,
                                             multiplier_permille=rule.multiplier_permille if rule else 1000)
                _post(uow, customer_id, "earn", points, f"order:{order_id}", order_id=order_id,
                      expires_in_days=settings.expiry_days)
                earned = points
        if earned and payload.get("cash_refunded", 0):
            reversed_so_far = -_order_points(uow, order_id, "reverse")
            due = rules.reversal_due(earned, cash_paid, int(payload["cash_refunded"]), reversed_so_far)
            if due:
                _post(uow, customer_id, "reverse", -due, f"order:{order_id}:reverse:{reversed_so_far + due}",
                      order_id=order_id)
        uow.commit()


def _order_points(uow: UnitOfWork, order_id: int, kind: str) -> int:
    return int(uow.session.scalar(select(func.coalesce(func.sum(PointsEntry.points), 0))
                                  .where(PointsEntry.order_id == order_id, PointsEntry.kind == kind)) or 0)


def _customer_tier(uow: UnitOfWork, customer_id: int) -> str | None:
    from teahub.customers import service as customers

    return customers.get_customer_info(uow, customer_id).tier


def expire_points(uow: UnitOfWork) -> dict[str, int]:
    """Expire what was earned in entries past their expiry and not yet used (oldest used first)."""
    with uow:
        now = uow.now()
        holders = list(uow.session.scalars(
            select(PointsEntry.customer_id).where(PointsEntry.kind == "earn", PointsEntry.expires_at <= now)
            .distinct()))
        expired_total = 0
        for customer_id in holders:
            account = _account(uow, customer_id)
            sums = dict(uow.session.execute(
                select(PointsEntry.kind, func.sum(PointsEntry.points)).where(PointsEntry.customer_id == customer_id)
                .group_by(PointsEntry.kind)).all())
            expired_earnings = int(uow.session.scalar(
                select(func.coalesce(func.sum(PointsEntry.points), 0))
                .where(PointsEntry.customer_id == customer_id, PointsEntry.kind == "earn",
                       PointsEntry.expires_at <= now)) or 0)
            debits = -sum(int(sums.get(k) or 0) for k in ("spend", "return", "reverse", "expire"))
            due = rules.expiring(expired_earnings, debits, account.balance)
            # Keyed to the account's state: the same state never expires twice.
            if due and _post(uow, customer_id, "expire", -due, f"expiry:{customer_id}:{account.version}"):
                expired_total += due
        uow.commit()
        return {"customers": len(holders), "points_expired": expired_total}


def recompute_tier(uow: UnitOfWork, customer_id: int) -> str | None:
    """Set the customer's tier from their spend over the last 12 months (a member stays at least a member)."""
    from teahub.customers import service as customers
    from teahub.sales import service as sales

    with uow:
        info = customers.get_customer_info(uow, customer_id)
        if info.tier is None:
            return None  # not a member (no phone): nothing to compute
        spend = sales.customer_spend(uow, info.id, since=uow.now() - timedelta(days=365))
        tier = rules.tier_for(spend, _rules(uow), floor=LOWEST_TIER)
        if tier != info.tier:
            customers.set_tier(uow, info.id, tier)
            uow.record_event(TIER_CHANGED, "membership", info.id,
                             {"customer_id": info.id, "tier": tier, "previous": info.tier, "spend_12m": spend})
        uow.commit()
        return tier


def recompute_all_tiers(uow: UnitOfWork) -> dict[str, int]:
    from teahub.customers import service as customers

    changed = 0
    for customer_id in customers.member_ids(uow):
        before = customers.get_customer_info(uow, customer_id).tier
        if recompute_tier(uow, customer_id) != before:
            changed += 1
    return {"changed": changed}
