"""Locations: warehouses, stores, in transit. Their code and kind never change once made."""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from teahub.db.uow import UnitOfWork
from teahub.errors import Conflict, NotFound, ValidationFailed
from teahub.inventory.events import LOCATION_CREATED
from teahub.inventory.models import Location
from teahub.inventory.schemas import LocationIn


@dataclass(frozen=True)
class LocationInfo:
    id: int
    code: str
    name: str
    kind: str


def _location_view(loc: Location) -> dict[str, Any]:
    return {"id": loc.id, "code": loc.code, "name": loc.name, "kind": loc.kind, "address": loc.address,
            "active": loc.active}


def create_location(uow: UnitOfWork, data: LocationIn) -> dict[str, Any]:
    with uow:
        if uow.session.scalar(select(Location.id).where(Location.code == data.code)) is not None:
            raise Conflict(f"location {data.code} already exists", field="code")
        loc = Location(code=data.code, name=data.name, kind=data.kind, address=data.address, active=True,
                       created_at=uow.now())
        uow.session.add(loc)
        uow.session.flush()
        view = _location_view(loc)
        uow.record_event(LOCATION_CREATED, "location", loc.code, view)
        uow.audit("location.created", "location", loc.id, None, view)
        uow.commit()
        return view


def list_locations(uow: UnitOfWork, *, kind: str | None = None, codes: frozenset[str] | None = None
                   ) -> list[dict[str, Any]]:
    with uow.reading():
        stmt = select(Location).order_by(Location.code)
        if kind:
            stmt = stmt.where(Location.kind == kind)
        if codes is not None:
            stmt = stmt.where(Location.code.in_(codes))
        return [_location_view(loc) for loc in uow.session.scalars(stmt)]


# Locations are never deleted and their code and kind never change, so each process remembers them.
_known_locations: weakref.WeakKeyDictionary[Any, dict[str | int, LocationInfo]] = weakref.WeakKeyDictionary()


def _remembered(uow: UnitOfWork) -> dict[str | int, LocationInfo]:
    return _known_locations.setdefault(uow.session.get_bind(), {})


def get_location(uow: UnitOfWork, code: str, field: str = "location") -> LocationInfo:
    with uow.reading():
        known = _remembered(uow)
        if code in known:
            return known[code]
        loc = uow.session.execute(
            select(Location.id, Location.code, Location.name, Location.kind).where(Location.code == code)
        ).first()
        if loc is None:
            raise NotFound(f"no location {code}", field=field)
        info = known[loc.code] = known[loc.id] = LocationInfo(loc.id, loc.code, loc.name, loc.kind)
        return info


def get_location_by_id(uow: UnitOfWork, location_id: int) -> LocationInfo:
    with uow.reading():
        known = _remembered(uow)
        if location_id in known:
            return known[location_id]
        loc = uow.session.get(Location, location_id)
        if loc is None:
            raise NotFound(f"no location {location_id}")
        info = known[loc.code] = known[loc.id] = LocationInfo(loc.id, loc.code, loc.name, loc.kind)
        return info


def location_codes(uow: UnitOfWork, ids: Iterable[int]) -> dict[int, str]:
    return {location_id: get_location_by_id(uow, location_id).code for location_id in set(ids)}


def default_warehouse(uow: UnitOfWork) -> LocationInfo:
    """Where orders of online channels ship from when they name no location: the first warehouse."""
    with uow.reading():
        loc = uow.session.scalar(select(Location).where(Location.kind == "warehouse", Location.active)
                                 .order_by(Location.id).limit(1))
        if loc is None:
            raise ValidationFailed("there is no warehouse: name the location", field="location")
        return LocationInfo(loc.id, loc.code, loc.name, loc.kind)


