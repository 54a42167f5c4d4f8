"""The background runner's model: scheduled jobs (once per slot) and event subscriptions (once per event).

Capabilities register in their `tasks.py`:

    from teahub.scheduling import Daily, Every, register_job, subscribe
"""

from teahub.scheduling.cadence import AnyOf, Cadence, Daily, Every
from teahub.scheduling.registry import (
    Job,
    Registry,
    Subscription,
    default_registry,
    load_tasks,
    register_job,
    subscribe,
)

__all__ = ["AnyOf", "Cadence", "Daily", "Every", "Job", "Registry", "Subscription", "default_registry",
           "load_tasks", "register_job", "subscribe"]
