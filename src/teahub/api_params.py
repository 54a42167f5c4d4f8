"""Parameter types shared by the routers, so every id and page size is bounded the same way."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from teahub.pagination import MAX_LIMIT

# Ids are 64-bit in the database; anything larger cannot name a record.
MAX_ID = 2**63 - 1

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
