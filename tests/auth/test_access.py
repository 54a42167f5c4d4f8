"""Who may do what: tokens, sessions, roles, store scope, and the audit log of every write."""

from __future__ import annotations

from fastapi.testclient import TestClient

from teahub.auth import service as auth
from teahub.auth.models import ApiToken
from teahub.db.uow import UnitOfWork
from tests import factories as f


def test_only_health_and_login_are_anonymous(anonymous: TestClient) -> None:
    assert anonymous.get("/health").status_code == 200
    for method, path in [("GET", "/api/v1/orders"), ("GET", "/api/v1/products"), ("GET", "/api/v1/customers"),
                         ("GET", "/api/v1/events"), ("GET", "/api/v1/audit"), ("POST", "/api/v1/locations"),
                         ("GET", "/api/v1/stock"), ("GET", "/api/v1/users")]:
        response = anonymous.request(method, path, json={})
        assert response.status_code == 401, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert anonymous.post("/api/v1/auth/login", json={"username": "x", "password": "y"}).status_code == 401


def test_wrong_or_revoked_tokens_are_refused(app, anonymous: TestClient) -> None:  # type: ignore[no-untyped-def]
    response = anonymous.get("/api/v1/orders", headers={"Authorization": "Bearer th_not-a-token"})
    assert response.status_code == 401


def test_tokens_are_stored_hashed(app, admin_token: str) -> None:  # type: ignore[no-untyped-def]
    uow = UnitOfWork(app.state.session_factory)
    with uow.reading():
        stored = [row.token_hash for row in uow.session.query(ApiToken)]
    assert stored and admin_token not in stored
    assert all(len(h) == 64 for h in stored)


def test_login_gives_a_session_that_works_like_a_token(app, anonymous: TestClient) -> None:  # type: ignore[no-untyped-def]
    auth.add_user(UnitOfWork(app.state.session_factory), "lin", "manager", ["BJ01"], password="s3cret-pass")
    assert anonymous.post("/api/v1/auth/login", json={"username": "lin", "password": "wrong-pass"}).status_code == 401
    login = anonymous.post("/api/v1/auth/login", json={"username": "lin", "password": "s3cret-pass"})
    assert login.status_code == 200
    assert login.json()["user"]["stores"] == ["BJ01"]
    assert "teahub_session" in login.cookies
    me = anonymous.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["username"] == "lin"
    anonymous.post("/api/v1/auth/logout")
    assert anonymous.get("/api/v1/auth/me").status_code == 401


def test_passwords_are_hashed_with_argon2(app) -> None:  # type: ignore[no-untyped-def]
    from teahub.auth.models import User

    uow = UnitOfWork(app.state.session_factory)
    auth.add_user(uow, "mei", "clerk", ["BJ01"], password="tea-for-two")
    with uow.reading():
        stored = uow.session.query(User).filter_by(username="mei").one().password_hash
    assert stored and stored.startswith("$argon2") and "tea-for-two" not in stored


def test_roles_limit_what_users_do(client: TestClient, client_as) -> None:  # type: ignore[no-untyped-def]
    clerk = client_as("clerk", ["BJ01"])
    integration = client_as("integration")
    assert clerk.post("/api/v1/locations", json={"code": "X1", "name": "x", "kind": "store"}).status_code == 403
    assert clerk.get("/api/v1/users").status_code == 403
    assert clerk.get("/api/v1/audit").status_code == 403
    assert integration.get("/api/v1/events").status_code == 200
    assert clerk.get("/api/v1/events").status_code == 403
    created = client.post("/api/v1/users", json={"username": "zhao", "role": "clerk", "stores": ["BJ01"]})
    assert created.status_code == 201
    storeless = client.post("/api/v1/users", json={"username": "qian", "role": "clerk"})
    assert storeless.status_code == 422 and storeless.json()["field"] == "stores"


def test_every_write_is_audited_with_before_and_after(client: TestClient) -> None:
    f.location(client, "BJ01")
    f.product(client, "LJ-MQ26-250")
    f.receive(client, "LJ-MQ26-250", 10)
    order = f.ok(f.pos_sale(client, [("LJ-MQ26-250", 1)], pay=68800), 201)
    entries = f.ok(client.get("/api/v1/audit", params={"limit": 500}))["items"]
    actions = [e["action"] for e in entries]
    for action in ("location.created", "product.created", "stock.received", "order.created"):
        assert action in actions
    created = next(e for e in entries if e["action"] == "order.created")
    assert created["actor"] == "user:root"
    assert created["entity_id"] == str(order["id"])
    assert created["after"]["total"] == 68800 and created["before"] is None
    patched = client.patch("/api/v1/products/LJ-MQ26-250", json={"prices": {"list": 70000}})
    assert patched.status_code == 200
    entry = f.ok(client.get("/api/v1/audit", params={"entity_type": "product"}))["items"][-1]
    assert entry["before"]["prices"]["list"] == 68800 and entry["after"]["prices"]["list"] == 70000


def test_events_are_read_in_order_from_a_cursor(client: TestClient) -> None:
    f.location(client, "BJ01")
    f.product(client, "LJ-MQ26-250")
    f.receive(client, "LJ-MQ26-250", 10)
    f.ok(f.pos_sale(client, [("LJ-MQ26-250", 1)], pay=68800), 201)
    first = f.ok(client.get("/api/v1/events", params={"limit": 3}))
    assert len(first["items"]) == 3
    rest = f.ok(client.get("/api/v1/events", params={"after": first["next"], "limit": 100}))
    every = first["items"] + rest["items"]
    assert [e["seq"] for e in every] == sorted(e["seq"] for e in every)
    assert len({e["id"] for e in every}) == len(every)
    assert [e["type"] for e in every][-3:] == ["order.created", "order.paid", "order.completed"]
    for event in every:
        assert event["occurred_at"].endswith("+00:00")
        assert {"id", "type", "occurred_at", "aggregate_type", "aggregate_id", "version", "payload"} <= event.keys()
    empty = f.ok(client.get("/api/v1/events", params={"after": rest["next"]}))
    assert empty["items"] == [] and empty["next"] == rest["next"]


def test_a_session_cookie_changes_nothing_when_another_site_sends_it(app, anonymous: TestClient) -> None:  # type: ignore[no-untyped-def]
    auth.add_user(UnitOfWork(app.state.session_factory), "lin", "admin", password="s3cret-pass")
    assert anonymous.post("/api/v1/auth/login", json={"username": "lin", "password": "s3cret-pass"}).status_code == 200
    store = {"code": "BJ01", "name": "北京前门店", "kind": "store"}
    forged = anonymous.post("/api/v1/locations", json=store, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403 and forged.json()["field"] == "origin"
    assert anonymous.get("/api/v1/locations").json()["items"] == []  # nothing was made
    # The same change from teahub's own page (same origin), or from a client that sends no Origin, goes through.
    own = anonymous.post("/api/v1/locations", json=store, headers={"Origin": "http://testserver"})
    assert own.status_code == 201


def test_an_admin_changes_a_users_stores_role_and_access(app, client: TestClient, anonymous: TestClient) -> None:  # type: ignore[no-untyped-def]
    auth.add_user(UnitOfWork(app.state.session_factory), "lin", "clerk", ["BJ01"], password="s3cret-pass")
    moved = client.patch("/api/v1/users/lin", json={"stores": ["HZ01", "BJ01"]})
    assert moved.status_code == 200 and moved.json()["stores"] == ["BJ01", "HZ01"] and moved.json()["role"] == "clerk"
    refused = client.patch("/api/v1/users/lin", json={"role": "manager", "stores": []})
    assert refused.status_code == 422 and refused.json()["field"] == "stores"  # a manager needs a store
    assert anonymous.post("/api/v1/auth/login", json={"username": "lin", "password": "s3cret-pass"}).status_code == 200
    assert anonymous.get("/api/v1/auth/me").status_code == 200
    off = client.patch("/api/v1/users/lin", json={"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    assert anonymous.get("/api/v1/auth/me").status_code == 401  # the open session ended with it
    assert anonymous.post("/api/v1/auth/login", json={"username": "lin", "password": "s3cret-pass"}).status_code == 401
    actions = [e["action"] for e in client.get("/api/v1/audit", params={"entity_type": "user"}).json()["items"]]
    assert actions.count("user.updated") == 2


def test_the_last_active_admin_stays_an_admin(app, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    admins = [u for u in auth.list_users(UnitOfWork(app.state.session_factory)) if u["role"] == "admin"]
    assert len(admins) == 1
    name = admins[0]["username"]
    for change, field in (({"active": False}, "active"), ({"role": "clerk", "stores": ["BJ01"]}, "role")):
        answer = client.patch(f"/api/v1/users/{name}", json=change)
        assert answer.status_code == 409 and answer.json()["field"] == field
    auth.add_user(UnitOfWork(app.state.session_factory), "second", "admin", password="s3cret-pass")
    assert client.patch(f"/api/v1/users/{name}", json={"role": "manager", "stores": ["BJ01"]}).status_code == 200
