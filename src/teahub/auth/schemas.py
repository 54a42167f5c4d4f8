from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    role: Literal["admin", "manager", "clerk", "integration"]
    stores: list[str] = Field(default_factory=list)
    password: str | None = Field(default=None, min_length=8, max_length=256)


class UserPatch(BaseModel):
    """What an admin changes of a user; what is left out stays."""

    role: Literal["admin", "manager", "clerk", "integration"] | None = None
    stores: list[Annotated[str, Field(min_length=1, max_length=32)]] | None = Field(default=None, max_length=100)
    active: bool | None = None


class UserOut(BaseModel):
    id: int
    username: str
    role: str
    stores: list[str]
    active: bool
    created_at: str


class LoginOut(BaseModel):
    token: str
    user: UserOut


class TokenIn(BaseModel):
    name: str | None = Field(default=None, max_length=64)


class TokenOut(BaseModel):
    token: str


class AuditOut(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: dict | None  # type: ignore[type-arg]
    after: dict | None  # type: ignore[type-arg]
