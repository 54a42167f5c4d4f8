"""Analytics' background work: the nightly snapshot of every customer x tea's repurchase due day."""

from __future__ import annotations

from datetime import time, timedelta

from teahub.analytics import repurchase
from teahub.scheduling.cadence import Daily
from teahub.scheduling.registry import register_job

# 02:30 Beijing time, after the day's orders and before the care rules read the list at 09:00. Replacing the
# snapshot is one transaction, so a run taken over after its lease ran out simply replaces it again.
register_job(name="analytics.repurchase_due", cadence=Daily(at=time(18, 30)), run=repurchase.refresh_snapshot,
             lease=timedelta(minutes=30))
