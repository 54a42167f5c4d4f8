"""Opportunities: deals with a customer moving through the stages (history kept), and the pipeline board."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import BigInteger, cast, func, select

from teahub.crm.pipeline import events, rules
from teahub.crm.pipeline.models import Opportunity, OpportunityStageChange
from teahub.crm.pipeline.records import (
    bump,
    check_user,
    check_version,
    created,
    customer_id,
    jsonable,
    load,
    opportunity_summary,
    opportunity_view,
)
from teahub.crm.pipeline.schemas import OpportunityIn, OpportunityPatch
from teahub.db.uow import UnitOfWork
from teahub.errors import ValidationFailed

_FIELDS = ("title", "expected_value", "expected_close_on", "owner", "note")


def _text(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _title(value: str, field: str = "title") -> str:
    title = " ".join(value.split())
    if not title:
        raise ValidationFailed("a title cannot be blank", field=field)
    return title


def _enter_stage(uow: UnitOfWork, opp: Opportunity, stage: str, probability: int) -> None:
    previous = opp.stage if opp.stage_changes else None
    opp.stage = stage
    opp.probability = probability
    opp.closed_at = uow.now() if stage in rules.CLOSED_STAGES else None
    if stage != "lost":
        opp.lost_reason = None
    opp.stage_changes.append(OpportunityStageChange(from_stage=previous, to_stage=stage, probability=probability,
                                                    changed_at=uow.now(), changed_by=uow.actor))


def create_opportunity(uow: UnitOfWork, data: OpportunityIn, *, default_owner: str) -> dict[str, Any]:
    """A new opportunity for a customer, entering its first stage (recorded in its stage history)."""
    rules.check_stage_change("prospecting", data.stage, data.lost_reason)
    probability = rules.probability_for(data.stage, data.probability)
    title = _title(data.title)
    with uow:
        owner = check_user(uow, data.owner or default_owner, "owner")
        now = uow.now()
        opp = Opportunity(customer_id=customer_id(uow, data.customer_id), title=title, stage=data.stage,
                          expected_value=data.expected_value, probability=probability,
                          expected_close_on=data.expected_close_on, owner=owner,
                          lost_reason=None,
                          note=_text(data.note), version=1, created_at=now, updated_at=now, stage_changes=[])
        _enter_stage(uow, opp, data.stage, probability)
        if data.stage == "lost":
            opp.lost_reason = _text(data.lost_reason)
        uow.session.add(opp)
        uow.session.flush()
        view = opportunity_view(opp)
        created(uow, opp, events.OPPORTUNITY_CREATED, events.OPPORTUNITY, view, "opportunity")
        uow.commit()
        return view


def get_opportunity(uow: UnitOfWork, opportunity_id: int) -> dict[str, Any]:
    with uow.reading():
        return opportunity_view(load(uow, Opportunity, opportunity_id))


def list_opportunities(uow: UnitOfWork, *, stage: str | None = None, owner: str | None = None,
                       customer_id: int | None = None, before_id: int | None = None, limit: int = 50
                       ) -> list[dict[str, Any]]:
    """Newest first."""
    stmt = select(Opportunity)
    if before_id:
        stmt = stmt.where(Opportunity.id < before_id)
    if stage is not None:
        stmt = stmt.where(Opportunity.stage == stage)
    if owner is not None:
        stmt = stmt.where(Opportunity.owner == owner)
    if customer_id is not None:
        stmt = stmt.where(Opportunity.customer_id == customer_id)
    with uow.reading():
        rows = uow.session.scalars(stmt.order_by(Opportunity.id.desc()).limit(limit))
        return [opportunity_summary(o) for o in rows]


def update_opportunity(uow: UnitOfWork, opportunity_id: int, patch: OpportunityPatch) -> dict[str, Any]:
    """Change fields and/or the stage. A stage change is kept in the history and emits
    `opportunity.stage_changed`; other changes `opportunity.updated`."""
    sent = patch.model_fields_set - {"version"}
    with uow:
        opp = load(uow, Opportunity, opportunity_id, lock=True)
        check_version(opp, patch.version)
        before = jsonable(opportunity_view(opp))
        changed = _apply_fields(uow, opp, patch, sent)
        previous, stage_moved = opp.stage, False
        if "stage" in sent and patch.stage is not None and patch.stage != opp.stage:
            lost_reason = patch.lost_reason if "lost_reason" in sent else opp.lost_reason
            rules.check_stage_change(opp.stage, patch.stage, lost_reason)
            _enter_stage(uow, opp, patch.stage, rules.probability_for(patch.stage, patch.probability))
            if patch.stage == "lost":
                opp.lost_reason = _text(lost_reason)
            stage_moved = True
            changed = sorted({*changed, "stage", "probability", "lost_reason", "closed_at"})
        elif "probability" in sent and patch.probability is not None and patch.probability != opp.probability:
            opp.probability = rules.probability_for(opp.stage, patch.probability)
            changed.append("probability")
        if "lost_reason" in sent and not stage_moved and opp.stage == "lost" and patch.lost_reason != opp.lost_reason:
            rules.check_stage_change("lost", "lost", patch.lost_reason)
            opp.lost_reason = _text(patch.lost_reason)
            changed.append("lost_reason")
        if not changed:
            return opportunity_view(opp)
        if stage_moved:
            bump(uow, opp, events.OPPORTUNITY_STAGE_CHANGED, events.OPPORTUNITY, {
                "opportunity": opportunity_summary(opp), "from": previous, "to": opp.stage,
                "probability": opp.probability})
        else:
            bump(uow, opp, events.OPPORTUNITY_UPDATED, events.OPPORTUNITY,
                 {"opportunity": opportunity_summary(opp), "changed": changed})
        uow.session.flush()
        view = opportunity_view(opp)
        uow.audit("opportunity.stage_changed" if stage_moved else "opportunity.updated", events.OPPORTUNITY,
                  opp.id, before, jsonable(view))
        uow.commit()
        return view


def _apply_fields(uow: UnitOfWork, opp: Opportunity, patch: OpportunityPatch, sent: set[str]) -> list[str]:
    changed: list[str] = []
    for name in _FIELDS:
        if name not in sent:
            continue
        value: Any = getattr(patch, name)
        if name == "title":
            if value is None:
                raise ValidationFailed("a title cannot be blank", field="title")
            value = _title(value)
        elif name == "owner":
            if value is None:
                raise ValidationFailed("an opportunity needs an owner", field="owner")
            value = check_user(uow, value, "owner")
        elif name == "expected_value":
            value = value or 0
        elif name == "note":
            value = _text(value)
        if value != getattr(opp, name):
            setattr(opp, name, value)
            changed.append(name)
    return changed


def close_won(uow: UnitOfWork, opportunity_id: int, *, reason: dict[str, Any]) -> None:
    """Move an opportunity to won (a quote of it was accepted), inside the caller's transaction. Nothing
    happens when it is won already."""
    with uow:
        opp = load(uow, Opportunity, opportunity_id, lock=True)
        if opp.stage == "won":
            return
        before = jsonable(opportunity_view(opp))
        previous = opp.stage
        _enter_stage(uow, opp, "won", rules.DEFAULT_PROBABILITY["won"])
        bump(uow, opp, events.OPPORTUNITY_STAGE_CHANGED, events.OPPORTUNITY, {
            "opportunity": opportunity_summary(opp), "from": previous, "to": "won", "probability": opp.probability,
            **reason})
        uow.session.flush()
        uow.audit("opportunity.stage_changed", events.OPPORTUNITY, opp.id, before, jsonable(opportunity_view(opp)))
        uow.commit()


def pipeline_board(uow: UnitOfWork, *, owner: str | None = None, customer_id: int | None = None,
                   close_from: date | None = None, close_until: date | None = None, per_stage: int = 50
                   ) -> dict[str, Any]:
    """Opportunities grouped by stage, each column with its count, total and weighted value (expected value
    × probability), and the open stages' totals (the forecast). Each column lists its newest `per_stage`."""
    conditions = []
    if owner is not None:
        conditions.append(Opportunity.owner == owner)
    if customer_id is not None:
        conditions.append(Opportunity.customer_id == customer_id)
    if close_from is not None:
        conditions.append(Opportunity.expected_close_on >= close_from)
    if close_until is not None:
        conditions.append(Opportunity.expected_close_on < close_until)
    with uow.reading():
        totals = {row.stage: row for row in uow.session.execute(
            select(Opportunity.stage, func.count().label("n"),
                   func.coalesce(func.sum(cast(Opportunity.expected_value, BigInteger)), 0).label("total"),
                   func.coalesce(func.sum(cast(Opportunity.expected_value, BigInteger) * Opportunity.probability),
                                 0).label("weighted"))
            .where(*conditions).group_by(Opportunity.stage))}
        columns = []
        for stage in rules.STAGES:
            rows = list(uow.session.scalars(select(Opportunity).where(Opportunity.stage == stage, *conditions)
                                            .order_by(Opportunity.id.desc()).limit(per_stage + 1)))
            row = totals.get(stage)
            columns.append({
                "stage": stage, "default_probability": rules.DEFAULT_PROBABILITY[stage],
                "count": int(row.n) if row else 0, "total_value": int(row.total) if row else 0,
                "weighted_value": rules.weighted_value(int(row.weighted)) if row else 0,
                "items": [opportunity_summary(o) for o in rows[:per_stage]], "more": len(rows) > per_stage,
            })
    open_rows = [totals[s] for s in rules.OPEN_STAGES if s in totals]
    return {
        "stages": columns,
        "open": {"count": sum(int(r.n) for r in open_rows), "total_value": sum(int(r.total) for r in open_rows),
                 "weighted_value": rules.weighted_value(sum(int(r.weighted) for r in open_rows))},
    }
