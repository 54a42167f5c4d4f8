"""Customer merges: merge one customer into another, reverse a merge exactly, list a customer's merges.

Other capabilities and the routes reach these through `teahub.customers.service`, which re-exports them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update

from teahub.crm.aftersales import service as aftersales
from teahub.customers import events, rules
from teahub.customers.models import Customer, CustomerContact, CustomerIdentity, CustomerMerge
from teahub.customers.records import customer_view, load_customer, refreshed_view, touch
from teahub.customers.rules import masked_view
from teahub.db.uow import UnitOfWork
from teahub.errors import Conflict, NotFound
from teahub.loyalty import service as loyalty


def merge_view(m: CustomerMerge) -> dict[str, Any]:
    return {
        "id": m.id,
        "target_id": m.target_id,
        "source_id": m.source_id,
        "merged_at": m.merged_at.isoformat(),
        "merged_by": m.merged_by,
        "moved": m.moved,
        "reversed_at": m.reversed_at.isoformat() if m.reversed_at else None,
        "reversed_by": m.reversed_by,
    }


def _lock_pair(uow: UnitOfWork, target_id: int, source_id: int,
               fields: tuple[str, str] = ("id", "source_id")) -> tuple[Customer, Customer]:
    """Both customers, locked in id order (no deadlock between two merges of the same pair)."""
    locked = {}
    for customer_id in sorted((target_id, source_id)):
        field = fields[0] if customer_id == target_id else fields[1]
        locked[customer_id] = load_customer(uow, customer_id, field=field, lock=True)
    return locked[target_id], locked[source_id]


def _moved_counts(moved: dict[str, Any]) -> events.MovedCounts:
    return events.MovedCounts(identities=len(moved["identity_ids"]), contacts=len(moved["contact_ids"]),
                              orders=len(moved["order_ids"]))


def merge_customers(uow: UnitOfWork, target_id: int, source_id: int) -> dict[str, Any]:
    """Merge the source customer into the target: its identities, contacts and orders move to the target,
    and it is kept with status "merged". Answers the target plus `merge_id` (to reverse it)."""
    from teahub.sales import service as sales_service

    if target_id == source_id:
        raise Conflict("a customer cannot be merged into itself", field="source_id")
    with uow:
        target, source = _lock_pair(uow, target_id, source_id)
        for customer, field in ((target, "id"), (source, "source_id")):
            if customer.merged_into_id is not None:
                raise Conflict(f"customer {customer.id} was already merged into customer "
                               f"{customer.merged_into_id}", field=field)
        before_target, before_source = customer_view(target), customer_view(source)
        identity_ids = [i.id for i in source.identities]
        contact_ids = [ct.id for ct in source.contacts]
        if identity_ids:
            uow.session.execute(update(CustomerIdentity).where(CustomerIdentity.id.in_(identity_ids))
                                .values(customer_id=target.id))
        if contact_ids:
            uow.session.execute(update(CustomerContact).where(CustomerContact.id.in_(contact_ids))
                                .values(customer_id=target.id))
        order_ids = sales_service.reassign_orders(uow, source.id, target.id)
        ticket_ids = aftersales.reassign_tickets(uow, source.id, target.id)
        points = loyalty.move_points(uow, source.id, target.id, f"merge:{source.id}:{source.version}")
        tier_before = target.tier
        target.tier = rules.higher_tier(target.tier, source.tier, lambda code: loyalty.tier_rank(uow, code))
        source.status, source.merged_into_id = "merged", target.id
        touch(uow, target)
        touch(uow, source)
        moved = {"identity_ids": identity_ids, "contact_ids": contact_ids, "order_ids": sorted(order_ids),
                 "ticket_ids": sorted(ticket_ids), "points": points,
                 "target_tier": {"before": tier_before, "after": target.tier}}
        merge = CustomerMerge(source_id=source.id, target_id=target.id, merged_at=uow.now(),
                              merged_by=uow.actor, moved=moved)
        uow.session.add(merge)
        after_target, after_source = refreshed_view(uow, target), refreshed_view(uow, source)
        payload = events.CustomerMerged(target_id=target.id, source_id=source.id, merge_id=merge.id,
                                        moved=_moved_counts(moved))
        uow.record_event(events.CUSTOMER_MERGED, events.AGGREGATE, target.id, payload.model_dump(mode="json"),
                         version=target.version)
        uow.audit("customer.merged", "customer", target.id, masked_view(before_target), masked_view(after_target))
        uow.audit("customer.merged", "customer", source.id, masked_view(before_source), masked_view(after_source))
        uow.commit()
        return {**after_target, "merge_id": merge.id}


def reverse_merge(uow: UnitOfWork, merge_id: int) -> dict[str, Any]:
    """Undo a merge exactly: what it moved goes back to the source, which is active again. Identities,
    contacts and orders the target got afterwards stay with it."""
    from teahub.sales import service as sales_service

    with uow:
        merge = uow.session.get(CustomerMerge, merge_id, with_for_update=True)
        if merge is None:
            raise NotFound(f"no merge {merge_id}", field="merge_id")
        if merge.reversed_at is not None:
            raise Conflict(f"merge {merge_id} was already reversed", field="merge_id")
        target, source = _lock_pair(uow, merge.target_id, merge.source_id, ("merge_id", "merge_id"))
        if target.merged_into_id is not None:
            raise Conflict(f"customer {target.id} has since been merged into customer {target.merged_into_id}; "
                           "reverse that merge first", field="merge_id")
        before_target, before_source = customer_view(target), customer_view(source)
        moved = merge.moved
        if moved["identity_ids"]:
            uow.session.execute(update(CustomerIdentity).where(CustomerIdentity.id.in_(moved["identity_ids"]))
                                .values(customer_id=source.id))
        if moved["contact_ids"]:
            uow.session.execute(update(CustomerContact).where(CustomerContact.id.in_(moved["contact_ids"]),
                                                              CustomerContact.customer_id == target.id)
                                .values(customer_id=source.id))
        sales_service.move_orders(uow, moved["order_ids"], source.id)
        aftersales.move_tickets(uow, moved.get("ticket_ids", []), source.id)
        if moved.get("points"):
            loyalty.move_points(uow, target.id, source.id, f"unmerge:{merge.id}", points=moved["points"])
        tier = moved.get("target_tier") or {}
        if tier and target.tier == tier.get("after"):
            target.tier = tier.get("before")
        source.status, source.merged_into_id = "active", None
        touch(uow, target)
        touch(uow, source)
        merge.reversed_at, merge.reversed_by = uow.now(), uow.actor
        after_target, after_source = refreshed_view(uow, target), refreshed_view(uow, source)
        payload = events.CustomerUnmerged(target_id=target.id, source_id=source.id, merge_id=merge.id,
                                          moved=_moved_counts(moved))
        uow.record_event(events.CUSTOMER_UNMERGED, events.AGGREGATE, target.id,
                         payload.model_dump(mode="json"), version=target.version)
        uow.audit("customer.unmerged", "customer", target.id, masked_view(before_target), masked_view(after_target))
        uow.audit("customer.unmerged", "customer", source.id, masked_view(before_source), masked_view(after_source))
        view = {**merge_view(merge), "source": after_source, "target": after_target}
        uow.commit()
        return view


def list_merges(uow: UnitOfWork, customer_id: int, *, after_id: int = 0, limit: int = 50) -> list[dict[str, Any]]:
    """The merges a customer took part in, as target or source, oldest first."""
    with uow.reading():
        load_customer(uow, customer_id)
        rows = uow.session.scalars(
            select(CustomerMerge)
            .where(or_(CustomerMerge.target_id == customer_id, CustomerMerge.source_id == customer_id),
                   CustomerMerge.id > after_id)
            .order_by(CustomerMerge.id).limit(limit))
        return [merge_view(m) for m in rows]
