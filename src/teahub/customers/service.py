"""Customer use cases: find-or-create by identity, resolve for orders, search, update; merge and unmerge.

The entry point other capabilities and the routes call. Merges live in `teahub.customers.merges` and the
helpers both share in `teahub.customers.records`; their public functions are re-exported here.

The unique constraint on (identity kind, value) is what decides who owns an identity: inserts happen in a
savepoint, and a loser of a race reads the winner instead of creating a second customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError

from teahub.customers import events, rules
from teahub.customers.merges import list_merges, merge_customers, merge_view, reverse_merge
from teahub.customers.models import Customer, CustomerContact, CustomerIdentity, identity_hash, last4_hash
from teahub.customers.records import customer_view, load_customer, refreshed_view, touch
from teahub.customers.schemas import ContactIn, CustomerIn, CustomerPatch, CustomerRef, IdentityIn
from teahub.db.uow import UnitOfWork
from teahub.errors import Conflict, DomainError, NotFound, ValidationFailed

__all__ = [
    "MAX_MERGE_CHAIN",
    "CustomerInfo",
    "Pair",
    "create_customer",
    "customer_view",
    "find_customers",
    "get_customer",
    "get_customer_info",
    "list_customers",
    "list_merges",
    "lock_customer",
    "merge_customers",
    "merge_view",
    "resolve_customer",
    "resolve_customers",
    "reverse_merge",
    "update_customer",
]

Pair = tuple[str, str]  # (identity kind, normalized value)
MAX_MERGE_CHAIN = 32
_CREATE_ATTEMPTS = 3
_EARLIEST_BIRTHDAY = date(1900, 1, 1)


@dataclass(frozen=True)
class CustomerInfo:
    """What sales needs to price and bill an order."""

    id: int
    name: str
    kind: str
    tier: str | None
    credit_limit: int | None
    payment_terms: str | None


@dataclass(frozen=True)
class _NewCustomer:
    name: str
    kind: str
    tier: str | None
    identities: tuple[Pair, ...]
    fields: dict[str, Any]
    contacts: tuple[dict[str, Any], ...]


# -- input preparation (validation before any write) ----------------------------------------------
def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _text(value: str | None) -> str | None:
    return None if _blank(value) else value.strip()  # type: ignore[union-attr]


def _identity_pairs(phone: str | None, email: str | None, identities: list[IdentityIn],
                    prefix: str = "", list_field: str = "identities") -> tuple[Pair, ...]:
    """Normalized identities, strongest first (phone, email, then the list in its order), no repeats."""
    pairs: list[Pair] = []
    if not _blank(phone):
        pairs.append(("phone", rules.normalize_phone(phone or "", field=f"{prefix}phone")))
    if not _blank(email):
        pairs.append(("email", rules.normalize_email(email or "", field=f"{prefix}email")))
    for n, ident in enumerate(identities):
        at = f"{prefix}{list_field}.{n}"
        pairs.append((ident.kind, rules.normalize_identity(ident.kind, ident.value, field=f"{at}.value",
                                                           kind_field=f"{at}.kind")))
    return tuple(dict.fromkeys(pairs))


def _contacts(contacts: list[ContactIn], prefix: str = "") -> tuple[dict[str, Any], ...]:
    out = []
    seen: set[int] = set()
    for n, ct in enumerate(contacts):
        at = f"{prefix}contacts.{n}"
        if ct.id is not None:
            if ct.id in seen:
                raise ValidationFailed(f"contact {ct.id} is given twice", field=f"{at}.id")
            seen.add(ct.id)
        name = rules.normalize_name(ct.name, field=f"{at}.name")
        if not name:
            raise ValidationFailed("a contact needs a name", field=f"{at}.name")
        out.append({
            "id": ct.id,
            "name": name,
            "title": _text(ct.title),
            "phone": None if _blank(ct.phone) else rules.normalize_phone(ct.phone or "", mobile_only=False,
                                                                         field=f"{at}.phone"),
            "email": None if _blank(ct.email) else rules.normalize_email(ct.email or "", field=f"{at}.email"),
        })
    return tuple(out)


def _birthday(value: date | None, today: date, field: str = "birthday") -> date | None:
    if value is not None and not _EARLIEST_BIRTHDAY <= value <= today:
        raise ValidationFailed("a birthday must be a past date after 1900", field=field)
    return value


def _prepare_new(data: CustomerIn, today: date, prefix: str = "") -> _NewCustomer:
    name = rules.normalize_name(data.name, field=f"{prefix}name")
    pairs = _identity_pairs(data.phone, data.email, data.identities, prefix)
    company_name = _text(data.company_name)
    if data.kind == "company":
        company_name = company_name or name or None
        if company_name is None:
            raise ValidationFailed("a company customer needs a company name", field=f"{prefix}company_name")
        name = name or company_name
    if not name and not pairs:
        raise ValidationFailed("a customer needs a name or an identity (phone, email, ...)",
                               field=f"{prefix}name")
    tier = data.tier if "tier" in data.model_fields_set else rules.default_tier(
        any(kind == "phone" for kind, _ in pairs))
    fields = {
        "birthday": _birthday(data.birthday, today, f"{prefix}birthday"),
        "home_store": _text(data.home_store),
        "address": _text(data.address),
        "note": _text(data.note),
        "company_name": company_name,
        "credit_limit": data.credit_limit,
        "payment_terms": rules.normalize_payment_terms(data.payment_terms, field=f"{prefix}payment_terms"),
    }
    return _NewCustomer(name, data.kind, tier, pairs, fields, _contacts(data.contacts, prefix))


# -- lookups --------------------------------------------------------------------------------------
def _match(pairs: tuple[Pair, ...] | list[Pair]) -> ColumnElement[bool]:
    return CustomerIdentity.value_hash.in_([identity_hash(k, v) for k, v in pairs])


def _owners(uow: UnitOfWork, pairs: tuple[Pair, ...] | list[Pair]) -> dict[Pair, int]:
    """Which customer holds each of these identities (those held by nobody are absent)."""
    if not pairs:
        return {}
    rows = uow.session.execute(
        select(CustomerIdentity.kind, CustomerIdentity.value, CustomerIdentity.customer_id).where(_match(pairs)))
    return {(kind, value): owner for kind, value, owner in rows}


def _survivor(uow: UnitOfWork, customer_id: int, *, field: str = "id", lock: bool = False) -> Customer:
    """The customer itself, or the one it was merged into (following a chain of merges)."""
    customer = load_customer(uow, customer_id, field=field, lock=lock)
    for _ in range(MAX_MERGE_CHAIN):
        if customer.merged_into_id is None:
            return customer
        customer = load_customer(uow, customer.merged_into_id, field=field, lock=lock)
    raise Conflict(f"customer {customer_id} is in a merge chain that does not end", field=field)


_INFO_COLUMNS = (Customer.id, Customer.name, Customer.kind, Customer.tier, Customer.credit_limit,
                 Customer.payment_terms, Customer.merged_into_id)


def _info(row: Any) -> CustomerInfo:
    return CustomerInfo(row.id, row.name, row.kind, row.tier, row.credit_limit, row.payment_terms)


def _info_by_id(uow: UnitOfWork, customer_id: int, field: str) -> CustomerInfo:
    """One query (plus one per merge followed), without loading identities or contacts."""
    for _ in range(MAX_MERGE_CHAIN):
        row = uow.session.execute(select(*_INFO_COLUMNS).where(Customer.id == customer_id)).first()
        if row is None:
            raise NotFound(f"no customer {customer_id}", field=field)
        if row.merged_into_id is None:
            return _info(row)
        customer_id = row.merged_into_id
    raise Conflict(f"customer {customer_id} is in a merge chain that does not end", field=field)


# -- writes shared by the use cases -------------------------------------------------------------
def _identity_row(customer_id: int | None, kind: str, value: str, uow: UnitOfWork) -> CustomerIdentity:
    row = CustomerIdentity(kind=kind, value=value, created_at=uow.now())
    if customer_id is not None:
        row.customer_id = customer_id
    return row



def _record_update(uow: UnitOfWork, customer: Customer, before: dict[str, Any], changed: list[str]) -> dict[str, Any]:
    after = refreshed_view(uow, customer)
    kept = rules.masked_view(after)
    payload = events.CustomerUpdated(customer_id=customer.id, changed=changed, customer=kept)
    uow.record_event(events.CUSTOMER_UPDATED, events.AGGREGATE, customer.id, payload.model_dump(mode="json"),
                     version=customer.version)
    uow.audit("customer.updated", "customer", customer.id, rules.masked_view(before), kept)
    return after


def _attach_free(uow: UnitOfWork, owner_id: int, free: list[Pair]) -> Customer:
    """Give the owner (or its survivor) the identities nobody holds; one taken meanwhile by someone else
    stays theirs. The customer is locked first when something may be attached."""
    customer = _survivor(uow, owner_id, lock=bool(free))
    if not free:
        return customer
    before = customer_view(customer)
    added: list[Pair] = []
    for kind, value in free:
        try:
            with uow.session.begin_nested():
                uow.session.add(_identity_row(customer.id, kind, value, uow))
                uow.session.flush()
            added.append((kind, value))
        except IntegrityError:
            continue
    if added:
        changed = ["identities"]
        if customer.tier is None and any(kind == "phone" for kind, _ in added):
            customer.tier = rules.default_tier(True)
            changed.append("tier")
        touch(uow, customer)
        _record_update(uow, customer, before, changed)
    return customer


def _customer_row(uow: UnitOfWork, new: _NewCustomer, identities: tuple[Pair, ...] | list[Pair]) -> Customer:
    now = uow.now()
    return Customer(
        name=new.name, kind=new.kind, tier=new.tier, status="active", version=1, created_at=now, updated_at=now,
        **new.fields, identities=[_identity_row(None, kind, value, uow) for kind, value in identities],
        contacts=[CustomerContact(**{k: v for k, v in ct.items() if k != "id"}) for ct in new.contacts],
    )


def _record_created(uow: UnitOfWork, customer: Customer) -> None:
    """The created customer's event and audit entry: masked views only (erasure leaves no clear copy)."""
    kept = rules.masked_view(customer_view(customer))
    payload = events.CustomerCreated(customer_id=customer.id, customer=kept)
    uow.record_event(events.CUSTOMER_CREATED, events.AGGREGATE, customer.id, payload.model_dump(mode="json"),
                     version=customer.version)
    uow.audit("customer.created", "customer", customer.id, None, kept)


def _find_or_create(uow: UnitOfWork, new: _NewCustomer) -> tuple[Customer, bool]:
    for _ in range(_CREATE_ATTEMPTS):
        owners = _owners(uow, new.identities)
        owner = next((owners[p] for p in new.identities if p in owners), None)
        if owner is not None:
            return _attach_free(uow, owner, [p for p in new.identities if p not in owners]), False
        customer = _customer_row(uow, new, new.identities)
        try:
            with uow.session.begin_nested():
                uow.session.add(customer)
                uow.session.flush()
        except IntegrityError:
            if not new.identities:
                raise
            continue  # another transaction took one of the identities first: answer its customer
        _record_created(uow, customer)
        return customer, True
    raise Conflict("the customer's identities kept changing while creating it; try again", field="identities")


# -- use cases ------------------------------------------------------------------------------------
def _check_tier(uow: UnitOfWork, tier: str | None, field: str = "tier") -> None:
    from teahub.loyalty import service as loyalty

    if tier is not None and not loyalty.tier_exists(uow, tier):
        raise ValidationFailed(f"there is no member tier {tier}", field=field)


def create_customer(uow: UnitOfWork, data: CustomerIn) -> tuple[dict[str, Any], bool]:
    """Create a customer, or answer the one already holding one of the identities given (created=False),
    attaching to it the given identities nobody holds yet."""
    new = _prepare_new(data, uow.now().date())
    with uow:
        if "tier" in data.model_fields_set:
            _check_tier(uow, data.tier)
        customer, created = _find_or_create(uow, new)
        view = refreshed_view(uow, customer)
        uow.commit()
        return view, created


def _parse_ref(ref: Any) -> CustomerRef:
    if not isinstance(ref, dict):
        raise ValidationFailed("customer must be an object with an id or identities", field="customer")
    try:
        return CustomerRef.model_validate(ref)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(p) for p in error["loc"])
        raise ValidationFailed(error["msg"], field=f"customer.{loc}" if loc else "customer") from None


def find_customers(uow: UnitOfWork, refs: list[dict[str, Any]]) -> list[CustomerInfo | None]:
    """For many orders at once (a batch from the marketplaces): each ref's customer when all its identities are
    known, as `resolve_customer` answers it, in one query; None for the others (resolve those one by one: they
    make new customers, or tell why the ref is wrong)."""
    wanted: list[tuple[Pair, ...] | None] = []
    for ref in refs:
        try:
            parsed = _parse_ref(ref)
            pairs = _identity_pairs(parsed.phone, parsed.email, parsed.identities, "customer.") \
                if parsed.id is None else ()
        except DomainError:
            pairs = ()
        wanted.append(pairs or None)
    every = list(dict.fromkeys(p for pairs in wanted if pairs for p in pairs))
    if not every:
        return [None] * len(refs)
    with uow:
        rows = uow.session.execute(
            select(CustomerIdentity.kind.label("identity_kind"), CustomerIdentity.value.label("identity_value"),
                   *_INFO_COLUMNS)
            .join(Customer, Customer.id == CustomerIdentity.customer_id).where(_match(every))
        ).all()
        found = {(r.identity_kind, r.identity_value): r for r in rows}
        answers: list[CustomerInfo | None] = []
        for pairs in wanted:
            if not pairs or any(p not in found for p in pairs):
                answers.append(None)
                continue
            first = found[pairs[0]]
            answers.append(_info(first) if first.merged_into_id is None else _info_by_id(uow, first.id, "customer"))
        return answers


def resolve_customers(uow: UnitOfWork, refs: list[dict[str, Any]]) -> list[CustomerInfo | DomainError]:
    """`resolve_customer` for many refs at once (a batch from the marketplaces): known customers found in one
    query, new ones made together (refs sharing an identity make one customer, as one after the other would).
    Answers per ref its customer or why the ref is wrong."""
    answers: list[CustomerInfo | DomainError | None] = list(find_customers(uow, refs))
    with uow:
        news: dict[int, _NewCustomer] = {}
        for i, ref in enumerate(refs):
            if answers[i] is None:
                try:
                    parsed = _parse_ref(ref)
                    if parsed.id is not None:
                        answers[i] = _info_by_id(uow, parsed.id, "customer.id")
                        continue
                    data = CustomerIn(name=parsed.name, phone=parsed.phone, email=parsed.email,
                                      identities=parsed.identities)
                    news[i] = _prepare_new(data, uow.now().date(), "customer.")
                except DomainError as exc:
                    answers[i] = exc
        owners = _owners(uow, [p for new in news.values() for p in new.identities])
        made: dict[Pair, Customer] = {}
        created: list[Customer] = []
        for new in news.values():
            if not new.identities or any(p in owners for p in new.identities):
                continue  # one by one below: a customer to attach identities to, or none to find it by
            customer = next((made[p] for p in new.identities if p in made), None)
            if customer is None:
                customer = _customer_row(uow, new, [])
                created.append(customer)
            for pair in new.identities:  # a later ref of the same buyer adds what it knows more
                if pair not in made:
                    made[pair] = customer
                    customer.identities.append(_identity_row(None, *pair, uow))
        try:
            with uow.session.begin_nested():
                uow.session.add_all(created)
                uow.flush()
        except IntegrityError:
            made, created = {}, []  # another transaction took an identity first: one by one instead
        for customer in created:
            _record_created(uow, customer)
        for i, new in news.items():
            customer = next((made[p] for p in new.identities if p in made), None)
            if customer is not None:
                answers[i] = _info(customer)
            else:
                try:
                    answers[i] = resolve_customer(uow, refs[i])
                except DomainError as exc:
                    answers[i] = exc
        uow.commit()
    done = [answer for answer in answers if answer is not None]
    assert len(done) == len(refs), "every ref is answered"
    return done


def resolve_customer(uow: UnitOfWork, ref: dict[str, Any]) -> CustomerInfo:
    """The customer an order refers to: by `id` (the survivor when it was merged), else by its identities
    (phone, email, identities), creating the customer when none matches. Errors name `customer.<field>`.
    One query when the customer is found."""
    parsed = _parse_ref(ref)
    with uow:
        if parsed.id is not None:
            return _info_by_id(uow, parsed.id, "customer.id")
        pairs = _identity_pairs(parsed.phone, parsed.email, parsed.identities, "customer.")
        if not pairs:
            raise ValidationFailed("give the customer's id or an identity (phone, email, ...)", field="customer")
        rows = uow.session.execute(
            select(CustomerIdentity.kind.label("identity_kind"), CustomerIdentity.value.label("identity_value"),
                   *_INFO_COLUMNS)
            .join(Customer, Customer.id == CustomerIdentity.customer_id).where(_match(pairs))
        ).all()
        found = {(r.identity_kind, r.identity_value): r for r in rows}
        if len(found) == len(pairs):
            first = found[pairs[0]]
            return _info(first) if first.merged_into_id is None else _info_by_id(uow, first.id, "customer")
        data = CustomerIn(name=parsed.name, phone=parsed.phone, email=parsed.email,
                          identities=parsed.identities)
        customer, _created = _find_or_create(uow, _prepare_new(data, uow.now().date(), "customer."))
        info = _info(customer)
        uow.commit()
        return info


def get_customer(uow: UnitOfWork, customer_id: int) -> dict[str, Any]:
    """The customer as it is (a merged one is answered with status "merged" and `merged_into`)."""
    with uow.reading():
        return customer_view(load_customer(uow, customer_id))


def shown_to(view: dict[str, Any], sees_personal_data: bool) -> dict[str, Any]:
    """A customer's view as the caller may see it: whole, or with personal data masked."""
    return view if sees_personal_data else rules.masked_view(view)


def get_customer_info(uow: UnitOfWork, customer_id: int) -> CustomerInfo:
    """What sales needs of a customer; for a merged customer, the survivor's."""
    with uow.reading():
        return _info_by_id(uow, customer_id, "id")


def lock_customer(uow: UnitOfWork, customer_id: int) -> None:
    """Hold the customer's row until the caller's transaction ends (FOR UPDATE on PostgreSQL; SQLite
    serializes writers already), so that concurrent checks of one customer (e.g. credit) run in turn."""
    with uow:
        locked = uow.session.execute(
            select(Customer.id).where(Customer.id == customer_id).with_for_update()).first()
        if locked is None:
            raise NotFound(f"no customer {customer_id}", field="customer.id")


def set_tier(uow: UnitOfWork, customer_id: int, tier: str | None) -> None:
    """Loyalty moves a member between tiers (from their spend)."""
    with uow:
        customer = load_customer(uow, customer_id, lock=True)
        if customer.tier != tier:
            before = customer_view(customer)
            customer.tier = tier
            touch(uow, customer)
            _record_update(uow, customer, before, ["tier"])
        uow.commit()


def member_ids(uow: UnitOfWork) -> list[int]:
    """Active customers who belong to the membership (have a tier)."""
    with uow.reading():
        return list(uow.session.scalars(select(Customer.id).where(Customer.tier.is_not(None),
                                                                  Customer.merged_into_id.is_(None))
                                        .order_by(Customer.id)))


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _holding(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return Customer.id.in_(select(CustomerIdentity.customer_id).where(condition))


def list_customers(uow: UnitOfWork, *, q: str | None = None, kind: str | None = None,
                   identity: str | None = None, after_id: int = 0, limit: int = 50,
                   include_merged: bool = False) -> list[dict[str, Any]]:
    """Customers by id. `q`: four digits match the end of a phone (indexed), a phone number matches
    exactly, anything else matches the name or company name (contains, any case) or an email exactly, and
    letters alone also the start of the name's pinyin initials ("zsf" finds 张三丰).
    `identity` is "kind:value" (e.g. "taobao:tb_buyer"). Merged customers are left out unless asked."""
    stmt = select(Customer).where(Customer.id > after_id)
    if not include_merged:
        stmt = stmt.where(Customer.merged_into_id.is_(None))
    if kind is not None:
        if kind not in ("person", "company"):
            raise ValidationFailed("kind is person or company", field="kind")
        stmt = stmt.where(Customer.kind == kind)
    if identity is not None:
        id_kind, sep, id_value = identity.partition(":")
        if not sep:
            raise ValidationFailed("identity is kind:value, e.g. phone:13812345678", field="identity")
        id_value = rules.normalize_identity(id_kind.strip(), id_value, field="identity", kind_field="identity")
        stmt = stmt.where(_holding(CustomerIdentity.value_hash == identity_hash(id_kind.strip(), id_value)))
    if q is not None and q.strip():
        how, term = rules.classify_query(q)
        if how == "last4":
            stmt = stmt.where(_holding(CustomerIdentity.last4_hash == last4_hash(term)))
        elif how == "phone":
            stmt = stmt.where(_holding(CustomerIdentity.value_hash == identity_hash("phone", term)))
        else:
            pattern = f"%{_escape_like(term)}%"
            conditions: list[ColumnElement[bool]] = [Customer.name.ilike(pattern, escape="\\"),
                          Customer.company_name.ilike(pattern, escape="\\")]
            if "@" in term:
                conditions.append(_holding(CustomerIdentity.value_hash == identity_hash("email", term.lower())))
            if term.isascii() and term.isalpha():  # pinyin initials: "zsf" finds 张三丰
                conditions.append(Customer.name_initials.like(f"{term.lower()}%"))
            stmt = stmt.where(or_(*conditions))
    with uow.reading():
        return [customer_view(c) for c in uow.session.scalars(stmt.order_by(Customer.id).limit(limit))]


def _prepare_patch(patch: CustomerPatch, today: date) -> dict[str, Any]:
    sent = patch.model_fields_set
    values: dict[str, Any] = {}
    if "name" in sent:
        name = rules.normalize_name(patch.name)
        if not name:
            raise ValidationFailed("a name cannot be blank", field="name")
        values["name"] = name
    if "kind" in sent:
        if patch.kind is None:
            raise ValidationFailed("kind is person or company", field="kind")
        values["kind"] = patch.kind
    if "tier" in sent:
        values["tier"] = patch.tier
    if "birthday" in sent:
        values["birthday"] = _birthday(patch.birthday, today)
    for name in ("home_store", "address", "note", "company_name"):
        if name in sent:
            values[name] = _text(getattr(patch, name))
    if "credit_limit" in sent:
        values["credit_limit"] = patch.credit_limit
    if "payment_terms" in sent:
        values["payment_terms"] = rules.normalize_payment_terms(patch.payment_terms)
    return values


def _replace_contacts(uow: UnitOfWork, customer: Customer, contacts: tuple[dict[str, Any], ...]) -> bool:
    existing = {ct.id: ct for ct in customer.contacts}
    kept: set[int] = set()
    changed = False
    for spec in contacts:
        fields = {k: v for k, v in spec.items() if k != "id"}
        if spec["id"] is None:
            uow.session.add(CustomerContact(customer_id=customer.id, **fields))
            changed = True
            continue
        contact = existing[spec["id"]]
        kept.add(contact.id)
        for name, value in fields.items():
            if getattr(contact, name) != value:
                setattr(contact, name, value)
                changed = True
    for contact_id, contact in existing.items():
        if contact_id not in kept:
            uow.session.delete(contact)
            changed = True
    return changed


def update_customer(uow: UnitOfWork, customer_id: int, patch: CustomerPatch) -> dict[str, Any]:
    """Change the fields given. Identities in `add_identities` must be free or already this customer's
    (409 `identities` otherwise); `contacts` replaces the list (give a contact's `id` to keep it)."""
    values = _prepare_patch(patch, uow.now().date())
    pairs = _identity_pairs(None, None, patch.add_identities, list_field="add_identities")
    contacts = _contacts(patch.contacts or []) if "contacts" in patch.model_fields_set else None
    with uow:
        if "tier" in values:
            _check_tier(uow, values["tier"])
        customer = load_customer(uow, customer_id, lock=True)
        if customer.merged_into_id is not None:
            raise Conflict(f"customer {customer_id} was merged into customer {customer.merged_into_id}",
                           field="id", merged_into=customer.merged_into_id)
        if patch.version is not None and patch.version != customer.version:
            raise Conflict(f"customer {customer_id} is at version {customer.version}, not {patch.version}",
                           field="version")
        known = {ct.id for ct in customer.contacts}
        for n, ct in enumerate(contacts or ()):
            if ct["id"] is not None and ct["id"] not in known:
                raise ValidationFailed(f"customer {customer_id} has no contact {ct['id']}",
                                       field=f"contacts.{n}.id")
        owners = _owners(uow, pairs)
        for kind, value in pairs:
            owner = owners.get((kind, value), customer.id)
            if owner != customer.id:
                raise Conflict(f"{kind} {value} belongs to customer {owner}", field="identities",
                               customer_id=owner)
        kind = values.get("kind", customer.kind)
        if kind == "company" and not values.get("company_name", customer.company_name):
            values["company_name"] = values.get("name", customer.name) or None
            if values["company_name"] is None:
                raise ValidationFailed("a company customer needs a company name", field="company_name")

        before = customer_view(customer)
        changed = [name for name, value in values.items() if getattr(customer, name) != value]
        for name in changed:
            setattr(customer, name, values[name])
        new_pairs = [p for p in pairs if p not in owners]
        for kind, value in new_pairs:
            try:
                with uow.session.begin_nested():
                    uow.session.add(_identity_row(customer.id, kind, value, uow))
                    uow.session.flush()
            except IntegrityError:
                raise Conflict(f"{kind} {value} was just taken by another customer", field="identities") from None
        if new_pairs:
            changed.append("identities")
            if customer.tier is None and "tier" not in values and any(k == "phone" for k, _ in new_pairs):
                customer.tier = rules.default_tier(True)
                changed.append("tier")
        if contacts is not None and _replace_contacts(uow, customer, contacts):
            changed.append("contacts")
        if not changed:
            return before
        touch(uow, customer)
        after = _record_update(uow, customer, before, changed)
        uow.commit()
        return after
