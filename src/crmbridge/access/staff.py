"""Staff accounts and their bearer tokens. A token is stored only as its SHA-256; every request
looks its staff member up again, so a revocation takes effect on the very next request."""

from __future__ import annotations

import getpass
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from ..store.schema import staff, staff_tokens
from ..store.writer import as_utc
from .roles import Role, role

TOKEN_PREFIX = "crb_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
LOCAL_ADMIN_PREFIX = "local:"


class StaffError(ValueError):
    """Bad staff input (unknown member, duplicate, bad name, unknown role)."""


@dataclass(frozen=True)
class Actor:
    """Who is reading: a staff member (or the local IT admin) through one surface."""

    name: str
    role: Role
    surface: str  # cli, api


def local_admin(surface: str = "cli") -> Actor:
    """Whoever runs the CLI on the server holds the key file, and so could read the database
    directly anyway; without `--as` they act as `local:<os user>` with the `admin` role:
    profiles masked, never unmasked, every read audited under that name."""
    return Actor(LOCAL_ADMIN_PREFIX + getpass.getuser(), role("admin"), surface)


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def add(conn: Connection, name: str, role_name: str, now: datetime) -> None:
    role(role_name)  # raises UnknownRole
    if not _NAME.match(name) or name.startswith(LOCAL_ADMIN_PREFIX):
        raise StaffError(f"{name!r} is not a usable staff name (letters, digits, . _ @ -; up to 64)")
    if conn.execute(select(staff.c.name).where(staff.c.name == name)).first():
        raise StaffError(f"staff member {name!r} exists already")
    conn.execute(insert(staff), {"name": name, "role": role_name, "created_at": now})


def listing(conn: Connection) -> list[dict[str, object]]:
    rows = conn.execute(select(staff).order_by(staff.c.name)).all()
    return [
        {
            "name": r.name,
            "role": r.role,
            "created_at": as_utc(r.created_at).isoformat(),
            "revoked_at": as_utc(r.revoked_at).isoformat() if r.revoked_at else None,
            "active": r.revoked_at is None,
        }
        for r in rows
    ]


def _active(conn: Connection, name: str) -> str:
    r = conn.execute(select(staff.c.role, staff.c.revoked_at).where(staff.c.name == name)).first()
    if r is None:
        raise StaffError(f"no staff member named {name!r}")
    if r.revoked_at is not None:
        raise StaffError(f"staff member {name!r} was revoked")
    return r.role


def revoke(conn: Connection, name: str, now: datetime) -> int:
    """Revoke the member and every token of theirs; returns the number of tokens revoked."""
    _active(conn, name)
    conn.execute(update(staff).where(staff.c.name == name).values(revoked_at=now))
    return conn.execute(
        update(staff_tokens)
        .where(staff_tokens.c.staff_name == name, staff_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount


def issue_token(conn: Connection, name: str, now: datetime) -> str:
    _active(conn, name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(insert(staff_tokens), {"token_hash": _hash(token), "staff_name": name, "created_at": now})
    return token


def actor_by_name(conn: Connection, name: str, surface: str) -> Actor:
    return Actor(name, role(_active(conn, name)), surface)


def authenticate(conn: Connection, token: str) -> Actor | None:
    """The staff member a bearer token belongs to, or None (unknown, revoked, member revoked)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    r = conn.execute(
        select(staff.c.name, staff.c.role)
        .join(staff_tokens, staff_tokens.c.staff_name == staff.c.name)
        .where(
            staff_tokens.c.token_hash == _hash(token),
            staff_tokens.c.revoked_at.is_(None),
            staff.c.revoked_at.is_(None),
        )
    ).first()
    return Actor(r.name, role(r.role), "api") if r else None
