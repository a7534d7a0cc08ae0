"""A total deadline for one channel send: connect, request and the whole response.

A socket timeout (urllib's, smtplib's, slack-sdk's ``timeout``) bounds each blocking socket
operation, not the send: a receiver that sends its headers and then one byte a second never
trips it, and a send could last for minutes. :func:`total_deadline` bounds the whole send,
in the calling thread, whatever library does the sending:

* every socket the thread connects inside the block is seen through the interpreter's
  ``socket.connect`` audit event (one process-wide hook, installed on first use, that
  returns at once for any other event and for threads without a deadline); its timeout is
  lowered to the time left, so the connect itself cannot outlast the deadline;
* one watchdog timer per block shuts those sockets down (``shutdown(SHUT_RDWR)``) when the
  deadline passes: a read or write blocked in the sending thread returns at once (end of
  stream or an error) and the library gives up. The timer thread ends when the deadline
  passes or when the block exits, whichever comes first, so no thread outlives a send, and
  the send itself never runs in a thread that would be left behind.

Not covered: name resolution (``getaddrinfo`` cannot be interrupted; a hostname that takes
long to resolve delays the send by that long) and sockets made outside Python (C libraries).
The built-in channels (Slack Web API and webhook through slack-sdk, webhook, PagerDuty,
Alertmanager through urllib, email through smtplib) all use Python sockets.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_local = threading.local()
_installed = False
_install_lock = threading.Lock()


class TotalDeadline:
    """One send's deadline; ``expired`` tells whether it cut the send short."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds
        self.expired = False
        self._done = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, seconds), self._expire)
        self._timer.daemon = True
        self._timer.name = "busta-send-deadline"

    def remaining(self) -> float:
        return self.expires - time.monotonic()

    def track(self, sock: socket.socket) -> None:
        """Called (by the audit hook) when this thread connects ``sock``."""
        with self._lock:
            if self._done:
                return
            self._sockets.append(sock)
            late = self.expired
        left = max(0.001, self.remaining())
        try:
            current = sock.gettimeout()
            if late or current is None or current > left:
                sock.settimeout(left)
        except OSError:
            pass

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            # the plain socket's shutdown (an SSL socket's own would drop its TLS state
            # under the reading thread); closed or never-connected sockets are left alone
            with contextlib.suppress(OSError, ValueError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def _start(self) -> None:
        self._timer.start()

    def _finish(self) -> None:
        with self._lock:
            self._done = True
            self._sockets.clear()
        self._timer.cancel()


def _stack() -> list[TotalDeadline]:
    stack: list[TotalDeadline] | None = getattr(_local, "stack", None)
    if stack is None:
        stack = []
        _local.stack = stack
    return stack


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event != "socket.connect":
        return
    stack: list[TotalDeadline] | None = getattr(_local, "stack", None)
    if not stack:
        return
    try:
        sock = args[0]
        if isinstance(sock, socket.socket):
            for deadline in stack:
                deadline.track(sock)
    except Exception:  # an audit hook that raises would fail the connect itself
        pass


def _install() -> None:
    global _installed
    if _installed:
        return
    with _install_lock:
        if not _installed:
            sys.addaudithook(_audit)
            _installed = True


@contextmanager
def total_deadline(seconds: float) -> Iterator[TotalDeadline]:
    """Bound everything the block does over sockets it connects to ``seconds`` in total.

    Blocks nest (the nearer deadline wins). After the block, ``deadline.expired`` says
    whether the deadline cut it short: the caller treats the send as failed then.
    """
    _install()
    deadline = TotalDeadline(seconds)
    stack = _stack()
    stack.append(deadline)
    deadline._start()
    try:
        yield deadline
    finally:
        deadline._finish()
        stack.remove(deadline)
