"""Campaign use cases: create, read, and launch: the segment's members are taken as recipients, then each is
granted the coupon (through loyalty) or sent the message (through care).

A launch is safe to repeat and to resume. The recipients are written once, when a draft is launched (unique per
campaign and customer). Each recipient's outcome is written in the same transaction as its coupon grant or
queued message, in batches, and only recipients without an outcome are processed (PostgreSQL: rows locked,
skipping those another launcher holds), so a second launch, or one resuming after a crash, never grants twice.
The campaign is finished once every recipient has its outcome.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, insert, select

from teahub.analytics import segments as evaluation
from teahub.crm.campaigns import events, rules
from teahub.crm.campaigns.models import Campaign, CampaignRecipient, Segment
from teahub.crm.campaigns.records import (
    bump_campaign,
    campaign_fields,
    campaign_view,
    load_campaign,
    load_segment,
    recipient_counts,
    record,
)
from teahub.crm.campaigns.schemas import CampaignIn
from teahub.crm.campaigns.segmenting import stored_rules
from teahub.crm.care import service as care
from teahub.db.uow import UnitOfWork
from teahub.errors import DomainError, ValidationFailed
from teahub.loyalty import coupons

BATCH = 200
GONE = "no longer an active customer (merged into another, or erased)"


def _coupon(uow: UnitOfWork, code: str) -> dict[str, Any]:
    """The coupon definition, asked of loyalty."""
    return coupons.get_coupon(uow, code, field="coupon_code")


def _check_offer(data: CampaignIn) -> None:
    """A coupon campaign names a coupon and no message; a message campaign the reverse."""
    offer, other = ("coupon_code", "message") if data.kind == "coupon" else ("message", "coupon_code")
    if getattr(data, offer) is None:
        raise ValidationFailed(f"a {data.kind} campaign needs {offer}", field=offer)
    if getattr(data, other) is not None:
        raise ValidationFailed(f"a {data.kind} campaign has no {other}", field=other)


def create_campaign(uow: UnitOfWork, data: CampaignIn) -> dict[str, Any]:
    name = data.name.strip()
    if not name:
        raise ValidationFailed("a campaign needs a name", field="name")
    _check_offer(data)
    with uow:
        segment = load_segment(uow, data.segment_id, field="segment_id")
        if data.kind == "coupon":
            assert data.coupon_code is not None
            if not _coupon(uow, data.coupon_code)["active"]:
                raise ValidationFailed(f"coupon {data.coupon_code} is no longer given", field="coupon_code")
        message = data.message
        now = uow.now()
        campaign = Campaign(
            name=name, segment_id=segment.id, kind=data.kind, coupon_code=data.coupon_code,
            channel=message.channel if message else None, template=message.template if message else None,
            params=dict(message.params) if message else {}, status="draft", attribution_days=data.attribution_days,
            created_by=uow.actor[:64], created_at=now, updated_at=now, version=1)
        uow.session.add(campaign)
        uow.session.flush()
        record(uow, events.CAMPAIGN, campaign.id, campaign.version, events.CAMPAIGN_CREATED,
               events.CampaignEvent(**campaign_fields(campaign)))
        view = campaign_view(campaign, segment.name, {})
        uow.audit(events.CAMPAIGN_CREATED, "campaign", campaign.id, None, view)
        uow.commit()
        return view


def _views(uow: UnitOfWork, found: list[Campaign]) -> list[dict[str, Any]]:
    ids = [c.id for c in found]
    counts = recipient_counts(uow, ids)
    names = dict(uow.session.execute(select(Segment.id, Segment.name)
                                     .where(Segment.id.in_({c.segment_id for c in found}))).all()) if found else {}
    return [campaign_view(c, names.get(c.segment_id), counts.get(c.id, {})) for c in found]


def get_campaign(uow: UnitOfWork, campaign_id: int) -> dict[str, Any]:
    with uow.reading():
        return _views(uow, [load_campaign(uow, campaign_id)])[0]


def list_campaigns(uow: UnitOfWork, *, status: str | None = None, kind: str | None = None,
                   segment_id: int | None = None, before_id: int | None = None, limit: int = 50
                   ) -> list[dict[str, Any]]:
    """Newest first (pass the last id as `before_id` for the next page)."""
    with uow.reading():
        stmt = select(Campaign)
        for column, value in ((Campaign.status, status), (Campaign.kind, kind), (Campaign.segment_id, segment_id)):
            if value is not None:
                stmt = stmt.where(column == value)
        if before_id:
            stmt = stmt.where(Campaign.id < before_id)
        return _views(uow, list(uow.session.scalars(stmt.order_by(Campaign.id.desc()).limit(limit))))


def list_recipients(uow: UnitOfWork, campaign_id: int, *, outcome: str | None = None, after_customer_id: int = 0,
                    limit: int = 50) -> list[dict[str, Any]]:
    """A campaign's recipients by customer id; `outcome` "pending": those not yet processed."""
    with uow.reading():
        load_campaign(uow, campaign_id)
        stmt = select(CampaignRecipient).where(CampaignRecipient.campaign_id == campaign_id,
                                               CampaignRecipient.customer_id > after_customer_id)
        if outcome == "pending":
            stmt = stmt.where(CampaignRecipient.outcome.is_(None))
        elif outcome is not None:
            stmt = stmt.where(CampaignRecipient.outcome == outcome)
        rows = uow.session.scalars(stmt.order_by(CampaignRecipient.customer_id).limit(limit))
        return [{"customer_id": r.customer_id, "outcome": r.outcome, "reason": r.reason, "reference": r.reference,
                 "at": r.at} for r in rows]


# -- launching ---------------------------------------------------------------------------------------------
def launch_campaign(uow: UnitOfWork, campaign_id: int, *, max_batches: int | None = None,
                    budget_seconds: float | None = None) -> dict[str, Any]:
    """Launch a draft (take the segment's members as recipients), then give every recipient without an outcome
    the coupon or the message, batch by batch, until none is left (or `max_batches` were done, or no new batch
    is begun after `budget_seconds`: the rest is left pending). Launching again resumes what is left; a
    finished campaign is answered as it is."""
    _take_recipients(uow, campaign_id)
    batches, started = 0, time.monotonic()
    while max_batches is None or batches < max_batches:
        if budget_seconds is not None and time.monotonic() - started >= budget_seconds:
            break
        if not _process_batch(uow, campaign_id):
            break
        batches += 1
    _finish(uow, campaign_id)
    return get_campaign(uow, campaign_id)


def launched_campaign_ids(uow: UnitOfWork) -> list[int]:
    """Campaigns launched but not finished (a launch that stopped halfway)."""
    with uow.reading():
        return list(uow.session.scalars(select(Campaign.id).where(Campaign.status == "launched")
                                        .order_by(Campaign.id)))


def _take_recipients(uow: UnitOfWork, campaign_id: int) -> None:
    """A draft's recipients: the segment's members now. They are read before the write transaction begins (so
    that writers do not queue behind the evaluation) and written once, by whichever launch finds it a draft."""
    with uow.reading():
        campaign = load_campaign(uow, campaign_id)
        if campaign.status != "draft":
            return
        segment = load_segment(uow, campaign.segment_id, field="segment_id")
        members = evaluation.member_ids(uow, stored_rules(segment))
    with uow:
        campaign = load_campaign(uow, campaign_id, lock=True)
        if campaign.status != "draft":
            return  # another launch took them meanwhile
        for start in range(0, len(members), 5000):
            uow.session.execute(insert(CampaignRecipient), [{"campaign_id": campaign.id, "customer_id": customer_id}
                                                            for customer_id in members[start:start + 5000]])
        campaign.status, campaign.launched_at, campaign.launched_by = "launched", uow.now(), uow.actor[:64]
        bump_campaign(uow, campaign, events.CAMPAIGN_LAUNCHED,
                      events.CampaignLaunched(**campaign_fields(campaign), recipients=len(members),
                                              launched_by=campaign.launched_by))
        uow.audit(events.CAMPAIGN_LAUNCHED, "campaign", campaign.id, {"status": "draft"},
                  {"status": "launched", "recipients": len(members)})
        uow.commit()


def _process_batch(uow: UnitOfWork, campaign_id: int) -> int:
    """Give up to BATCH recipients without an outcome their coupon or message, in one transaction."""
    with uow:
        campaign = load_campaign(uow, campaign_id)
        if campaign.status != "launched":
            return 0
        batch = list(uow.session.scalars(
            select(CampaignRecipient).where(CampaignRecipient.campaign_id == campaign.id,
                                            CampaignRecipient.outcome.is_(None))
            .order_by(CampaignRecipient.id).limit(BATCH).with_for_update(skip_locked=True)))
        if not batch:
            return 0
        active = evaluation.active_customer_ids(uow, [r.customer_id for r in batch])
        for recipient in batch:
            if recipient.customer_id not in active:
                outcome: tuple[str, str | None, str | None] = ("unreachable", GONE, None)
            elif campaign.kind == "coupon":
                outcome = _grant(uow, campaign, recipient.customer_id)
            else:
                outcome = _send(uow, campaign, recipient.customer_id)
            recipient.outcome, recipient.reason, recipient.reference = outcome
            recipient.at = uow.now()
        uow.commit()
        return len(batch)


def _grant(uow: UnitOfWork, campaign: Campaign, customer_id: int) -> tuple[str, str | None, str | None]:
    assert campaign.coupon_code is not None
    try:
        with uow.savepoint():
            granted = coupons.grant(uow, campaign.coupon_code, customer_id, source=rules.source(campaign.id))
    except DomainError as exc:  # e.g. the coupon is no longer given, or the customer may not have another
        return "refused", rules.clip(exc.detail), None
    return "granted", None, str(granted["code"])


def _send(uow: UnitOfWork, campaign: Campaign, customer_id: int) -> tuple[str, str | None, str | None]:
    assert campaign.channel is not None and campaign.template is not None
    try:
        with uow.savepoint():
            answer = care.queue_message(uow, customer_id, channel=campaign.channel, template=campaign.template,
                                        params=dict(campaign.params or {}), source=rules.source(campaign.id),
                                        dedupe_key=rules.dedupe_key(campaign.id, customer_id))
    except DomainError as exc:
        return "refused", rules.clip(exc.detail), None
    outcome, reason = rules.message_outcome(answer)
    return outcome, reason, rules.message_reference(answer)


def _finish(uow: UnitOfWork, campaign_id: int) -> None:
    """Every recipient has its outcome: the campaign is finished."""
    with uow:
        campaign = load_campaign(uow, campaign_id, lock=True)
        if campaign.status != "launched":
            return
        pending = uow.session.scalar(select(func.count()).select_from(CampaignRecipient).where(
            CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.outcome.is_(None)))
        if pending:
            return
        counts = recipient_counts(uow, [campaign.id]).get(campaign.id, {})
        campaign.status, campaign.finished_at = "finished", uow.now()
        outcomes = rules.outcome_counts(counts)
        bump_campaign(uow, campaign, events.CAMPAIGN_FINISHED,
                      events.CampaignFinished(**campaign_fields(campaign), recipients=sum(counts.values()),
                                              outcomes=outcomes))
        uow.audit(events.CAMPAIGN_FINISHED, "campaign", campaign.id, {"status": "launched"},
                  {"status": "finished", "outcomes": outcomes})
        uow.commit()
