"""Prometheus metrics of the shops, from the overview at scrape time: the inbox (messages per state, and how long
the oldest has waited to be processed: pushes are answered before they are processed) and the stock pushed to
each shop (pending and failing pushes)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from teahub.channels.overview import shops_overview
from teahub.db.uow import UnitOfWork


class ChannelsCollector(Collector):
    def __init__(self, shops: dict[str, dict[str, Any]], now: datetime) -> None:
        self.shops = shops
        self.now = now

    def collect(self) -> Iterator[Metric]:
        inbox = GaugeMetricFamily("teahub_channel_inbox_messages", "Inbound messages of a shop by state",
                                  labels=["shop", "state"])
        waiting = GaugeMetricFamily("teahub_channel_inbox_oldest_received_seconds",
                                    "How long a shop's oldest message not yet processed has waited",
                                    labels=["shop"])
        pending = GaugeMetricFamily("teahub_channel_stock_pending", "SKUs whose stock is due to be pushed to a shop",
                                    labels=["shop"])
        failing = GaugeMetricFamily("teahub_channel_stock_failing", "SKUs whose last stock push to a shop failed",
                                    labels=["shop"])
        for code, shop in sorted(self.shops.items()):
            for state in ("received", "processed", "failed"):
                inbox.add_metric([code, state], float(shop["inbox"][state]))
            oldest = shop["inbox"]["oldest_received_at"]
            waiting.add_metric([code], max((self.now - oldest).total_seconds(), 0.0) if oldest else 0.0)
            pending.add_metric([code], float(shop["push"]["pending"]))
            failing.add_metric([code], float(shop["push"]["failing"]))
        yield from (inbox, waiting, pending, failing)


def collector(uow: UnitOfWork) -> Collector:
    return ChannelsCollector(shops_overview(uow), uow.now())
