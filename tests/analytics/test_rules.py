"""The arithmetic behind the customer reports, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction

import pytest

from teahub.analytics import rules
from teahub.analytics.rules import Churn, CoPurchase, Purchase, Quintiles, TeaFacts


def test_quintiles_score_the_fifths_a_value_beats() -> None:
    q = Quintiles.of(list(range(1, 11)))  # 1..10: two customers per fifth
    assert [q.score(v) for v in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert q.score(0) == 1 and q.score(100) == 5


def test_quintiles_give_equal_values_equal_scores() -> None:
    q = Quintiles.of([1, 1, 1, 1, 1, 1, 2, 3, 5, 8])
    assert {q.score(1)} == {1}  # the one-order customers beat nobody
    assert [q.score(v) for v in (2, 3, 5, 8)] == [4, 4, 5, 5]


def test_recency_scores_fewer_days_higher() -> None:
    days = [2, 10, 40, 100, 300]
    q = Quintiles.of([-d for d in days])
    assert [q.score(-d) for d in days] == [5, 4, 3, 2, 1]


@pytest.mark.parametrize(("r", "f", "m", "segment"), [
    (5, 5, 5, "champions"), (5, 4, 3, "champions"), (4, 5, 5, "loyal"), (3, 4, 4, "loyal"),
    (5, 1, 1, "new"), (4, 1, 1, "promising"), (5, 2, 2, "potential_loyalists"), (4, 3, 2, "potential_loyalists"),
    (3, 3, 3, "need_attention"), (3, 1, 2, "about_to_sleep"), (2, 3, 4, "at_risk"), (1, 5, 4, "cant_lose"),
    (2, 2, 2, "hibernating"), (1, 1, 1, "lost"), (1, 2, 2, "lost"),
])
def test_segment_map(r: int, f: int, m: int, segment: str) -> None:
    assert rules.segment(r, f, m) == segment


def test_every_score_has_one_named_segment() -> None:
    named = {rules.segment(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)}
    assert named == set(rules.SEGMENTS)


def test_churn_observed_or_assumed() -> None:
    observed = Churn.of(30, 10)
    assert observed.observed and observed.rate == Fraction(1, 3) and observed.expected_years == 3
    assumed = Churn.of(5, 5)
    assert not assumed.observed and assumed.rate == rules.DEFAULT_ANNUAL_CHURN and assumed.expected_years == 2
    assert Churn.of(40, 0).expected_years == rules.MAX_EXPECTED_YEARS


def test_predicted_value_is_profit_per_order_times_orders_per_year_times_years() -> None:
    # 3 orders earned 10,000 fen of gross profit; 2 orders a year; 3 years: 10000 / 3 x 2 x 3 = 20,000
    assert rules.predicted_value(10000, 3, 2, Fraction(3)) == 20000
    assert rules.predicted_value(10001, 3, 1, Fraction(1, 2)) == 1667  # 1666.83 rounds up
    assert rules.predicted_value(-5, 2, 1, Fraction(1)) == -3  # halves away from zero
    assert rules.predicted_value(10000, 3, 0, Fraction(3)) == 0


@pytest.mark.parametrize(("text", "grams"), [
    ("can 250 g", 250), ("cake 357 g", 357), ("brick 2000 g", 2000), ("1 kg", 1000), ("1.5kg", 1500),
    ("357克饼", 357), ("2斤", 1000), ("3两", 150), ("glass 200 ml", None), ("loose", None), (None, None),
])
def test_grams_in_a_form_or_name(text: str | None, grams: int | None) -> None:
    assert rules.grams_in(text) == grams


def test_grams_per_unit_falls_back_to_the_category() -> None:
    assert rules.grams_per_unit("g", "can 250 g", None, "green", None) == 1  # sold by the gram
    assert rules.grams_per_unit("piece", "can 250 g", "西湖龙井", "green", None) == 250
    assert rules.grams_per_unit("piece", "box", "金骏眉 50 g", "black", None) == 50
    assert rules.grams_per_unit("piece", "cake", "生普", "puerh_raw", "puerh") == 357
    assert rules.grams_per_unit("piece", None, "茶", "unknown", None) == rules.FALLBACK_PIECE_GRAMS


def test_drinking_rate_is_the_median_of_grams_over_days_to_the_next_purchase() -> None:
    t0 = rules.epoch_day(datetime(2026, 1, 1, tzinfo=UTC))
    bought = [Purchase(t0, 250), Purchase(t0 + 30, 250), Purchase(t0 + 50, 250), Purchase(t0 + 100, 250)]
    assert rules.drinking_rate(bought) == pytest.approx(250 / 30)  # rates 250/30, 250/20, 250/50
    assert rules.drinking_rate(list(reversed(bought))) == pytest.approx(250 / 30)
    assert rules.drinking_rate(bought[:3]) == pytest.approx((250 / 30 + 250 / 20) / 2)
    assert rules.drinking_rate(bought[:1]) is None
    same_day = [Purchase(t0, 100), Purchase(t0 + 3 / 24, 150)]
    assert rules.merge_same_day(same_day) == [Purchase(t0, 250)]
    assert rules.drinking_rate(same_day) is None
    assert rules.due_day(Purchase(t0, 250), 250 / 30) == pytest.approx(t0 + 30)
    assert rules.from_epoch_day(t0 + 30) == datetime(2026, 1, 31, tzinfo=UTC)
    assert rules.drinking_rate([Purchase(t0, 1), Purchase(t0 + 3650, 1)]) == rules.MIN_GRAMS_PER_DAY


def test_local_dates_are_china_time() -> None:
    assert rules.local_date(datetime(2026, 3, 31, 17, 0, tzinfo=UTC)) == date(2026, 4, 1)
    assert rules.local_midnight(date(2026, 4, 1)) == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)


def test_similarity_weighs_taste_notes_category_and_origin() -> None:
    longjing = TeaFacts("green", None, "浙江杭州西湖", frozenset({"豆香", "鲜爽", "回甘"}))
    biluochun = TeaFacts("green", None, "江苏苏州吴中", frozenset({"鲜爽", "花果香"}))
    anji = TeaFacts("green", None, "浙江湖州安吉", frozenset({"鲜爽"}))
    raw = TeaFacts("puerh_raw", "puerh", "云南西双版纳勐海", frozenset({"回甘"}))
    ripe = TeaFacts("puerh_ripe", "puerh", "云南西双版纳勐海", frozenset({"陈香"}))
    assert rules.similarity(longjing, longjing) == 1.0
    assert rules.similarity(longjing, biluochun) == round(0.5 * 1 / 4 + 0.3, 4)
    assert rules.similarity(longjing, anji) == round(0.5 * 1 / 3 + 0.3 + 0.2 * 0.5, 4)
    assert rules.similarity(raw, ripe) == round(0.3 * 0.5 + 0.2, 4)
    assert rules.origin_likeness("福建武夷山", "福建武夷山桐木") == 0.75


def test_co_purchase_confidence_and_lift() -> None:
    stats = CoPurchase(together=2, antecedent_orders=4, consequent_orders=5, orders=20)
    assert stats.confidence == 0.5
    assert stats.lift == 2.0
    assert CoPurchase(0, 0, 0, 0).lift == 0.0
