"""The shape of the code: layers, no import cycles, and the private Textual
internals the footer leans on.

The layer contract itself lives in ``pyproject.toml`` (import-linter) and runs
in CI as ``lint-imports``; here it is shown to *fail* when a module breaks it,
so a contract that checks nothing would be noticed.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tui"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(package: Path) -> dict[str, set[str]]:
    """Every module of ``package`` and the package modules it imports, anywhere
    in the file (function-level imports count: they run too)."""
    modules = {module_name(p): p for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")
                    anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                    base = ".".join([*anchor, base] if base else anchor)
                # `from pkg import mod` imports pkg.mod when that is a module
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph[node]:
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    assert cycles(import_graph(PACKAGE)) == []


def test_the_cycle_check_finds_a_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "tui"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("")
    (pkg / "a" / "one.py").write_text("from tui.a import two\n")
    (pkg / "a" / "two.py").write_text("def f():\n    from .one import x\n")
    (pkg / "three.py").write_text("import tui.a.one\n")
    graph = {
        name.removeprefix(f"{tmp_path.name}."): deps
        for name, deps in import_graph_at(tmp_path, pkg).items()
    }
    assert cycles(graph) == [["tui.a.one", "tui.a.two"]]


def import_graph_at(root: Path, package: Path) -> dict[str, set[str]]:
    global ROOT
    saved, ROOT = ROOT, root
    try:
        return import_graph(package)
    finally:
        ROOT = saved


def lint_imports(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(pythonpath), "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_layer_contract_fails_on_a_violation(tmp_path: Path) -> None:
    """A copy of the package with two violations: core imports Textual, and a
    widget imports httpx. The project's own contracts must catch both."""
    shutil.copytree(PACKAGE, tmp_path / "tui", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "tui" / "core" / "sneaky.py").write_text("from textual.app import App\n")
    (tmp_path / "tui" / "ui" / "widgets" / "fetcher.py").write_text("import httpx\n")
    result = lint_imports(tmp_path, tmp_path)
    assert result.returncode != 0, result.stdout
    assert "Only the UI layer (and the command line that starts it) imports Textual BROKEN" in (
        result.stdout
    )
    assert "tui.core.sneaky -> textual" in result.stdout
    assert "it never imports httpx itself BROKEN" in result.stdout
    assert "tui.ui.widgets.fetcher -> httpx" in result.stdout


# -- private Textual API guard ---------------------------------------------------


def test_footer_internals_still_have_the_shape_key_footer_needs() -> None:
    """KeyFooter replaces ``Footer.bindings_changed`` (to rebuild once per burst)
    and sets Footer's private ``_bindings_ready`` flag as the original does."""
    import inspect

    from textual.widgets import Footer

    from tui.ui.widgets.footer import KeyFooter

    assert list(inspect.signature(Footer.bindings_changed).parameters) == ["self", "screen"], (
        "KeyFooter.bindings_changed overrides Footer.bindings_changed(screen): "
        "its signature changed in this Textual version"
    )
    assert "self._bindings_ready = True" in inspect.getsource(Footer.bindings_changed), (
        "KeyFooter sets Footer._bindings_ready as Footer.bindings_changed did; "
        "that flag changed in this Textual version"
    )
    assert "self._bindings_ready" in inspect.getsource(Footer.compose)
    assert KeyFooter.bindings_changed is not Footer.bindings_changed


def test_sniffio_is_importable() -> None:
    """httpcore asks sniffio which async library runs; without it, each request
    pays for a failing import that scans sys.path (about 20 % of a request's CPU
    here). A dependency now: this fails if it ever goes missing again."""
    import importlib.util

    assert importlib.util.find_spec("sniffio") is not None
