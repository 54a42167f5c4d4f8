"""Channels' background work: every minute, each shop's orders modified since its checkpoint are pulled.

Stock pushed back to the shops (available × ratio − safety stock, see rules.available_to_sell) is not wired
yet: it will subscribe to `stock.changed` here and call each connector's stock API."""

from __future__ import annotations

from datetime import timedelta

from teahub.channels.pulling import pull_all
from teahub.scheduling.cadence import Every
from teahub.scheduling.registry import register_job

register_job(name="channels.pull", cadence=Every(timedelta(minutes=1)), run=pull_all, lease=timedelta(minutes=10))
