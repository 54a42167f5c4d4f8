"""Repeat-purchase rate and monthly cohort retention (months in China time)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from teahub.analytics.rules import CHINA, local_date
from tests import factories as f
from tests.analytics.shop import customer, sale, tea


def month(back: int) -> tuple[str, datetime]:
    """The calendar month `back` months before this one (China time): its label and its 15th at noon."""
    today = local_date(datetime.now(UTC))
    year, index = divmod(today.year * 12 + today.month - 1 - back, 12)
    return f"{year:04d}-{index + 1:02d}", datetime(year, index + 1, 15, 12, tzinfo=CHINA)


def test_cohort_retention_counts_customers_buying_again_by_month(client: TestClient) -> None:
    f.location(client, "BJ01")
    tea(client, "TEA")
    f.receive(client, "TEA", 100)
    a, b, c, d = (customer(client, name, f"1381234200{i}") for i, name in enumerate("abcd"))
    three, two, one = month(3), month(2), month(1)
    sale(client, a, [("TEA", 1)], at=three[1])
    sale(client, a, [("TEA", 1)], at=three[1].replace(day=20))  # twice in its first month: still month 0
    sale(client, a, [("TEA", 1)], at=two[1])
    sale(client, a, [("TEA", 1)], at=one[1])
    sale(client, b, [("TEA", 1)], at=three[1])
    sale(client, b, [("TEA", 1)], at=one[1])
    sale(client, c, [("TEA", 1)], at=three[1])
    sale(client, d, [("TEA", 1)], at=two[1])
    sale(client, d, [("TEA", 1)], at=one[1])
    sale(client, None, [("TEA", 1)], at=one[1])  # a walk-in belongs to no cohort

    report = f.ok(client.get("/api/v1/reports/cohorts"))
    assert (report["customers"], report["repeat_customers"], report["repeat_purchase_rate"]) == (4, 3, 0.75)
    cohorts = {c["cohort"]: c for c in report["items"]}
    assert list(cohorts) == [three[0], two[0]]
    first = cohorts[three[0]]
    assert (first["customers"], first["repeat_customers"], first["repeat_rate"]) == (3, 3 - 1, 0.6667)
    shares = [(m["customers"], m["share"]) for m in first["retention"]]
    # +1: a; +2: a and b; +3 is this month (nobody yet); later months have not come
    assert shares[:3] == [(1, 0.3333), (2, 0.6667), (0, 0.0)]
    assert shares[3:] == [(None, None)] * 9
    second = cohorts[two[0]]
    assert [(m["customers"], m["share"]) for m in second["retention"][:3]] == [(1, 1.0), (0, 0.0), (None, None)]

    only = f.ok(client.get("/api/v1/reports/cohorts", params={"since": two[1].date().isoformat()}))
    assert [c["cohort"] for c in only["items"]] == [two[0]]
    assert only["repeat_purchase_rate"] == 0.75  # the rate is over all customers
