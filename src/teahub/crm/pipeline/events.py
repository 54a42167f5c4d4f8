"""Events the B2B pipeline emits. Aggregate ids are the record ids; the version is the record's version after
the change (activities are written once: version 1).

- `lead.created`, `lead.updated` {lead, changed[]}, `lead.status_changed` {lead, from, to},
  `lead.converted` {lead, customer_id, customer_created, opportunity_id}: `lead` is the lead as the API shows
  it, phone and email masked (they are sealed at rest).
- `opportunity.created` {opportunity}, `opportunity.updated` {opportunity, changed[]},
  `opportunity.stage_changed` {opportunity, from, to, probability} (+ quote_id, order_id when an accepted quote
  won it).
- `activity.logged` {activity}.
- `task.created` {task}, `task.updated` {task, changed[]}, `task.completed` {task}, `task.reopened` {task}.
- `quote.created` {quote}, `quote.revised` {quote} (a new negotiation round), `quote.sent` {quote},
  `quote.accepted` {quote, order_id, credit_approved_by}, `quote.rejected` {quote, reason},
  `quote.expired` {quote}: `quote` is {id, number, customer_id, opportunity_id, status, current_version,
  valid_until, total}.
"""

from __future__ import annotations

LEAD = "lead"
OPPORTUNITY = "opportunity"
ACTIVITY = "activity"
TASK = "task"
QUOTE = "quote"

LEAD_CREATED = "lead.created"
LEAD_UPDATED = "lead.updated"
LEAD_STATUS_CHANGED = "lead.status_changed"
LEAD_CONVERTED = "lead.converted"

OPPORTUNITY_CREATED = "opportunity.created"
OPPORTUNITY_UPDATED = "opportunity.updated"
OPPORTUNITY_STAGE_CHANGED = "opportunity.stage_changed"

ACTIVITY_LOGGED = "activity.logged"

TASK_CREATED = "task.created"
TASK_UPDATED = "task.updated"
TASK_COMPLETED = "task.completed"
TASK_REOPENED = "task.reopened"

QUOTE_CREATED = "quote.created"
QUOTE_REVISED = "quote.revised"
QUOTE_SENT = "quote.sent"
QUOTE_ACCEPTED = "quote.accepted"
QUOTE_REJECTED = "quote.rejected"
QUOTE_EXPIRED = "quote.expired"

EVENT_TYPES = (
    LEAD_CREATED, LEAD_UPDATED, LEAD_STATUS_CHANGED, LEAD_CONVERTED,
    OPPORTUNITY_CREATED, OPPORTUNITY_UPDATED, OPPORTUNITY_STAGE_CHANGED,
    ACTIVITY_LOGGED,
    TASK_CREATED, TASK_UPDATED, TASK_COMPLETED, TASK_REOPENED,
    QUOTE_CREATED, QUOTE_REVISED, QUOTE_SENT, QUOTE_ACCEPTED, QUOTE_REJECTED, QUOTE_EXPIRED,
)
