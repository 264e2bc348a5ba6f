"""Layering rules, checked on the source: the data layer never imports Textual
and widgets never import httpx (data flows client -> poller -> messages -> widgets)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "tui"
NO_TEXTUAL = [
    "api",
    "simulator",
    "poller.py",
    "store.py",
    "downloads.py",
    "export.py",
    "config.py",
    "wait.py",
    "atomic.py",
    "lock.py",
    "logs.py",
    "text.py",
    "urls.py",
    "formatting.py",
]


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def files(entry: str) -> list[Path]:
    target = ROOT / entry
    return sorted(target.rglob("*.py")) if target.is_dir() else [target]


@pytest.mark.parametrize("entry", NO_TEXTUAL)
def test_data_layer_does_not_import_textual(entry: str) -> None:
    for path in files(entry):
        assert "textual" not in imported_roots(path), path


def test_widgets_do_not_import_httpx() -> None:
    for path in files("widgets"):
        assert "httpx" not in imported_roots(path), path
