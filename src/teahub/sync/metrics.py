"""Prometheus metrics of outbound sync, computed from the status at scrape time (so whichever process
answers, it reports what every worker did)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from teahub.db.uow import UnitOfWork
from teahub.sync.status import status


class SyncCollector(Collector):
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def collect(self) -> Iterator[Metric]:
        data = self.data
        yield GaugeMetricFamily("teahub_outbox_newest_seq", "Newest event seq in the outbox",
                                value=data["newest_seq"])
        relay = data["relay"]
        if relay is not None:
            yield GaugeMetricFamily("teahub_sync_relay_position", "Last outbox seq published to the broker",
                                    value=relay["position"])
            yield GaugeMetricFamily("teahub_sync_relay_lag_events", "Events not yet published to the broker",
                                    value=relay["lag_events"])
            yield GaugeMetricFamily("teahub_sync_relay_lag_seconds", "Age of the oldest event not yet published",
                                    value=relay["lag_seconds"])
            yield CounterMetricFamily("teahub_sync_relay_published", "Events published (confirmed) to the broker",
                                      value=relay["published"])
            yield CounterMetricFamily("teahub_sync_relay_failures", "Failed relay passes", value=relay["failures"])
        families = {
            "lag_events": GaugeMetricFamily("teahub_sync_target_lag_events",
                                            "Events a target has not yet dealt with", labels=["target"]),
            "lag_seconds": GaugeMetricFamily("teahub_sync_target_lag_seconds",
                                             "Age of the oldest event a target still owes", labels=["target"]),
            "pending": GaugeMetricFamily("teahub_sync_target_pending", "Events waiting in the retry queue",
                                         labels=["target"]),
            "dead_letters": GaugeMetricFamily("teahub_sync_target_dead_letters", "Unresolved dead letters",
                                              labels=["target"]),
            "delivered": CounterMetricFamily("teahub_sync_target_delivered", "Events delivered",
                                             labels=["target"]),
            "failures": CounterMetricFamily("teahub_sync_target_failures", "Failed delivery attempts",
                                            labels=["target"]),
            "enabled": GaugeMetricFamily("teahub_sync_target_enabled", "1 when the target is enabled",
                                         labels=["target"]),
        }
        success = GaugeMetricFamily("teahub_sync_target_last_success_timestamp_seconds",
                                    "When the target last delivered an event (Unix time)", labels=["target"])
        for target in data["targets"]:
            for key, family in families.items():
                family.add_metric([target["name"]], float(target[key]))
            if target["last_success_at"] is not None:
                success.add_metric([target["name"]], target["last_success_at"].timestamp())
        yield from families.values()
        yield success


def render(uow: UnitOfWork, *, broker: bool, more: tuple[Collector, ...] = ()) -> bytes:
    """The sync metrics, and those of `more` collectors (other capabilities')."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SyncCollector(status(uow, broker=broker)))
    for other in more:
        registry.register(other)
    return generate_latest(registry)
