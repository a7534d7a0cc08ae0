"""A total deadline for one probe: connect, request and the whole answer.

A socket timeout bounds each blocking read, not the probe: a server that sends its headers
and then one byte a second never trips it. A :class:`Watchdog` bounds the whole probe in the
probe's own thread: what blocks registers how to interrupt it (:meth:`Watchdog.guard`: shut
a socket down, interrupt a SQLite statement, cancel a PostgreSQL query), and one timer per
probe calls those when the deadline passes, so the blocked call returns at once with an
error. The timer ends when the deadline passes or the probe finishes, whichever comes first;
nothing runs in a thread left behind. (The same approach as the channels' send deadline.)

Not covered: name resolution (``getaddrinfo`` cannot be interrupted).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType


class Watchdog:
    """``with Watchdog(seconds) as dog: ...``; ``dog.expired`` tells whether it fired."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds
        self.expired = False
        self._done = False
        self._cancels: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, seconds), self._expire)
        self._timer.daemon = True
        self._timer.name = "busta-probe-deadline"

    def remaining(self) -> float:
        """Seconds left (at least 1 ms, so it can be passed as a timeout)."""
        return max(0.001, self.expires - time.monotonic())

    def guard(self, cancel: Callable[[], None]) -> None:
        """Call ``cancel`` when the deadline passes (at once when it already has)."""
        with self._lock:
            late = self.expired and not self._done
            if not late:
                self._cancels.append(cancel)
        if late:
            _quietly(cancel)

    def guard_socket(self, sock: socket.socket) -> None:
        """Shut ``sock`` down at the deadline: a read or write blocked on it returns."""
        # the plain socket's shutdown (an SSL socket's own would drop its TLS state under
        # the reading thread); a closed socket is left alone
        self.guard(lambda: socket.socket.shutdown(sock, socket.SHUT_RDWR))

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            cancels = list(self._cancels)
        for cancel in cancels:
            _quietly(cancel)

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._lock:
            self._done = True
            self._cancels.clear()
            fired = self.expired
        self._timer.cancel()
        if fired and self._timer is not threading.current_thread():
            self._timer.join(timeout=1.0)  # its cancels are quick: let it finish them


def _quietly(cancel: Callable[[], None]) -> None:
    with contextlib.suppress(Exception):
        cancel()
