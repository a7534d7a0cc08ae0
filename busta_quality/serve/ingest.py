"""What ``POST /api/v1/ingest`` may read: an uploaded file (saved under ``serve.upload_dir``
within ``ingest.limits.max_file_bytes``) or a path that resolves, symlinks followed, under one
of ``serve.ingest_roots``; anything else is refused (403)."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from fastapi import UploadFile

from busta_quality.errors import InputRejected
from busta_quality.serve.auth import AuthError
from busta_quality.settings import BustaConfig

CHUNK = 1024 * 1024
#: the most files one ingest request may upload (a larger request body is refused, 413,
#: before it is read: MAX_UPLOADS x ingest.limits.max_file_bytes + 1 MiB)
MAX_UPLOADS = 8


def allowed_path(cfg: BustaConfig, text: str) -> Path:
    """``text`` (absolute, or relative to busta.yml's directory) if it resolves under an
    ingest root; else 403. Symlinks are resolved first, so one leading out is refused."""
    if "\x00" in text or not text.strip():
        raise AuthError(403, "forbidden", "path refused")
    resolved = cfg.path(text)  # absolute, `..` and symlinks resolved
    for root in cfg.serve.ingest_roots:
        base = cfg.path(root)
        if resolved == base or resolved.is_relative_to(base):
            return resolved
    raise AuthError(
        403,
        "forbidden",
        f"path {text!r} is not under serve.ingest_roots",
        "upload the file instead, or add its directory to serve.ingest_roots",
    )


def _safe_name(name: str | None) -> str:
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")
    return base[:128] or "upload"


async def save_upload(cfg: BustaConfig, upload: UploadFile) -> Path:
    """Keep an uploaded file as a landing file of its own (a quarantined upload can be
    replayed); over ``ingest.limits.max_file_bytes`` it is refused (413) and removed."""
    limit = cfg.ingest.limits.max_file_bytes
    folder = cfg.path(cfg.serve.upload_dir) / secrets.token_hex(8)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / _safe_name(upload.filename)
    size = 0
    with target.open("xb") as out:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > limit:
                break
            out.write(chunk)
    if size > limit:
        target.unlink()
        folder.rmdir()
        raise InputRejected(
            f"upload {upload.filename!r} is over ingest.limits.max_file_bytes ({limit} bytes)",
            "raise ingest.limits.max_file_bytes in busta.yml, or split the file",
            path=upload.filename,
            problem="over_limit",
            limit="max_file_bytes",
            limit_value=limit,
            actual=size,
        )
    return target
