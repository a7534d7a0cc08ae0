"""Reading a Data Docs page as a browser would (html5lib, the WHATWG parsing algorithm), to
check that hostile values stay text: what a reader sees, and which elements and attributes the
parsed page holds."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

#: values that would create markup if a page wrote them raw, and Slack's mention syntax
PAYLOADS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    '"><svg onload=alert(3)>',
    "</script><script>alert(4)</script>",
    "<!channel> <@U123> & < >",
)
#: GX's own event handlers in a validation page (its filter buttons)
GX_HANDLERS = {"showAllValidations()", "hideSucceededValidations()"}
_SVG = "{http://www.w3.org/2000/svg}"
_VLSPEC = re.compile(r"vlSpec = (.*?);\s*\n", re.S)


@dataclass
class Page:
    """A parsed page: its visible text, every element's tag and attributes, and its scripts."""

    text: str
    elements: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    #: ``<script type="application/json">`` data blocks (busta's pages: tables and charts),
    #: as (attributes, text); never executed
    data_blocks: list[tuple[dict[str, str], str]] = field(default_factory=list)

    def charts(self) -> list[Any]:
        """The Vega-Lite specs of the page's charts, parsed as JSON: busta's data blocks
        (``data-busta-chart``), or GX's own inline ``vlSpec = {...};``."""
        specs = [
            json.loads(text) for attrs, text in self.data_blocks if "data-busta-chart" in attrs
        ]
        return specs + [json.loads(m) for s in self.scripts for m in _VLSPEC.findall(s)]


def parse(page: str) -> Page:
    import html5lib

    root = html5lib.parse(page, namespaceHTMLElements=False)
    out = Page(text="")
    texts: list[str] = []

    def walk(el: Any) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        out.elements.append((tag, {str(k): str(v) for k, v in el.attrib.items()}))
        if tag == "script" and el.attrib.get("type") == "application/json":
            out.data_blocks.append(({str(k): str(v) for k, v in el.attrib.items()}, el.text or ""))
        elif tag == "script":
            out.scripts.append(el.text or "")
        elif tag not in ("style", "title") and el.text:
            texts.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                texts.append(child.tail)

    walk(root)
    out.text = " ".join(" ".join(texts).split())
    return out


def injected(page: Page) -> list[str]:
    """What the parsed page holds that a value created: a script element, an event handler
    attribute, an svg or img element (GX's static pages have none but its logo)."""
    found = []
    for tag, attrs in page.elements:
        for name, value in attrs.items():
            if name.lower().startswith("on") and value not in GX_HANDLERS:
                found.append(f"<{tag} {name}={value!r}>")
        if tag.startswith(_SVG) or tag == "svg":
            found.append(f"<svg {attrs}>")
        src = attrs.get("src", "")
        if tag == "img" and not (
            src.startswith("https://great-expectations-web-assets")
            or src.endswith("static/images/logo-long.png")  # busta's pages: GX's own copy
        ):
            found.append(f"<img {attrs}>")
    for script in page.scripts:
        if re.search(r"alert\(\d\)", script) and "vlSpec" not in script:
            found.append(f"<script>{script[:80]}")
        if "</script" in script.lower() or "<script" in script.lower():
            found.append(f"script text holds markup: {script[:80]}")
    for _, block in page.data_blocks:
        if "</script" in block.lower() or "<script" in block.lower() or "<!--" in block:
            found.append(f"data block holds markup: {block[:80]}")
    return found


def shows(page: Page, value: str) -> bool:
    """Whether a reader sees ``value`` as written (runs of whitespace as one space)."""
    return " ".join(value.split()) in page.text
