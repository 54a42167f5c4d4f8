"""Server time of the web pages people wait for: the customer search (by the last four digits of a phone, by
name, by pinyin initials), the customer 360 page, the dashboard and the order list. Prints one JSON line per
page: p50, p99 and max in milliseconds over `--requests` requests (after a few warm-up ones).

    .venv/bin/python bench/web.py [--database URL] [--requests 50] [--keep FILE]

Without `--database`, a new SQLite database is filled with `teahub.demo.load_demo(engine)` (the default demo:
2,000 customers and 6,000 orders through the services; a few minutes); `--keep FILE` builds it into FILE once
(its data key in FILE.key, unless TEAHUB_DATA_KEY is set) and reuses it afterwards. With `--database`, the
database must be migrated and hold customers (its data key as in production: TEAHUB_DATA_KEY or the key file).

The pages are asked through the ASGI app with a logged-in TestClient (the session cookie of `/login`, as a
browser sends it); server time is measured around the app itself (request in, last byte of the answer out), so
the test client's own work is not counted. A page that answers 404 (not built yet) is reported as missing.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]
PASSWORD = "bench-pass-1"
USERS = {"bench-boss": ("admin", []), "bench-clerk": ("clerk", ["BJ01"])}
WARM_UP = 3


class Timed:
    """An ASGI wrapper that keeps how long the app took for each request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.last_ms = 0.0

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.last_ms = (time.perf_counter() - started) * 1000


def _engine(args: argparse.Namespace) -> tuple[Engine, str]:
    from teahub import bootstrap
    from teahub.db.engine import make_engine
    from teahub.demo import load_demo

    if args.database:
        return make_engine(args.database), args.database
    path = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="teahub-bench-web-")) / "web.db"
    url = f"sqlite:///{path}"
    fresh = not path.exists()
    engine = make_engine(url)
    started = time.perf_counter()
    bootstrap.migrate_and_initialize(engine)  # a kept database is brought up to the current schema too
    if fresh:
        written = load_demo(engine)
        print(json.dumps({"setup": "demo", "database": url, "customers": written.get("customers"),
                          "orders": written.get("orders"), "seconds": round(time.perf_counter() - started, 1)}),
              flush=True)
    return engine, url


def _users(engine: Engine) -> None:
    from teahub.auth import service as auth
    from teahub.db.engine import make_session_factory
    from teahub.db.uow import UnitOfWork

    uow = UnitOfWork(make_session_factory(engine), actor="bench")
    known = {u["username"] for u in auth.list_users(uow)}
    for name, (role, stores) in USERS.items():
        if name not in known:
            auth.add_user(uow, name, role, stores, PASSWORD)


def _sample_customer(engine: Engine) -> dict[str, Any]:
    """A customer with a phone and orders, as a clerk would look them up."""
    from teahub.customers import service as customers
    from teahub.customers.pinyin import initials_of
    from teahub.db.engine import make_session_factory
    from teahub.db.uow import UnitOfWork
    from teahub.sales.models import Order

    uow = UnitOfWork(make_session_factory(engine), actor="bench")
    with uow.reading():
        buyers = [int(c) for c in uow.session.scalars(
            select(Order.customer_id).where(Order.customer_id.is_not(None)).group_by(Order.customer_id)
            .order_by(Order.customer_id).limit(200)) if c is not None]
    for customer_id in buyers:
        person = customers.get_customer(uow, customer_id)
        if person["phone"] and person["kind"] == "person" and len(person["name"]) >= 2:
            return {"id": customer_id, "last4": person["phone"][-4:], "surname": person["name"][0],
                    "initials": initials_of(person["name"]) or ""}
    raise SystemExit("no customer with a phone and orders in this database")


def _login(client: Any, username: str) -> None:
    answer = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    if answer.status_code != 303:
        raise SystemExit(f"cannot log in as {username}: {answer.status_code}")


def _measure(client: Any, timed: Timed, path: str, requests: int) -> dict[str, Any]:
    first = client.get(path)
    if first.status_code == 404:
        return {"missing": True, "status": 404}
    if first.status_code != 200:
        return {"status": first.status_code, "error": first.text[:300]}
    for _ in range(WARM_UP - 1):
        client.get(path)
    times = []
    for _ in range(requests):
        answer = client.get(path)
        if answer.status_code != 200:
            return {"status": answer.status_code, "error": answer.text[:300]}
        times.append(timed.last_ms)
    times.sort()
    p99 = statistics.quantiles(times, n=100, method="inclusive")[98] if len(times) > 1 else times[0]
    return {"status": 200, "requests": requests, "p50_ms": round(statistics.median(times), 1),
            "p99_ms": round(p99, 1), "max_ms": round(times[-1], 1), "bytes": len(first.content),
            "rows": first.text.count("<tr data-customer=") if path.startswith("/customers?") else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="a migrated teahub database URL (default: a new SQLite demo)")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--keep", help="build the SQLite demo into this file once and reuse it")
    args = parser.parse_args()
    if not args.database and "TEAHUB_DATA_KEY" not in os.environ:
        if args.keep:  # the kept database's key beside it (made on the first run)
            os.environ["TEAHUB_DATA_KEY_FILE"] = f"{args.keep}.key"
        else:  # a throwaway database: a throwaway key
            os.environ["TEAHUB_DATA_KEY"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()

    from fastapi.testclient import TestClient

    from teahub.api import create_app
    from teahub.config import Settings

    engine, url = _engine(args)
    _users(engine)
    sample = _sample_customer(engine)
    timed = Timed(create_app(Settings(database_url=url), engine=engine))
    pages = [
        ("customer_search_last4", "bench-boss", f"/customers?q={sample['last4']}"),
        ("customer_search_last4_clerk", "bench-clerk", f"/customers?q={sample['last4']}"),
        ("customer_search_name", "bench-boss", f"/customers?q={sample['surname']}"),
        ("customer_search_initials", "bench-boss", f"/customers?q={sample['initials']}"),
        ("customer_360", "bench-boss", f"/customers/{sample['id']}"),
        ("dashboard", "bench-boss", "/"),
        ("dashboard_clerk", "bench-clerk", "/"),
        ("orders_page", "bench-boss", "/orders"),
    ]
    database = engine.dialect.name
    clients: dict[str, Any] = {}
    try:
        for scenario, user, path in pages:
            if user not in clients:
                clients[user] = TestClient(timed, base_url="http://testserver")
                clients[user].__enter__()
                _login(clients[user], user)
            result = _measure(clients[user], timed, path, args.requests)
            print(json.dumps({"scenario": scenario, "database": database, "path": path, "as": user, **result},
                             ensure_ascii=False), flush=True)
    finally:
        for client in clients.values():
            client.__exit__(None, None, None)
        engine.dispose()


if __name__ == "__main__":
    main()
