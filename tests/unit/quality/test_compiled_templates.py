"""Data Docs' Jinja views share compiled templates (docs_assets._compiled_templates).

GX builds a Jinja environment per view; the shared bytecode cache compiles a template once
per process, compiles an edited template again, and keeps templates apart whose compiled code
differs (autoescape decided per name, syntax).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from busta_quality.quality.docs_assets import _compiled_templates


class Counting(Environment):
    compiled = 0

    def compile(self, *args: Any, **kwargs: Any) -> Any:
        type(self).compiled += 1
        return super().compile(*args, **kwargs)


def _env(root: Path, **options: Any) -> Counting:
    env = Counting(loader=FileSystemLoader(str(root)), **options)
    env.bytecode_cache = _compiled_templates()
    return env


def test_a_template_compiles_once_for_every_environment(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<p>{{ value }}</p>", encoding="utf-8")
    Counting.compiled = 0
    first = _env(tmp_path, autoescape=select_autoescape(["html"]))
    assert first.get_template("page.html").render(value="<b>") == "<p>&lt;b&gt;</p>"
    assert Counting.compiled == 1
    for _ in range(3):  # new environments, as GX makes one per view
        env = _env(tmp_path, autoescape=select_autoescape(["html"]))
        assert env.get_template("page.html").render(value="<b>") == "<p>&lt;b&gt;</p>"
    assert Counting.compiled == 1


def test_an_edited_template_is_compiled_again(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<p>{{ value }}</p>", encoding="utf-8")
    Counting.compiled = 0
    assert _env(tmp_path).get_template("page.html").render(value=1) == "<p>1</p>"
    page.write_text("<div>{{ value }}</div>", encoding="utf-8")
    assert _env(tmp_path).get_template("page.html").render(value=1) == "<div>1</div>"
    assert Counting.compiled == 2


def test_compiled_code_is_kept_apart_by_escaping_and_syntax(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("{{ value }}<% value %>", encoding="utf-8")
    escaped = _env(tmp_path, autoescape=True).get_template("page.html")
    raw = _env(tmp_path, autoescape=False).get_template("page.html")
    other = _env(tmp_path, variable_start_string="<%", variable_end_string="%>")
    assert escaped.render(value="<i>") == "&lt;i&gt;<% value %>"
    assert raw.render(value="<i>") == "<i><% value %>"
    assert other.get_template("page.html").render(value="<i>") == "{{ value }}<i>"
