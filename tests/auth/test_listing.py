"""Administrators' reads: the audit log newest first with filters and pages, and tokens without their secret."""

from __future__ import annotations

from typing import Any

from teahub.auth import service
from teahub.auth.listing import list_tokens
from teahub.auth.service import audit_entries
from teahub.db.uow import UnitOfWork


def audit_log(uow: UnitOfWork, **filters: Any) -> list[dict[str, Any]]:
    return audit_entries(uow, newest_first=True, **filters)


def test_audit_log_is_newest_first_filtered_and_paged(uow: UnitOfWork) -> None:
    admin = UnitOfWork(uow.session_factory, actor="user:boss")
    for name in ("ann", "bob", "cat"):
        service.add_user(admin, name, "clerk", ["BJ01"])
    service.create_token(UnitOfWork(uow.session_factory, actor="user:root"), "ann", "till")

    everything = audit_log(uow)
    assert [e["action"] for e in everything] == ["token.created", "user.created", "user.created", "user.created"]
    assert [e["after"]["username"] for e in everything[1:]] == ["cat", "bob", "ann"]

    by_boss = audit_log(uow, actor="user:boss", limit=2)
    assert [e["after"]["username"] for e in by_boss] == ["cat", "bob"]
    older = audit_log(uow, actor="user:boss", before=by_boss[-1]["id"], limit=2)
    assert [e["after"]["username"] for e in older] == ["ann"]

    ann = everything[-1]["entity_id"]
    assert [e["action"] for e in audit_log(uow, entity_type="user", entity_id=ann)] == ["user.created"]
    assert [e["actor"] for e in audit_log(uow, entity_type="api_token")] == ["user:root"]
    assert audit_log(uow, action="token.created")[0]["after"]["user"] == "ann"
    assert audit_log(uow, actor="user:nobody") == []


def test_tokens_are_listed_by_prefix_never_in_full(uow: UnitOfWork) -> None:
    service.add_user(uow, "ann", "integration")
    service.add_user(uow, "bob", "admin")
    first = service.create_token(uow, "ann", "erp")
    second = service.create_token(uow, "ann")
    service.create_token(uow, "bob", "cli")

    tokens = list_tokens(uow, "ann")
    assert [(t["username"], t["name"]) for t in tokens] == [("ann", "ann"), ("ann", "erp")]
    assert [t["prefix"] for t in tokens] == [second[:10], first[:10]]
    assert first not in str(tokens) and second not in str(tokens)
    assert all(t["revoked_at"] is None and t["created_at"] is not None for t in tokens)
    assert [t["username"] for t in list_tokens(uow)] == ["bob", "ann", "ann"]
