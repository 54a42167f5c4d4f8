"""The care rules' settings (a row overrides the defaults of rules.py) and the frequency cap policy."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from teahub.crm.care import rules
from teahub.crm.care.models import CarePolicy, CareRule
from teahub.db.uow import UnitOfWork


def _upsert(uow: UnitOfWork, model: Any, key: str, values: dict[str, Any]) -> None:
    """Insert or overwrite one settings row in one statement (two admins saving at once: the last wins)."""
    dialect = uow.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)
    changes = {k: v for k, v in values.items() if k != key}
    uow.session.execute(insert.values(**values).on_conflict_do_update(index_elements=[key], set_=changes))


def _effective(name: str, row: CareRule | None) -> rules.RuleSettings:
    if row is None:
        return rules.DEFAULT_RULES[name]
    return rules.RuleSettings(name, row.enabled, row.channel, row.template, row.days)


def _rule_view(settings: rules.RuleSettings, row: CareRule | None) -> dict[str, Any]:
    span = rules.DAYS.get(settings.name)
    return {**asdict(settings), "trigger": rules.TRIGGERS[settings.name],
            "days_meaning": span.meaning if span else None, "customized": row is not None,
            "updated_at": row.updated_at if row else None, "updated_by": row.updated_by if row else None}


def rule_settings(uow: UnitOfWork) -> dict[str, rules.RuleSettings]:
    """Every rule as it runs now: its row, or its defaults."""
    with uow.reading():
        rows = {r.name: r for r in uow.session.scalars(select(CareRule))}
        return {name: _effective(name, rows.get(name)) for name in rules.RULE_NAMES}


def rule(uow: UnitOfWork, name: str) -> rules.RuleSettings:
    rules.check_rule_name(name)
    with uow.reading():
        return _effective(name, uow.session.get(CareRule, name))


def list_rules(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow.reading():
        rows = {r.name: r for r in uow.session.scalars(select(CareRule))}
        return [_rule_view(_effective(name, rows.get(name)), rows.get(name)) for name in rules.RULE_NAMES]


def get_rule(uow: UnitOfWork, name: str) -> dict[str, Any]:
    rules.check_rule_name(name)
    with uow.reading():
        row = uow.session.get(CareRule, name)
        return _rule_view(_effective(name, row), row)


def put_rule(uow: UnitOfWork, name: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change a rule's settings (enabled, channel, template, days); what is not given stays. Audited."""
    rules.check_rule_name(name)
    with uow:
        before = _effective(name, uow.session.get(CareRule, name))
        after = rules.apply_changes(before, changes)
        _upsert(uow, CareRule, "name", {**asdict(after), "updated_at": uow.now(), "updated_by": uow.actor})
        uow.audit("care.rule_saved", "care_rule", name, asdict(before), asdict(after))
        view = _rule_view(after, uow.session.get(CareRule, name, populate_existing=True))
        uow.commit()
        return view


# -- the frequency cap policy -----------------------------------------------------------------------------
def policy(uow: UnitOfWork) -> rules.Policy:
    """The cap in force."""
    with uow.reading():
        row = uow.session.get(CarePolicy, 1)
        return rules.DEFAULT_POLICY if row is None else rules.Policy(row.max_messages, row.window_days)


def _policy_view(cap: rules.Policy, row: CarePolicy | None) -> dict[str, Any]:
    return {**asdict(cap), "customized": row is not None, "updated_at": row.updated_at if row else None,
            "updated_by": row.updated_by if row else None}


def get_policy(uow: UnitOfWork) -> dict[str, Any]:
    with uow.reading():
        return _policy_view(policy(uow), uow.session.get(CarePolicy, 1))


def put_policy(uow: UnitOfWork, *, max_messages: int | None = None, window_days: int | None = None
               ) -> dict[str, Any]:
    """Change the cap: at most `max_messages` per customer within `window_days`; what is not given stays."""
    with uow:
        before = policy(uow)
        after = rules.check_policy(rules.Policy(
            before.max_messages if max_messages is None else max_messages,
            before.window_days if window_days is None else window_days))
        _upsert(uow, CarePolicy, "id", {"id": 1, **asdict(after), "updated_at": uow.now(),
                                        "updated_by": uow.actor})
        uow.audit("care.policy_saved", "care_policy", 1, asdict(before), asdict(after))
        view = _policy_view(after, uow.session.get(CarePolicy, 1, populate_existing=True))
        uow.commit()
        return view


