"""Secrets never leave busta in clear: one place that finds them and masks them.

A secret can sit anywhere in a channel's settings (or a store or engine URL): a ``SecretStr``
setting (tokens, routing keys, passwords, a Slack webhook URL), any HTTP header value
(``Authorization``, ``X-Api-Key``, every other header too: busta cannot know which one a
receiver treats as a credential; only the standard headers of :data:`PUBLIC_HEADERS`, which
describe the content and never carry one, are shown), a URL's userinfo (``user:pw@``) and its query values
(``?token=…``). What busta shows of a configuration (:func:`mask_value`, ``busta channels
list``) is masked by that structure; free text (a delivery's detail, an error message, a log
record) is masked by value: every secret found in the loaded configuration is registered
(:func:`register`) and replaced by ``**********`` wherever it appears (:func:`mask_text`), and a URL's
userinfo and secret-looking query parameters are masked whatever their values.

:class:`SecretFilter` is the logging filter that does this for every log record;
:func:`install_log_filter` puts it in front of every handler of the process (through the
log record factory, so records of any logger and any handler added later are masked).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

#: what a masked secret reads as
MASK = "**********"
#: standard headers that describe a request and never carry a credential: shown as they are
#: (every other header value is a secret)
PUBLIC_HEADERS = frozenset(
    {
        "accept",
        "accept-charset",
        "accept-encoding",
        "accept-language",
        "cache-control",
        "connection",
        "content-encoding",
        "content-language",
        "content-type",
        "pragma",
        "user-agent",
    }
)
#: values shorter than this are not searched for in free text (``x=1`` would mask every 1)
MIN_SECRET_LEN = 6
#: a query value this long is taken for a token whatever its parameter's name
TOKEN_LEN = 12
#: setting and query parameter names whose values are secrets: containing one of these...
_SECRET_NAME = re.compile(
    r"(secret|token|passw|pwd|(^|_)pw$|api[-_]?key|apikey|routing[-_]?key|auth|signature|sig$|"
    r"credential|private|session|access[-_]?key|^key$|webhook[-_]?url)",
    re.I,
)
#: ... or ending in one of these (``x_key``, ``client.sig``)
_SECRET_SUFFIX = re.compile(r"(^|[_\-.])(key|sig|passwd)$", re.I)
#: ``scheme://userinfo@`` in free text
_USERINFO = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<userinfo>[^\s/@?#]+)@", re.I)
#: ``name=value`` (query strings, form bodies, log lines): masked when the name is a secret's;
#: a value masked already (``***``) is left
_PAIR = re.compile(
    r"(?P<name>\b[A-Za-z_][\w.-]*)=(?P<value>(?!\*+(?:[&\s\"',;<>]|$))[^&\s\"',;<>]+)"
)
#: ``Authorization: Bearer …`` / ``Basic …`` in free text (a credential has a digit)
_AUTH_HEADER = re.compile(
    r"(?P<head>\b(?:Bearer|Basic)\s+)(?P<value>(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{8,})"
)
#: schemes whose password-less userinfo (``https://TOKEN@host``) is a credential; elsewhere
#: (``postgresql://postgres@host``) it is a user name
_TOKEN_USERINFO_SCHEMES = ("http", "https")

_lock = threading.Lock()
_known: set[str] = set()
_ordered: tuple[str, ...] = ()


def is_secret_name(name: str) -> bool:
    """Whether a setting or parameter called ``name`` holds a secret."""
    return bool(_SECRET_NAME.search(name) or _SECRET_SUFFIX.search(name))


def _plain(value: Any) -> Any:
    """A pydantic ``SecretStr``/``SecretBytes`` as its value; anything else as it is."""
    getter = getattr(value, "get_secret_value", None)
    return getter() if callable(getter) else value


def url_secrets(url: str) -> list[str]:
    """The secrets in a URL: its userinfo's password (or the whole userinfo when it has no
    password: a token), and the query values that are secrets (a secret-looking parameter
    name, or a value as long as a token). :func:`mask_url` masks every query value."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    if not parts.scheme or not parts.netloc:
        return []
    found: list[str] = []
    if "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        user, sep, password = userinfo.partition(":")
        if sep:
            found += [password, userinfo]
        elif _token_userinfo(parts.scheme, user):
            found.append(user)
    raw = dict(p.partition("=")[::2] for p in parts.query.split("&") if p)
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        if is_secret_name(name) or len(value) >= TOKEN_LEN:
            found += [value, raw.get(quote(name, safe=""), value)]  # as written, too
    return found


def mask_url(url: str, *, every_query_value: bool = True) -> str:
    """``url`` with its userinfo's password (or a password-less userinfo) and every query
    value masked; anything that is not a URL unchanged. ``every_query_value=False`` (what a
    probe reports of the URL it measured): only the password and the values of secret-looking
    query parameters."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.scheme or not parts.netloc:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, sep, _ = userinfo.partition(":")
        if sep:
            netloc = f"{user}:{MASK}@{host}"
        elif every_query_value and _token_userinfo(parts.scheme, user):
            netloc = f"{MASK}@{host}"
    query = "&".join(
        f"{quote(k, safe='')}={MASK}"
        if v and (every_query_value or is_secret_name(k))
        else (f"{quote(k, safe='')}={quote(v, safe='')}" if v else quote(k, safe=""))
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def secrets_in(value: Any, key: str = "") -> list[str]:
    """Every secret in a configuration value (settings model, mapping, list, string): the
    values of secret fields and of secret-looking keys, every header value, URL secrets."""
    if hasattr(value, "model_dump") and hasattr(type(value), "model_fields"):
        return [
            s for name in type(value).model_fields for s in secrets_in(getattr(value, name), name)
        ]
    plain = _plain(value)
    if plain is not value:  # a SecretStr
        return [str(plain), *url_secrets(str(plain))] if plain else []
    if isinstance(value, Mapping):
        out: list[str] = []
        headers = key.lower() == "headers"
        for k, v in value.items():
            if headers and str(k).lower() in PUBLIC_HEADERS:
                continue
            if headers and isinstance(v, str | bytes):
                out.append(v.decode("utf-8", "replace") if isinstance(v, bytes) else v)
                out += _auth_values(str(v))
            else:
                out += secrets_in(v, str(k))
        return out
    if isinstance(value, list | tuple | set | frozenset):
        return [s for v in value for s in secrets_in(v, key)]
    if isinstance(value, str):
        if key and is_secret_name(key):
            return [value, *url_secrets(value)]
        return url_secrets(value)
    return []


def _is_secret(value: Any) -> bool:
    return _plain(value) is not value  # a SecretStr is a secret under any header name


def _auth_values(header: str) -> list[str]:
    """The credential of ``Bearer xyz`` / ``Basic xyz`` (the header's whole value is one too)."""
    _, sep, rest = header.strip().partition(" ")
    return [rest.strip()] if sep and rest.strip() else []


def mask_value(value: Any, key: str = "") -> Any:
    """A JSON-able copy of a configuration value with every secret masked by its place: a
    secret field or secret-looking key, every header value, a URL's userinfo and query."""
    if hasattr(value, "model_dump") and hasattr(type(value), "model_fields"):
        return {name: mask_value(getattr(value, name), name) for name in type(value).model_fields}
    plain = _plain(value)
    if plain is not value:
        return MASK if plain else plain
    if isinstance(value, Mapping):
        if key.lower() == "headers":
            return {
                str(k): (
                    _plain(v) if str(k).lower() in PUBLIC_HEADERS and not _is_secret(v) else MASK
                )
                for k, v in value.items()
            }
        return {str(k): mask_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_value(v, key) for v in value]
    if isinstance(value, str):
        if key and is_secret_name(key) and value:
            return MASK
        return mask_url(value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    return mask_value(str(value), key)


def register(values: Iterable[Any]) -> None:
    """Remember secrets so that free text masks them (:func:`mask_text`) from now on."""
    global _ordered
    new: set[str] = set()
    for v in values:
        if v is None:
            continue
        text = str(_plain(v))
        # as written, and as a repr or an error message writes it (``\n`` for a newline)
        new |= {text, text.encode("unicode_escape").decode("ascii"), repr(text)[1:-1]}
    new = {v for v in new if len(v) >= MIN_SECRET_LEN}
    if not new - _known:
        return
    with _lock:
        _known.update(new)
        # longest first: a secret that contains another is masked whole
        _ordered = tuple(sorted(_known, key=len, reverse=True))


def registered() -> frozenset[str]:
    return frozenset(_known)


def mask_text(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every registered secret (and ``extra``: the caller's own secrets, of 3
    characters or more) replaced by ``**********``, URL userinfo, secret-looking
    ``name=value`` pairs and ``Bearer``/``Basic`` credentials masked whatever their values."""
    if not text:
        return text
    secrets = _ordered
    more = [str(v) for v in extra if v and len(str(v)) >= 3]
    if more:
        secrets = tuple(sorted({*secrets, *more}, key=len, reverse=True))
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    # each pattern only where its literal part occurs (most strings have none: a large
    # --json report is mostly names, figures and timestamps)
    if "@" in text and "://" in text:
        text = _USERINFO.sub(_mask_userinfo, text)
    if "=" in text:
        text = _PAIR.sub(
            lambda m: f"{m['name']}={MASK}" if is_secret_name(m["name"]) else m.group(0), text
        )
    if "Bearer" in text or "Basic" in text:
        text = _AUTH_HEADER.sub(lambda m: f"{m.group('head')}{MASK}", text)
    return text


def _token_userinfo(scheme: str, user: str) -> bool:
    return scheme.lower() in _TOKEN_USERINFO_SCHEMES or len(user) >= TOKEN_LEN


def _mask_userinfo(m: re.Match[str]) -> str:
    scheme = m.group("scheme")
    user, sep, password = m.group("userinfo").partition(":")
    if sep and password.strip("*") == "" and password:  # masked already (by a probe, say)
        return m.group(0)
    if sep:
        return f"{scheme}{user}:{MASK}@"
    if len(user) >= TOKEN_LEN:  # in free text a short ``user@`` is a user name
        return f"{scheme}{MASK}@"
    return m.group(0)


def masked_json_value(value: Any) -> Any:
    """What ``json.loads(json.dumps(value, default=str))`` gives, with :func:`mask_text`
    applied to every string, in one pass (a thousand sources' health is 3 MB of JSON): keys
    as JSON writes them, values JSON cannot hold as their ``str``."""
    if isinstance(value, str):
        return mask_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {_json_key(k): masked_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked_json_value(v) for v in value]
    return mask_text(str(value))


def masked_json_text(value: Any, indent: int | None = None) -> str:
    """``json.dumps(masked_json_value(value), indent=indent)``, faster when nothing in
    ``value`` can need masking: JSON escapes character by character, so a string holding a
    registered secret or a pattern's literal part (``=``, ``@`` with ``://``, ``Bearer``,
    ``Basic``) puts it, escaped the same way, into the text of the whole. When the text of
    ``json.dumps(value, default=str)`` holds none of them, masking would change no string
    and that text is the answer (the C encoder, without the walk over every value: a
    thousand sources' health is 120,000 values)."""
    text = json.dumps(value, default=str, indent=indent)
    if not _may_need_masking(text):
        return text
    return json.dumps(masked_json_value(value), indent=indent)


_ESCAPED: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())


def _may_need_masking(text: str) -> bool:
    global _ESCAPED
    if "=" in text or "Bearer" in text or "Basic" in text or ("@" in text and "://" in text):
        return True
    if _ESCAPED[0] != _ordered:
        _ESCAPED = (_ordered, tuple(json.dumps(s)[1:-1] for s in _ordered))
    return any(s in text for s in _ESCAPED[1])


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return str.__str__(key)  # a str subclass (an enum) as JSON writes it
    if key is None or isinstance(key, bool | int | float):
        return json.dumps(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def mask_report(value: Any, extra: Iterable[str] = ()) -> Any:
    """What a component reports (a probe's detail, its described settings): every string
    masked like free text (:func:`mask_text` with ``extra``), and the string value of a
    secret-looking key masked whole."""
    keep = list(extra)
    if isinstance(value, str):
        return mask_text(value, keep)
    if isinstance(value, Mapping):
        return {
            str(k): MASK
            if is_secret_name(str(k)) and isinstance(v, str) and v
            else mask_report(v, keep)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_report(v, keep) for v in value]
    return value


class SecretFilter(logging.Filter):
    """Masks every registered secret (and URL userinfo, secret parameters, credentials) in a
    log record: its message with the arguments merged in, and its traceback text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit: leave it to logging
            return True
        masked = mask_text(message)
        if masked != message or record.args:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


_installed = False


def install_log_filter() -> None:
    """Mask every log record of the process as it is made (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        make = logging.getLogRecordFactory()
        secret_filter = SecretFilter()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make(*args, **kwargs)
            secret_filter.filter(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
