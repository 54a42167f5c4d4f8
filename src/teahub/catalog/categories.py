"""Catalog categories: the default tree, listing and creating categories, and the tree helpers the
product use cases share. Reached from outside the catalog through `teahub.catalog.service`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from teahub.catalog import events
from teahub.catalog.models import Category
from teahub.catalog.schemas import CategoryIn
from teahub.db.uow import UnitOfWork
from teahub.errors import Conflict, ValidationFailed

# code, name, name_en, parent code, ages (None: as the parent; no ancestor says: False)
DEFAULT_CATEGORIES: tuple[tuple[str, str, str, str | None, bool | None], ...] = (
    ("green", "绿茶", "Green tea", None, False),
    ("yellow", "黄茶", "Yellow tea", None, False),
    ("white", "白茶", "White tea", None, True),
    ("oolong", "乌龙茶", "Oolong tea", None, False),
    ("black", "红茶", "Black tea", None, False),
    ("dark", "黑茶", "Dark tea", None, True),
    ("puerh", "普洱", "Pu-erh", None, True),
    ("puerh_raw", "生普", "Raw pu-erh", "puerh", None),
    ("puerh_ripe", "熟普", "Ripe pu-erh", "puerh", None),
    ("scented", "花茶", "Scented tea", None, False),
    ("herbal", "代用茶", "Herbal tea", None, False),
    ("teaware", "茶具", "Teaware", None, None),
    ("giftbox", "礼盒", "Gift boxes", None, None),
    ("other", "其他", "Other goods", None, None),
)
# Categories nest at most this deep, so that a product's `ages` is found in one query.
MAX_CATEGORY_DEPTH = 3


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def ensure_default_categories(uow: UnitOfWork) -> None:
    """Add the default category tree where it is missing (idempotent, safe to run concurrently).
    Reference data: no events are recorded for it."""
    with uow:
        session = uow.session
        ids: dict[str, int] = {code: id_ for code, id_ in session.execute(select(Category.code, Category.id))}
        for code, name, name_en, parent, ages in DEFAULT_CATEGORIES:
            if code in ids:
                continue
            session.execute(
                _insert(session)(Category)
                .values(code=code, name=name, name_en=name_en, parent_id=ids.get(parent) if parent else None,
                        ages=ages)
                .on_conflict_do_nothing(index_elements=["code"])
            )
            ids[code] = session.execute(select(Category.id).where(Category.code == code)).scalar_one()
        uow.commit()


def category_tree(session: Session) -> dict[int, Category]:
    """Every category by id, in creation order."""
    return {c.id: c for c in session.scalars(select(Category).order_by(Category.id))}


def _effective_ages(tree: Mapping[int, Category], category_id: int) -> bool:
    node: Category | None = tree.get(category_id)
    while node is not None:
        if node.ages is not None:
            return node.ages
        node = tree.get(node.parent_id) if node.parent_id is not None else None
    return False


def _depth(tree: Mapping[int, Category], category_id: int) -> int:
    depth, node = 0, tree.get(category_id)
    while node is not None:
        depth += 1
        node = tree.get(node.parent_id) if node.parent_id is not None else None
    return depth


def _category_view(tree: Mapping[int, Category], c: Category) -> dict[str, Any]:
    parent = tree.get(c.parent_id) if c.parent_id is not None else None
    return {"id": c.id, "code": c.code, "name": c.name, "name_en": c.name_en,
            "parent": parent.code if parent else None, "ages": _effective_ages(tree, c.id), "ages_own": c.ages}


def list_categories(uow: UnitOfWork, *, after_id: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
    """Every category as a flat list in creation order, each with its parent's code."""
    with uow.reading():
        tree = category_tree(uow.session)
        views = [_category_view(tree, c) for c in tree.values() if c.id > after_id]
        return views if limit is None else views[:limit]


def create_category(uow: UnitOfWork, data: CategoryIn) -> dict[str, Any]:
    with uow:
        session = uow.session
        tree = category_tree(session)
        by_code = {c.code: c for c in tree.values()}
        parent = None
        if data.parent is not None:
            parent = by_code.get(data.parent)
            if parent is None:
                raise ValidationFailed(f"no category {data.parent}", field="parent")
            if _depth(tree, parent.id) >= MAX_CATEGORY_DEPTH:
                raise ValidationFailed(f"categories nest at most {MAX_CATEGORY_DEPTH} levels deep",
                                       field="parent")
        if data.code in by_code:
            raise Conflict(f"category {data.code} already exists", field="code")
        category = Category(code=data.code, name=data.name, name_en=data.name_en,
                            parent_id=parent.id if parent else None, ages=data.ages)
        session.add(category)
        flush_unique(session, f"category {data.code} already exists", "code")
        tree[category.id] = category
        view = _category_view(tree, category)
        uow.record_event(events.CATEGORY_CREATED, events.AGGREGATE_CATEGORY, category.id, view)
        uow.audit(events.CATEGORY_CREATED, "category", category.id, None, view)
        uow.commit()
        return view


def descendants(tree: Mapping[int, Category], root_id: int) -> set[int]:
    """The ids of this category and of every category below it."""
    children: dict[int, list[int]] = {}
    for c in tree.values():
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c.id)
    found, todo = set(), [root_id]
    while todo:
        node = todo.pop()
        if node not in found:
            found.add(node)
            todo.extend(children.get(node, ()))
    return found


def flush_unique(session: Session, message: str, field: str) -> None:
    """Flush, answering Conflict(message) when a unique key is already taken."""
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent writer took the same key first
        raise Conflict(message, field=field) from exc
