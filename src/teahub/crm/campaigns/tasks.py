"""Scheduled jobs of campaigns: a launch that stopped halfway (a crash, a restart) is resumed."""

from __future__ import annotations

from datetime import timedelta

from teahub.crm.campaigns import service
from teahub.db.uow import UnitOfWork
from teahub.scheduling.cadence import Every
from teahub.scheduling.registry import register_job


def resume_launches(uow: UnitOfWork) -> dict[str, int]:
    """Give the recipients left without an outcome their coupon or message; finish what is done."""
    resumed = 0
    for campaign_id in service.launched_campaign_ids(uow):
        service.launch_campaign(uow, campaign_id)
        resumed += 1
    return {"resumed": resumed}


register_job(name="crm.resume_campaign_launches", cadence=Every(timedelta(minutes=5)), run=resume_launches,
             lease=timedelta(minutes=30))
