"""Through the background runner: a thank-you when an order is completed, a CSAT survey when a ticket is closed,
the daily job once per slot however many workers; and each rule does nothing when it is off."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from fastapi.testclient import TestClient

from teahub import worker
from teahub.crm.care import service
from teahub.db.uow import UnitOfWork
from teahub.scheduling.cadence import Daily
from teahub.scheduling.registry import default_registry, load_tasks
from tests import factories as f
from tests.analytics.shop import sale, tea
from tests.crm.aftersales.helpers import TICKETS, open_ticket
from tests.crm.care.helpers import keys, messages, person

SKU = "TEA"


def drain(app: Any, clock: Any = None) -> list[dict[str, Any]]:
    """Run the worker until every subscription has caught up; answers the jobs it ran."""
    load_tasks()
    jobs: list[dict[str, Any]] = []
    for _ in range(10):
        summary = worker.run_once(app.state.engine, **({"clock": clock} if clock else {}))
        jobs += summary["jobs"]
        if all(s["state"] != "more" for s in summary["subscriptions"]):
            break
    return jobs


def system(app: Any) -> UnitOfWork:
    return UnitOfWork(app.state.session_factory, actor="test")


def shop(client: TestClient) -> None:
    f.location(client, "BJ01")
    tea(client, SKU, form="can 250 g")
    f.receive(client, SKU, 100)


def test_care_registers_its_subscriptions_and_daily_job() -> None:
    load_tasks()
    job = default_registry.jobs["crm.care.daily"]
    assert job.cadence == Daily(at=time(1, 0))
    assert default_registry.subscriptions["crm.care.thank_you"].event_types == ("order.completed",)
    assert default_registry.subscriptions["crm.care.csat_survey"].event_types == ("ticket.closed",)


def test_a_completed_order_brings_one_thank_you(client: TestClient, app: Any) -> None:
    shop(client)
    drain(app)  # cursors start at the end of the feed; today's jobs are out of the way
    uow = system(app)
    wang = person(uow, wechat=True)
    nobody = person(uow, wechat=True, consents=())
    order = sale(client, {"id": wang}, [(SKU, 1)], at=datetime.now(UTC))
    sale(client, {"id": nobody}, [(SKU, 1)], at=datetime.now(UTC))
    sale(client, None, [(SKU, 1)], at=datetime.now(UTC))  # a walk-in: nobody to thank
    drain(app)
    drain(app)
    [message] = messages(app.state.engine)
    assert (message.customer_id, message.dedupe_key) == (wang, f"thank_you:order:{order['id']}")
    assert (message.channel, message.template, message.source) == ("wechat", "care_thank_you", "care:thank_you")
    assert message.params == {"order_id": order["id"], "order_number": order["number"]}


def test_no_thank_you_when_the_rule_is_off(client: TestClient, app: Any) -> None:
    shop(client)
    drain(app)
    uow = system(app)
    service.put_rule(uow, "thank_you", {"enabled": False})
    wang = person(uow, wechat=True)
    sale(client, {"id": wang}, [(SKU, 1)], at=datetime.now(UTC))
    drain(app)
    assert messages(app.state.engine) == []


def _close(client: TestClient, ticket_id: int, csat: int | None = None) -> None:
    f.ok(client.post(f"{TICKETS}/{ticket_id}/resolve", json={"resolution": "换了一罐新茶"}))
    if csat is not None:
        f.ok(client.post(f"{TICKETS}/{ticket_id}/csat", json={"score": csat}))
    f.ok(client.post(f"{TICKETS}/{ticket_id}/close"))


def test_a_closed_ticket_brings_one_survey_unless_already_scored(client: TestClient, app: Any) -> None:
    drain(app)
    uow = system(app)
    wang, li = person(uow, wechat=True), person(uow, wechat=True)
    asked = open_ticket(client, wang)
    scored = open_ticket(client, li)
    _close(client, asked["id"])
    _close(client, scored["id"], csat=5)
    drain(app)
    # The event handled again (a redelivery): still one survey per ticket.
    assert service.survey_closed_ticket(uow, {"id": asked["id"], "customer_id": wang}) == "duplicate"
    [message] = messages(app.state.engine)
    assert (message.customer_id, message.dedupe_key, message.source) == (
        wang, f"csat:ticket:{asked['id']}", "care:csat_survey")
    assert message.params == {"ticket_id": asked["id"], "ticket_number": asked["number"]}


def test_no_survey_when_the_rule_is_off(client: TestClient, app: Any) -> None:
    drain(app)
    uow = system(app)
    service.put_rule(uow, "csat_survey", {"enabled": False})
    ticket = open_ticket(client, person(uow, wechat=True))
    _close(client, ticket["id"])
    drain(app)
    assert messages(app.state.engine) == []


def test_the_daily_job_runs_once_per_day_however_many_workers(client: TestClient, app: Any) -> None:
    uow = system(app)
    may = person(uow, birthday=date(1990, 5, 17))
    morning = datetime(2026, 5, 4, 1, 30, tzinfo=UTC)  # 09:30 in Beijing

    def ran(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [j for j in jobs if j["job"] == "crm.care.daily"]

    [first] = ran(drain(app, clock=lambda: morning))
    assert first["outcome"] == "succeeded" and first["slot"] == "2026-05-04T01:00:00+00:00"
    assert ran(drain(app, clock=lambda: morning)) == []  # another worker, the same slot: nothing to do
    assert keys(app.state.engine) == [f"birthday:2026:{may}"]
    [next_day] = ran(drain(app, clock=lambda: datetime(2026, 5, 5, 1, 0, tzinfo=UTC)))
    assert next_day["outcome"] == "succeeded"
    assert keys(app.state.engine) == [f"birthday:2026:{may}"]  # once a year
