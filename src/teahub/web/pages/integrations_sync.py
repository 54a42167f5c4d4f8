"""Outbound sync pages: the dead letters at `/integrations/dead-letters` (with replay of one or all, the same
service call as the API's replay) and the YAML mappings at `/integrations/mappings` with a preview (the same
code as `teahub sync preview`). Roles as the sync API: admins, integration users and managers look; admins and
integration users act."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from teahub.errors import DomainError, ValidationFailed
from teahub.sync import mappings
from teahub.sync import service as sync
from teahub.sync.delivery import load_target
from teahub.sync.routes import LOOK, MANAGE
from teahub.web.pages.integrations import after_action, blank
from teahub.web.rendering import render
from teahub.web.session import PagePrincipal, PageUow

router = APIRouter()
Text = Annotated[str, Form(max_length=mappings.MAX_TEXT)]

# What a record looks like to a mapping (as teahub shows an order or a customer), to start a preview from.
SAMPLES: dict[str, dict[str, Any]] = {
    "order": {
        "id": 1042, "number": "BJ01-20261111-0042", "channel": "store", "status": "paid", "store": "BJ01",
        "placed_at": "2026-11-11T02:30:00+00:00", "customer_id": 17, "total": 37600, "note": "",
        "external_id": None,
        "lines": [{"line_no": 1, "sku": "LJ-MQ26-250", "name": "西湖龙井 明前 250g", "unit": "piece",
                   "quantity": 1, "unit_price": 68800, "amount": 68800, "discount": 6000, "net_amount": 62800}],
    },
    "customer": {
        "id": 17, "name": "王芳", "kind": "person", "status": "active", "phone": "13800001234",
        "phone_masked": "138****1234", "email": "wangfang@example.com", "address": "北京市朝阳区",
        "note": "喜欢龙井", "company_name": None,
    },
}


# -- dead letters ---------------------------------------------------------------------------------------
def _letter_state(letter: dict[str, Any]) -> str:
    if letter["resolved_at"] is not None:
        return "resolved"
    if letter["replayed_at"] is not None and letter["replayed_at"] >= letter["failed_at"]:
        return "waiting"
    return "dead"


def _letters(uow: PageUow, target: str | None, resolved: bool) -> dict[str, Any]:
    letters = sync.list_dead_letters(uow, target, include_resolved=resolved, limit=500)
    for letter in letters:
        letter["state"] = _letter_state(letter)
        letter["event_json"] = json.dumps(letter["event"], ensure_ascii=False, indent=2, default=str)
    return {"letters": letters, "target": target, "resolved": resolved,
            "waiting": any(letter["state"] == "waiting" for letter in letters)}


def _letters_fragment(request: Request, principal: PagePrincipal, uow: PageUow, target: str | None,
                      resolved: bool, **extra: Any) -> Response:
    return render(request, "integrations/_dead_letters.html", principal, can_replay=principal.has_role(*MANAGE),
                  **_letters(uow, target, resolved), **extra)


@router.get("/integrations/dead-letters", response_class=HTMLResponse)
def dead_letters(request: Request, principal: PagePrincipal, uow: PageUow, target: str | None = None,
                 resolved: bool = False) -> Response:
    principal.require_role(*LOOK)
    return render(request, "integrations/dead_letters.html", principal, page_title="Dead letters",
                  tab="dead-letters", targets=sync.list_targets(uow), can_replay=principal.has_role(*MANAGE),
                  **_letters(uow, blank(target), resolved))


@router.get("/integrations/dead-letters/table", response_class=HTMLResponse)
def dead_letters_table(request: Request, principal: PagePrincipal, uow: PageUow, target: str | None = None,
                       resolved: bool = False) -> Response:
    """The list alone (it refreshes itself while replayed letters wait for their delivery)."""
    principal.require_role(*LOOK)
    return _letters_fragment(request, principal, uow, blank(target), resolved)


@router.post("/integrations/dead-letters/replay", response_class=HTMLResponse)
def replay_all(request: Request, principal: PagePrincipal, uow: PageUow, target: str | None = None,
               resolved: bool = False) -> Response:
    """Queue every unresolved dead letter (of the target filtered on, or all) for delivery again."""
    principal.require_role(*MANAGE)
    answer = sync.replay_dead_letters(uow, target=blank(target))
    return after_action(request, "/integrations/dead-letters", lambda: _letters_fragment(
        request, principal, uow, blank(target), resolved, replayed=answer))


@router.post("/integrations/dead-letters/{dead_letter_id}/replay", response_class=HTMLResponse)
def replay_one(request: Request, dead_letter_id: int, principal: PagePrincipal, uow: PageUow,
               target: str | None = None, resolved: bool = False) -> Response:
    principal.require_role(*MANAGE)
    answer = sync.replay_dead_letters(uow, dead_letter_id)
    return after_action(request, "/integrations/dead-letters", lambda: _letters_fragment(
        request, principal, uow, blank(target), resolved, replayed=answer))


# -- mappings and their preview -------------------------------------------------------------------------
def _source(name: str) -> dict[str, Any]:
    mapping = mappings.resolve(name) if name in mappings.shipped() else None
    if mapping is None:
        raise ValidationFailed(f"no mapping {name!r} (shipped: {', '.join(mappings.shipped())})", field="name")
    sample = json.dumps(SAMPLES[mapping.record], ensure_ascii=False, indent=2)
    return {"chosen": mapping.name, "mapping_text": mapping.text, "sample_text": sample}


@router.get("/integrations/mappings", response_class=HTMLResponse)
def mappings_page(request: Request, principal: PagePrincipal, uow: PageUow, name: str | None = None) -> Response:
    principal.require_role(*LOOK)
    listing = mappings.listing()
    texts = {m["name"]: mappings.resolve(m["name"]).text for m in listing}
    can_preview = principal.has_role(*MANAGE)
    return render(request, "integrations/mappings.html", principal, page_title="Mappings", tab="mappings",
                  listing=listing, texts=texts, can_preview=can_preview,
                  targets=sync.list_targets(uow) if can_preview else [],
                  **_source(name or listing[0]["name"]) if listing else {})


@router.get("/integrations/mappings/source", response_class=HTMLResponse)
def mapping_source(request: Request, principal: PagePrincipal, name: str) -> Response:
    """The editors filled with a shipped mapping's YAML and a sample record of its kind."""
    principal.require_role(*MANAGE)
    return render(request, "integrations/_mapping_source.html", principal, **_source(name))


def _json_object(text: str | None, field: str) -> dict[str, Any] | None:
    text = blank(text)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValidationFailed(f"not valid JSON: {exc}", field=field) from None
    if not isinstance(value, dict):
        raise ValidationFailed("give one JSON object {…}", field=field)
    return value


@router.post("/integrations/mappings/preview", response_class=HTMLResponse)
def preview(request: Request, principal: PagePrincipal, uow: PageUow, mapping: Text, sample: Text = "",
            record_id: Annotated[str, Form(max_length=20)] = "", lookups: Text = "",
            target: Annotated[str, Form(max_length=63)] = "", name: Annotated[str, Form(max_length=100)] = ""
            ) -> Response:
    """The document the mapping makes of the sample (or a stored record), or what is wrong: the same call as
    `teahub sync preview`, nothing sent."""
    principal.require_role(*MANAGE)
    try:
        loaded = mappings.load_text(mapping, blank(name) or "mapping")
        data = _json_object(sample, "sample")
        stored = blank(record_id)
        if stored is not None and not stored.isdigit():
            raise ValidationFailed("a record id is a number", field="record_id")
        tables = _json_object(lookups, "lookups")
        options: dict[str, Any] = {}
        if blank(target) is not None:
            found = [t for t in sync.list_targets(uow) if t["name"] == target.strip()]
            if not found:
                raise ValidationFailed(f"no sync target {target!r}", field="target")
            loaded_target = load_target(uow, found[0]["id"])
            options = dict(loaded_target.config.options) if loaded_target else {}
        tables = {**(options.get("lookups") or {}), **(tables or {})}
        result = mappings.preview(uow, loaded, sample=data if stored is None else None,
                                  record_id=int(stored) if stored is not None else None, lookups=tables,
                                  options=options)
    except DomainError as exc:  # what is wrong with the mapping or the record is the answer here
        return render(request, "integrations/_preview.html", principal,
                      error={"title": exc.title, "detail": exc.detail, "field": exc.field, **exc.extra})
    document = json.dumps(result["document"], ensure_ascii=False, indent=2, default=str)
    return render(request, "integrations/_preview.html", principal, result=result, document=document)
