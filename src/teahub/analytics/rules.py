"""The arithmetic of knowing the customer, as plain Python with no I/O: RFM quintiles and segments, the CLV
formula, tea similarity, co-purchase strength, grams in a package and how fast a customer drinks their tea.

The analytics modules (rfm, clv, cohorts, recommendations, repurchase) fetch the figures with SQL and hand
them to these functions; the tests of this module need no database.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from fractions import Fraction
from typing import NamedTuple

# China Standard Time has no daylight saving: calendar days and months are counted at UTC+8.
CHINA = timezone(timedelta(hours=8))


def local_date(at: datetime) -> date:
    return at.astimezone(CHINA).date()


def local_midnight(day: date) -> datetime:
    """The UTC moment a China calendar day begins."""
    return datetime(day.year, day.month, day.day, tzinfo=CHINA).astimezone(UTC)


# -- RFM ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quintiles:
    """Scores 1-5 from the customers with orders: a score counts the fifths of customers a value beats.

    score(v) = 1 + min(4, floor(5 x (customers with a strictly worse value) / customers)). Equal values get
    equal scores, so the many one-order customers all score F=1 instead of being split at random as NTILE
    would. Stored as the four breakpoints, so a single customer can be scored against a remembered
    population: score(v) = 1 + the number of breakpoints v is strictly above.
    """

    cuts: tuple[float, float, float, float]

    @classmethod
    def of(cls, values: Sequence[float]) -> Quintiles:
        """Breakpoints of a population, higher values better (pass -days for recency)."""
        if not values:
            return cls((math.inf, math.inf, math.inf, math.inf))
        ordered = sorted(values)
        n = len(ordered)
        # v beats at least ceil(k n / 5) customers exactly when v > the ceil(k n / 5)-th smallest value.
        cuts = tuple(ordered[math.ceil(k * n / 5) - 1] for k in range(1, 5))
        return cls(cuts)  # type: ignore[arg-type]

    def score(self, value: float) -> int:
        return 1 + bisect_left(self.cuts, value)


SEGMENTS: dict[str, str] = {
    "champions": "Champions",
    "loyal": "Loyal",
    "potential_loyalists": "Potential loyalists",
    "new": "New",
    "promising": "Promising",
    "need_attention": "Need attention",
    "about_to_sleep": "About to sleep",
    "at_risk": "At risk",
    "cant_lose": "Can't lose them",
    "hibernating": "Hibernating",
    "lost": "Lost",
}

# The standard R x F segment map (rows: recency score; columns: the FM score 1..5), with F taken as FM, the
# mean of the frequency and monetary scores rounded half up, so that one large order counts too. The
# coldest low-value corner (R=1, FM<=2) is "lost"; the rest of R<=2, FM<=2 is "hibernating".
#        FM=1              FM=2                   FM=3                   FM=4         FM=5
SEGMENT_GRID: dict[int, tuple[str, str, str, str, str]] = {
    5: ("new", "potential_loyalists", "potential_loyalists", "champions", "champions"),
    4: ("promising", "potential_loyalists", "potential_loyalists", "loyal", "loyal"),
    3: ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    2: ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"),
    1: ("lost", "lost", "at_risk", "at_risk", "cant_lose"),
}


def fm_score(f: int, m: int) -> int:
    return (f + m + 1) // 2


def segment(r: int, f: int, m: int) -> str:
    return SEGMENT_GRID[r][fm_score(f, m) - 1]


# -- CLV ---------------------------------------------------------------------------------------------------

DEFAULT_ANNUAL_CHURN = Fraction(1, 2)  # tea retail without a year of history to observe: half leave a year
MIN_CHURN_BASE = 20  # customers a year ago needed before their observed churn is trusted
MAX_EXPECTED_YEARS = 10


@dataclass(frozen=True)
class Churn:
    """Annual churn: of the customers who had bought before the last 365 days (`base`), the share who did
    not buy in those 365 days (`lapsed`). The expected remaining lifetime of an active customer is
    1 / churn years (geometric lifetime), capped at MAX_EXPECTED_YEARS."""

    base: int
    lapsed: int
    rate: Fraction
    observed: bool

    @classmethod
    def of(cls, base: int, lapsed: int, *, min_base: int | None = None) -> Churn:
        if base >= max(MIN_CHURN_BASE if min_base is None else min_base, 1):
            return cls(base, lapsed, Fraction(lapsed, base), True)
        return cls(base, lapsed, DEFAULT_ANNUAL_CHURN, False)

    @property
    def expected_years(self) -> Fraction:
        if self.rate <= 0:
            return Fraction(MAX_EXPECTED_YEARS)
        return min(1 / self.rate, Fraction(MAX_EXPECTED_YEARS))


def div_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, in integers (denominator > 0)."""
    if numerator < 0:
        return -div_half_up(-numerator, denominator)
    return (2 * numerator + denominator) // (2 * denominator)


def predicted_value(gross_profit: int, orders: int, orders_per_year: int, years: Fraction) -> int:
    """Future gross profit in fen: profit per order (average order value x margin) x orders per year x
    expected years."""
    if orders <= 0:
        return 0
    return div_half_up(gross_profit * orders_per_year * years.numerator, orders * years.denominator)


# -- recommendations ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeaFacts:
    """What makes two teas alike."""

    category: str
    parent: str | None
    origin: str | None
    taste_notes: frozenset[str]


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


def origin_likeness(a: str | None, b: str | None) -> float:
    """1 the same origin; 0.75 one inside the other (武夷山 / 武夷山桐木); 0.5 the same province."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    if a.startswith(b) or b.startswith(a):
        return 0.75
    return 0.5 if a[:2] == b[:2] else 0.0


def category_likeness(a: TeaFacts, b: TeaFacts) -> float:
    if a.category == b.category:
        return 1.0
    family_a, family_b = a.parent or a.category, b.parent or b.category
    return 0.5 if family_a == family_b else 0.0


SIMILARITY_WEIGHTS = (0.5, 0.3, 0.2)  # taste notes (Jaccard), category, origin


def similarity(a: TeaFacts, b: TeaFacts) -> float:
    w_notes, w_category, w_origin = SIMILARITY_WEIGHTS
    return round(w_notes * jaccard(a.taste_notes, b.taste_notes) + w_category * category_likeness(a, b)
                 + w_origin * origin_likeness(a.origin, b.origin), 4)


@dataclass(frozen=True)
class CoPurchase:
    """How strongly buying `antecedent` goes with buying `consequent`, from the orders holding them."""

    together: int  # orders holding both
    antecedent_orders: int
    consequent_orders: int
    orders: int  # all sold orders

    @property
    def confidence(self) -> float:
        return self.together / self.antecedent_orders if self.antecedent_orders else 0.0

    @property
    def lift(self) -> float:
        if not self.orders or not self.consequent_orders:
            return 0.0
        return self.confidence / (self.consequent_orders / self.orders)


# -- repurchase --------------------------------------------------------------------------------------------

DEFAULT_GRAMS_PER_DAY = 8.0  # a regular drinker: 250 g of green tea lasts about a month
MIN_GRAMS_PER_DAY = 0.5  # below this a "rhythm" is noise (a cake bought twice in ten years)
# A piece whose form and name say nothing about its weight (grams), by category.
DEFAULT_PIECE_GRAMS = {
    "green": 100, "yellow": 100, "white": 357, "oolong": 125, "black": 100, "dark": 1000,
    "puerh": 357, "puerh_raw": 357, "puerh_ripe": 357, "scented": 100, "herbal": 50,
}
FALLBACK_PIECE_GRAMS = 100
TEA_CATEGORIES = frozenset(DEFAULT_PIECE_GRAMS)

_WEIGHT = re.compile(r"(\d+(?:\.\d+)?)\s*(kg|千克|公斤|g|克|斤|两)(?![a-z])", re.IGNORECASE)
_GRAMS_PER = {"kg": 1000, "千克": 1000, "公斤": 1000, "g": 1, "克": 1, "斤": 500, "两": 50}


def grams_in(text: str | None) -> int | None:
    """The weight a form or name states: "can 250 g", "cake 357 g", "1 kg", "半斤" is not parsed."""
    if not text:
        return None
    found = _WEIGHT.search(text)
    if found is None:
        return None
    grams = round(float(found.group(1)) * _GRAMS_PER[found.group(2).lower()])
    return grams or None


def grams_per_unit(unit: str, form: str | None, name: str | None, category: str, parent: str | None) -> int:
    """Grams in one base unit of a product: 1 for loose tea sold by the gram, else what the package says."""
    if unit == "g":
        return 1
    return (grams_in(form) or grams_in(name) or DEFAULT_PIECE_GRAMS.get(category)
            or DEFAULT_PIECE_GRAMS.get(parent or "") or FALLBACK_PIECE_GRAMS)


DAY = 86400.0


class Purchase(NamedTuple):
    """Grams of one tea bought at a moment, the moment in days since 1970-01-01 UTC (cheap to compare).
    Plain (day, grams) tuples are accepted everywhere a Purchase is (the repurchase scan makes millions)."""

    day: float
    grams: int


Bought = tuple[float, int]  # a Purchase, or a plain (day, grams) tuple


def epoch_day(at: datetime) -> float:
    return at.timestamp() / DAY


def from_epoch_day(day: float) -> datetime:
    return datetime.fromtimestamp(day * DAY, UTC)


def merge_same_day(purchases: Sequence[Bought]) -> list[Bought]:
    """Purchases less than a day apart are one purchase (two orders at the counter, a split shipment)."""
    merged: list[Bought] = []
    for day, grams in sorted(purchases):
        if merged and day - merged[-1][0] < 1:
            merged[-1] = (merged[-1][0], merged[-1][1] + grams)
        else:
            merged.append((day, grams))
    return merged


def rate_of_merged(merged: Sequence[Bought]) -> float | None:
    """`drinking_rate` of purchases already merged and in time order."""
    if len(merged) < 2:
        return None
    rates = sorted(a[1] / (b[0] - a[0]) for a, b in zip(merged, merged[1:], strict=False))
    middle = len(rates) // 2
    median = rates[middle] if len(rates) % 2 else (rates[middle - 1] + rates[middle]) / 2
    return max(median, MIN_GRAMS_PER_DAY)


def drinking_rate(purchases: Sequence[Bought]) -> float | None:
    """The customer's own rhythm in grams per day: the median, over consecutive purchases, of the grams
    bought divided by the days until the next purchase. With equal quantities this is the quantity over
    the median interval. None with fewer than two purchases (after merging same-day ones)."""
    return rate_of_merged(merge_same_day(purchases)) if len(purchases) > 1 else None


def due_day(last: Bought, grams_per_day: float) -> float:
    """When the tea of the last purchase is likely finished (days since the epoch)."""
    return last[0] + last[1] / grams_per_day
