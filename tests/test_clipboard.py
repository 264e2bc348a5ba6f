"""The clipboard service: which tool it picks, and how it runs one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tui.services.clipboard import ClipboardTool, copy_text, find_tool


def which_of(*installed: str):
    """A ``shutil.which`` that finds only ``installed``."""
    return lambda name: f"/usr/bin/{name}" if name in installed else None


ALL = which_of("wl-copy", "xclip", "xsel", "pbcopy", "clip.exe")


@pytest.mark.parametrize(
    ("env", "system", "wsl", "installed", "expected"),
    [
        ({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "linux", False, ALL, "wl-copy"),
        ({"DISPLAY": ":0"}, "linux", False, ALL, "xclip"),
        ({"DISPLAY": ":0"}, "linux", False, which_of("xsel"), "xsel"),
        ({"WAYLAND_DISPLAY": "w"}, "linux", False, which_of("xclip"), None),
        ({}, "linux", False, ALL, None),  # ssh without a display: OSC 52 only
        ({}, "darwin", False, ALL, "pbcopy"),
        ({}, "win32", False, ALL, "clip.exe"),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True, ALL, "clip.exe"),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True, which_of("wl-copy"), "wl-copy"),
    ],
)
def test_the_tool_follows_the_platform_and_display(env, system, wsl, installed, expected) -> None:
    tool = find_tool(env, system, installed, wsl)
    assert (tool.name if tool else None) == expected
    if tool:
        assert tool.argv[0] == f"/usr/bin/{expected}"  # found on PATH, run without a shell


def test_xclip_and_xsel_write_the_clipboard_not_the_primary_selection() -> None:
    assert find_tool({"DISPLAY": ":0"}, "linux", ALL, False).argv[1:] == ("-selection", "clipboard")
    xsel = find_tool({"DISPLAY": ":0"}, "linux", which_of("xsel"), False)
    assert xsel.argv[1:] == ("--clipboard", "--input")


def test_the_environment_variable_overrides_the_choice() -> None:
    assert find_tool({"MUSICMINT_CLIPBOARD": "none", "DISPLAY": ":0"}, "linux", ALL, False) is None
    tool = find_tool({"MUSICMINT_CLIPBOARD": "xclip -selection primary"}, "linux", ALL, False)
    assert tool.argv == ("/usr/bin/xclip", "-selection", "primary")
    mine = find_tool({"MUSICMINT_CLIPBOARD": "'/opt/my tools/copy' --quiet"}, "linux", ALL, False)
    assert mine.argv == ("/opt/my tools/copy", "--quiet")


def test_an_unparseable_override_is_a_failure_that_says_why() -> None:
    tool = find_tool({"MUSICMINT_CLIPBOARD": "copy 'unclosed"}, "linux", ALL, False)
    outcome = copy_text(tool, "abc")
    assert not outcome.ok and "unbalanced quotes" in outcome.problem


def script(tmp_path: Path, body: str) -> ClipboardTool:
    path = tmp_path / "tool"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return ClipboardTool("tool", (str(path),))


def test_the_tools_output_never_reaches_the_terminal(tmp_path, capfd) -> None:
    """The dashboard owns the terminal: a tool's chatter would tear it."""
    tool = script(tmp_path, "echo chatter; echo 'it broke' >&2; exit 3")
    outcome = copy_text(tool, "abc")
    assert (outcome.ok, outcome.problem) == (False, "exit status 3: it broke")
    assert capfd.readouterr() == ("", "")


def test_a_child_left_behind_is_not_waited_for(tmp_path) -> None:
    """xclip and wl-copy fork a child that keeps the clipboard (and inherits
    stdout and stderr): the copy is done when the tool itself exits."""
    got = tmp_path / "got"
    tool = script(tmp_path, f'cat > "{got}"; sleep 5 & exit 0')
    started = time.monotonic()
    outcome = copy_text(tool, "abc", timeout=4)
    assert outcome.ok and got.read_text() == "abc"
    assert time.monotonic() - started < 2


def test_a_tool_that_hangs_is_given_up_on(tmp_path) -> None:
    outcome = copy_text(script(tmp_path, "exec sleep 10"), "abc", timeout=0.3)
    assert (outcome.ok, outcome.problem) == (False, "no answer within 0.3 s")


def test_a_long_error_is_cut_and_cleaned(tmp_path) -> None:
    tool = script(tmp_path, "printf '\\033[31m%0300d\\nsecond line' 0 >&2; exit 1")
    outcome = copy_text(tool, "abc")
    assert outcome.problem.startswith("exit status 1: \\x1b[31m000")
    assert outcome.problem.endswith("…") and "second" not in outcome.problem
    assert len(outcome.problem) < 160
