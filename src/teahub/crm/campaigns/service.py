"""Segments and campaigns' entry point for the rest of teahub: segments defined by rules (with their size and
members read by `teahub.analytics.segments`), campaigns that grant a segment a coupon or send it a message,
and launching them. The use cases live in the modules named below; a campaign's results are read by
`teahub.analytics.campaigns`."""

from __future__ import annotations

from teahub.crm.campaigns.launching import (
    create_campaign,
    get_campaign,
    launch_campaign,
    launched_campaign_ids,
    list_campaigns,
    list_recipients,
)
from teahub.crm.campaigns.segmenting import (
    check_rules,
    create_segment,
    delete_segment,
    get_segment,
    list_segments,
    preview,
    segment_members,
    update_segment,
)

__all__ = [
    "check_rules", "create_campaign", "create_segment", "delete_segment", "get_campaign", "get_segment",
    "launch_campaign", "launched_campaign_ids", "list_campaigns", "list_recipients", "list_segments", "preview",
    "segment_members", "update_segment",
]
