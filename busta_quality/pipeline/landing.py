"""Landing files, read within the input limits (``ingest.limits``) in bounded memory.

Every built-in reader gets its file's bytes from :func:`read_landing`, and ingest calls a
source kind's reader through ``orchestration.ingest.read_input`` (which checks a file with
:func:`read_landing` before a reader that does not take limits), so every input problem is
one of three
:class:`~busta_quality.errors.InputError` classes, whatever the file and whatever the kind:

- :class:`InputNotFound` (exit 2): no such file, or a directory;
- :class:`InputError` (exit 3): the file exists and cannot be read (permissions, disk);
- :class:`InputRejected` (exit 1): the file was read and is refused: not a regular file,
  over a limit, not decodable, not the source's format, or the kind's reader failed on it.

Bounded memory: the size is checked on the open file (``fstat``) before the first byte is
read; the file is then read in chunks of :data:`CHUNK` bytes, never more than
``max_file_bytes`` of it, and a line-oriented file's line lengths are measured chunk by chunk
(a huge line is never held as one string). Only a file that passed is handed to a parser.

Encodings: a UTF-8 byte-order mark is dropped; UTF-16 with a byte-order mark (LE or BE) is
decoded and handed on as UTF-8; a UTF-32 mark, or UTF-16 that does not decode, is rejected
naming the byte offset and line. Bytes without a mark are handed on as landed (each reader
decides: football_data decodes line by line, UTF-8 else Windows-1252; odds_api wants UTF-8).
"""

from __future__ import annotations

import codecs
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from busta_quality.errors import InputError, InputNotFound, InputRejected
from busta_quality.settings import InputLimits

#: bytes read at a time
CHUNK = 1 << 20

#: byte-order marks: (mark, codec, what busta calls the encoding); UTF-32 first (its LE mark
#: starts with UTF-16 LE's)
_BOMS: tuple[tuple[bytes, str | None, str], ...] = (
    (codecs.BOM_UTF32_LE, None, "UTF-32-LE"),
    (codecs.BOM_UTF32_BE, None, "UTF-32-BE"),
    (codecs.BOM_UTF8, None, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
)


@dataclass(frozen=True)
class Landed:
    """A landing file that passed the limits.

    ``data``: its content without a byte-order mark (UTF-16 decoded and re-encoded as
    UTF-8); ``encoding``: ``"utf-8-sig"``, ``"utf-16-le"``, ``"utf-16-be"``, or ``""``
    (no mark: the bytes as landed); ``size``: bytes on disk."""

    path: Path
    data: bytes
    encoding: str
    size: int

    @property
    def utf16(self) -> bool:
        return self.encoding.startswith("utf-16")


def over_limit(
    p: Path,
    limits: InputLimits,
    limit: str,
    actual: int,
    *,
    what: str,
    line: int | None = None,
    unit: str = "",
) -> InputRejected:
    """The rejection of a file over ``limit`` (a field name of :class:`InputLimits`)."""
    value = int(getattr(limits, limit))
    where = f" (line {line})" if line is not None else ""
    return InputRejected(
        f"{p}{where}: {what} is {actual:,}{unit}, over ingest.limits.{limit} = {value:,}{unit}",
        f"check that the right file landed; if it is, raise ingest.limits.{limit} in busta.yml "
        f"and run `busta quarantine replay` on its run",
        path=str(p),
        problem="over_limit",
        line=line,
        limit=limit,
        limit_value=value,
        actual=actual,
    )


def check_readable(path: Path) -> Path:
    """Absolute path of an existing non-directory, else :class:`InputNotFound` (or
    :class:`InputError` when a directory on the way may not be searched)."""
    p = Path(path).expanduser().absolute()
    try:
        st = p.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise InputNotFound(
            f"{p}: file not found",
            "check the path and that the file has landed",
            path=str(p),
            problem="not_found",
        ) from None
    except PermissionError as exc:
        raise _unreadable(p, exc) from exc
    except OSError as exc:
        raise _io_error(p, exc) from exc
    if stat.S_ISDIR(st.st_mode):
        raise InputNotFound(
            f"{p}: is a directory, not a file",
            "pass the path of one input file",
            path=str(p),
            problem="not_found",
        )
    return p


def _unreadable(p: Path, exc: OSError) -> InputError:
    return InputError(
        f"{p}: permission denied ({exc.strerror})",
        "make the file (and its directory) readable by the user running busta",
        path=str(p),
        problem="unreadable",
    )


def _io_error(p: Path, exc: OSError) -> InputError:
    return InputError(
        f"{p}: cannot be read ({exc.strerror or exc})",
        "check the file and the disk",
        path=str(p),
        problem="unreadable",
    )


class _LineMeter:
    """Measures line lengths chunk by chunk; the first line over ``max_line_bytes``.

    Per chunk the work is in C (``count``, ``split``, ``max``); Python only walks the lines
    of a chunk that holds a line over the limit."""

    def __init__(self, max_bytes: int) -> None:
        self.max = max_bytes
        self.line = 1  # the line the next byte belongs to
        self.length = 0  # bytes of that line so far
        self.bad_line: int | None = None  # the first line over the limit
        self.bad_length = 0  # its length (once it ended: see ``done``)

    def feed(self, chunk: bytes) -> None:
        first = chunk.find(b"\n")
        if first < 0:
            self.length += len(chunk)
            self._check()
            return
        self.length += first
        self._end_line()
        last = chunk.rfind(b"\n")
        # complete lines in between: only a stretch longer than the limit can hold one over it
        if last - first - 1 > self.max and self.bad_line is None:
            lengths = list(map(len, chunk[first + 1 : last].split(b"\n")))
            if max(lengths) > self.max:
                at = next(i for i, n in enumerate(lengths) if n > self.max)
                self.bad_line, self.bad_length = self.line + at, lengths[at]
            self.line += len(lengths)
        elif first < last:
            self.line += chunk.count(b"\n", first + 1, last + 1)
        self.length = len(chunk) - last - 1
        self._check()

    def _check(self) -> None:
        if self.bad_line is None and self.length > self.max:
            self.bad_line = self.line

    def _end_line(self) -> None:
        self._check()
        if self.bad_line == self.line:
            self.bad_length = self.length
        self.line += 1
        self.length = 0

    @property
    def over(self) -> bool:
        return self.bad_line is not None

    @property
    def done(self) -> bool:
        """The bad line is measured to its end."""
        return self.bad_line is not None and self.bad_line < self.line

    def finish(self) -> None:
        self._check()
        if self.bad_line == self.line:
            self.bad_length = self.length


def _mark(head: bytes) -> tuple[int, str | None, str]:
    """(length of the byte-order mark, codec to decode with, encoding name)."""
    for bom, codec, name in _BOMS:
        if head.startswith(bom):
            return len(bom), codec, name
    return 0, None, ""


def read_landing(path: Path, limits: InputLimits, *, lines: bool = True) -> Landed:
    """Read a landing file within ``limits`` (see the module doc); ``lines``: the file is
    lines of text, so ``max_line_bytes`` applies. Raises only :class:`InputError` and its
    subclasses."""
    p = check_readable(path)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except PermissionError as exc:
        raise _unreadable(p, exc) from exc
    except OSError as exc:
        raise _io_error(p, exc) from exc
    try:
        return _read_open(p, fd, limits, lines)
    finally:
        os.close(fd)


def _read_open(p: Path, fd: int, limits: InputLimits, lines: bool) -> Landed:
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise InputRejected(
            f"{p}: not a regular file (a pipe, socket or device)",
            "land the data as a regular file",
            path=str(p),
            problem="not_a_regular_file",
        )
    if st.st_size > limits.max_file_bytes:
        raise over_limit(p, limits, "max_file_bytes", st.st_size, what="the file", unit=" bytes")
    meter = _LineMeter(limits.max_line_bytes) if lines else None
    kept: list[bytes] = []
    decoder: codecs.IncrementalDecoder | None = None
    encoding = ""
    codec: str | None = None
    total = 0  # bytes read from the file
    decoded_lines = 0  # newlines decoded so far (UTF-16)
    while True:
        try:
            chunk = os.read(fd, CHUNK)
        except OSError as exc:
            raise _io_error(p, exc) from exc
        first = total == 0
        final = not chunk
        start = total
        total += len(chunk)
        if total > limits.max_file_bytes:  # it grew since fstat
            raise over_limit(
                p, limits, "max_file_bytes", total, what="the file (still growing)", unit=" bytes"
            )
        if first:
            skip, codec, encoding = _mark(chunk[:4])
            if encoding.startswith("UTF-32"):
                raise InputRejected(
                    f"{p}: {encoding} (byte-order mark at byte 0) is not a supported encoding",
                    "export the file as UTF-8 (or UTF-16)",
                    path=str(p),
                    problem="undecodable",
                    line=1,
                    offset=0,
                )
            chunk = chunk[skip:]
            start += skip
            if codec is not None:
                decoder = codecs.getincrementaldecoder(codec)(errors="strict")
        if decoder is not None:
            assert codec is not None
            chunk, decoded_lines = _transcode(p, decoder, codec, chunk, start, decoded_lines, final)
        if meter is not None:
            meter.feed(chunk)
            if meter.over:
                kept.clear()  # rejected: keep measuring the bad line, not the data
                if meter.done:
                    break
        if meter is None or not meter.over:
            kept.append(chunk)
        if final:
            break
    if meter is not None:
        meter.finish()
        if meter.over:
            assert meter.bad_line is not None
            raise over_limit(
                p,
                limits,
                "max_line_bytes",
                meter.bad_length,
                what="a line",
                line=meter.bad_line,
                unit=" bytes",
            )
    return Landed(p, b"".join(kept), encoding, st.st_size)


def _transcode(
    p: Path,
    decoder: codecs.IncrementalDecoder,
    codec: str,
    chunk: bytes,
    start: int,
    lines_before: int,
    final: bool,
) -> tuple[bytes, int]:
    """Decode one chunk of a UTF-16 file into UTF-8; (the UTF-8 bytes, newlines so far)."""
    pending = getattr(decoder, "buffer", b"")
    try:
        text = decoder.decode(chunk, final=final)
    except UnicodeDecodeError as exc:
        data = pending + chunk
        offset = start - len(pending) + exc.start
        good = data[: exc.start].decode(codec, errors="replace")
        raise InputRejected(
            f"{p}: not valid {codec.upper()} at byte {offset} (line "
            f"{lines_before + good.count(chr(10)) + 1}): {exc.reason}",
            "the file has a UTF-16 byte-order mark but is not UTF-16 after it; export it again",
            path=str(p),
            problem="undecodable",
            line=lines_before + good.count("\n") + 1,
            offset=offset,
        ) from exc
    return text.encode("utf-8"), lines_before + text.count("\n")


def first_nul(p: Path, landed: Landed) -> InputRejected | None:
    """The rejection of a file holding a NUL byte (binary, or UTF-16 without a mark)."""
    at = landed.data.find(b"\x00")
    if at < 0:
        return None
    line = landed.data.count(b"\n", 0, at) + 1
    offset = None if landed.utf16 else at + (3 if landed.encoding == "utf-8-sig" else 0)
    where = f"byte {offset}, line {line}" if offset is not None else f"line {line}"
    return InputRejected(
        f"{p}: contains a NUL byte ({where}): a binary file, or UTF-16 without a byte-order mark",
        "land the text export (UTF-8, Windows-1252, or UTF-16 with a byte-order mark), not a "
        "zip, xlsx or parquet file",
        path=str(p),
        problem="not_text",
        line=line,
        offset=offset,
    )
