"""RFM scores and segments of customers with known histories, through the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests import factories as f
from tests.analytics.shop import ago, customer, sale, tea

PRICE = 10000


def _arrange(client: TestClient) -> dict[str, dict[str, Any]]:
    """Five customers, each a step below the last in recency, frequency and money."""
    f.location(client, "BJ01")
    tea(client, "TEA", price=PRICE)
    f.receive(client, "TEA", 100, unit_cost=4000)
    histories = {  # name: days ago of each order (one unit each)
        "champion": [2, 20, 40, 60, 80],
        "loyal": [10, 30, 50, 70],
        "middling": [40, 90, 150],
        "sleepy": [100, 200],
        "gone": [300],
    }
    people = {}
    for i, (name, days) in enumerate(histories.items()):
        people[name] = customer(client, name, f"1381234000{i}")
        for d in days:
            sale(client, people[name], [("TEA", 1)], at=ago(d))
    sale(client, None, [("TEA", 3)], at=ago(1))  # a walk-in: no customer, not scored
    return people


def test_rfm_scores_and_segments_follow_the_quintiles(client: TestClient) -> None:
    people = _arrange(client)
    report = f.ok(client.get("/api/v1/reports/rfm"))
    assert report["customers"] == 5
    sizes = {s["segment"]: s["customers"] for s in report["segments"]}
    assert sizes == {"champions": 1, "loyal": 1, "potential_loyalists": 0, "new": 0, "promising": 0,
                     "need_attention": 1, "about_to_sleep": 0, "at_risk": 0, "cant_lose": 0, "hibernating": 1,
                     "lost": 1}
    assert report["items"] == [] and report["next"] is None  # no segment asked for
    champions = f.ok(client.get("/api/v1/reports/rfm", params={"segment": "champions"}))
    assert [(c["customer_id"], c["score"], c["recency_days"], c["frequency"], c["monetary"])
            for c in champions["items"]] == [(people["champion"]["id"], "555", 2, 5, 5 * PRICE)]
    assert champions["segments"][0]["monetary"] == 5 * PRICE

    expected = {"champion": ("555", "champions"), "loyal": ("444", "loyal"), "middling": ("333", "need_attention"),
                "sleepy": ("222", "hibernating"), "gone": ("111", "lost")}
    for name, (score, segment) in expected.items():
        one = f.ok(client.get(f"/api/v1/reports/rfm/customers/{people[name]['id']}"))
        assert (one["score"], one["segment"], one["customers"]) == (score, segment, 5), name


def test_frequency_and_money_count_only_the_window(client: TestClient) -> None:
    people = _arrange(client)
    # A 30-day window: only the champion (2, 20 days ago) and the loyal customer (10 days ago) bought in it.
    one = f.ok(client.get(f"/api/v1/reports/rfm/customers/{people['champion']['id']}",
                          params={"window_days": 30}))
    assert (one["frequency"], one["monetary"], one["window_days"]) == (2, 2 * PRICE, 30)
    gone = f.ok(client.get(f"/api/v1/reports/rfm/customers/{people['gone']['id']}", params={"window_days": 30}))
    assert (gone["frequency"], gone["monetary"], gone["recency_days"], gone["segment"]) == (0, 0, 300, "lost")


def test_rfm_as_of_a_past_moment_ignores_later_orders(client: TestClient) -> None:
    people = _arrange(client)
    as_of = ago(95).isoformat()
    one = f.ok(client.get(f"/api/v1/reports/rfm/customers/{people['middling']['id']}", params={"as_of": as_of}))
    assert (one["frequency"], one["recency_days"]) == (1, 150 - 95)  # the 150-days-ago order only
    report = f.ok(client.get("/api/v1/reports/rfm", params={"as_of": as_of}))
    assert report["customers"] == 3  # the champion and the loyal customer had not bought yet
    naive = client.get("/api/v1/reports/rfm", params={"as_of": "2026-01-01T00:00:00"})
    assert naive.status_code == 422 and naive.json()["field"] == "as_of"


def test_a_segment_lists_its_customers_page_by_page(client: TestClient) -> None:
    f.location(client, "BJ01")
    tea(client, "TEA", price=PRICE)
    f.receive(client, "TEA", 100, unit_cost=4000)
    same = [customer(client, f"c{i}", f"1391234000{i}") for i in range(3)]
    for c in same:
        sale(client, c, [("TEA", 1)], at=ago(5))
    pages: list[list[int]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"segment": "lost", "limit": 2, **({"cursor": cursor} if cursor else {})}
        answer = f.ok(client.get("/api/v1/reports/rfm", params=params))
        pages.append([c["customer_id"] for c in answer["items"]])
        cursor = answer["next"]
        if cursor is None:
            break
    # three equal customers beat nobody: 111, lost (scores are relative to the customers there are)
    assert pages == [[same[0]["id"], same[1]["id"]], [same[2]["id"]]]
    bad = client.get("/api/v1/reports/rfm", params={"segment": "lost", "cursor": "x"})
    assert bad.status_code == 422 and bad.json()["field"] == "cursor"


def test_a_customer_without_orders_has_no_scores(client: TestClient) -> None:
    nobody = customer(client, "nobody", "13700000000")
    one = f.ok(client.get(f"/api/v1/reports/rfm/customers/{nobody['id']}"))
    assert (one["segment"], one["score"], one["frequency"], one["customers"]) == (None, None, 0, 0)
    assert client.get("/api/v1/reports/rfm/customers/999999").status_code == 404


def test_customer_reports_are_for_planners_and_integrations(client: TestClient,
                                                            client_as: Callable[..., TestClient]) -> None:
    f.location(client, "BJ01")
    assert client_as("clerk", ["BJ01"]).get("/api/v1/reports/rfm").status_code == 403
    assert client_as("manager", ["BJ01"]).get("/api/v1/reports/rfm").status_code == 200
    integration = client_as("integration")
    for path in ("/api/v1/reports/rfm", "/api/v1/reports/clv", "/api/v1/reports/cohorts",
                 "/api/v1/reports/repurchase-due"):
        assert integration.get(path).status_code == 200, path


def test_the_report_and_one_customer_score_alike(client: TestClient) -> None:
    """The report scores in SQL, a single customer against remembered breakpoints: the same scores, ties too."""
    f.location(client, "BJ01")
    tea(client, "TEA", price=PRICE)
    f.receive(client, "TEA", 500, unit_cost=4000)
    ids = []
    for i in range(12):
        c = customer(client, f"c{i}", f"139123410{i:02d}")
        ids.append(c["id"])
        for k in range(i % 4 + 1):
            sale(client, c, [("TEA", (i * 7) % 5 + 1)], at=ago(1 + (i * 13) % 50 + 30 * k))
    in_report: dict[int, tuple[str, str]] = {}
    report = f.ok(client.get("/api/v1/reports/rfm"))
    for s in report["segments"]:
        if s["customers"]:
            listed = f.ok(client.get("/api/v1/reports/rfm", params={"segment": s["segment"], "limit": 500}))
            in_report.update({c["customer_id"]: (c["score"], c["segment"]) for c in listed["items"]})
    assert sorted(in_report) == sorted(ids)
    for customer_id in ids:
        one = f.ok(client.get(f"/api/v1/reports/rfm/customers/{customer_id}"))
        assert (one["score"], one["segment"]) == in_report[customer_id], customer_id


def test_as_of_far_outside_time_is_refused(client: TestClient) -> None:
    for value in ("0001-01-02T00:00:00Z", "9999-12-31T00:00:00Z"):
        answer = client.get("/api/v1/reports/clv", params={"as_of": value})
        assert answer.status_code == 422 and answer.json()["field"] == "as_of", value
