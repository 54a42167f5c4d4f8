"""Pulling: each shop's orders fetched by modified time from the platform's order API, window by window from a
saved checkpoint. Every order fetched goes through the inbox like any other message; the checkpoint moves on
only once a whole window is stored, so an outage never skips an order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx

from teahub.channels import inbox
from teahub.channels.client import PlatformClient
from teahub.channels.connectors import connector_for
from teahub.channels.models import PullCheckpoint
from teahub.channels.processing import process
from teahub.channels.shops import active_shop_codes, get_shop_info
from teahub.db.uow import UnitOfWork
from teahub.errors import DomainError, ValidationFailed

FIRST_LOOKBACK = timedelta(days=1)  # a new shop's first pull reaches back this far
OVERLAP = timedelta(minutes=3)  # platforms index modified orders late: each pull looks back a little
MAX_WINDOWS = 48  # per run, so a long outage catches up over several runs


def windows(since: datetime, until: datetime, size: timedelta) -> Iterator[tuple[datetime, datetime]]:
    start = since
    while start < until:
        end = min(start + size, until)
        yield start, end
        start = end


def pull_shop(uow: UnitOfWork, shop_code: str, *, since: datetime | None = None,
              http: httpx.Client | None = None) -> dict[str, Any]:
    """Fetch the shop's orders modified since its checkpoint (or `since`), store and process each."""
    if since is not None and since.tzinfo is None:
        raise ValidationFailed("give a time zone (UTC: ...Z)", field="since")
    shop = get_shop_info(uow, shop_code)
    connector = connector_for(shop.platform)
    now = uow.now()
    with uow.reading():
        checkpoint = uow.session.get(PullCheckpoint, shop.id)
        held = checkpoint.modified_through if checkpoint is not None else None
    start = since or (held - OVERLAP if held is not None else now - FIRST_LOOKBACK)
    api = PlatformClient(connector, shop, http, clock=uow.now)
    summary: dict[str, Any] = {"shop": shop.code, "since": start, "until": start, "fetched": 0, "processed": 0,
                               "failed": 0, "error": None}
    for i, (begin, end) in enumerate(windows(start, now, connector.max_window)):
        if i >= MAX_WINDOWS:
            break
        try:
            refs = {ref.external_id: ref for ref in connector.list_modified(api, begin, end)}
            for external_id in refs:
                document = connector.fetch_order(api, external_id)
                body = json.dumps(document, ensure_ascii=False, default=str).encode()
                inbox_id, _new = inbox.store(uow, shop, source="pull", kind="order",
                                             payload=body.decode(), dedupe_key=inbox.document_key(body),
                                             external_id=external_id)
                outcome = process(uow, inbox_id)
                summary["fetched"] += 1
                summary["processed" if outcome.state == "processed" else "failed"] += 1
        except DomainError as exc:
            summary["error"] = exc.detail
            break
        _save(uow, shop.id, end, summary["fetched"], None)
        summary["until"] = end
    if summary["error"] is not None:
        _save(uow, shop.id, None, summary["fetched"], summary["error"])
    return summary


def _save(uow: UnitOfWork, shop_id: int, through: datetime | None, count: int, error: str | None) -> None:
    with uow:
        checkpoint = uow.session.get(PullCheckpoint, shop_id, with_for_update=True)
        if checkpoint is None:
            if through is None:
                return
            checkpoint = PullCheckpoint(shop_id=shop_id, modified_through=through, last_count=0)
            uow.session.add(checkpoint)
        if through is not None and through > checkpoint.modified_through:
            checkpoint.modified_through = through
        checkpoint.last_run_at = uow.now()
        checkpoint.last_count = count
        checkpoint.last_error = error[:4000] if error else None
        uow.commit()


def pull_all(uow: UnitOfWork) -> dict[str, Any]:
    """The scheduled job: every active shop with pull on, one after another; one shop's failure stops no other."""
    results = {}
    for code in active_shop_codes(uow):
        try:
            summary = pull_shop(uow, code)
        except DomainError as exc:
            summary = {"error": exc.detail}
        results[code] = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in summary.items()
                         if k != "shop"}
    return {"shops": results}
