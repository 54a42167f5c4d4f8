"""Ticket rules without a database: the status machine, the SLA table, breach, CSAT and who may manage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from teahub.crm.aftersales import rules
from teahub.crm.aftersales.models import KINDS, PRIORITIES, STATUSES
from teahub.errors import Conflict, Forbidden, InvalidTransition, ValidationFailed

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def test_every_kind_and_priority_has_an_sla_and_urgent_is_fastest() -> None:
    for kind in KINDS:
        hours = [rules.sla_hours(kind, p) for p in ("urgent", "high", "normal", "low")]
        assert hours == sorted(hours) and len(set(hours)) == 4
    assert set(PRIORITIES) == set(rules.SLA_HOURS["complaint"])
    assert [rules.sla_hours("complaint", p) for p in ("urgent", "high", "normal", "low")] == [4, 24, 48, 72]
    for fast in ("delivery", "refund_request"):
        assert all(rules.sla_hours(fast, p) < rules.sla_hours("complaint", p) for p in PRIORITIES)
    assert rules.due_at("delivery", "normal", T0) == T0 + timedelta(hours=24)


@pytest.mark.parametrize(("status", "target"), [
    ("open", "in_progress"), ("open", "waiting_customer"), ("open", "resolved"), ("in_progress", "waiting_customer"),
    ("waiting_customer", "in_progress"), ("in_progress", "resolved"), ("waiting_customer", "resolved"),
    ("resolved", "closed"), ("resolved", "in_progress"),
])
def test_allowed_transitions(status: str, target: str) -> None:
    rules.check_transition(status, target)


@pytest.mark.parametrize(("status", "target"), [
    ("open", "closed"), ("open", "open"), ("in_progress", "closed"), ("in_progress", "open"),
    ("resolved", "waiting_customer"), ("resolved", "open"), ("closed", "in_progress"), ("closed", "resolved"),
    ("closed", "open"), ("closed", "closed"),
])
def test_forbidden_transitions(status: str, target: str) -> None:
    with pytest.raises(InvalidTransition) as raised:
        rules.check_transition(status, target)
    assert raised.value.field == "status" and raised.value.extra == {"current": status, "requested": target}


def test_the_machine_knows_every_status() -> None:
    assert set(rules.TRANSITIONS) == set(STATUSES)
    assert set(STATUSES) == rules.OPEN | rules.DONE


def test_breach_is_not_resolved_by_the_due_time() -> None:
    due = T0 + timedelta(hours=4)
    assert not rules.is_breached(due, None, due)
    assert rules.is_breached(due, None, due + timedelta(seconds=1))
    assert not rules.is_breached(due, due - timedelta(hours=1), due + timedelta(days=9))
    assert rules.is_breached(due, due + timedelta(minutes=1), due + timedelta(minutes=2))


def test_csat_needs_a_resolution_a_valid_score_and_no_earlier_one() -> None:
    rules.check_csat("resolved", 5, None)
    rules.check_csat("closed", 1, None)
    with pytest.raises(ValidationFailed):
        rules.check_csat("resolved", 6, None)
    with pytest.raises(InvalidTransition):
        rules.check_csat("in_progress", 3, None)
    with pytest.raises(Conflict):
        rules.check_csat("closed", 3, 4)


def test_managers_and_the_assignee_manage_a_ticket() -> None:
    rules.check_may_manage(rules.Actor("boss", manager=True), None)
    rules.check_may_manage(rules.Actor("mei", manager=False), "mei")
    for assignee in (None, "lei"):
        with pytest.raises(Forbidden):
            rules.check_may_manage(rules.Actor("mei", manager=False), assignee)
