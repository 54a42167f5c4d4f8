"""Users, tokens, sessions and the audit log: the use cases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from teahub.auth.models import ROLES, ApiToken, AuditEntry, User, UserStore, WebSession
from teahub.auth.passwords import digest, hash_password, new_secret, verify_password
from teahub.auth.principal import Principal
from teahub.db.uow import UnitOfWork
from teahub.errors import Conflict, NotFound, Unauthorized, ValidationFailed


def _principal(user: User) -> Principal:
    return Principal(user.id, user.username, user.role, frozenset(s.location_code for s in user.stores))


def user_view(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "stores": sorted(s.location_code for s in user.stores),
        "active": user.active,
        "created_at": user.created_at.isoformat(),
    }


def _checked_access(role: str, stores: list[str] | None) -> list[str]:
    if role not in ROLES:
        raise ValidationFailed(f"role must be one of {', '.join(ROLES)}", field="role")
    stores = sorted(set(stores or []))
    if role in ("manager", "clerk") and not stores:
        raise ValidationFailed(f"a {role} needs at least one store", field="stores")
    return stores


def add_user(uow: UnitOfWork, username: str, role: str, stores: list[str] | None = None,
             password: str | None = None) -> dict[str, Any]:
    username = username.strip()
    if not username:
        raise ValidationFailed("a user needs a name", field="username")
    stores = _checked_access(role, stores)
    if password is not None and len(password) < 8:
        raise ValidationFailed("a password needs at least 8 characters", field="password")
    with uow:
        if uow.session.scalar(select(User.id).where(User.username == username)) is not None:
            raise Conflict(f"user {username} already exists", field="username")
        user = User(username=username, role=role, active=True,
                    password_hash=hash_password(password) if password else None,
                    stores=[UserStore(location_code=code) for code in stores])
        uow.session.add(user)
        uow.session.flush()
        view = user_view(user)
        uow.audit("user.created", "user", user.id, None, view)
        uow.commit()
        return view


def update_user(uow: UnitOfWork, username: str, *, role: str | None = None, stores: list[str] | None = None,
                active: bool | None = None) -> dict[str, Any]:
    """Change a user's role, store access or whether they may log in. A deactivated user's sessions and tokens
    stop working at once; the last active admin can be neither demoted nor deactivated (nobody could undo it)."""
    with uow:
        # The admins' rows are locked in one order first, so two admins demoting each other at once cannot both
        # pass the check below (nor deadlock).
        admins = uow.session.scalars(select(User.id).where(User.role == "admin", User.active)
                                     .order_by(User.id).with_for_update()).all()
        user = _get_user(uow, username, lock=True)
        before = user_view(user)
        new_role = role or user.role
        new_stores = _checked_access(new_role, stores if stores is not None else before["stores"])
        stays_admin = new_role == "admin" and (user.active if active is None else active)
        if user.id in admins and not stays_admin and len(admins) == 1:
            raise Conflict(f"{username} is the last active admin: make another admin first",
                           field="active" if active is False else "role")
        user.role = new_role
        if sorted(s.location_code for s in user.stores) != new_stores:
            user.stores = [UserStore(location_code=code) for code in new_stores]
        if active is not None:
            user.active = active
        if active is False:
            uow.session.execute(delete(WebSession).where(WebSession.user_id == user.id))
        uow.session.flush()
        view = user_view(user)
        if view != before:
            uow.audit("user.updated", "user", user.id, before, view)
        uow.commit()
        return view


def set_password(uow: UnitOfWork, username: str, password: str) -> None:
    if len(password) < 8:
        raise ValidationFailed("a password needs at least 8 characters", field="password")
    with uow:
        user = _get_user(uow, username)
        user.password_hash = hash_password(password)
        uow.audit("user.password_set", "user", user.id, None, None)
        uow.commit()


def list_users(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow.reading():
        return [user_view(u) for u in uow.session.scalars(select(User).order_by(User.id))]


def _get_user(uow: UnitOfWork, username: str, *, lock: bool = False) -> User:
    query = select(User).where(User.username == username)
    user = uow.session.scalar(query.with_for_update() if lock else query)
    if user is None:
        raise NotFound(f"no user {username}", field="username")
    return user


def create_token(uow: UnitOfWork, username: str, name: str | None = None) -> str:
    """A new API token for the user; only its hash is kept, so this is the one chance to see it."""
    token = new_secret("th")
    with uow:
        user = _get_user(uow, username)
        row = ApiToken(user_id=user.id, name=name or username, token_hash=digest(token), prefix=token[:10])
        uow.session.add(row)
        uow.session.flush()
        uow.audit("token.created", "api_token", row.id, None, {"user": username, "name": row.name,
                                                               "prefix": row.prefix})
        uow.commit()
    return token


def authenticate_token(uow: UnitOfWork, token: str) -> Principal:
    with uow.reading():
        user = uow.session.scalar(
            select(User).join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == digest(token), ApiToken.revoked_at.is_(None), User.active)
        )
        if user is None:
            raise Unauthorized("the token is not valid")
        return _principal(user)


def login(uow: UnitOfWork, username: str, password: str, hours: int) -> tuple[str, Principal]:
    """Check the password and open a web session; answers the session secret."""
    secret = new_secret("ths")
    with uow:
        user = uow.session.scalar(select(User).where(User.username == username, User.active))
        if user is None or not verify_password(user.password_hash, password):
            raise Unauthorized("wrong user name or password")
        now = uow.now()
        uow.session.add(WebSession(user_id=user.id, token_hash=digest(secret), created_at=now,
                                   expires_at=now + timedelta(hours=hours)))
        uow.audit("session.opened", "user", user.id, None, None)
        uow.commit()
        return secret, _principal(user)


def authenticate_session(uow: UnitOfWork, secret: str) -> Principal:
    with uow.reading():
        user = uow.session.scalar(
            select(User).join(WebSession, WebSession.user_id == User.id)
            .where(WebSession.token_hash == digest(secret), WebSession.expires_at > uow.now(), User.active)
        )
        if user is None:
            raise Unauthorized("the session has ended; log in again")
        return _principal(user)


def logout(uow: UnitOfWork, secret: str) -> None:
    with uow:
        row = uow.session.scalar(select(WebSession).where(WebSession.token_hash == digest(secret)))
        if row is not None:
            uow.session.delete(row)
            uow.commit()


def audit_entries(uow: UnitOfWork, *, entity_type: str | None = None, entity_id: str | None = None,
                  actor: str | None = None, action: str | None = None, after: int = 0, before: int | None = None,
                  newest_first: bool = False, limit: int = 50) -> list[dict[str, Any]]:
    """Audit entries by entity, actor or action: oldest first after entry `after` (the API's pages), or newest
    first before entry `before` (the admin page); ask for limit+1 to know that more exist."""
    with uow.reading():
        stmt = select(AuditEntry).where(AuditEntry.id > after)
        if before:
            stmt = stmt.where(AuditEntry.id < before)
        for column, value in ((AuditEntry.entity_type, entity_type), (AuditEntry.entity_id, entity_id),
                              (AuditEntry.actor, actor), (AuditEntry.action, action)):
            if value:
                stmt = stmt.where(column == value)
        order = AuditEntry.id.desc() if newest_first else AuditEntry.id
        rows = uow.session.scalars(stmt.order_by(order).limit(limit))
        return [
            {"id": r.id, "at": r.at.isoformat(), "actor": r.actor, "action": r.action,
             "entity_type": r.entity_type, "entity_id": r.entity_id, "before": r.before, "after": r.after}
            for r in rows
        ]
