"""Data Docs that cannot attack their reader: every value GX puts into a page is escaped.

GX 1.24 renders a page in two steps: a renderer turns a validation result (or a suite) into a
tree of content blocks (tables, lists, headers, string templates, charts), and a Jinja view
writes that tree out as HTML. The view's templates are ``.j2`` files, which Jinja's
``select_autoescape(["html", "xml"])`` does not autoescape, so every plain string of the tree
reaches the page as raw HTML: a CSV cell ``<script>alert(1)</script>`` shown as an unexpected
value, a column named ``<img src=x onerror=…>``, a team name in a chart. GX escapes only the
parameters of its string templates (text content, ``quote=False``); a chart's Vega-Lite spec is
written into a ``<script>`` element as a Python dict repr, where ``</script>`` inside a value
ends the script.

:func:`escape_document` makes the tree safe before the view sees it: every string of the tree
is HTML-escaped except GX's own markup (a string template's ``template``, ``styling``, the
trusted HTML params GX itself leaves raw, markdown that mistune escapes) and the params GX
escapes itself (those are only turned into text, so a list of values is escaped like a
string); a chart's spec becomes JSON with ``<``, ``>`` and ``&`` written as ``\\u003c`` etc.
(still the same JSON, and it cannot close the script element). Escaping is the identity on a
string without ``& < > " '``, so a page of ordinary data is byte for byte what GX writes.

:func:`enable` wraps the page view's ``render`` once per process (busta's own context opens it,
and ``gx/plugins/busta_action.py`` does for a plain GX client); the index page is escaped like
every other page (its cells name suites, runs, assets and batches). The same wrapper renders
with busta's templates (vendored assets, no inline script: :mod:`.docs_assets`) and enables
busta's verdict on the pages (:mod:`.docs_verdict`). GX private names used here are guarded by
tests/quality/test_gx_private_guard.py.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Callable
from typing import Any

from busta_quality.quality.docs_assets import SCRIPT_UNSAFE as _SCRIPT_UNSAFE

#: keys whose values are GX's own markup or configuration, never data: left as GX made them
_GX_MARKUP_KEYS = frozenset(
    {
        "styling",  # classes, attributes and styles GX chooses
        "content_block_type",
        "table_options",
        "header_row_options",
        "renderer_type",
        "utm_medium",
        "markdown",  # rendered by mistune, which escapes HTML itself
    }
)
#: the markup GX writes into a string template's text itself (escaped, then restored)
_TEMPLATE_MARKUP = ("<br>", '<span class="mr-3 triangle"></span>')

_lock = threading.Lock()
_enabled = False


def escape_text(value: str) -> str:
    """``value`` as HTML text or attribute content (``& < > " '`` escaped)."""
    return html.escape(value, quote=True)


def template_text(template: str) -> str:
    """A string template's text escaped (``$param`` placeholders are untouched by escaping),
    with the few tags GX itself writes into template texts kept."""
    text = escape_text(template)
    for markup in _TEMPLATE_MARKUP:
        text = text.replace(escape_text(markup), markup)
    return text


def script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside a ``<script>`` element (the same JSON value)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return "null"
    text = json.dumps(value, default=str, allow_nan=False) if _finite(value) else "null"
    for char, esc in _SCRIPT_UNSAFE.items():
        text = text.replace(char, esc)
    return text


def _finite(value: Any) -> bool:
    try:
        json.dumps(value, default=str, allow_nan=False)
    except ValueError:
        return False
    return True


def escape_document(doc: dict[str, Any], trusted_params: frozenset[str] = frozenset()) -> Any:
    """A copy of GX's rendered page (``RenderedDocumentContent.to_json_dict()``) in which every
    data string is HTML-escaped (see the module docstring). ``trusted_params``: string template
    params GX emits raw as its own HTML (``DefaultJinjaView._TRUSTED_HTML_PARAMS``)."""
    return _Escaper(trusted_params).page(doc)


#: a content block's keys that hold one piece of content (rendered by ``render_content_block``)
_CONTENT_KEYS = frozenset({"header", "subheader", "title_row", "collapse_toggle_link",
                           "tab_name", "tab_content"})  # fmt: skip
#: a content block's keys that hold a list of pieces of content, each rendered on its own
_CONTENT_LIST_KEYS = frozenset(
    {"content_blocks", "collapse", "bullet_list", "value_list", "text", "header_row"}
)


class _Escaper:
    """Mirrors how GX's Jinja view writes each part of the tree: what it writes as text is
    escaped, what it writes as its own markup is kept."""

    def __init__(self, trusted: frozenset[str]) -> None:
        self.trusted = trusted

    def page(self, doc: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in doc.items():
            if key in _GX_MARKUP_KEYS:
                out[key] = value
            elif key == "sections" and isinstance(value, list):
                out[key] = [self.section(s) for s in value]
            else:
                out[key] = self.generic(value)
        return out

    def section(self, section: Any) -> Any:
        if not isinstance(section, dict):
            return self.generic(section)
        return {
            key: [self.content(b) for b in value]
            if key == "content_blocks" and isinstance(value, list)
            else self.generic(value)  # section_name: written raw in the table of contents
            for key, value in section.items()
        }

    def content(self, node: Any) -> Any:
        """One piece of content, as ``DefaultJinjaView.render_content_block`` writes it: a
        block through its template, a list as one ``<span>`` per item, anything else as
        ``str()`` (raw)."""
        if node is None or isinstance(node, bool | int | float):
            return node
        if isinstance(node, str):
            return escape_text(node)
        if isinstance(node, dict) and node.get("content_block_type") is not None:
            return self.block(node)
        if isinstance(node, list):
            return [self.block(el) if _is_block(el) else escape_text(str(el)) for el in node]
        return escape_text(str(node))  # a dict or tuple GX writes as its repr

    def block(self, block: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in block.items():
            if key in _GX_MARKUP_KEYS:
                out[key] = value
            elif key == "string_template" and isinstance(value, dict):
                out[key] = self.string_template(value)
            elif key == "graph":
                out[key] = script_json(value)
            elif key == "table" and isinstance(value, list):
                out[key] = [
                    [self.content(c) for c in row] if isinstance(row, list) else self.content(row)
                    for row in value
                ]
            elif key in _CONTENT_LIST_KEYS and isinstance(value, list):
                out[key] = [self.content(el) for el in value]
            elif key in _CONTENT_KEYS:
                out[key] = self.content(value)
            elif key == "tabs" and isinstance(value, list):
                out[key] = [self.block(t) if isinstance(t, dict) else self.content(t)
                            for t in value]  # fmt: skip
            else:
                out[key] = self.generic(value)
        return out

    def string_template(self, st: dict[str, Any]) -> dict[str, Any]:
        """GX writes ``template`` raw (its text with ``$param`` placeholders, and sometimes a
        column's name as the whole text) and a tooltip's content raw; it keeps ``styling``
        and ``tag`` and escapes string params itself (as text)."""
        out: dict[str, Any] = {}
        for key, value in st.items():
            if key in _GX_MARKUP_KEYS or key == "tag":
                out[key] = value
            elif key == "template" and isinstance(value, str):
                out[key] = template_text(value)
            elif key == "params" and isinstance(value, dict):
                out[key] = self.params(value)
            elif key == "tooltip" and isinstance(value, dict):
                out[key] = {k: v if k == "placement" else self.generic(v) for k, v in value.items()}
            else:
                out[key] = self.generic(value)
        return out

    def params(self, params: dict[str, Any]) -> dict[str, Any]:
        """GX escapes a string param before substituting it; anything else it substitutes as
        ``str()`` unescaped (a list of values as its repr), so that becomes its text here."""
        out: dict[str, Any] = {}
        for name, value in params.items():
            if name in self.trusted or value is None or isinstance(value, str | bool | int | float):
                out[name] = value
            else:
                out[name] = str(value)
        return out

    def generic(self, node: Any) -> Any:
        """Anything else: every string in it escaped, its shape kept."""
        if isinstance(node, str):
            return escape_text(node)
        if isinstance(node, list):
            return [self.generic(v) for v in node]
        if isinstance(node, tuple):
            return escape_text(str(node))
        if isinstance(node, dict):
            if node.get("content_block_type") is not None:
                return self.block(node)
            return {k: v if k in _GX_MARKUP_KEYS else self.generic(v) for k, v in node.items()}
        return node


def _is_block(node: Any) -> bool:
    return isinstance(node, dict) and node.get("content_block_type") is not None


def enable() -> None:
    """Escape every page GX's Jinja views render in this process (idempotent)."""
    global _enabled
    with _lock:
        if _enabled:
            return
        from great_expectations.render.components import RenderedContent
        from great_expectations.render.view.view import DefaultJinjaView

        from busta_quality.quality import docs_verdict
        from busta_quality.quality.docs_assets import use_busta_templates

        docs_verdict.enable()

        trusted = frozenset(getattr(DefaultJinjaView, "_TRUSTED_HTML_PARAMS", frozenset()))
        gx_render: Callable[..., Any] = DefaultJinjaView.render

        def render(self: Any, document: Any, template: Any = None, **kwargs: Any) -> Any:
            # GX's DefaultJinjaView.render, with the document escaped between its steps
            self._validate_document(document)
            if isinstance(document, RenderedContent):
                document = document.to_json_dict()
            if isinstance(document, dict):
                document = escape_document(document, trusted)
            use_busta_templates(self)  # vendored assets, no inline script (docs_assets)
            jinja = self._get_template(self._template if template is None else template)
            return jinja.render(document, **kwargs)

        render.__wrapped__ = gx_render  # type: ignore[attr-defined]
        render.busta_escapes = True  # type: ignore[attr-defined]
        DefaultJinjaView.render = render  # type: ignore[method-assign]
        _enabled = True
