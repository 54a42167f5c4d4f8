"""The B2B pipeline's entry point for the rest of teahub: leads, opportunities and the board, activities and
tasks, quotes and their acceptance. The use cases live in the modules named below."""

from __future__ import annotations

from teahub.crm.pipeline.accepting import accept_quote, expire_quotes
from teahub.crm.pipeline.activities import (
    create_task,
    get_task,
    list_activities,
    list_tasks,
    log_activity,
    update_task,
)
from teahub.crm.pipeline.leads import convert_lead, create_lead, get_lead, list_leads, update_lead
from teahub.crm.pipeline.leads import shown_to as lead_shown_to
from teahub.crm.pipeline.opportunities import (
    create_opportunity,
    get_opportunity,
    list_opportunities,
    pipeline_board,
    update_opportunity,
)
from teahub.crm.pipeline.quotes import (
    create_quote,
    get_quote,
    list_quotes,
    list_versions,
    reject_quote,
    revise_quote,
    send_quote,
)

__all__ = [
    "accept_quote", "convert_lead", "create_lead", "create_opportunity", "create_quote", "create_task",
    "expire_quotes", "get_lead", "get_opportunity", "get_quote", "get_task", "lead_shown_to", "list_activities",
    "list_leads",
    "list_opportunities", "list_quotes", "list_tasks", "list_versions", "log_activity", "pipeline_board",
    "reject_quote", "revise_quote", "send_quote", "update_lead", "update_opportunity", "update_task",
]
