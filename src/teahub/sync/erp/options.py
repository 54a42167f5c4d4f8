"""A target's connector options (an ERP's database, company, credentials' names, mappings and lookup tables),
checked before they are stored: a mapping named there must load and map the right kind of record."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from teahub.db.uow import UnitOfWork
from teahub.errors import NotFound, ValidationFailed
from teahub.sync.mappings import MappingError, resolve
from teahub.sync.models import SyncTarget

SCALARS = (str, int, float, bool)


def check_options(kind: str, options: dict[str, Any]) -> dict[str, Any]:
    mappings = options.get("mappings", {})
    if not isinstance(mappings, dict):
        raise ValidationFailed("mappings is an object {order: name, customer: name}", field="options.mappings")
    for record, name in mappings.items():
        if record not in ("order", "customer") or not isinstance(name, str):
            raise ValidationFailed("mappings maps order/customer to a mapping name or path",
                                   field=f"options.mappings.{record}")
        try:
            mapping = resolve(name)
        except MappingError as exc:
            raise ValidationFailed(exc.detail, field=f"options.mappings.{record}") from None
        if mapping.record != record or mapping.target != kind:
            raise ValidationFailed(f"mapping {name} maps {mapping.record}s for {mapping.target}, not {record}s for "
                                   f"{kind}", field=f"options.mappings.{record}")
    lookups = options.get("lookups", {})
    if not isinstance(lookups, dict):
        raise ValidationFailed("lookups is an object of tables", field="options.lookups")
    for table, rows in lookups.items():
        if not isinstance(rows, dict) or not all(isinstance(v, SCALARS) for v in rows.values()):
            raise ValidationFailed("a lookup table maps text to a text or number", field=f"options.lookups.{table}")
    return options


def set_options(uow: UnitOfWork, name: str, options: dict[str, Any]) -> dict[str, Any]:
    with uow:
        target = uow.session.scalar(select(SyncTarget).where(SyncTarget.name == name))
        if target is None:
            raise NotFound(f"no sync target {name!r}", field="name")
        check_options(target.kind, options)
        before = dict(target.options or {})
        target.options = dict(options)
        target.updated_at = uow.now()
        uow.audit("sync.target_options_changed", "sync_target", name, before={"options": before},
                  after={"options": options})
        result = {"name": target.name, "kind": target.kind, "options": dict(options)}
        uow.commit()
    return result
