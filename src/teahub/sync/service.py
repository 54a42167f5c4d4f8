"""Outbound sync's use cases, for routes and the CLI: the event feed, targets, dead letters, status."""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client.registry import Collector

from teahub.db.uow import UnitOfWork, events_after
from teahub.sync import deadletters, metrics, targets
from teahub.sync import status as sync_status
from teahub.sync.broker import BrokerConfig, BrokerError, delete_queue
from teahub.sync.schemas import TargetIn, TargetPatch

log = logging.getLogger("teahub.sync")

add_target = targets.add_target
update_target = targets.update_target
get_target = targets.get_target
list_targets = targets.list_targets
list_dead_letters = deadletters.list_dead_letters
replay_dead_letters = deadletters.replay
records = sync_status.records

__all__ = ["TargetIn", "TargetPatch", "add_target", "get_target", "list_dead_letters", "list_targets", "metrics_text",
           "read_events", "records", "remove_target", "replay_dead_letters", "status", "update_target"]


def read_events(uow: UnitOfWork, after: int, limit: int) -> list[dict[str, Any]]:
    with uow.reading():
        return [event.envelope() for event in events_after(uow.session, after, limit)]


def remove_target(uow: UnitOfWork, name: str, broker: BrokerConfig | None = None) -> None:
    """Remove the target and its state; with a broker, also its queue (best effort: a queue left behind only
    holds messages nobody reads)."""
    targets.remove_target(uow, name)
    if broker is not None:
        try:
            delete_queue(broker, name)
        except BrokerError as exc:
            log.warning("sync target %s removed, but its queue was not: %s", name, exc)


def status(uow: UnitOfWork, broker: BrokerConfig | None) -> dict[str, Any]:
    return sync_status.status(uow, broker=broker is not None)


def metrics_text(uow: UnitOfWork, broker: BrokerConfig | None, more: tuple[Collector, ...] = ()) -> bytes:
    return metrics.render(uow, broker=broker is not None, more=more)
