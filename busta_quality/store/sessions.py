"""``busta serve``'s sessions and shared keys (tables ``serve_sessions``, ``serve_keys``).

Only hashes of session ids are stored; the cookie's signature and the CSRF token come from a
key kept here, so every replica on the store accepts a session any of them created."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from busta_quality.models import as_utc
from busta_quality.store.db import Store
from busta_quality.store.tables import serve_keys, serve_sessions


def shared_key(store: Store, name: str, now: datetime) -> str:
    """The secret named ``name`` (hex, 256 bits), made by the first replica that asks."""
    q = sa.select(serve_keys.c.secret).where(serve_keys.c.name == name)
    with store.begin() as conn:
        found = conn.execute(q).scalar()
    if found is not None:
        return str(found)
    try:
        with store.begin() as conn:
            conn.execute(
                serve_keys.insert().values(name=name, secret=secrets.token_hex(32), created_at=now)
            )
    except Exception as exc:  # another replica made it first: read theirs
        if not isinstance(exc.__cause__, IntegrityError) and not isinstance(exc, IntegrityError):
            raise
    with store.begin() as conn:
        return str(conn.execute(q).scalar_one())


@dataclass(frozen=True)
class SessionRow:
    id: int
    token_name: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime


def create_session(
    store: Store,
    session_hash: str,
    token_name: str,
    scopes: tuple[str, ...],
    now: datetime,
    expires_at: datetime,
) -> int:
    with store.begin() as conn:
        key = conn.execute(
            serve_sessions.insert().values(
                session_hash=session_hash,
                token_name=token_name,
                scopes=",".join(scopes),
                created_at=now,
                expires_at=expires_at,
            )
        ).inserted_primary_key
    assert key is not None
    return int(key[0])


def find_session(store: Store, session_hash: str, now: datetime) -> SessionRow | None:
    """The live session with that id hash (None when unknown, ended or expired)."""
    q = sa.select(serve_sessions).where(
        (serve_sessions.c.session_hash == session_hash) & serve_sessions.c.ended_at.is_(None)
    )
    with store.begin() as conn:
        row = conn.execute(q).first()
    if row is None or as_utc(row.expires_at) <= now:
        return None
    return SessionRow(
        id=int(row.id),
        token_name=str(row.token_name),
        scopes=tuple(s for s in str(row.scopes).split(",") if s),
        created_at=as_utc(row.created_at),
        expires_at=as_utc(row.expires_at),
    )


def end_session(store: Store, session_hash: str, now: datetime) -> bool:
    with store.begin() as conn:
        done = conn.execute(
            serve_sessions.update()
            .where(
                (serve_sessions.c.session_hash == session_hash)
                & serve_sessions.c.ended_at.is_(None)
            )
            .values(ended_at=now)
        )
    return bool(done.rowcount)


def purge_sessions(store: Store, now: datetime) -> int:
    """Delete expired and ended sessions; how many."""
    with store.begin() as conn:
        done = conn.execute(
            serve_sessions.delete().where(
                (serve_sessions.c.expires_at <= now) | serve_sessions.c.ended_at.is_not(None)
            )
        )
    return int(done.rowcount or 0)
