"""Fetch the Data Docs assets listed in busta_quality/quality/docs_assets.py (ASSETS) with
``npm pack`` (npm's configured registry) and write them, their licences and the vendor README
into busta_quality/quality/datadocs_assets/.

    .venv/bin/python tools/vendor_datadocs.py        # needs npm on PATH

Run it after changing ASSETS (a new GX version naming other files); review the diff.
tests/quality/test_docs_offline.py checks every file against the README's hashes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from busta_quality.quality.docs_assets import ASSETS, ASSETS_DIR, Asset, sri  # noqa: E402

#: packages whose tarball has no licence file: the licence their source repository states
_MIT = """MIT License

Copyright (C) {holder}

Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""
_NO_LICENCE_FILE = {
    "popper.js": ("mit", "Federico Zivolo 2017 (the header of popper.min.js)"),
    "vega": ("vega-embed", ""),  # the same BSD-3-Clause text and holder (UW IDL)
    "vega-interpreter": ("vega-embed", ""),
}


def _pack(package: str, version: str, into: Path) -> Path:
    out = subprocess.run(
        ["npm", "pack", f"{package}@{version}", "--silent", "--pack-destination", str(into)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]
    root = into / f"{package.lstrip('@').replace('/', '-')}-{version}"
    with tarfile.open(into / out) as tar:
        tar.extractall(root, filter="data")
    return root / "package"


def _licence(a: Asset, pkg: Path, packed: dict[str, Path]) -> str:
    for name in ("LICENSE", "LICENSE.txt", "LICENSE.md"):
        if (pkg / name).is_file():
            return (pkg / name).read_text(encoding="utf-8")
    kind, holder = _NO_LICENCE_FILE[a.package]
    if kind == "mit":
        return _MIT.format(holder=holder)
    other = next(p for d, p in packed.items() if d.startswith(kind + "-"))
    note = f"({a.package} ships no licence file; its repository's licence, as {kind}'s:)\n\n"
    return note + (other / "LICENSE").read_text(encoding="utf-8")


def main() -> None:
    vendor = ASSETS_DIR / "vendor"
    licences = ASSETS_DIR / "LICENSES"
    shutil.rmtree(vendor, ignore_errors=True)
    shutil.rmtree(licences, ignore_errors=True)
    licences.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        packed: dict[str, Path] = {}
        for a in ASSETS:
            if a.directory not in packed:
                packed[a.directory] = _pack(a.package, a.version, Path(tmp))
        for a in ASSETS:
            dst = ASSETS_DIR / a.rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(packed[a.directory] / a.path, dst)
        for a in ASSETS:
            path = licences / f"{a.directory}.txt"
            if not path.exists():
                path.write_text(_licence(a, packed[a.directory], packed), encoding="utf-8")
    (ASSETS_DIR / "README.md").write_text(readme(), encoding="utf-8")


def readme() -> str:
    rows = [
        f"| {a.package} | {a.version} | `{a.rel}` | `{sri((ASSETS_DIR / a.rel).read_bytes())}` "
        f"| {a.licence} ([text](LICENSES/{a.directory}.txt)) |"
        for a in ASSETS
    ]
    return "\n".join(
        [
            "# Vendored Data Docs assets",
            "",
            "The files GX 1.24's Data Docs templates load from CDNs, taken unchanged from the",
            "npm packages at the versions the templates name (`vega@5`, `vega-lite@5` and",
            "`vega-embed@6` are ranges: the newest release of that major when vendored), plus",
            "`vega-interpreter` (Vega's expressions without `eval`, for the Content-Security-Policy).",
            "`busta-docs.js` and `busta-docs.css` are busta's own (the pages' former inline scripts",
            "and busta's verdict styles). See docs/data-docs.md.",
            "",
            "Written by `tools/vendor_datadocs.py` (`npm pack`); the hashes are the `integrity`",
            "values (sha384, base64) and `tests/quality/test_docs_offline.py` checks them.",
            "",
            "| package | version | file | sha384 | licence |",
            "|---|---|---|---|---|",
            *rows,
            "",
        ]
    )


if __name__ == "__main__":
    main()
