"""What the segment and campaign use cases share: views, loading under lock, counting recipients, recording a
change with its event. Internal to campaigns; other capabilities call `teahub.crm.campaigns.service`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select

from teahub.crm.campaigns import events, rules
from teahub.crm.campaigns.models import Campaign, CampaignRecipient, Segment
from teahub.db.uow import UnitOfWork
from teahub.errors import NotFound


def segment_view(s: Segment, size: int | None = None) -> dict[str, Any]:
    return {"id": s.id, "name": s.name, "description": s.description, "rules": s.rules, "created_by": s.created_by,
            "created_at": s.created_at, "updated_at": s.updated_at, "version": s.version, "size": size}


def segment_event(s: Segment) -> events.SegmentEvent:
    return events.SegmentEvent(id=s.id, name=s.name, rules=s.rules, version=s.version)


def load_segment(uow: UnitOfWork, segment_id: int, *, lock: bool = False, field: str = "id") -> Segment:
    stmt = select(Segment).where(Segment.id == segment_id)
    if lock:  # PostgreSQL: changes of one segment queue here; SQLite serializes writers already
        stmt = stmt.with_for_update(of=Segment).execution_options(populate_existing=True)
    segment = uow.session.scalar(stmt)
    if segment is None:
        raise NotFound(f"no segment {segment_id}", field=field)
    return segment


def load_campaign(uow: UnitOfWork, campaign_id: int, *, lock: bool = False) -> Campaign:
    stmt = select(Campaign).where(Campaign.id == campaign_id)
    if lock:
        stmt = stmt.with_for_update(of=Campaign).execution_options(populate_existing=True)
    campaign = uow.session.scalar(stmt)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}", field="id")
    return campaign


def recipient_counts(uow: UnitOfWork, campaign_ids: list[int]) -> dict[int, dict[str | None, int]]:
    """Per campaign: recipients by outcome (None: not yet processed)."""
    if not campaign_ids:
        return {}
    rows = uow.session.execute(
        select(CampaignRecipient.campaign_id, CampaignRecipient.outcome, func.count())
        .where(CampaignRecipient.campaign_id.in_(campaign_ids))
        .group_by(CampaignRecipient.campaign_id, CampaignRecipient.outcome)).all()
    counts: dict[int, dict[str | None, int]] = {}
    for campaign_id, outcome, n in rows:
        counts.setdefault(campaign_id, {})[outcome] = int(n)
    return counts


def campaign_view(c: Campaign, segment_name: str | None, counts: dict[str | None, int]) -> dict[str, Any]:
    message = ({"channel": c.channel, "template": c.template, "params": c.params or {}}
               if c.kind == "message" else None)
    return {
        "id": c.id, "name": c.name, "segment_id": c.segment_id, "segment": segment_name, "kind": c.kind,
        "coupon_code": c.coupon_code, "message": message, "status": c.status,
        "attribution_days": c.attribution_days, "created_by": c.created_by, "created_at": c.created_at,
        "updated_at": c.updated_at, "launched_at": c.launched_at, "launched_by": c.launched_by,
        "finished_at": c.finished_at, "version": c.version, "recipients": sum(counts.values()),
        "pending": counts.get(None, 0), "outcomes": rules.outcome_counts(counts),
    }


def campaign_fields(c: Campaign) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "segment_id": c.segment_id, "kind": c.kind, "coupon_code": c.coupon_code,
            "channel": c.channel, "template": c.template, "status": c.status}


def record(uow: UnitOfWork, aggregate: str, aggregate_id: int, version: int, event_type: str,
           payload: BaseModel) -> None:
    uow.record_event(event_type, aggregate, aggregate_id, payload.model_dump(mode="json"), version=version)


def bump_campaign(uow: UnitOfWork, c: Campaign, event_type: str, payload: BaseModel) -> None:
    """The campaign changed: its version advances and the change is recorded as an event."""
    c.version += 1
    c.updated_at = uow.now()
    record(uow, events.CAMPAIGN, c.id, c.version, event_type, payload)
