"""Care's entry point for the rest of teahub (routes, CLI, tasks, campaigns): the outgoing customer message
queue, the care rules' settings and frequency cap, and the rules' triggers. The use cases live in the modules
named below.

Campaigns call `queue_message(uow, customer_id, channel=..., template=..., params=..., source="campaign:<id>",
dedupe_key="campaign:<id>:<customer_id>")` and get the same consent, reachability, cap and dedupe guarantees.
"""

from __future__ import annotations

from teahub.crm.care.messages import get_message, list_messages, message_view, queue_message, record_delivery
from teahub.crm.care.settings import get_policy, get_rule, list_rules, policy, put_policy, put_rule, rule, rule_settings
from teahub.crm.care.triggers import run_daily, survey_closed_ticket, thank_for_order

__all__ = [
    "get_message", "get_policy", "get_rule", "list_messages", "list_rules", "message_view", "policy", "put_policy",
    "put_rule", "queue_message", "record_delivery", "rule", "rule_settings", "run_daily", "survey_closed_ticket",
    "thank_for_order",
]
