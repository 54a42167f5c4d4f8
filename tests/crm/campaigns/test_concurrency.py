"""Launchers racing on one campaign (two clicks, the resume job) still grant each recipient once."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from teahub.crm.campaigns import launching, service
from teahub.db.uow import UnitOfWork
from tests.crm.campaigns.helpers import coupon, coupon_campaign, grants, ok, person, segment

LAUNCHERS = 4


def test_concurrent_launches_grant_each_recipient_once(client: TestClient, app: Any, uow: UnitOfWork,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    people = [person(client, f"金{i}", f"1320000{i:04d}", tier="gold") for i in range(24)]
    made = segment(client, "金卡", {"tiers": ["gold"]})
    coupon(client)
    campaign = coupon_campaign(client, made["id"])
    monkeypatch.setattr(launching, "BATCH", 5)
    factory = app.state.session_factory
    barrier = threading.Barrier(LAUNCHERS)

    def launch(i: int) -> str:
        barrier.wait()
        return str(service.launch_campaign(UnitOfWork(factory, actor=f"user:launcher{i}"), campaign["id"])["status"])

    with ThreadPoolExecutor(LAUNCHERS) as pool:
        statuses = list(pool.map(launch, range(LAUNCHERS)))
    assert "finished" in statuses
    granted = grants(uow, campaign["id"])
    assert Counter(customer for customer, _ in granted) == Counter(p["id"] for p in people)
    done = ok(client.get(f"/api/v1/campaigns/{campaign['id']}"))
    assert (done["status"], done["recipients"], done["outcomes"]["granted"]) == ("finished", 24, 24)
