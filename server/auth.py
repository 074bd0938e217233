"""API keys with roles. A key is shown once, when it is created (`hotich keys create --role ROLE`), and only
its SHA-256 is stored; requests present it in the `X-API-Key` header (or as `Authorization: Bearer KEY`).

Roles rank: reader (results, exports, templates, metrics) < operator (also submits pages and books) < admin
(also manages keys)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotich.server.storage import ApiKey, now

__all__ = ["ROLES", "create_key", "find_key", "has_role", "revoke_key"]

ROLES = ("reader", "operator", "admin")
KEY_PREFIX = "htk_"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, role: str, name: str = "") -> tuple[ApiKey, str]:
    """A new key with `role`: its record and the key itself (to show once)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKey(prefix=key[:10], key_hash=_hash(key), role=role, name=name)
    session.add(record)
    session.commit()
    return record, key


def find_key(session: Session, key: str) -> ApiKey | None:
    """The live (not revoked) key record for `key`, or None."""
    record = session.scalar(select(ApiKey).where(ApiKey.key_hash == _hash(key)))
    return record if record is not None and record.revoked_at is None else None


def revoke_key(session: Session, key_id: int) -> bool:
    record = session.get(ApiKey, key_id)
    if record is None or record.revoked_at is not None:
        return False
    record.revoked_at = now()
    session.commit()
    return True


def has_role(record: ApiKey, role: str) -> bool:
    """Does the key's role rank at least `role`?"""
    return ROLES.index(record.role) >= ROLES.index(role)
