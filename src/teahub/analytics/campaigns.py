"""What a campaign brought in, read across its recipients, coupons and orders.

- Coupon campaigns: the redemptions of the coupons granted by the campaign (grants whose source is
  `campaign:ID`; a redemption given back by a cancelled order does not count), and the sold orders that
  redeemed them.
- Message campaigns: the sold orders of the recipients whose message was queued, placed from the moment it
  was queued until `attribution_days` later.

Revenue is net of refunds (total - shipping fee - refunded amount, see `sold`); gross profit is revenue less
the cost of the batches the lines came from (less the cost of units returned to stock, see `profit`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, select

from teahub.analytics.sold import IS_SOLD, ORDER_REVENUE, epoch_days
from teahub.crm.campaigns import rules
from teahub.crm.campaigns.models import Campaign, CampaignRecipient
from teahub.db.uow import UnitOfWork
from teahub.errors import NotFound
from teahub.loyalty.coupon_models import CouponGrant, CouponRedemption
from teahub.sales.models import Order, OrderLine


def _outcomes(uow: UnitOfWork, campaign_id: int) -> tuple[dict[str, int], int, int]:
    rows = uow.session.execute(select(CampaignRecipient.outcome, func.count())
                               .where(CampaignRecipient.campaign_id == campaign_id)
                               .group_by(CampaignRecipient.outcome)).all()
    counted: dict[str | None, int] = {outcome: int(n) for outcome, n in rows}
    return rules.outcome_counts(counted), sum(counted.values()), counted.get(None, 0)


def _redemptions(uow: UnitOfWork, campaign_id: int) -> tuple[Select[Any], int, int]:
    """The orders that redeemed the campaign's coupons (a subquery of ids), how many redemptions, the discount."""
    mine = and_(CouponGrant.source == rules.source(campaign_id), CouponRedemption.returned_at.is_(None))
    count, discount = uow.session.execute(
        select(func.count(CouponRedemption.id), func.sum(CouponRedemption.discount)).select_from(CouponRedemption)
        .join(CouponGrant, CouponGrant.id == CouponRedemption.grant_id).where(mine)).one()
    orders = (select(CouponRedemption.order_id).join(CouponGrant, CouponGrant.id == CouponRedemption.grant_id)
              .where(mine))
    return orders, int(count or 0), int(discount or 0)


def _attributed(uow: UnitOfWork, campaign: Campaign) -> Select[Any] | None:
    """The orders of recipients reached by the message within the attribution window after it was queued."""
    bounds = uow.session.execute(select(func.min(CampaignRecipient.at), func.max(CampaignRecipient.at))
                                 .where(CampaignRecipient.campaign_id == campaign.id,
                                        CampaignRecipient.outcome == "queued")).one()
    first, last = bounds
    if first is None or last is None:
        return None
    days = campaign.attribution_days
    placed, sent = epoch_days(uow.session, Order.placed_at), epoch_days(uow.session, CampaignRecipient.at)
    return (select(Order.id).join(CampaignRecipient, CampaignRecipient.customer_id == Order.customer_id)
            .where(CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.outcome == "queued",
                   Order.placed_at >= first, Order.placed_at < last + timedelta(days=days),  # the index's range
                   Order.placed_at >= CampaignRecipient.at, placed - sent < days))


def _money(uow: UnitOfWork, orders: Select[Any] | None) -> dict[str, int]:
    if orders is None:
        return {"orders": 0, "buyers": 0, "revenue": 0, "gross_profit": 0}
    sold = (select(func.count(Order.id), func.count(func.distinct(Order.customer_id)), func.sum(ORDER_REVENUE))
            .where(Order.id.in_(orders), IS_SOLD))
    count, buyers, revenue = uow.session.execute(sold).one()
    cost = uow.session.scalar(select(func.sum(OrderLine.cost - OrderLine.returned_cost))
                              .join(Order, Order.id == OrderLine.order_id)
                              .where(Order.id.in_(orders), IS_SOLD))
    return {"orders": int(count or 0), "buyers": int(buyers or 0), "revenue": int(revenue or 0),
            "gross_profit": int(revenue or 0) - int(cost or 0)}


def _ends_at(campaign: Campaign) -> datetime | None:
    if campaign.launched_at is None:
        return None
    return campaign.launched_at + timedelta(days=campaign.attribution_days)


def campaign_results(uow: UnitOfWork, campaign_id: int) -> dict[str, Any]:
    """Recipients and their outcomes, and the orders, buyers, revenue and gross profit the campaign brought."""
    with uow.reading():
        campaign = uow.session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(f"no campaign {campaign_id}", field="id")
        outcomes, recipients, pending = _outcomes(uow, campaign.id)
        reached = sum(outcomes[o] for o in rules.REACHED)
        redemptions: int | None = None
        discount: int | None = None
        if campaign.kind == "coupon":
            orders, redemptions, discount = _redemptions(uow, campaign.id)
            money = _money(uow, orders)
        else:
            money = _money(uow, _attributed(uow, campaign))
        return {
            "campaign_id": campaign.id, "name": campaign.name, "kind": campaign.kind, "status": campaign.status,
            "launched_at": campaign.launched_at, "attribution_days": campaign.attribution_days,
            "attribution_ends_at": _ends_at(campaign) if campaign.kind == "message" else None,
            "recipients": recipients, "pending": pending, "reached": reached, "outcomes": outcomes,
            "redemptions": redemptions, "discount": discount, **money,
            "conversion_rate": rules.conversion(money["buyers"], reached),
        }
