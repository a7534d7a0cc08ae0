"""``serve:`` in busta.yml: where ``busta serve`` listens, who may read and write through its
REST API, where ``POST /api/v1/ingest`` may read files, and its sessions (docs/configuration.md).

A token is never kept as written: a token given in the file (normally ``${ENV_VAR}``, so it
lives in the environment) is hashed (SHA-256) when busta.yml is loaded and only the hash is
kept; ``sha256:`` gives the hash directly (``printf %s "$TOKEN" | sha256sum``).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from busta_quality.settings.base import Model
from busta_quality.settings.health import duration_text, seconds

#: what a token may do: ``read`` every GET, ``write`` acknowledge/resolve alerts, add and end
#: maintenance windows, release/replay quarantined batches, test channels; ``ingest``
#: ``POST /api/v1/ingest``
SCOPES = ("read", "write", "ingest")
Scope = Literal["read", "write", "ingest"]
#: a token written in busta.yml (or its environment variable) must be at least this long
MIN_TOKEN_CHARS = 24
_HEX64 = re.compile(r"[0-9a-f]{64}")


def token_hash(token: str) -> str:
    """The SHA-256 hex digest busta keeps of a token (tokens are long random strings, so a
    fast hash is enough; nothing is kept that would let the token be recovered)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenConfig(Model):
    """One API token: a name (recorded as the actor of what it does), scopes, and its hash."""

    name: str
    scopes: list[Scope] = Field(default_factory=lambda: list[Scope](["read"]))
    #: hex SHA-256 of the token
    sha256: str

    @model_validator(mode="before")
    @classmethod
    def _hash_plain_token(cls, data: Any) -> Any:
        if isinstance(data, dict) and "token" in data:
            data = dict(data)
            token = data.pop("token")
            if not isinstance(token, str) or len(token) < MIN_TOKEN_CHARS:
                raise ValueError(
                    f"token: must be a string of at least {MIN_TOKEN_CHARS} characters "
                    "(e.g. `openssl rand -hex 32`)"
                )
            if "sha256" in data:
                raise ValueError("give token or sha256, not both")
            data["sha256"] = token_hash(token)
        return data

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}", v):
            raise ValueError(f"token name {v!r} must match [A-Za-z0-9][A-Za-z0-9_.@-]{{0,63}}")
        return v

    @field_validator("sha256")
    @classmethod
    def _hex(cls, v: str) -> str:
        v = v.strip().lower()
        if not _HEX64.fullmatch(v):
            raise ValueError('sha256: must be 64 hex digits (printf %s "$TOKEN" | sha256sum)')
        return v

    @field_validator("scopes")
    @classmethod
    def _some(cls, v: list[Scope]) -> list[Scope]:
        if not v:
            raise ValueError("scopes: give at least one of read, write, ingest")
        return sorted(set(v), key=SCOPES.index)


class SessionConfig(Model):
    """The dashboard's sessions (``POST /api/v1/session``): a cookie bound to a token's name
    and scopes, stored in the store so that every replica accepts it."""

    #: how long a session lasts from its creation
    ttl: str = "12h"
    #: the cookie's name
    cookie: str = "busta_session"
    #: the cookie's ``Secure`` flag: ``auto`` sets it when the request came over HTTPS (or a
    #: reverse proxy says so with ``X-Forwarded-Proto: https``), ``always``, ``never``
    secure: Literal["auto", "always", "never"] = "auto"

    @field_validator("ttl", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> str:
        return duration_text(v)

    @field_validator("cookie")
    @classmethod
    def _cookie(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", v):
            raise ValueError("cookie: a name of letters, digits, _ and -")
        return v

    @property
    def ttl_s(self) -> float:
        return seconds(self.ttl)


class ServeConfig(Model):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    #: GET requests without a token (writes and ingest always need one)
    public_reads: bool = False
    tokens: list[TokenConfig] = Field(default_factory=list)
    #: directories ``POST /api/v1/ingest`` may read a ``path`` under (after symlinks are
    #: resolved); none: only uploaded files
    ingest_roots: list[str] = Field(default_factory=list)
    #: where uploaded files are kept (they are landing files: a quarantined upload can be
    #: replayed)
    upload_dir: str = "./.busta/uploads"
    session: SessionConfig = SessionConfig()
    #: ingests and quarantine actions run in a child process, replaced by a fresh (warm) one
    #: after this many jobs: a gate leaves native memory behind in the process that ran it
    gate_recycle_after: int = Field(default=50, ge=1, le=100_000)

    @field_validator("tokens")
    @classmethod
    def _unique(cls, v: list[TokenConfig]) -> list[TokenConfig]:
        names = [t.name for t in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"token names must be unique: {', '.join(dupes)}")
        hashes = [t.sha256 for t in v]
        if len(set(hashes)) != len(hashes):
            raise ValueError("two tokens have the same value")
        return v
