"""``busta ingest --server URL``: the same ingest, in a running ``busta serve`` (standard
library only: a pipeline host needs no web framework). The token comes from
``$BUSTA_TOKEN``; it travels in the ``Authorization`` header, never in the URL."""

from __future__ import annotations

import http.client
import json
import secrets
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from busta_quality.errors import BustaError, ExitCode, InputNotFound, UsageError

TOKEN_ENV = "BUSTA_TOKEN"


class RemoteError(BustaError):
    """The server answered with an error (its JSON error object, its exit code)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        err = body.get("error") or {}
        super().__init__(
            f"server: {err.get('message') or f'HTTP {status}'}", str(err.get("hint") or "")
        )
        self.code = str(err.get("code") or "server_error")
        self.status = status
        self.body = err
        try:
            self.exit_code = ExitCode(int(body.get("exit_code", 3)))
        except ValueError:
            self.exit_code = ExitCode.RUNTIME

    def to_dict(self) -> dict[str, Any]:
        return {**self.body, "code": self.code, "message": self.message, "hint": self.hint}


def _multipart(fields: list[tuple[str, str]], files: list[Path]) -> tuple[bytes, str]:
    boundary = "busta-" + secrets.token_hex(16)
    out = bytearray()
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    for path in files:
        filename = path.name.replace('"', "_")
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        out += path.read_bytes() + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def remote_ingest(
    url: str,
    token: str | None,
    source: str,
    paths: list[Path],
    *,
    server_paths: bool = False,
    timeout_s: float = 600.0,
) -> dict[str, Any]:
    """POST the files (or, with ``server_paths``, their paths on the server) to
    ``{url}/api/v1/ingest``; the server's report object (the ``--json`` of ``ingest``)."""
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--server {url!r} is not an http(s) URL", "e.g. http://127.0.0.1:8080")
    if not token:
        raise UsageError(
            f"--server needs a token with the ingest scope in ${TOKEN_ENV}",
            f"export {TOKEN_ENV}=<token> (a token of the server's serve.tokens)",
        )
    fields = [("source", source)]
    files: list[Path] = []
    for p in paths:
        if server_paths:
            fields.append(("path", str(p)))
        elif p.is_file():
            files.append(p)
        elif p.exists():
            raise UsageError(
                f"{p} is not a file: --server uploads files",
                "name the files, or pass --server-paths for paths the server reads itself",
            )
        else:
            raise InputNotFound(f"{p}: no such file", "check the path", path=str(p))
    body, ctype = _multipart(fields, files)
    request = urllib.request.Request(
        url.rstrip("/") + "/api/v1/ingest",
        data=body,
        method="POST",
        headers={"Content-Type": ctype, "Authorization": f"Bearer {token}"},
    )
    from busta_quality.notify.deadline import total_deadline

    # the socket timeout bounds each read; the total deadline bounds the whole answer (a
    # server that drips its response cannot hold the command past timeout_s)
    cut = f"no complete answer within {timeout_s:g} s"
    try:
        with total_deadline(timeout_s) as deadline:
            try:
                with urllib.request.urlopen(request, timeout=timeout_s) as response:
                    raw = response.read()
            except (OSError, http.client.HTTPException) as exc:
                if deadline.expired and not isinstance(exc, urllib.error.HTTPError):
                    raise OSError(cut) from exc
                raise
        if deadline.expired:
            raise OSError(cut)
        return dict(json.loads(raw))
    except urllib.error.HTTPError as exc:
        try:
            answer = json.loads(exc.read())
        except ValueError:
            answer = {}
        raise RemoteError(exc.code, answer if isinstance(answer, dict) else {}) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise BustaError(
            f"server {url} cannot be reached: {exc}", "check --server and that busta serve runs"
        ) from None
