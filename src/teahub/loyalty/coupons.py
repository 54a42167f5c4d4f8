"""Coupon use cases: define, grant to customers, price an order's coupons, redeem them with the order (once,
within limits, under lock), and give them back when the order is cancelled."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from teahub.db.uow import UnitOfWork
from teahub.errors import Conflict, NotFound, ValidationFailed
from teahub.loyalty import coupon_rules as rules
from teahub.loyalty.coupon_models import Coupon, CouponGrant, CouponRedemption

COUPON_FIELDS = ("code", "name", "kind", "value", "percent_off", "threshold", "max_discount", "valid_from",
                 "valid_until", "channels", "skus", "categories", "per_customer_limit", "total_limit", "stackable",
                 "public", "active")


def coupon_view(c: Coupon) -> dict[str, Any]:
    return {"id": c.id, **{name: getattr(c, name) for name in COUPON_FIELDS}, "redeemed": c.redeemed,
            "created_at": c.created_at}


def _grant_view(g: CouponGrant, coupon: Coupon) -> dict[str, Any]:
    return {"id": g.id, "code": g.code, "coupon": coupon.code, "name": coupon.name, "customer_id": g.customer_id,
            "status": g.status, "granted_at": g.granted_at, "order_id": g.order_id, "source": g.source,
            "valid_until": coupon.valid_until}


def create_coupon(uow: UnitOfWork, values: dict[str, Any]) -> dict[str, Any]:
    kind = values["kind"]
    if kind == "percent" and not 1 <= values.get("percent_off", 0) <= 100:
        raise ValidationFailed("a percent coupon takes 1 to 100 percent off", field="percent_off")
    if kind in ("fixed", "threshold") and values.get("value", 0) <= 0:
        raise ValidationFailed(f"a {kind} coupon takes a value in fen off", field="value")
    if kind == "threshold" and values.get("threshold", 0) <= values.get("value", 0):
        raise ValidationFailed("the threshold must be above the value off (满200减30)", field="threshold")
    if values.get("valid_from") and values.get("valid_until") and values["valid_until"] <= values["valid_from"]:
        raise ValidationFailed("valid_until must be after valid_from", field="valid_until")
    with uow:
        if uow.session.scalar(select(Coupon.id).where(Coupon.code == values["code"])):
            raise Conflict(f"coupon {values['code']} already exists", field="code")
        coupon = Coupon(**values, redeemed=0, created_at=uow.now())
        uow.session.add(coupon)
        uow.session.flush()
        view = coupon_view(coupon)
        uow.audit("coupon.created", "coupon", coupon.id, None, view)
        uow.commit()
        return view


def list_coupons(uow: UnitOfWork, *, after_id: int = 0, limit: int = 50) -> list[dict[str, Any]]:
    with uow.reading():
        rows = uow.session.scalars(select(Coupon).where(Coupon.id > after_id).order_by(Coupon.id).limit(limit))
        return [coupon_view(c) for c in rows]


def get_coupon(uow: UnitOfWork, code: str, field: str = "code") -> dict[str, Any]:
    """One coupon definition by its code."""
    with uow.reading():
        return coupon_view(_coupon(uow, code, field))


def _coupon(uow: UnitOfWork, code: str, field: str = "code") -> Coupon:
    coupon = uow.session.scalar(select(Coupon).where(Coupon.code == code))
    if coupon is None:
        raise NotFound(f"no coupon {code}", field=field)
    return coupon


def grant(uow: UnitOfWork, coupon_code: str, customer_id: int, source: str | None = None) -> dict[str, Any]:
    """Give a customer a coupon of their own (with its own code, redeemable once)."""
    with uow:
        coupon = _coupon(uow, coupon_code, "coupon")
        if not coupon.active:
            raise ValidationFailed(f"coupon {coupon.code} is no longer given", field="coupon")
        row = CouponGrant(coupon_id=coupon.id, customer_id=customer_id, status="issued", granted_at=uow.now(),
                          code=f"{coupon.code}-{secrets.token_hex(4).upper()}", source=source)
        uow.session.add(row)
        uow.session.flush()
        view = _grant_view(row, coupon)
        uow.record_event("coupon.granted", "coupon", coupon.id, view)
        uow.audit("coupon.granted", "coupon_grant", row.id, None, view)
        uow.commit()
        return view


def customer_coupons(uow: UnitOfWork, customer_id: int) -> list[dict[str, Any]]:
    with uow.reading():
        rows = uow.session.execute(select(CouponGrant, Coupon).join(Coupon, Coupon.id == CouponGrant.coupon_id)
                                   .where(CouponGrant.customer_id == customer_id).order_by(CouponGrant.id)).all()
        return [_grant_view(g, c) for g, c in rows]


@dataclass(frozen=True)
class AppliedCoupon:
    coupon_id: int
    grant_id: int | None
    code: str
    per_line: list[int]

    @property
    def discount(self) -> int:
        return sum(self.per_line)


def price(uow: UnitOfWork, codes: list[str], *, customer_id: int | None, channel: str,
          lines: list[rules.LineForCoupon], field: str = "coupons") -> list[AppliedCoupon]:
    """What each coupon takes off which line, refusing any that cannot be used here (nothing is written).
    Each coupon prices the lines as the previous ones left them."""
    with uow.reading():
        now = uow.now()
        found: list[tuple[Coupon, CouponGrant | None, str]] = []
        for i, code in enumerate(codes):
            where = f"{field}.{i}"
            grant_row = uow.session.scalar(select(CouponGrant).where(CouponGrant.code == code))
            if grant_row is not None:
                coupon = uow.session.get(Coupon, grant_row.coupon_id)
                assert coupon is not None
                if grant_row.customer_id != customer_id:
                    raise ValidationFailed(f"coupon {code} belongs to another customer", field=where)
                if grant_row.status != "issued":
                    raise ValidationFailed(f"coupon {code} was already used", field=where)
            else:
                coupon = uow.session.scalar(select(Coupon).where(Coupon.code == code))
                if coupon is None or not coupon.public:
                    raise ValidationFailed(f"no coupon {code}", field=where)
            if not coupon.active:
                raise ValidationFailed(f"coupon {code} is no longer valid", field=where)
            found.append((coupon, grant_row, where))
        terms = [_terms(c) for c, _, _ in found]
        rules.check_stacking(terms, field)
        remaining = list(lines)
        applied = []
        for (coupon, grant_row, where), term in zip(found, terms, strict=True):
            rules.check_usable(term, channel, now, where)
            if coupon.total_limit is not None and coupon.redeemed >= coupon.total_limit:
                raise ValidationFailed(f"coupon {coupon.code} has been used up", field=where)
            _check_customer_limit(uow, coupon, customer_id, where)
            per_line = rules.discount(term, remaining, where)
            remaining = [rules.LineForCoupon(x.sku, x.category, x.amount - off)
                         for x, off in zip(remaining, per_line, strict=True)]
            applied.append(AppliedCoupon(coupon.id, grant_row.id if grant_row else None, term.code, per_line))
        return applied


def _terms(c: Coupon) -> rules.CouponTerms:
    return rules.CouponTerms(c.code, c.kind, c.value, c.percent_off, c.threshold, c.max_discount, c.valid_from,
                             c.valid_until, tuple(c.channels or ()), tuple(c.skus or ()), tuple(c.categories or ()),
                             c.stackable)


def _check_customer_limit(uow: UnitOfWork, coupon: Coupon, customer_id: int | None, field: str) -> None:
    if coupon.per_customer_limit is None:
        return
    if customer_id is None:
        raise ValidationFailed(f"coupon {coupon.code} is limited per customer: name the customer", field=field)
    used = uow.session.scalar(select(func.count()).select_from(CouponRedemption).where(
        CouponRedemption.coupon_id == coupon.id, CouponRedemption.customer_id == customer_id,
        CouponRedemption.returned_at.is_(None))) or 0
    if used >= coupon.per_customer_limit:
        raise ValidationFailed(f"coupon {coupon.code} was used {used} times by this customer already", field=field)


def redeem(uow: UnitOfWork, applied: list[AppliedCoupon], *, order_id: int, customer_id: int | None,
           field: str = "coupons") -> None:
    """Record the coupons on the order. The database decides races: a grant is taken once, a coupon's total
    limit is never passed, and its per-customer limit is checked with the coupon row locked."""
    with uow:
        now = uow.now()
        for i, coupon_applied in enumerate(applied):
            where = f"{field}.{i}"
            coupon = uow.session.scalar(select(Coupon).where(Coupon.id == coupon_applied.coupon_id)
                                        .with_for_update().execution_options(populate_existing=True))
            assert coupon is not None
            _check_customer_limit(uow, coupon, customer_id, where)
            taken = uow.session.execute(
                update(Coupon).where(Coupon.id == coupon.id,
                                     (Coupon.total_limit.is_(None)) | (Coupon.redeemed < Coupon.total_limit))
                .values(redeemed=Coupon.redeemed + 1))
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                raise Conflict(f"coupon {coupon.code} has been used up", field=where)
            if coupon_applied.grant_id is not None:
                claimed = uow.session.execute(
                    update(CouponGrant).where(CouponGrant.id == coupon_applied.grant_id,
                                              CouponGrant.status == "issued")
                    .values(status="redeemed", order_id=order_id))
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    raise Conflict(f"coupon {coupon_applied.code} was already used", field=where)
            uow.session.add(CouponRedemption(coupon_id=coupon.id, grant_id=coupon_applied.grant_id,
                                             customer_id=customer_id, order_id=order_id,
                                             discount=coupon_applied.discount, at=now))
            uow.record_event("coupon.redeemed", "coupon", coupon.id,
                             {"coupon": coupon.code, "code": coupon_applied.code, "order_id": order_id,
                              "customer_id": customer_id, "discount": coupon_applied.discount})
        uow.commit()


def release(uow: UnitOfWork, order_id: int) -> int:
    """A cancelled order gives its coupons back. Answers how many."""
    with uow:
        rows = list(uow.session.scalars(select(CouponRedemption).where(
            CouponRedemption.order_id == order_id, CouponRedemption.returned_at.is_(None)).with_for_update()))
        for redemption in rows:
            redemption.returned_at = uow.now()
            uow.session.execute(update(Coupon).where(Coupon.id == redemption.coupon_id)
                                .values(redeemed=Coupon.redeemed - 1))
            if redemption.grant_id is not None:
                uow.session.execute(update(CouponGrant).where(CouponGrant.id == redemption.grant_id)
                                    .values(status="issued", order_id=None))
            uow.record_event("coupon.returned", "coupon", redemption.coupon_id,
                             {"order_id": order_id, "customer_id": redemption.customer_id,
                              "discount": redemption.discount})
        uow.commit()
        return len(rows)


def order_coupons(uow: UnitOfWork, order_id: int) -> list[dict[str, Any]]:
    with uow.reading():
        rows = uow.session.execute(
            select(CouponRedemption, Coupon.code, CouponGrant.code)
            .join(Coupon, Coupon.id == CouponRedemption.coupon_id)
            .outerjoin(CouponGrant, CouponGrant.id == CouponRedemption.grant_id)
            .where(CouponRedemption.order_id == order_id).order_by(CouponRedemption.id)).all()
        return [{"coupon": coupon_code, "code": grant_code or coupon_code, "discount": r.discount,
                 "returned": r.returned_at is not None} for r, coupon_code, grant_code in rows]
