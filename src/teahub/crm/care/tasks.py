"""Care's background work: a thank-you when an order is completed, a CSAT survey when a ticket is closed, and
the daily rules (birthday, repurchase due, win-back) at 09:00 Beijing time, once per day however many workers."""

from __future__ import annotations

from datetime import time
from typing import Any

from teahub.crm.aftersales.events import TICKET_CLOSED
from teahub.crm.care import service
from teahub.db.uow import UnitOfWork
from teahub.sales.events import status_event
from teahub.scheduling.cadence import Daily
from teahub.scheduling.registry import register_job, subscribe

ORDER_COMPLETED = status_event("completed")


def thank_on_completion(uow: UnitOfWork, event: dict[str, Any]) -> None:
    service.thank_for_order(uow, event["payload"])


def survey_on_close(uow: UnitOfWork, event: dict[str, Any]) -> None:
    service.survey_closed_ticket(uow, event["payload"])


def daily(uow: UnitOfWork) -> dict[str, Any]:
    return service.run_daily(uow)


# From the end of the feed: turning care on must not thank for every order ever completed.
subscribe("crm.care.thank_you", [ORDER_COMPLETED], thank_on_completion, start="end")
subscribe("crm.care.csat_survey", [TICKET_CLOSED], survey_on_close, start="end")
# 01:00 UTC = 09:00 Beijing: messages arrive in the morning, not at night.
register_job(name="crm.care.daily", cadence=Daily(at=time(1, 0)), run=daily)
