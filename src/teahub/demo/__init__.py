"""Demo data: a tea retailer's year (catalog, batches, stores, customers, orders on every channel),
written through the capabilities' services so that ledger, events and audit agree.

`load_demo(engine)` fills an empty database and does nothing to one that has products.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine


def load_demo(engine: Engine, scale: int = 1, seed: int = 7, *, customers: int | None = None,
              orders: int | None = None, today: date | None = None) -> dict[str, int]:
    """Fill an empty teahub database with demo data; deterministic for a seed (and a reference day).

    scale multiplies the customers (2,000) and orders (6,000); `customers` and `orders` set them exactly
    (tests use small numbers). `today` is the last day of the demo year (default: the current UTC date).
    Answers what was written ({"skipped": 1} when the database already had products).
    """
    from teahub.demo.runner import load

    if scale < 1:
        raise ValueError("scale is at least 1")
    return load(engine, scale=scale, seed=seed, today=today, customers=customers, orders=orders)


__all__ = ["load_demo"]
