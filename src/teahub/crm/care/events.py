"""The events care emits (aggregate type "customer_message", aggregate id the message id, version 1: a message
is written once here; its delivery is recorded by the integration hub).

- `customer_message.queued`: MessageQueued. No personal data: no phone, name or openid; the delivery side looks
  the customer up by id when it sends, so an erasure in between is respected.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

AGGREGATE = "customer_message"

MESSAGE_QUEUED = "customer_message.queued"

EVENT_TYPES = (MESSAGE_QUEUED,)


class MessageQueued(BaseModel):
    message_id: int
    customer_id: int
    channel: str  # sms | wechat
    template: str  # template code
    params: dict[str, Any]  # the template's parameters (order number, tea name, ...), never personal data
    source: str  # care:thank_you, care:birthday, ..., campaign:<id>
