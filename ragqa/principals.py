"""Who is asking: the principal an API key stands for — its name, role and groups."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from ragqa.config import Settings
from ragqa.types import ROLES, Role


@dataclass(frozen=True, slots=True)
class Principal:
    name: str | None  # None: the implicit admin of a server without keys (loopback only)
    role: Role
    groups: frozenset[str] = frozenset()
    collections: frozenset[str] | None = None  # None: every collection

    def may_use(self, collection: str) -> bool:
        return self.collections is None or collection in self.collections

    def may(self, role: Role) -> bool:
        """Whether this principal holds ``role`` or a stronger one (read < write < admin)."""
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def visible_groups(self) -> frozenset[str] | None:
        """The groups whose documents it may see, with the public ones; ``None``: everything (admin)."""
        return None if self.role == "admin" else self.groups


LOCAL_ADMIN = Principal(None, "admin")


def hash_key(key: str) -> str:
    """What ``RAGQA_API_KEYS`` / ``RAGQA_API_KEY_HASHES`` store for a key."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def principal_for(key: str, settings: Settings) -> Principal | None:
    """The principal of ``key``, or ``None`` when it matches no configured key (compared in constant time)."""
    digest = hash_key(key)
    found: Principal | None = None
    for entry in settings.api_keys:
        if hmac.compare_digest(digest, entry.hash):
            limited = frozenset(entry.collections) if entry.collections is not None else None
            found = Principal(entry.name, entry.role, frozenset(entry.groups), limited)
    for admin in settings.api_key_hashes:
        if hmac.compare_digest(digest, admin):
            found = found or Principal("admin", "admin")
    return found
