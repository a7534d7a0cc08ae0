"""Who is asking: API tokens (``Authorization: Bearer``), dashboard sessions (a signed cookie
stored in the store) and CSRF protection for cookie-authenticated writes (docs/api.md).

Tokens are compared by their SHA-256 against every configured hash in constant time;
a token is never accepted from a URL."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from busta_quality.models import utcnow
from busta_quality.settings import BustaConfig
from busta_quality.settings.serve import token_hash
from busta_quality.store import Store
from busta_quality.store import sessions as session_store

Scope = Literal["read", "write", "ingest"]
CSRF_HEADER = "X-CSRF-Token"


class AuthError(Exception):
    """401 (no or a wrong credential) or 403 (not allowed: scope, CSRF, a path)."""

    def __init__(self, status: int, code: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Principal:
    """Who acts: a token's name (recorded as the actor of what it does) and its scopes."""

    name: str
    scopes: tuple[str, ...]
    #: ``token`` (a bearer token), ``session`` (the cookie), ``public`` (public reads)
    via: str
    #: the session's id (for CSRF and logout); None otherwise
    session_id: str | None = None


def match_token(cfg: BustaConfig, presented: str) -> Principal | None:
    """The configured token ``presented`` is, compared with every hash (no early exit)."""
    digest = token_hash(presented)
    found: Principal | None = None
    for tok in cfg.serve.tokens:
        if hmac.compare_digest(digest, tok.sha256):
            found = Principal(tok.name, tuple(tok.scopes), "token")
    return found


class Sessions:
    """Signed session cookies whose state lives in the store (any replica accepts them)."""

    def __init__(self, cfg: BustaConfig, store: Store) -> None:
        self.cfg = cfg
        self.store = store
        self._key = session_store.shared_key(store, "session", utcnow()).encode()

    def _sign(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def csrf_token(self, session_id: str) -> str:
        return self._sign("csrf:" + session_id)

    def create(self, who: Principal) -> tuple[str, str, str]:
        """A new session for ``who``: (cookie value, CSRF token, expiry ISO time)."""
        sid = secrets.token_urlsafe(32)
        now = utcnow()
        expires = now + timedelta(seconds=self.cfg.serve.session.ttl_s)
        session_store.create_session(
            self.store, token_hash(sid), who.name, who.scopes, now, expires
        )
        return f"{sid}.{self._sign(sid)}", self.csrf_token(sid), expires.isoformat()

    def _sid(self, cookie: str) -> str | None:
        sid, _, sig = cookie.partition(".")
        if not sid or not sig or not hmac.compare_digest(self._sign(sid), sig):
            return None
        return sid

    def principal(self, cookie: str) -> Principal | None:
        sid = self._sid(cookie)
        if sid is None:
            return None
        row = session_store.find_session(self.store, token_hash(sid), utcnow())
        if row is None:
            return None
        return Principal(row.token_name, row.scopes, "session", sid)

    def end(self, session_id: str) -> bool:
        return session_store.end_session(self.store, token_hash(session_id), utcnow())

    def csrf_ok(self, session_id: str, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(self.csrf_token(session_id), str(presented))


def same_origin(origin: str | None, scheme: str, host: str | None) -> bool:
    """Whether a request's ``Origin`` (when the browser sent one) is the server itself."""
    if origin is None:
        return True
    if host is None or origin == "null":
        return False
    return origin.rstrip("/") in (f"{scheme}://{host}", f"https://{host}", f"http://{host}")
