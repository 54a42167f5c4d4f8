"""Channels' background work: messages left received (a server stopped between storing and processing them)
are processed every few seconds; every minute, each shop's orders modified since its checkpoint are pulled; every
stock change marks the shops × SKUs it shows on, pushed every few seconds (coalesced), with a full resync and a
reconciliation of each shop's recent orders every night."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from teahub.channels.processing import drain
from teahub.channels.pulling import pull_all
from teahub.channels.reconcile import reconcile_all
from teahub.channels.stock import on_stock_changed, push_due, resync_all
from teahub.db.uow import UnitOfWork
from teahub.inventory.events import STOCK_CHANGED
from teahub.scheduling.cadence import Daily, Every
from teahub.scheduling.registry import register_job, subscribe


def drain_inbox(uow: UnitOfWork) -> dict[str, Any]:
    return drain(uow.session_factory).as_dict()


register_job(name="channels.inbox", cadence=Every(timedelta(seconds=10)), run=drain_inbox,
             lease=timedelta(minutes=10))
register_job(name="channels.pull", cadence=Every(timedelta(minutes=1)), run=pull_all, lease=timedelta(minutes=10))
subscribe("channels.stock_dirty", [STOCK_CHANGED], on_stock_changed)
register_job(name="channels.stock_push", cadence=Every(timedelta(seconds=5)), run=push_due,
             lease=timedelta(minutes=5))
# 03:00 and 04:00 Beijing time, when the shops are quiet.
register_job(name="channels.stock_resync", cadence=Daily(at=time(19, 0)), run=resync_all, lease=timedelta(hours=1))
register_job(name="channels.reconcile", cadence=Daily(at=time(20, 0)), run=reconcile_all, lease=timedelta(hours=2))
