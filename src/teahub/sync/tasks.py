"""Outbound sync in the background runner.

- `sync.relay` (with TEAHUB_BROKER_URL): publishes the outbox to RabbitMQ until caught up, every few seconds.
- `sync.reconcile` (daily, 03:30 Beijing time): each enabled ERP target's records of the last 2 days against
  the ERP; missing ones are queued again.
- `sync.deliver`: each enabled target's due retries and fresh events (from the outbox through its own cursor
  without a broker, from its queue with one).

Both are safe on any number of workers (leases on their cursors). For low latency run the continuous loops
instead (`teahub sync run`, or `teahub.sync.runtime.start` inside the worker); the jobs then find the leases
taken, or nothing to do.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from teahub.config import get_settings
from teahub.db.uow import UnitOfWork
from teahub.scheduling import Daily, Every, register_job
from teahub.sync.broker import BrokerConfig
from teahub.sync.delivery import deliver_all
from teahub.sync.reconcile import reconcile_all
from teahub.sync.relay import relay

EVERY = Every(timedelta(seconds=5))
BUDGET = 3.0  # seconds a job keeps relaying while events keep coming


def relay_job(uow: UnitOfWork) -> dict[str, Any]:
    broker = BrokerConfig.from_settings(get_settings())
    if broker is None:
        return {"skipped": "no broker configured (TEAHUB_BROKER_URL)"}
    return relay(uow, broker).as_dict()


def deliver_job(uow: UnitOfWork) -> dict[str, Any]:
    broker = BrokerConfig.from_settings(get_settings())
    return {"targets": deliver_all(uow, broker=broker)}


register_job(name="sync.relay", cadence=EVERY, run=relay_job, lease=timedelta(minutes=2))
register_job(name="sync.deliver", cadence=EVERY, run=deliver_job, lease=timedelta(minutes=5))


def reconcile_job(uow: UnitOfWork) -> dict[str, Any]:
    reports = reconcile_all(uow, days=2, repair=True)
    return {"targets": [{k: r[k] for k in ("target", "checked", "repaired")} | {
        "missing": len(r["missing"]), "different": len(r["different"]), "errors": r["errors"][:5]} for r in reports]}


register_job(name="sync.reconcile", cadence=Daily(at=time(19, 30)), run=reconcile_job, lease=timedelta(minutes=30))
