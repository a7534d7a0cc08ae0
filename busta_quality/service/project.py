"""``busta init`` and ``busta suites diff``: scaffold a project from the templates shipped in
the package, and compare a project's suites with them.

The templates (``busta_quality/templates/project/``) are a copy of the repository's reference
project (busta.yml, gx/, expectations/, checkpoints/), kept in step by ``make templates``.
Nothing here imports great_expectations or pandas: the suites are read as JSON.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from busta_quality.errors import BustaError, ExitCode, UsageError
from busta_quality.settings import BustaConfig

#: the project tree ``busta init`` writes (installed with the package)
TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "project"

_SKIP_DIRS = frozenset({"__pycache__"})
_LAYER_ORDER = {"bronze": 0, "silver": 1, "gold": 2}


class WouldOverwrite(UsageError):
    """``busta init`` found files it would overwrite (and ``--force`` was not given)."""

    code = "would_overwrite"

    def __init__(self, message: str, hint: str, files: list[str]) -> None:
        super().__init__(message, hint)
        #: the files, relative to the target directory, that already exist
        self.files = files

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "files": list(self.files)}


class ProjectWriteError(BustaError):
    """A project file could not be written (permissions, disk full)."""

    exit_code = ExitCode.RUNTIME
    code = "write_error"


# -- busta init --------------------------------------------------------------------------------


@dataclass(frozen=True)
class InitReport:
    """What ``busta init`` wrote: every file (relative to ``target``) and which existed before."""

    target: Path
    created_dir: bool
    files: tuple[str, ...]
    overwritten: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The documented ``--json`` object (docs/cli.md)."""
        return {
            "ok": True,
            "exit_code": 0,
            "target": str(self.target),
            "created_dir": self.created_dir,
            "files": list(self.files),
            "overwritten": list(self.overwritten),
        }


def template_files(root: Path = TEMPLATES) -> list[str]:
    """Every file of the template tree, as sorted POSIX paths relative to ``root``."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        rel = Path(dirpath).relative_to(root)
        out += [(rel / name).as_posix() for name in filenames if not name.endswith(".pyc")]
    return sorted(out)


def _file_mode() -> int:
    """rw for the owner, the rest as the umask allows, never world-writable."""
    umask = os.umask(0o022)
    os.umask(umask)
    return ((0o666 & ~umask) | stat.S_IRUSR | stat.S_IWUSR) & ~stat.S_IWOTH


def _blocking_parent(target: Path, rel: str) -> str | None:
    """A path on the way to ``rel`` that exists and is not a directory (so no force helps)."""
    path = target
    for part in Path(rel).parts[:-1]:
        path = path / part
        if path.exists() and not path.is_dir():
            return path.relative_to(target).as_posix()
    return None


def init_project(target: Path, *, force: bool) -> InitReport:
    """Write busta.yml, gx/, expectations/ and checkpoints/ from the templates into ``target``
    (created if missing). Every destination is checked before anything is written: existing
    files are refused unless ``force`` (:class:`WouldOverwrite`, exit 2)."""
    if not TEMPLATES.is_dir():
        raise UsageError(
            f"{TEMPLATES}: the project templates are missing from this installation",
            "reinstall busta-quality (in a checkout: make templates)",
        )
    target = target.expanduser()
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target}: exists and is not a directory", "choose a directory")
    files = template_files()
    existing = [rel for rel in files if os.path.lexists(target / rel)]
    blocked = sorted(
        {b for rel in files if (b := _blocking_parent(target, rel))}
        | {rel for rel in existing if (target / rel).is_dir() and not (target / rel).is_symlink()}
    )
    if blocked:
        raise UsageError(
            f"{target}: cannot write the project: {', '.join(blocked)} "
            f"{'is' if len(blocked) == 1 else 'are'} in the way (a file where a directory "
            "is needed, or a directory where a file is needed)",
            "move them aside or choose another directory; --force replaces files only",
        )
    if existing and not force:
        raise WouldOverwrite(
            f"{target}: would overwrite {len(existing)} existing file(s): {', '.join(existing)}",
            "pass --force to overwrite them, or choose an empty directory; nothing was written",
            existing,
        )
    created = not target.exists()
    mode = _file_mode()
    for written, rel in enumerate(files):
        try:
            _write(target / rel, (TEMPLATES / rel).read_bytes(), mode)
        except OSError as exc:
            raise ProjectWriteError(
                f"{target / rel}: cannot write: {exc.strerror or exc} "
                f"({written} of {len(files)} files written)",
                "check the directory's permissions and free space, then run busta init "
                "again with --force",
            ) from exc
    return InitReport(
        target=target.resolve(),
        created_dir=created,
        files=tuple(files),
        overwritten=tuple(existing),
    )


def _makedirs(path: Path) -> None:
    """Like ``mkdir -p``, with the umask applied and never world-writable."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for p in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(p, 0o775)


def _write(dest: Path, data: bytes, mode: int) -> None:
    """Write through a temporary file and rename: an existing symlink is replaced, not
    followed, and a reader never sees half a file."""
    _makedirs(dest.parent)
    tmp = dest.with_name(f".{dest.name}.busta-init-{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            os.fchmod(fh.fileno(), mode)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# -- busta suites diff -------------------------------------------------------------------------

#: kwargs that name the column(s) an expectation is about (its identity within a suite);
#: a table-level expectation (``expect_table_*``) has none: its column lists are values
_COLUMN_KWARGS = ("column", "column_A", "column_B", "column_list")
#: not compared: GX's own bookkeeping
_IGNORED_FIELDS = frozenset({"id", "type", "kwargs", "rendered_content"})

SuiteStatus = Literal["unchanged", "changed", "only_in_project", "only_in_templates", "unreadable"]


@dataclass(frozen=True)
class FieldChange:
    """One field that differs: ``severity``, ``meta``, ``notes`` or ``kwargs.<name>``;
    ``None`` where the field is absent on that side."""

    field: str
    template: Any
    project: Any

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "template": self.template, "project": self.project}


@dataclass(frozen=True)
class ExpectationDiff:
    """An expectation ``added`` (only in the project), ``removed`` (only in the templates)
    or ``changed`` (same type and column(s), other fields differ)."""

    type: str
    columns: tuple[str, ...]
    severity: str
    changes: tuple[FieldChange, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.type}({', '.join(self.columns)})"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "columns": list(self.columns),
            "severity": self.severity,
        }
        if self.changes:
            out["changes"] = [c.to_json() for c in self.changes]
        return out


@dataclass(frozen=True)
class SuiteDiff:
    """One suite, by name: its status and what differs."""

    suite: str
    status: SuiteStatus
    project_file: str | None = None
    template_file: str | None = None
    expectations: int = 0
    added: tuple[ExpectationDiff, ...] = ()
    removed: tuple[ExpectationDiff, ...] = ()
    changed: tuple[ExpectationDiff, ...] = ()
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "suite": self.suite,
            "status": self.status,
            "project_file": self.project_file,
            "template_file": self.template_file,
            "expectations": self.expectations,
            "added": [e.to_json() for e in self.added],
            "removed": [e.to_json() for e in self.removed],
            "changed": [e.to_json() for e in self.changed],
        }
        if self.error:
            out["error"] = self.error
        return out


@dataclass(frozen=True)
class SuitesDiff:
    """``busta suites diff``: the project's suites against the installed package's templates."""

    project_dir: Path
    templates_dir: Path
    package_version: str
    project_found: bool
    suites: tuple[SuiteDiff, ...] = field(default_factory=tuple)

    @property
    def differs(self) -> list[SuiteDiff]:
        return [s for s in self.suites if s.status != "unchanged"]

    def summary(self) -> dict[str, int]:
        def count(status: str) -> int:
            return sum(s.status == status for s in self.suites)

        return {
            "suites": len(self.suites),
            "unchanged": count("unchanged"),
            "changed": count("changed"),
            "only_in_project": count("only_in_project"),
            "only_in_templates": count("only_in_templates"),
            "unreadable": count("unreadable"),
            "expectations_added": sum(len(s.added) for s in self.suites),
            "expectations_removed": sum(len(s.removed) for s in self.suites),
            "expectations_changed": sum(len(s.changed) for s in self.suites),
        }

    def to_json(self) -> dict[str, Any]:
        """The documented ``--json`` object (docs/cli.md)."""
        return {
            "ok": True,
            "exit_code": 0,
            "project": str(self.project_dir),
            "templates": str(self.templates_dir),
            "package_version": self.package_version,
            "project_found": self.project_found,
            "identical": not self.differs,
            "summary": self.summary(),
            "suites": [s.to_json() for s in self.suites],
        }


@dataclass(frozen=True)
class _Suite:
    name: str
    file: str
    expectations: tuple[dict[str, Any], ...] = ()
    error: str | None = None


def _read_suites(root: Path) -> dict[str, _Suite]:
    """Every suite under ``root`` by name (``<layer>.<dataset>``); an unreadable file is kept
    with its error so one broken suite does not hide the others."""
    out: dict[str, _Suite] = {}
    if not root.is_dir():
        return out
    for path in sorted(root.rglob("*.json")):
        rel = path.relative_to(root).as_posix()
        fallback = rel.removesuffix(".json").replace("/", ".")
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(doc, dict) or not isinstance(doc.get("expectations", []), list):
                raise ValueError("not a GX suite (no 'expectations' list)")
            exps = tuple(e for e in doc.get("expectations", []) if isinstance(e, dict))
            name = str(doc.get("name") or fallback)
            out[name] = _Suite(name, rel, exps)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            out[fallback] = _Suite(fallback, rel, error=f"{rel}: {exc}")
    return out


def _columns(exp: dict[str, Any]) -> tuple[str, ...]:
    if str(exp.get("type", "")).startswith("expect_table_"):
        return ()
    kwargs = exp.get("kwargs") or {}
    cols: list[str] = []
    for key in _COLUMN_KWARGS:
        value = kwargs.get(key)
        if isinstance(value, list):
            cols += [str(v) for v in value]
        elif value is not None:
            cols.append(str(value))
    return tuple(cols)


def _key(exp: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    return str(exp.get("type", "?")), _columns(exp)


def _severity(exp: dict[str, Any]) -> str:
    return str(exp.get("severity") or "critical")  # GX's default


def _comparable(exp: dict[str, Any]) -> dict[str, Any]:
    """The fields that make two expectations with the same key differ."""
    key_kwargs = () if str(exp.get("type", "")).startswith("expect_table_") else _COLUMN_KWARGS
    out: dict[str, Any] = {
        f"kwargs.{k}": v for k, v in (exp.get("kwargs") or {}).items() if k not in key_kwargs
    }
    out.update({k: v for k, v in exp.items() if k not in _IGNORED_FIELDS})
    out["severity"] = _severity(exp)
    out["meta"] = exp.get("meta") or {}
    return out


def _changes(template: dict[str, Any], project: dict[str, Any]) -> tuple[FieldChange, ...]:
    a, b = _comparable(template), _comparable(project)
    return tuple(
        FieldChange(name, a.get(name), b.get(name))
        for name in sorted(a.keys() | b.keys(), key=lambda n: (n.startswith("kwargs."), n))
        if a.get(name) != b.get(name)
    )


def _entry(exp: dict[str, Any], changes: tuple[FieldChange, ...] = ()) -> ExpectationDiff:
    type_, cols = _key(exp)
    return ExpectationDiff(type_, cols, _severity(exp), changes)


def _pair(
    template: list[dict[str, Any]], project: list[dict[str, Any]]
) -> Iterator[tuple[dict[str, Any] | None, dict[str, Any] | None]]:
    """Pair expectations of one key (a suite may hold several, e.g. a lower and an upper
    bound): identical ones first, then those with the same kwargs names, then in order."""
    left, right = list(template), list(project)
    for same in (
        lambda a, b: _comparable(a) == _comparable(b),
        lambda a, b: (a.get("kwargs") or {}).keys() == (b.get("kwargs") or {}).keys(),
        lambda a, b: True,
    ):
        for a in list(left):
            match = next((b for b in right if same(a, b)), None)
            if match is not None:
                left.remove(a)
                right.remove(match)
                yield a, match
    for a in left:
        yield a, None
    for b in right:
        yield None, b


def _diff_suite(name: str, template: _Suite, project: _Suite) -> SuiteDiff:
    keys: dict[tuple[str, tuple[str, ...]], tuple[list[Any], list[Any]]] = {}
    for side, suite in ((0, template), (1, project)):
        for exp in suite.expectations:
            keys.setdefault(_key(exp), ([], []))[side].append(exp)
    added, removed, changed = [], [], []
    for group_template, group_project in keys.values():
        for a, b in _pair(group_template, group_project):
            if a is None and b is not None:
                added.append(_entry(b))
            elif b is None and a is not None:
                removed.append(_entry(a))
            elif a is not None and b is not None and (changes := _changes(a, b)):
                changed.append(_entry(b, changes))
    return SuiteDiff(
        suite=name,
        status="changed" if added or removed or changed else "unchanged",
        project_file=project.file,
        template_file=template.file,
        expectations=len(project.expectations),
        added=tuple(added),
        removed=tuple(removed),
        changed=tuple(changed),
    )


def _suite_order(name: str) -> tuple[int, str]:
    return _LAYER_ORDER.get(name.partition(".")[0], 9), name


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("busta-quality")
    except PackageNotFoundError:
        return "unknown"


def suites_diff(cfg: BustaConfig) -> SuitesDiff:
    """How the project's suites (``expectations/`` beside the GX project dir) differ from the
    suites shipped in the installed package: per suite, expectations added, removed and
    changed, matched by type and column(s); suites only on one side. Never raises for
    content: an unreadable suite file is reported as such."""
    project_dir = cfg.gx_dir.parent / "expectations"
    templates_dir = TEMPLATES / "expectations"
    theirs, ours = _read_suites(templates_dir), _read_suites(project_dir)
    out = []
    for name in sorted(theirs.keys() | ours.keys(), key=_suite_order):
        template, project = theirs.get(name), ours.get(name)
        broken = next((s for s in (project, template) if s is not None and s.error), None)
        if broken is not None:
            out.append(
                SuiteDiff(
                    suite=name,
                    status="unreadable",
                    project_file=project.file if project else None,
                    template_file=template.file if template else None,
                    error=broken.error,
                )
            )
        elif template is None and project is not None:
            out.append(
                SuiteDiff(
                    name,
                    "only_in_project",
                    project_file=project.file,
                    expectations=len(project.expectations),
                )
            )
        elif project is None and template is not None:
            out.append(
                SuiteDiff(
                    name,
                    "only_in_templates",
                    template_file=template.file,
                    expectations=len(template.expectations),
                )
            )
        elif template is not None and project is not None:
            out.append(_diff_suite(name, template, project))
    return SuitesDiff(
        project_dir=project_dir,
        templates_dir=templates_dir,
        package_version=_package_version(),
        project_found=project_dir.is_dir(),
        suites=tuple(out),
    )
