"""When the care rules speak: on an order completed (thank-you), on a ticket closed (CSAT survey), and once a day
for birthdays, tea likely finished (repurchase due) and customers who stopped buying (win-back).

Every message goes through `messages.queue_message`, so consent, reachability, the cap and the dedupe key hold
for each. A disabled rule does nothing. The daily run queues each message in its own transaction when called
outside one (a run that dies part way is simply run again: the dedupe keys skip what was queued).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import select

from teahub.analytics import care_audiences, repurchase
from teahub.catalog import service as catalog
from teahub.crm.aftersales import service as aftersales
from teahub.crm.care import rules
from teahub.crm.care.messages import queue_message
from teahub.crm.care.models import CustomerMessage
from teahub.crm.care.settings import rule, rule_settings
from teahub.db.uow import UnitOfWork
from teahub.errors import NotFound, ValidationFailed

Candidate = tuple[int, str, dict[str, Any]]  # customer id, dedupe key, template params
_KEY_CHECK_BATCH = 500
_REPURCHASE_PAGE = 5000


def _queue(uow: UnitOfWork, settings: rules.RuleSettings, customer_id: int, dedupe_key: str,
           params: dict[str, Any]) -> str:
    answer = queue_message(uow, customer_id, channel=settings.channel, template=settings.template, params=params,
                           source=rules.source_of(settings.name), dedupe_key=dedupe_key)
    return str(answer["status"])


# -- event-driven rules -----------------------------------------------------------------------------------
def _id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def thank_for_order(uow: UnitOfWork, payload: dict[str, Any]) -> str | None:
    """Thank the customer of a completed order (payload of `order.completed`). Answers the outcome, or None
    when the rule is off or the order has no customer (a walk-in sale)."""
    settings = rule(uow, "thank_you")
    order_id = _id(payload.get("order_id", payload.get("id")))
    customer_id = _id(payload.get("customer_id"))
    if not settings.enabled or order_id is None or customer_id is None:
        return None
    params = {"order_id": order_id, "order_number": payload.get("number")}
    return _queue(uow, settings, customer_id, rules.thank_you_key(order_id), params)


def survey_closed_ticket(uow: UnitOfWork, payload: dict[str, Any]) -> str | None:
    """Ask the customer of a closed ticket how it went (payload of `ticket.closed`), unless they already gave
    their score. Answers the outcome, or None when nothing was asked."""
    settings = rule(uow, "csat_survey")
    ticket_id = _id(payload.get("id"))
    if not settings.enabled or ticket_id is None:
        return None
    try:
        ticket = aftersales.get_ticket(uow, ticket_id)
    except NotFound:
        return None
    if ticket["csat_score"] is not None:
        return None
    params = {"ticket_id": ticket_id, "ticket_number": ticket["number"]}
    return _queue(uow, settings, int(ticket["customer_id"]), rules.csat_key(ticket_id), params)


# -- the daily run ----------------------------------------------------------------------------------------
@contextmanager
def _clock_at(uow: UnitOfWork, now: datetime | None) -> Iterator[datetime]:
    """Run as of `now` (default: the unit of work's clock), for every read and write of the run alike."""
    if now is None:
        yield uow.now()
        return
    if now.tzinfo is None:
        raise ValidationFailed("give a time zone (UTC)", field="now")
    saved = uow.clock
    uow.clock = lambda: now
    try:
        yield now
    finally:
        uow.clock = saved


def _birthday(uow: UnitOfWork, settings: rules.RuleSettings, now: datetime) -> Iterator[list[Candidate]]:
    today = rules.local_date(now)
    for ids in care_audiences.birthday_customers(uow, today.month):
        yield [(cid, rules.birthday_key(today.year, cid), {"year": today.year, "month": today.month}) for cid in ids]


def _repurchase(uow: UnitOfWork, settings: rules.RuleSettings, now: datetime) -> Iterator[list[Candidate]]:
    product_ids: dict[str, int | None] = {}
    cursor: str | None = None
    while True:
        due = repurchase.repurchase_due(uow, within_days=settings.days or 0,
                                        overdue_days=rules.REPURCHASE_OVERDUE_DAYS, cursor=cursor,
                                        limit=_REPURCHASE_PAGE)
        batch = []
        for item in due["items"]:
            sku = item["sku"]
            if sku not in product_ids:
                try:
                    product_ids[sku] = int(catalog.get_product(uow, sku)["id"])
                except NotFound:
                    product_ids[sku] = None
            product_id = product_ids[sku]
            if product_id is None:
                continue
            params = {"sku": sku, "product_name": item["name"], "due_on": item["due_on"].isoformat()}
            batch.append((int(item["customer_id"]),
                          rules.repurchase_key(int(item["customer_id"]), product_id, item["due_on"]), params))
        yield batch
        cursor = due["next"]
        if cursor is None:
            return


def _win_back(uow: UnitOfWork, settings: rules.RuleSettings, now: datetime) -> Iterator[list[Candidate]]:
    lapsed = care_audiences.lapsed_customers(uow, rules.win_back_cutoff(now, settings.days or 0))
    for start in range(0, len(lapsed), _KEY_CHECK_BATCH):
        yield [(c.customer_id, rules.win_back_key(c.customer_id, c.last_order_id),
                {"last_order_id": c.last_order_id, "days_since": (now - c.last_placed_at).days})
               for c in lapsed[start:start + _KEY_CHECK_BATCH]]


_CANDIDATES = {"birthday": _birthday, "repurchase_due": _repurchase, "win_back": _win_back}


def _queued_keys(uow: UnitOfWork, keys: Iterable[str]) -> set[str]:
    """Which of these causes already have their message (one query per batch, so a daily re-run is cheap)."""
    wanted = sorted(set(keys))
    found: set[str] = set()
    with uow.reading():
        for start in range(0, len(wanted), _KEY_CHECK_BATCH):
            chunk = wanted[start:start + _KEY_CHECK_BATCH]
            found.update(uow.session.scalars(select(CustomerMessage.dedupe_key)
                                             .where(CustomerMessage.dedupe_key.in_(chunk))))
    return found


def _run_rule(uow: UnitOfWork, settings: rules.RuleSettings, now: datetime) -> dict[str, Any]:
    counts: dict[str, Any] = {"enabled": settings.enabled, **rules.empty_counts()}
    if not settings.enabled:
        return counts
    for batch in _CANDIDATES[settings.name](uow, settings, now):
        done = _queued_keys(uow, (key for _, key, _ in batch))
        for customer_id, key, params in batch:
            outcome = "duplicate" if key in done else _queue(uow, settings, customer_id, key, params)
            counts[outcome] += 1
    return counts


def run_daily(uow: UnitOfWork, now: datetime | None = None, only: str | None = None) -> dict[str, Any]:
    """Run the daily rules (birthday, repurchase_due, win_back; or `only` one of them) as of `now`. Answers
    {"as_of", "rules": {rule: {"enabled", "queued", "duplicate", "no_consent", "capped", "unreachable"}}}."""
    if only is not None and only not in rules.DAILY_RULES:
        raise ValidationFailed(f"the daily rules are {', '.join(rules.DAILY_RULES)}; "
                               "thank_you and csat_survey follow their events", field="rule")
    names = rules.DAILY_RULES if only is None else (only,)
    with _clock_at(uow, now) as as_of:
        settings = rule_settings(uow)
        result = {name: _run_rule(uow, settings[name], as_of) for name in names}
    return {"as_of": as_of.isoformat(), "rules": result}
