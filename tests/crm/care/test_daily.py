"""The daily rules: birthday (once a year, in the birthday month in China), repurchase due (once per tea per due
date), win-back (once per last order); counts per rule and outcome; a rule that is off does nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from teahub.analytics import repurchase
from teahub.crm.care import service
from teahub.customers import privacy
from teahub.customers import service as customers
from teahub.db.uow import UnitOfWork
from teahub.errors import ValidationFailed
from tests import factories as f
from tests.analytics.shop import ago, sale, tea
from tests.crm.care.helpers import Clock, keys, messages, person

MAY = datetime(2026, 5, 4, 1, 30, tzinfo=UTC)


@pytest.fixture
def uow(app: Any) -> UnitOfWork:  # the app's database, with its reference data
    return UnitOfWork(app.state.session_factory, actor="test")


def counts(answer: dict[str, Any], rule: str) -> dict[str, Any]:
    return dict(answer["rules"][rule])


def test_birthdays_in_the_month_are_greeted_once_a_year(uow: UnitOfWork, app: Any) -> None:
    may = person(uow, birthday=date(1990, 5, 17))
    person(uow, birthday=date(1985, 5, 2), consents=())  # no consent
    june = person(uow, birthday=date(1990, 6, 1))
    erased = person(uow, birthday=date(1970, 5, 9))
    privacy.erase(uow, erased, "asked by phone")
    company, _ = customers.create_customer(uow, customers.CustomerIn.model_validate(
        {"name": "茶礼公司", "kind": "company", "company_name": "茶礼公司", "phone": "13900001111",
         "birthday": "2001-05-05"}))
    privacy.record_consent(uow, company["id"], "marketing_sms", True, "test")

    answer = service.run_daily(uow, now=MAY, only="birthday")
    assert answer["as_of"] == MAY.isoformat()
    assert counts(answer, "birthday") == {"enabled": True, "queued": 1, "duplicate": 0, "no_consent": 1,
                                          "capped": 0, "unreachable": 0}
    assert keys(app.state.engine) == [f"birthday:2026:{may}"]
    [message] = messages(app.state.engine)
    assert (message.channel, message.template, message.source) == ("sms", "care_birthday", "care:birthday")
    assert message.params == {"year": 2026, "month": 5}

    later = service.run_daily(uow, now=MAY + timedelta(days=20), only="birthday")
    assert counts(later, "birthday")["duplicate"] == 1 and counts(later, "birthday")["queued"] == 0
    assert service.run_daily(uow, now=datetime(2026, 6, 10, 1, 0, tzinfo=UTC), only="birthday")[
        "rules"]["birthday"]["queued"] == 1  # june's turn
    service.run_daily(uow, now=MAY.replace(year=2027), only="birthday")
    assert keys(app.state.engine) == [f"birthday:2026:{may}", f"birthday:2026:{june}", f"birthday:2027:{may}"]


def test_the_birthday_month_is_counted_in_beijing_time(uow: UnitOfWork, app: Any) -> None:
    april = person(uow, birthday=date(1990, 4, 30))
    march = person(uow, birthday=date(1990, 3, 3))
    # 31 March 17:30 UTC is already 1 April in Beijing.
    service.run_daily(uow, now=datetime(2026, 3, 31, 17, 30, tzinfo=UTC), only="birthday")
    assert keys(app.state.engine) == [f"birthday:2026:{april}"]
    assert march not in [m.customer_id for m in messages(app.state.engine)]


def test_a_rule_that_is_off_does_nothing(uow: UnitOfWork, app: Any) -> None:
    person(uow, birthday=date(1990, 5, 17))
    service.put_rule(uow, "birthday", {"enabled": False})
    answer = service.run_daily(uow, now=MAY)
    assert counts(answer, "birthday") == {"enabled": False, "queued": 0, "duplicate": 0, "no_consent": 0,
                                          "capped": 0, "unreachable": 0}
    assert set(answer["rules"]) == {"birthday", "repurchase_due", "win_back"}
    assert messages(app.state.engine) == []


def test_event_driven_rules_are_not_run_by_hand(uow: UnitOfWork) -> None:
    for name in ("thank_you", "csat_survey", "nonsense"):
        with pytest.raises(ValidationFailed) as refused:
            service.run_daily(uow, only=name)
        assert refused.value.field == "rule"


def test_a_capped_birthday_greeting_goes_on_a_later_day_of_the_month(app: Any) -> None:
    clock = Clock(MAY - timedelta(days=1))
    uow = UnitOfWork(app.state.session_factory, actor="test", clock=clock)
    wang = person(uow, birthday=date(1990, 5, 17))
    for campaign in (1, 2):
        service.queue_message(uow, wang, channel="sms", template="spring_tea", params={},
                              source=f"campaign:{campaign}", dedupe_key=f"campaign:{campaign}:{wang}")
    clock.now = MAY
    assert counts(service.run_daily(uow), "birthday")["capped"] == 1
    clock.now = MAY + timedelta(days=6)
    assert counts(service.run_daily(uow), "birthday")["queued"] == 1
    assert keys(app.state.engine, wang)[-1] == f"birthday:2026:{wang}"


def _shop(client: TestClient) -> None:
    f.location(client, "BJ01")
    tea(client, "CAN", form="can 250 g")  # 250 g; at 8 g a day it lasts about 31 days
    tea(client, "CUP", category="teaware")
    f.receive(client, "CAN", 100)
    f.receive(client, "CUP", 100)


def test_repurchase_reminders_go_once_per_tea_and_due_date(client: TestClient, uow: UnitOfWork, app: Any) -> None:
    _shop(client)
    wang = person(uow, wechat=True)
    nobody = person(uow, wechat=True, consents=())
    later = person(uow, wechat=True)
    sale(client, {"id": wang}, [("CAN", 1), ("CUP", 1)], at=ago(30))  # due in about a day
    sale(client, {"id": nobody}, [("CAN", 1)], at=ago(30))
    sale(client, {"id": later}, [("CAN", 1)], at=ago(5))  # due in about 26 days
    [due] = [d for d in repurchase.repurchase_due(uow, within_days=3, overdue_days=7)["items"]
             if d["customer_id"] == wang]

    answer = service.run_daily(uow, only="repurchase_due")
    assert counts(answer, "repurchase_due") == {"enabled": True, "queued": 1, "duplicate": 0, "no_consent": 1,
                                                "capped": 0, "unreachable": 0}
    product_id = f.ok(client.get("/api/v1/products/CAN"))["id"]
    [message] = messages(app.state.engine)
    assert message.dedupe_key == f"repurchase:{wang}:product:{product_id}:{due['due_on'].isoformat()}"
    assert (message.channel, message.source) == ("wechat", "care:repurchase_due")
    assert message.params == {"sku": "CAN", "product_name": "茶 CAN", "due_on": due["due_on"].isoformat()}
    again = service.run_daily(uow, only="repurchase_due")
    assert counts(again, "repurchase_due")["duplicate"] == 1 and counts(again, "repurchase_due")["queued"] == 0


def test_repurchase_look_ahead_is_the_rules_days(client: TestClient, uow: UnitOfWork, app: Any) -> None:
    _shop(client)
    wang = person(uow, wechat=True)
    sale(client, {"id": wang}, [("CAN", 1)], at=ago(30))  # due in about 1.25 days: past tomorrow's start
    service.put_rule(uow, "repurchase_due", {"days": 0})
    assert counts(service.run_daily(uow, only="repurchase_due"), "repurchase_due")["queued"] == 0
    service.put_rule(uow, "repurchase_due", {"days": 2})
    assert counts(service.run_daily(uow, only="repurchase_due"), "repurchase_due")["queued"] == 1


def test_win_back_once_per_last_order(client: TestClient, uow: UnitOfWork, app: Any) -> None:
    _shop(client)
    lapsed, active, silent = person(uow), person(uow), person(uow, consents=())
    sale(client, {"id": lapsed}, [("CAN", 1)], at=ago(200))
    last = sale(client, {"id": lapsed}, [("CUP", 1)], at=ago(120))
    sale(client, {"id": active}, [("CAN", 1)], at=ago(200))
    sale(client, {"id": active}, [("CAN", 1)], at=ago(10))
    sale(client, {"id": silent}, [("CAN", 1)], at=ago(100))

    answer = service.run_daily(uow, only="win_back")
    assert counts(answer, "win_back") == {"enabled": True, "queued": 1, "duplicate": 0, "no_consent": 1,
                                          "capped": 0, "unreachable": 0}
    [message] = messages(app.state.engine)
    assert message.dedupe_key == f"win_back:{lapsed}:last_order:{last['id']}"
    assert message.params["last_order_id"] == last["id"] and message.params["days_since"] in (119, 120)
    assert (message.channel, message.template, message.source) == ("sms", "care_win_back", "care:win_back")
    # The next day: the same last order, no second message.
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert counts(service.run_daily(uow, now=tomorrow, only="win_back"), "win_back")["duplicate"] == 1

    # They come back, then lapse again: a new last order, a new win-back.
    back = sale(client, {"id": lapsed}, [("CAN", 1)], at=ago(0.5))
    assert counts(service.run_daily(uow, only="win_back"), "win_back")["queued"] == 0
    answer = service.run_daily(uow, now=datetime.now(UTC) + timedelta(days=95), only="win_back")
    assert counts(answer, "win_back")["queued"] == 2  # `active` has lapsed by then too
    assert f"win_back:{lapsed}:last_order:{back['id']}" in keys(app.state.engine, lapsed)


def test_win_back_waits_the_rules_days(client: TestClient, uow: UnitOfWork, app: Any) -> None:
    _shop(client)
    lapsed = person(uow)
    sale(client, {"id": lapsed}, [("CAN", 1)], at=ago(120))
    service.put_rule(uow, "win_back", {"days": 150})
    assert counts(service.run_daily(uow, only="win_back"), "win_back")["queued"] == 0
    service.put_rule(uow, "win_back", {"days": 100})
    assert counts(service.run_daily(uow, only="win_back"), "win_back")["queued"] == 1
