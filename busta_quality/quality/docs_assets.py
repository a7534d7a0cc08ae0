"""Data Docs that work offline and under a strict Content-Security-Policy.

GX 1.24's page templates load jQuery, Bootstrap, bootstrap-table, bootstrap-datepicker,
Font Awesome, Vega, Vega-Lite and Vega-Embed from CDNs (and the logo from a web bucket), so a
reader without internet sees a blank index. busta vendors those files in the package
(``datadocs_assets/vendor``, one directory per npm package at the exact version GX's templates
name; ``datadocs_assets/README.md`` lists each file with its sha384 and licence), copies them
into the site's ``static/busta/`` (:func:`install_assets`) and renders the pages with its own
versions of GX's templates that name these files (``datadocs_templates/``, put before GX's own
by :func:`use_busta_templates`) by paths relative to the page, so a page works opened from
disk and served under any prefix (``/data-docs/``).

The templates also move every script out of the page: GX's inline scripts (the table set-up,
its filter functions, the charts, the "failed only" buttons, the walkthrough modal and the
footer) are one served file, ``static/busta/busta-docs.js``; the data they need (a table's
columns and rows, a chart's spec) is written as ``<script type="application/json">`` data
blocks (not executed, so not subject to ``script-src``), escaped so that no value can close the
element; ``onclick=`` attributes became ``data-busta-*`` attributes the script binds. Vega
compiles its expressions with ``new Function`` unless it is given an interpreter, so the charts
use ``vega-interpreter`` (vendored too): no ``'unsafe-eval'``.

What a server must send is :data:`DATA_DOCS_CSP`. GX's pages keep ``style=`` attributes and
``<style>`` elements (and Bootstrap, bootstrap-table and Vega-Embed set styles), hence
``style-src 'self' 'unsafe-inline'``; inline styles cannot run script. Bootstrap's and
bootstrap-table's stylesheets draw icons as ``data:`` images, hence ``img-src 'self' data:``.

Subresource integrity: a browser checks ``integrity`` only on a CORS response, which a page
opened from disk (``file://``, an opaque origin) never gets, and then refuses the file. The
pages on disk therefore carry each hash as ``data-integrity``; :func:`for_serving` turns them
into ``integrity`` attributes for a server (same origin, so the check runs), which also sends
:data:`DATA_DOCS_CSP`. :func:`inject_nonce` exists for a server that wants a nonce as well; the
pages need none.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

#: the header a server sends with every Data Docs page (and busta's own pages may share it)
DATA_DOCS_CSP = (
    "default-src 'self'; "
    "script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "font-src 'self'; "
    "connect-src 'self'; "
    "object-src 'none'; "
    "base-uri 'none'; "
    "form-action 'none'; "
    "frame-ancestors 'none'"
)

#: the package's copy of the assets (vendor/, busta-docs.js, README.md, LICENSES/)
ASSETS_DIR = Path(__file__).with_name("datadocs_assets")
#: busta's versions of GX's page templates
TEMPLATES_DIR = Path(__file__).with_name("datadocs_templates")
#: where the assets go inside a Data Docs site (relative to the site's root)
SITE_ASSETS = "static/busta"


@dataclass(frozen=True)
class Asset:
    """One vendored file: ``path`` inside the npm package ``package`` at ``version``."""

    package: str
    version: str
    path: str
    licence: str

    @property
    def directory(self) -> str:
        """The vendor directory of its package (``@scope/name`` → ``scope-name``)."""
        return f"{self.package.lstrip('@').replace('/', '-')}-{self.version}"

    @property
    def rel(self) -> str:
        """Its path under ``vendor/`` (in the package and in the site's ``static/busta/``)."""
        return f"vendor/{self.directory}/{self.path}"


_FA = ("@fortawesome/fontawesome-free", "6.6.0")
_FA_LICENCE = "CC-BY-4.0 (icons) AND OFL-1.1 (fonts) AND MIT (code)"
_FA_FONTS = tuple(
    f"webfonts/fa-{name}.{ext}"
    for name in ("brands-400", "regular-400", "solid-900", "v4compatibility")
    for ext in ("woff2", "ttf")
)

#: every file GX 1.24's templates load from a CDN, at the version the template names
#: (``vega@5``, ``vega-lite@5``, ``vega-embed@6``: the newest of that major when vendored),
#: plus vega-interpreter (charts without eval); tools/vendor_datadocs.py fetches them
ASSETS: tuple[Asset, ...] = (
    Asset("jquery", "3.7.1", "dist/jquery.min.js", "MIT"),
    Asset("popper.js", "1.12.9", "dist/umd/popper.min.js", "MIT"),
    Asset("bootstrap", "4.3.1", "dist/css/bootstrap.min.css", "MIT"),
    Asset("bootstrap", "4.3.1", "dist/js/bootstrap.min.js", "MIT"),
    Asset("bootstrap-table", "1.19.1", "dist/bootstrap-table.min.css", "MIT"),
    Asset("bootstrap-table", "1.19.1", "dist/bootstrap-table.min.js", "MIT"),
    Asset(
        "bootstrap-table",
        "1.19.1",
        "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
        "MIT",
    ),
    Asset(
        "bootstrap-table",
        "1.19.0",
        "dist/extensions/filter-control/bootstrap-table-filter-control.css",
        "MIT",
    ),
    Asset(
        "bootstrap-table",
        "1.19.0",
        "dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
        "MIT",
    ),
    Asset("bootstrap-datepicker", "1.9.0", "dist/css/bootstrap-datepicker.min.css", "Apache-2.0"),
    Asset("bootstrap-datepicker", "1.9.0", "dist/js/bootstrap-datepicker.min.js", "Apache-2.0"),
    Asset("@forevolve/bootstrap-dark", "1.1.0", "dist/css/bootstrap-prefers-dark.css", "MIT"),
    Asset(*_FA, "css/all.min.css", _FA_LICENCE),
    *(Asset(*_FA, font, _FA_LICENCE) for font in _FA_FONTS),
    Asset("vega", "5.33.1", "build/vega.min.js", "BSD-3-Clause"),
    Asset("vega-lite", "5.23.0", "build/vega-lite.min.js", "BSD-3-Clause"),
    Asset("vega-embed", "6.29.0", "build/vega-embed.min.js", "BSD-3-Clause"),
    Asset("vega-interpreter", "1.2.1", "build/vega-interpreter.min.js", "BSD-3-Clause"),
)

#: busta's own files copied with the vendored ones (relative to ``datadocs_assets/``)
OWN_FILES = ("busta-docs.js", "busta-docs.css")


def sri(data: bytes) -> str:
    """The subresource-integrity value of ``data`` (``sha384-…``)."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


@cache
def integrity(rel: str) -> str:
    """The ``sha384-…`` of a file under ``datadocs_assets/`` (``vendor/…`` or busta's own)."""
    return sri((ASSETS_DIR / rel).read_bytes())


def asset(package: str, path: str) -> Asset:
    """The vendored ``path`` of ``package`` (the templates name files this way)."""
    for a in ASSETS:
        if a.package == package and a.path == path:
            return a
    raise KeyError(f"{package}/{path} is not vendored (busta_quality/quality/docs_assets.py)")


def install_assets(site: Path) -> Path:
    """Copy the vendored files and busta's script into ``site/static/busta/`` (a file that is
    there with the same size and time is kept); the directory."""
    dest = site / SITE_ASSETS
    for rel in (*(a.rel for a in ASSETS), *OWN_FILES):
        src, dst = ASSETS_DIR / rel, dest / rel
        st = src.stat()
        try:
            have = dst.stat()
            if have.st_size == st.st_size and have.st_mtime_ns == st.st_mtime_ns:
                continue
        except OSError:
            pass
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
        shutil.copyfile(src, tmp)  # the mode of a new file (the umask busta's security sets)
        os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))  # the time the check above compares
        os.replace(tmp, dst)
    return dest


_DATA_INTEGRITY = re.compile(r'\sdata-integrity="(sha384-[A-Za-z0-9+/=]+)"')


def for_serving(html: str) -> str:
    """A page as a server sends it: each ``data-integrity`` becomes an ``integrity``
    attribute (checked by the browser on a same-origin response; see the module doc)."""
    return _DATA_INTEGRITY.sub(r' integrity="\1"', html)


_NONCE = re.compile(r"^[A-Za-z0-9+/_-]{16,}={0,2}$")
_SCRIPT_OR_STYLE = re.compile(r"<(script|style)(?=[\s>])", re.IGNORECASE)


def inject_nonce(html: str, nonce: str) -> str:
    """``html`` with ``nonce="…"`` on every ``<script>`` and ``<style>`` element, for a server
    whose CSP adds ``'nonce-…'`` (busta's pages work without: they have no inline script).
    ``nonce``: base64, at least 16 characters (a fresh random value per response)."""
    if not _NONCE.match(nonce):
        raise ValueError("a CSP nonce is base64 text of at least 16 characters")
    return _SCRIPT_OR_STYLE.sub(lambda m: f'<{m.group(1)} nonce="{nonce}"', html)


# --- the templates ------------------------------------------------------------------------

#: the image GX's default styles load from its web bucket (dark mode logo)
_GX_WEB_ASSETS = re.compile(r"url\(\s*'https://great-expectations-web-assets[^')]*'\s*\)")


def root_of(renderer_type: str | None, suite: str | None) -> str:
    """The relative path from a page to the site's root (GX's page layout: a validation page
    at ``validations/<suite parts>/<run name>/<run time>/<batch>.html``, a suite's page at
    ``expectations/<suite parts>.html``, the index at the root)."""
    kind = renderer_type or ""
    parts = len((suite or "").split(".")) if suite else 1
    if "ValidationResults" in kind or "ProfilingResults" in kind:
        return "../" * (parts + 3)
    if "ExpectationSuite" in kind:
        return "../" * parts
    return ""


def _script(static: str, package: str, path: str) -> str:
    a = asset(package, path)
    return f'<script src="{static}{a.rel}" data-integrity="{integrity(a.rel)}"></script>'


def _link(static: str, package: str, path: str) -> str:
    a = asset(package, path)
    return f'<link rel="stylesheet" href="{static}{a.rel}" data-integrity="{integrity(a.rel)}">'


def _own_script(static: str, name: str) -> str:
    return f'<script src="{static}{name}" data-integrity="{integrity(name)}" defer></script>'


def _own_link(static: str, name: str) -> str:
    return f'<link rel="stylesheet" href="{static}{name}" data-integrity="{integrity(name)}">'


def _local_css(css: str, root: str) -> str:
    return _GX_WEB_ASSETS.sub(f"url('{root}static/images/logo-long.png')", css)


def _json_block(value: object) -> str:
    """``value`` as JSON for a ``<script type="application/json">`` block: no value can end
    the element (``<``, ``>``, ``&`` as ``\\u003c``…); a non-finite number becomes its text."""
    if isinstance(value, str):  # a chart's spec, already JSON
        try:
            value = json.loads(value)
        except ValueError:
            return "null"
    text = json.dumps(_finite(value), default=str, allow_nan=False)
    for char, esc in SCRIPT_UNSAFE.items():
        text = text.replace(char, esc)
    return text


#: the JSON characters that could end or open markup inside a <script> element
SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                  "\u2029": "\\u2029"}  # fmt: skip


def _finite(value: object) -> object:
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


_COMPILED: Any = None


def _compiled_templates() -> Any:
    """One in-memory Jinja bytecode cache for every GX view of the process.

    GX builds a new Jinja environment for every view it renders with, so each Data Docs
    update compiled the same few dozen templates again (about a quarter of a warm ingest's
    Data Docs time). Jinja's bytecode cache is the supported way to share compiled templates
    between environments: a template is still read and checksummed (an edited template is
    compiled again), and the key holds the environment's compile-time settings."""
    global _COMPILED
    if _COMPILED is None:
        from jinja2.bccache import Bucket, BytecodeCache

        class Compiled(BytecodeCache):
            def __init__(self) -> None:
                self._codes: dict[tuple[Any, ...], tuple[str, Any]] = {}
                self._lock = threading.Lock()

            def get_bucket(
                self, environment: Any, name: str, filename: str | None, source: str
            ) -> Bucket:
                # the key holds what the compiled code depends on besides the source: the
                # environment's syntax and options, and autoescape as decided for this name
                env = environment
                escape = env.autoescape(name) if callable(env.autoescape) else env.autoescape
                key = (
                    self.get_cache_key(name, filename), bool(escape),
                    tuple(sorted(env.extensions)), env.optimized,
                    env.block_start_string, env.block_end_string,
                    env.variable_start_string, env.variable_end_string,
                    env.comment_start_string, env.comment_end_string,
                    env.line_statement_prefix, env.line_comment_prefix,
                    env.trim_blocks, env.lstrip_blocks, env.newline_sequence,
                    env.keep_trailing_newline,
                )  # fmt: skip
                bucket = Bucket(environment, repr(key), self.get_source_checksum(source))
                with self._lock:
                    hit = self._codes.get(key)
                if hit is not None and hit[0] == bucket.checksum:
                    bucket.code = hit[1]
                bucket.busta_key = key  # type: ignore[attr-defined]
                return bucket

            def set_bucket(self, bucket: Bucket) -> None:
                if bucket.code is not None:
                    with self._lock:
                        self._codes[bucket.busta_key] = (bucket.checksum, bucket.code)  # type: ignore[attr-defined]

            def load_bytecode(self, bucket: Bucket) -> None:  # get_bucket does it
                pass

            def dump_bytecode(self, bucket: Bucket) -> None:  # set_bucket does it
                pass

        _COMPILED = Compiled()
    return _COMPILED


def use_busta_templates(view: object) -> None:
    """Make a GX Jinja view (``DefaultJinjaView``) render with busta's templates first and
    give them their helpers (idempotent per view)."""
    env = getattr(view, "env", None)
    if env is None or getattr(env, "busta_templates", False):
        return
    from jinja2 import ChoiceLoader, FileSystemLoader

    env.loader = ChoiceLoader([FileSystemLoader(str(TEMPLATES_DIR)), env.loader])
    env.cache.clear() if env.cache is not None else None
    env.bytecode_cache = _compiled_templates()
    env.globals.update(
        busta_root_of=root_of,
        busta_script=_script,
        busta_link=_link,
        busta_own_script=_own_script,
        busta_own_link=_own_link,
        busta_json=_json_block,
    )
    env.filters["busta_local_css"] = _local_css
    env.busta_templates = True
