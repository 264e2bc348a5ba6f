"""The README stays true to the code it documents."""

from __future__ import annotations

import re
from pathlib import Path

from tui.ui.keys import KEYMAP

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_key_table_matches_the_keymap() -> None:
    text = README.read_text()
    block = text.split("<!-- keys:start", 1)[1].split("<!-- keys:end -->", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+) \| ([^|]+) \|$", block, re.MULTILINE)
    expected = [(k.shown_keys, k.description, k.group) for k in KEYMAP]
    assert [(a, b.strip(), c.strip()) for a, b, c in rows] == expected


def test_readme_quick_start_has_the_two_commands() -> None:
    quick = README.read_text().split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^uv run [^\n#]+", quick, re.MULTILINE)
    assert [c.strip() for c in commands[:2]] == ["uv run musicmint-tui --demo", "uv run pytest"]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (README.parent / ".ci" / "run").read_text()
    assert "\nuv run pytest\n" in ci


def test_screenshot_exists() -> None:
    assert "assets/screenshot.svg" in README.read_text()
    assert (README.parent / "assets" / "screenshot.svg").read_text().lstrip().startswith("<svg")


def test_readme_dialog_key_table_matches_the_dialog() -> None:
    from tui.ui.screens.help import dialog_keys

    text = README.read_text()
    block = text.split("<!-- dialog-keys:start", 1)[1].split("<!-- dialog-keys:end -->", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+) \|$", block, re.MULTILINE)
    assert [(key, action.strip()) for key, action in rows] == dialog_keys()
