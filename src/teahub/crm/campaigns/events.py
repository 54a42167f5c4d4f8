"""The events segments and campaigns emit, with their payloads.

Segments (aggregate type "segment", id the segment id, version the segment's version after the change):
- `segment.created`, `segment.updated`: SegmentEvent
- `segment.deleted`: SegmentEvent (as it was)

Campaigns (aggregate type "campaign", id the campaign id, version the campaign's version after the change):
- `campaign.created`: CampaignEvent
- `campaign.launched`: CampaignLaunched: the segment's members were taken as recipients
- `campaign.finished`: CampaignFinished: every recipient has its outcome (coupon granted, message queued, or
  why not)

Each coupon granted records loyalty's `coupon.granted` (source `campaign:ID`); each message queued records
care's own event.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

SEGMENT = "segment"
CAMPAIGN = "campaign"

SEGMENT_CREATED = "segment.created"
SEGMENT_UPDATED = "segment.updated"
SEGMENT_DELETED = "segment.deleted"
CAMPAIGN_CREATED = "campaign.created"
CAMPAIGN_LAUNCHED = "campaign.launched"
CAMPAIGN_FINISHED = "campaign.finished"

EVENT_TYPES = (SEGMENT_CREATED, SEGMENT_UPDATED, SEGMENT_DELETED, CAMPAIGN_CREATED, CAMPAIGN_LAUNCHED,
               CAMPAIGN_FINISHED)


class SegmentEvent(BaseModel):
    id: int
    name: str
    rules: dict[str, Any]
    version: int


class CampaignEvent(BaseModel):
    id: int
    name: str
    segment_id: int
    kind: str
    coupon_code: str | None
    channel: str | None
    template: str | None
    status: str


class CampaignLaunched(CampaignEvent):
    recipients: int
    launched_by: str


class CampaignFinished(CampaignEvent):
    recipients: int
    outcomes: dict[str, int]
