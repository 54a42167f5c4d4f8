"""Segment use cases: define, change and remove segments, preview a rule set, list a segment's members.

A segment keeps its rules, never its members: who is in it is read (by `teahub.analytics.segments`) whenever
it is asked, and taken once, as a campaign's recipients, when a campaign is launched.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from teahub.analytics import segments as evaluation
from teahub.catalog import service as catalog
from teahub.crm.campaigns import events
from teahub.crm.campaigns.models import Campaign, Segment
from teahub.crm.campaigns.records import load_segment, record, segment_event, segment_view
from teahub.crm.campaigns.rules import SegmentRules
from teahub.crm.campaigns.schemas import SegmentIn, SegmentPatch
from teahub.db.uow import UnitOfWork
from teahub.errors import Conflict, ValidationFailed
from teahub.inventory import service as inventory
from teahub.loyalty import service as loyalty


def _check_codes(given: list[str] | None, known: set[str], what: str, field: str) -> None:
    for i, code in enumerate(given or ()):
        if code not in known:
            raise ValidationFailed(f"no {what} {code}", field=f"{field}.{i}")


def check_rules(uow: UnitOfWork, rule_set: SegmentRules, field: str = "rules") -> None:
    """Every tier, category and store the rules name exists (asked of their owners)."""
    if rule_set.tiers:
        _check_codes(rule_set.tiers, {t["code"] for t in loyalty.list_tiers(uow)}, "tier", f"{field}.tiers")
    if rule_set.bought_categories:
        _check_codes(rule_set.bought_categories, {c["code"] for c in catalog.list_categories(uow)}, "category",
                     f"{field}.bought_categories")
    if rule_set.stores:
        known = {loc["code"] for loc in inventory.list_locations(uow, codes=frozenset(rule_set.stores))}
        _check_codes(rule_set.stores, known, "location", f"{field}.stores")


def stored_rules(segment: Segment, field: str = "segment_id") -> SegmentRules:
    """The rules a segment keeps, read back (refused when they no longer validate)."""
    try:
        return SegmentRules.model_validate(segment.rules)
    except ValidationError as exc:
        raise Conflict(f"segment {segment.id}'s rules are no longer valid: change them", field=field) from exc


def _name(value: str) -> str:
    name = value.strip()
    if not name:
        raise ValidationFailed("a segment needs a name", field="name")
    return name


def _check_name_free(uow: UnitOfWork, name: str, segment_id: int | None = None) -> None:
    stmt = select(Segment.id).where(Segment.name == name)
    if segment_id is not None:
        stmt = stmt.where(Segment.id != segment_id)
    if uow.session.scalar(stmt) is not None:
        raise Conflict(f"a segment named {name} exists already", field="name")


def _flush(uow: UnitOfWork, name: str) -> None:
    try:
        uow.session.flush()
    except IntegrityError as exc:  # a concurrent writer took the name first
        raise Conflict(f"a segment named {name} exists already", field="name") from exc


def create_segment(uow: UnitOfWork, data: SegmentIn) -> dict[str, Any]:
    name = _name(data.name)
    with uow:
        check_rules(uow, data.rules)
        _check_name_free(uow, name)
        now = uow.now()
        segment = Segment(name=name, description=(data.description or "").strip() or None,
                          rules=data.rules.stored(), created_by=uow.actor[:64], created_at=now, updated_at=now,
                          version=1)
        uow.session.add(segment)
        _flush(uow, name)
        record(uow, events.SEGMENT, segment.id, segment.version, events.SEGMENT_CREATED, segment_event(segment))
        view = segment_view(segment)
        uow.audit(events.SEGMENT_CREATED, "segment", segment.id, None, view)
        uow.commit()
        return view


def list_segments(uow: UnitOfWork, *, after_id: int = 0, limit: int = 50) -> list[dict[str, Any]]:
    """By id; without sizes (read one segment for its size)."""
    with uow.reading():
        rows = uow.session.scalars(select(Segment).where(Segment.id > after_id).order_by(Segment.id).limit(limit))
        return [segment_view(s) for s in rows]


def get_segment(uow: UnitOfWork, segment_id: int) -> dict[str, Any]:
    """The segment with its size now."""
    with uow.reading():
        segment = load_segment(uow, segment_id)
        return segment_view(segment, evaluation.segment_size(uow, stored_rules(segment, "id")))


def update_segment(uow: UnitOfWork, segment_id: int, patch: SegmentPatch) -> dict[str, Any]:
    """Change the name, description or rules; fields left out stay. Launched campaigns keep the recipients
    they took; drafts take the members of the rules in force when they are launched."""
    given = patch.model_fields_set
    with uow:
        segment = load_segment(uow, segment_id, lock=True)
        if patch.version is not None and patch.version != segment.version:
            raise Conflict(f"segment {segment_id} is at version {segment.version}, not {patch.version}",
                           field="version", current=segment.version)
        for field in ("name", "rules"):
            if field in given and getattr(patch, field) is None:
                raise ValidationFailed(f"a segment keeps its {field}: give new ones or leave it out", field=field)
        before = segment_view(segment)
        if patch.name is not None and _name(patch.name) != segment.name:
            segment.name = _name(patch.name)
            _check_name_free(uow, segment.name, segment.id)
        if "description" in given:
            segment.description = (patch.description or "").strip() or None
        if patch.rules is not None:
            check_rules(uow, patch.rules)
            segment.rules = patch.rules.stored()
        if (segment.name, segment.description, segment.rules) == (before["name"], before["description"],
                                                                 before["rules"]):
            return segment_view(segment)  # nothing to change
        segment.version += 1
        segment.updated_at = uow.now()
        _flush(uow, segment.name)
        record(uow, events.SEGMENT, segment.id, segment.version, events.SEGMENT_UPDATED, segment_event(segment))
        view = segment_view(segment)
        uow.audit(events.SEGMENT_UPDATED, "segment", segment.id, before, view)
        uow.commit()
        return view


def delete_segment(uow: UnitOfWork, segment_id: int) -> None:
    """Remove a segment no campaign was made for (a campaign keeps its segment for its record)."""
    with uow:
        segment = load_segment(uow, segment_id, lock=True)
        used = uow.session.scalar(select(func.count()).select_from(Campaign).where(Campaign.segment_id == segment.id))
        if used:
            raise Conflict(f"segment {segment_id} has {used} campaign(s): it stays for their record", field="id")
        view = segment_view(segment)
        segment.version += 1
        record(uow, events.SEGMENT, segment.id, segment.version, events.SEGMENT_DELETED, segment_event(segment))
        uow.session.delete(segment)
        uow.audit(events.SEGMENT_DELETED, "segment", segment_id, view, None)
        uow.commit()


def preview(uow: UnitOfWork, rule_set: SegmentRules) -> dict[str, Any]:
    """The size of a rule set and its first members, without saving it."""
    with uow.reading():
        check_rules(uow, rule_set)
        return evaluation.preview(uow, rule_set)


def segment_members(uow: UnitOfWork, segment_id: int, *, after_id: int = 0, limit: int = 50
                    ) -> list[dict[str, Any]]:
    with uow.reading():
        segment = load_segment(uow, segment_id)
        return evaluation.segment_members(uow, stored_rules(segment, "id"), after_id=after_id, limit=limit)
