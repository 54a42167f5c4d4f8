from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from teahub.analytics import clv, cohorts, customer360, profit, recommendations, repurchase, rfm
from teahub.analytics.schemas import (
    BatchTrace,
    ClvReport,
    CohortReport,
    Customer360,
    CustomerClv,
    CustomerRecommendations,
    CustomerRepurchase,
    CustomerRfm,
    ProductRecommendations,
    ProfitReport,
    RepurchaseDue,
    RfmReport,
)
from teahub.api_params import Limit, PathId
from teahub.auth.deps import CurrentPrincipal, Uow
from teahub.auth.principal import Principal
from teahub.customers import service as customers
from teahub.errors import ValidationFailed
from teahub.pagination import cursor_int

router = APIRouter(tags=["reports"])

# Who may read what is known about customers: staff who plan (admin, manager) and integrations.
CUSTOMER_READERS = ("admin", "manager", "integration")
Segment = Literal["champions", "loyal", "potential_loyalists", "new", "promising", "need_attention",
                  "about_to_sleep", "at_risk", "cant_lose", "hibernating", "lost"]
WindowDays = Annotated[int, Query(ge=1, le=3650, description="frequency and monetary count this many days")]
Days = Annotated[int, Query(ge=0, le=3650)]
MinOrders = Annotated[int, Query(ge=1, le=1_000_000, description="orders holding both, at least")]
AsOf = Annotated[datetime | None, Query(description="report as at this moment (default: now)")]


def _as_of(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValidationFailed("give a time zone (UTC: ...Z)", field="as_of")
    if value is not None and not 1980 <= value.year <= 2999:
        raise ValidationFailed("as_of must be between 1980 and 2999", field="as_of")
    return value


def _reader(principal: Principal) -> None:
    principal.require_role(*CUSTOMER_READERS)


@router.get("/reports/profit", response_model=ProfitReport)
def profit_report(principal: CurrentPrincipal, uow: Uow,
                  by: Literal["product", "customer", "category", "channel", "location", "order"] = "product",
                  since: datetime | None = None, until: datetime | None = None, location: str | None = None,
                  channel: str | None = None, limit: Limit = 100) -> dict[str, Any]:
    """Revenue, batch cost and gross profit of what was sold, grouped; most profitable first."""
    principal.require_role("admin", "manager")
    if principal.store_scope is not None and location is None:
        principal.require_role("admin")  # a manager reports on a store of theirs
    if location is not None:
        principal.require_store(location)
    rows = profit.profit(uow, by, since=since, until=until, location=location, channel=channel, limit=limit)
    return {"by": by, "items": rows, "next": None}


@router.get("/reports/batch-trace", response_model=BatchTrace)
def batch_trace(sku: str, batch_code: str, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Where a batch went: every order and customer that received its units (for a recall)."""
    principal.require_role("admin", "manager")
    return profit.batch_trace(uow, sku, batch_code)


@router.get("/reports/rfm", response_model=RfmReport)
def rfm_report(principal: CurrentPrincipal, uow: Uow, as_of: AsOf = None, window_days: WindowDays = 365,
               segment: Segment | None = None, cursor: str | None = None, limit: Limit = 50) -> dict[str, Any]:
    """Customers by RFM segment (sizes); with `segment`, that segment's customers with their scores."""
    _reader(principal)
    return rfm.rfm_report(uow, as_of=_as_of(as_of), window_days=window_days, segment=segment,
                          after=cursor_int(cursor), limit=limit)


@router.get("/reports/rfm/customers/{customer_id}", response_model=CustomerRfm)
def customer_rfm(customer_id: PathId, principal: CurrentPrincipal, uow: Uow, as_of: AsOf = None,
                 window_days: WindowDays = 365) -> dict[str, Any]:
    """One customer's recency, frequency, monetary, their 1-5 scores and segment."""
    _reader(principal)
    return rfm.customer_rfm(uow, customer_id, as_of=_as_of(as_of), window_days=window_days)


@router.get("/reports/clv", response_model=ClvReport)
def clv_report(principal: CurrentPrincipal, uow: Uow, as_of: AsOf = None, limit: Limit = 100) -> dict[str, Any]:
    """The customers of highest lifetime value (historic + predicted gross profit)."""
    _reader(principal)
    return clv.clv_report(uow, as_of=_as_of(as_of), limit=limit)


@router.get("/reports/clv/customers/{customer_id}", response_model=CustomerClv)
def customer_clv(customer_id: PathId, principal: CurrentPrincipal, uow: Uow, as_of: AsOf = None) -> dict[str, Any]:
    """One customer's lifetime value and the figures behind it."""
    _reader(principal)
    return clv.customer_clv(uow, customer_id, as_of=_as_of(as_of))


@router.get("/reports/cohorts", response_model=CohortReport)
def cohort_report(principal: CurrentPrincipal, uow: Uow, as_of: AsOf = None, since: date | None = None,
                  until: date | None = None) -> dict[str, Any]:
    """Repeat-purchase rate, and per first-order month the share buying again in months +1..+12."""
    _reader(principal)
    return cohorts.cohorts(uow, as_of=_as_of(as_of), since=since, until=until)


@router.get("/reports/recommendations/customers/{customer_id}", response_model=CustomerRecommendations)
def customer_recommendations(customer_id: PathId, principal: CurrentPrincipal, uow: Uow, limit: Limit = 10,
                             exclude_days: Days = recommendations.DEFAULT_EXCLUDE_DAYS,
                             min_orders: MinOrders = recommendations.DEFAULT_MIN_ORDERS) -> dict[str, Any]:
    """What to offer a customer: bought together with their teas, similar teas, best sellers; in stock at
    their home store or the warehouse, and not bought in the last `exclude_days` days."""
    _reader(principal)
    return recommendations.for_customer(uow, customer_id, limit=limit, exclude_days=exclude_days,
                                        min_orders=min_orders)


@router.get("/reports/recommendations/products/{sku}", response_model=ProductRecommendations)
def product_recommendations(sku: str, principal: CurrentPrincipal, uow: Uow, limit: Limit = 10,
                            min_orders: MinOrders = recommendations.DEFAULT_MIN_ORDERS) -> dict[str, Any]:
    """Items bought together with a product, and teas like it."""
    _reader(principal)
    return recommendations.for_product(uow, sku, limit=limit, min_orders=min_orders)


@router.get("/reports/repurchase-due", response_model=RepurchaseDue)
def repurchase_due(principal: CurrentPrincipal, uow: Uow, within_days: Days = 7,
                   overdue_days: Days = repurchase.DEFAULT_OVERDUE_DAYS, cursor: str | None = None,
                   limit: Limit = 50) -> dict[str, Any]:
    """Customers whose tea is likely finished within `within_days` days (or lately), soonest first."""
    _reader(principal)
    return repurchase.repurchase_due(uow, within_days=within_days, overdue_days=overdue_days, cursor=cursor,
                                     limit=limit)


@router.get("/reports/repurchase-due/customers/{customer_id}", response_model=CustomerRepurchase)
def customer_repurchase(customer_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Every tea a customer bought lately and when it is likely finished."""
    _reader(principal)
    return repurchase.customer_repurchase(uow, customer_id)


@router.get("/customers/{customer_id}/360", response_model=Customer360)
def customer_360(customer_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Everything about a customer in one answer: identities, tier, points, coupons, lifetime spend and gross
    profit, favourite categories and taste notes, recent orders, open tickets, activities, RFM, CLV,
    repurchase due, recommendations and consents. Personal data is masked for roles that need not see it."""
    answer = customer360.customer_360(uow, customer_id)
    answer["customer"] = customers.shown_to(answer["customer"], principal.sees_personal_data)
    return answer
