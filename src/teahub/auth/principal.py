"""Who is acting, and for which stores."""

from __future__ import annotations

from dataclasses import dataclass, field

from teahub.errors import Forbidden

# Roles that act for every location.
ALL_LOCATIONS_ROLES = frozenset({"admin", "integration"})
# Roles that see customers' personal data in clear (phone, email, address, birthday); the rest see it masked.
PERSONAL_DATA_ROLES = frozenset({"admin", "manager", "integration"})


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    role: str
    stores: frozenset[str] = field(default_factory=frozenset)

    @property
    def actor(self) -> str:
        return f"user:{self.username}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def sees_personal_data(self) -> bool:
        return self.role in PERSONAL_DATA_ROLES

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def require_role(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(f"this needs one of the roles {', '.join(roles)}; you are {self.role}")

    def can_act_for(self, location_code: str) -> bool:
        return self.role in ALL_LOCATIONS_ROLES or location_code in self.stores

    def require_store(self, location_code: str, field: str = "location") -> None:
        if not self.can_act_for(location_code):
            raise Forbidden(f"you may not act for location {location_code}", field=field)

    @property
    def store_scope(self) -> frozenset[str] | None:
        """The locations this principal is limited to, or None for all."""
        return None if self.role in ALL_LOCATIONS_ROLES else self.stores


SYSTEM = Principal(user_id=0, username="system", role="admin")
