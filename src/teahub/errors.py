"""Domain errors. Rules and services raise these; api.py turns them into RFC 9457 problems.

No HTTP here: each error says what kind of failure it is, and the API maps kinds to status codes.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    kind = "invalid"  # invalid | not_found | conflict | forbidden | unauthorized
    title = "Invalid request"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra


class ValidationFailed(DomainError):
    kind = "invalid"
    title = "Invalid input"


class NotFound(DomainError):
    kind = "not_found"
    title = "Not found"


class Conflict(DomainError):
    kind = "conflict"
    title = "Conflict"


class InsufficientStock(Conflict):
    title = "Not enough stock"


class InvalidTransition(Conflict):
    title = "Transition not allowed"


class CreditLimitExceeded(Conflict):
    title = "Over credit limit"


class Forbidden(DomainError):
    kind = "forbidden"
    title = "Forbidden"


class Unauthorized(DomainError):
    kind = "unauthorized"
    title = "Not authenticated"
