"""The dependency rules of DESIGN.md ("The parts", "Dependency direction"), checked on the source.

core <- workers <- ui <- app, and cli -> core. Every ``.py`` file under ``clearooms_wizard/`` is
parsed (not imported) and every import statement in it is collected, wherever it stands: at
module level, inside a function, or under ``if TYPE_CHECKING:``.

Which imports count:

- The layer rules count every import. One inside a function is still a dependency, only paid
  later; one under TYPE_CHECKING still ties the layer's code to the other layer's types (mypy
  follows it, and neither can move without the other).
- The cycle rule counts only the imports that run when a module is first imported: module level,
  not under TYPE_CHECKING, not inside a function nor under ``if __name__ == "__main__":``. A cycle
  among those is what leaves a module half initialised; the implicit import of a module's parent
  package is not counted (a package's ``__init__`` re-exporting its own modules is not a cycle).

Not seen: ``importlib.import_module`` with a computed name (``demo/__init__.py`` loads its own
modules so). The subprocess tests at the end check what really gets loaded.
"""

from __future__ import annotations

import ast
import enum
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "clearooms_wizard"

QT = ("PySide6", "shiboken6")
# What the UI would need to reach Microsoft, the keyring or the workspace file itself.
NETWORK_AND_STORAGE = (
    "requests",
    "urllib3",
    "msal",
    "truststore",
    "keyring",
    "sqlite3",
    "socket",
    "ssl",
    "http.client",
    "urllib.request",
)


class When(enum.Enum):
    MODULE = "at module level"
    FUNCTION = "inside a function"
    TYPE_CHECKING = "under TYPE_CHECKING"


@dataclass(frozen=True)
class Import:
    importer: str
    target: str
    path: Path
    line: int
    statement: str
    when: When

    def describe(self, root: Path) -> str:
        where = self.path.relative_to(root).as_posix()
        return f"{self.importer} ({where}:{self.line}, {self.when.value}): {self.statement}"


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def module_names(package_dir: Path) -> dict[str, Path]:
    """Every module of the package, by dotted name (a package by the name of its folder)."""
    names: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )


class _ImportCollector:
    def __init__(self, module: str, path: Path, is_package: bool, known: set[str]) -> None:
        self.module = module
        self.path = path
        self.package = module if is_package else module.rpartition(".")[0]
        self.known = known
        self.source = path.read_text(encoding="utf-8")
        self.found: list[Import] = []

    def collect(self) -> list[Import]:
        self._visit(ast.parse(self.source, str(self.path)), When.MODULE)
        return self.found

    def _visit(self, node: ast.AST, when: When) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and when is When.MODULE and self._guarded(child.test):
                guarded = When.TYPE_CHECKING if _is_type_checking(child.test) else When.FUNCTION
                self._visit_block(child.body, guarded)
                self._visit_block(child.orelse, when)
                continue
            inner = when
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) and when is When.MODULE:
                inner = When.FUNCTION
            self._visit_block([child], inner)

    def _visit_block(self, statements: Sequence[ast.AST], when: When) -> None:
        for statement in statements:
            self._record(statement, when)
            self._visit(statement, when)

    @staticmethod
    def _guarded(test: ast.expr) -> bool:
        return _is_type_checking(test) or _is_main_guard(test)

    def _record(self, node: ast.AST, when: When) -> None:
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = self._absolute(node)
            targets = [self._from_target(base, alias.name) for alias in node.names]
        else:
            return
        statement = " ".join((ast.get_source_segment(self.source, node) or "").split())
        for target in targets:
            self.found.append(Import(self.module, target, self.path, node.lineno, statement, when))

    def _absolute(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        parts = self.package.split(".")
        parts = parts[: len(parts) - (node.level - 1)]
        return ".".join([*parts, node.module] if node.module else parts)

    def _from_target(self, base: str, name: str) -> str:
        # `from a import b` imports module a.b when b is one; outside the package it cannot be
        # told, so a.b is kept: a rule on `a` (or on `a.b`, e.g. PySide6.QtWidgets) still matches.
        candidate = f"{base}.{name}"
        if within(base, PACKAGE) and candidate not in self.known:
            return base
        return candidate


def scan(package_dir: Path) -> list[Import]:
    names = module_names(package_dir)
    found: list[Import] = []
    for module, path in names.items():
        collector = _ImportCollector(module, path, path.name == "__init__.py", set(names))
        found.extend(collector.collect())
    return found


@dataclass(frozen=True)
class Rule:
    """Modules within `layer` may not import anything within `forbidden` (unless it is within
    `except_`); with `package_allowed`, they may import from the package only the package root
    and the parts listed there."""

    title: str
    layer: str
    forbidden: tuple[str, ...] = ()
    except_: tuple[str, ...] = ()
    package_allowed: tuple[str, ...] | None = None

    def breaks(self, imported: Import) -> bool:
        if not within(imported.importer, self.layer):
            return False
        target = imported.target
        if any(within(target, allowed) for allowed in self.except_):
            return False
        if any(within(target, name) for name in self.forbidden):
            return True
        if self.package_allowed is not None and within(target, PACKAGE) and target != PACKAGE:
            return not any(within(target, allowed) for allowed in self.package_allowed)
        return False

    def violations(self, imports: Iterable[Import], root: Path) -> list[str]:
        found = (imported.describe(root) for imported in imports if self.breaks(imported))
        return list(dict.fromkeys(found))  # `from a import b, c` is one line, however many names


def _in_package(*names: str) -> tuple[str, ...]:
    return tuple(f"{PACKAGE}.{name}" for name in names)


RULES = (
    Rule("core imports no Qt", f"{PACKAGE}.core", forbidden=QT),
    Rule(
        # Nor demo, ui, workers, app, cli, resources or anything added later.
        "core imports nothing from the package but core (and the package root)",
        f"{PACKAGE}.core",
        package_allowed=_in_package("core"),
    ),
    Rule(
        "workers imports QtCore only (not QtWidgets, QtGui or any other Qt module)",
        f"{PACKAGE}.workers",
        forbidden=QT,
        except_=("PySide6.QtCore",),
    ),
    Rule(
        "workers imports nothing from the package but core and workers (never ui, app or cli)",
        f"{PACKAGE}.workers",
        package_allowed=_in_package("core", "workers"),
    ),
    Rule(
        "ui never imports demo, app or cli",
        f"{PACKAGE}.ui",
        forbidden=_in_package("demo", "app", "cli", "__main__"),
    ),
    Rule(
        "ui never imports the workspace internals (core.workspace)",
        f"{PACKAGE}.ui",
        forbidden=_in_package("core.workspace"),
    ),
    Rule(
        "ui never touches the network, the keyring or the workspace file",
        f"{PACKAGE}.ui",
        forbidden=NETWORK_AND_STORAGE,
    ),
    Rule("cli imports no Qt", f"{PACKAGE}.cli", forbidden=QT),
    Rule(
        # cli -> core: the demo tenant is one of its connection options; runtime is the
        # composition root's shared half (it decides the connection, the workspace and the secret
        # store for both front ends), so the commands get their use cases from it rather than
        # wiring core a second time. Never app, ui or workers: the entry point (__main__.py)
        # hands main() the way to open the wizard.
        "cli imports nothing from the package but core, demo, runtime and cli",
        f"{PACKAGE}.cli",
        package_allowed=_in_package("core", "demo", "runtime", "cli"),
    ),
    Rule(
        "the installed package never imports the developer tools or the tests",
        PACKAGE,
        forbidden=("tools", "tests"),
    ),
)


def import_cycles(imports: Iterable[Import]) -> list[list[str]]:
    """Strongly connected components (Tarjan) of more than one module, among module-level imports
    between modules of the package."""
    graph: dict[str, set[str]] = {}
    for imported in imports:
        graph.setdefault(imported.importer, set())
        if (
            imported.when is When.MODULE
            and within(imported.target, PACKAGE)
            and imported.target != imported.importer
        ):
            graph[imported.importer].add(imported.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def describe_cycle(component: Sequence[str], imports: Iterable[Import], root: Path) -> str:
    members = set(component)
    lines = dict.fromkeys(
        f"  {imported.describe(root)}"
        for imported in imports
        if imported.when is When.MODULE
        and imported.importer in members
        and imported.target in members
        and imported.target != imported.importer
    )
    return "cycle between " + ", ".join(component) + ":\n" + "\n".join(lines)


# -- the rules, on the real source -----------------------------------------------------------


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    return scan(ROOT / PACKAGE)


@pytest.mark.parametrize("rule", RULES, ids=[rule.title for rule in RULES])
def test_dependency_rule(rule: Rule, imports: list[Import]) -> None:
    assert any(within(name, rule.layer) for name in module_names(ROOT / PACKAGE)), (
        f"no module in {rule.layer}: the rule would check nothing; follow the code where it moved"
    )
    broken = rule.violations(imports, ROOT)
    assert not broken, f"{rule.title}; broken by:\n" + "\n".join(broken)


def test_no_import_cycles(imports: list[Import]) -> None:
    cycles = import_cycles(imports)
    assert not cycles, "\n".join(describe_cycle(cycle, imports, ROOT) for cycle in cycles)


def test_the_scan_sees_every_kind_of_import(imports: list[Import]) -> None:
    # Guards the scanner itself: if it stopped looking inside functions or TYPE_CHECKING blocks,
    # the rules above would pass on code that breaks them.
    kinds = {imported.when for imported in imports}
    assert kinds == set(When)
    importers = {imported.importer for imported in imports}
    for part in ("core", "workers", "ui", "cli", "app"):
        assert any(within(name, f"{PACKAGE}.{part}") for name in importers), part


# -- what really gets loaded ----------------------------------------------------------------


@pytest.fixture(scope="module")
def qt_loaded() -> dict[str, list[str]]:
    """The Qt modules loaded by importing every module of core, of demo, of cli and of workers,
    each part in a fresh interpreter (so that one part's Qt is not blamed on the next)."""
    names = module_names(ROOT / PACKAGE)
    parts = ("core", "demo", "cli", "workers")
    groups = {
        part: sorted(name for name in names if within(name, f"{PACKAGE}.{part}")) for part in parts
    }
    assert all(groups.values()), groups
    started = {
        part: subprocess.Popen(
            [sys.executable, "-c", _REPORT_QT.format(modules=modules, qt=QT)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for part, modules in groups.items()
    }
    loaded: dict[str, list[str]] = {}
    for part, process in started.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        loaded[part] = json.loads(out)
    return loaded


_REPORT_QT = """
import json, sys
for name in {modules!r}:
    __import__(name)
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {qt!r})))
"""


def test_core_imports_no_qt(qt_loaded: dict[str, list[str]]) -> None:
    assert qt_loaded["core"] == [], f"Qt imported by core: {qt_loaded['core']}"
    assert qt_loaded["demo"] == [], f"Qt imported by the demo tenant: {qt_loaded['demo']}"


def test_the_command_line_loads_no_qt(qt_loaded: dict[str, list[str]]) -> None:
    assert qt_loaded["cli"] == [], f"Qt imported by cli: {qt_loaded['cli']}"


def test_workers_load_qtcore_only(qt_loaded: dict[str, list[str]]) -> None:
    others = [name for name in qt_loaded["workers"] if name.startswith("PySide6.Qt")]
    assert others == ["PySide6.QtCore"], others


# -- the checker itself can fail ----------------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> Path:
    package_dir = root / PACKAGE
    for name, text in files.items():
        path = package_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return package_dir


@pytest.fixture
def bad_tree(tmp_path: Path) -> list[Import]:
    package_dir = _write(
        tmp_path,
        {
            "__init__.py": "",
            "core/__init__.py": "",
            "core/values.py": """
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    from clearooms_wizard.ui.wizard import SetupWizard
                def f():
                    from PySide6.QtWidgets import QWidget
            """,
            "core/workspace.py": "",
            "workers/__init__.py": "from PySide6 import QtCore, QtGui\n",
            "workers/runner.py": "from clearooms_wizard.ui import wizard\n",
            "ui/__init__.py": "",
            "ui/wizard.py": """
                from clearooms_wizard.core import workspace
                from ..demo import tenant
                import requests.adapters
            """,
            "demo/__init__.py": "",
            "demo/tenant.py": "",
            "cli/__init__.py": "from . import run\n",
            "cli/run.py": """
                from clearooms_wizard.cli import parser
                def main():
                    from clearooms_wizard.app import run_wizard
            """,
            "cli/parser.py": "import clearooms_wizard.cli.run\nimport shiboken6\n",
            "app.py": "if __name__ == '__main__':\n    import tools.screenshots\n",
        },
    )
    return scan(package_dir)


def test_every_rule_names_the_module_and_the_line(bad_tree: list[Import], tmp_path: Path) -> None:
    broken = {rule.title: rule.violations(bad_tree, tmp_path) for rule in RULES}
    assert all(broken.values()), [title for title, found in broken.items() if not found]
    assert broken["core imports no Qt"] == [
        "clearooms_wizard.core.values (clearooms_wizard/core/values.py:6, inside a function): "
        "from PySide6.QtWidgets import QWidget"
    ]
    (core_on_ui,) = broken["core imports nothing from the package but core (and the package root)"]
    assert "values.py:4, under TYPE_CHECKING): from clearooms_wizard.ui.wizard import" in core_on_ui
    (gui,) = broken["workers imports QtCore only (not QtWidgets, QtGui or any other Qt module)"]
    assert gui.endswith("from PySide6 import QtCore, QtGui")
    (internals,) = broken["ui never imports the workspace internals (core.workspace)"]
    assert internals.endswith(
        "wizard.py:2, at module level): from clearooms_wizard.core import workspace"
    )
    assert any(
        "from ..demo import tenant" in line for line in broken["ui never imports demo, app or cli"]
    )


def test_a_cycle_is_found_only_among_module_level_imports(bad_tree: list[Import]) -> None:
    assert import_cycles(bad_tree) == [["clearooms_wizard.cli.parser", "clearooms_wizard.cli.run"]]
    only_deferred = [i for i in bad_tree if i.importer != "clearooms_wizard.cli.parser"]
    assert import_cycles(only_deferred) == []
