"""Copying text with the system's own clipboard tool, when there is one.

OSC 52, the escape sequence Textual's ``copy_to_clipboard`` writes, cannot be
confirmed: tmux's default ``set-clipboard external`` and several terminals
drop it without a word, so "Copied" after sending it was a guess. A native
tool (wl-copy, xclip, xsel, pbcopy, clip.exe) says by its exit status whether
the clipboard took the text, so when one is found we run it and can say
"copied"; otherwise the UI sends OSC 52 and says only that it was sent.

No Textual here: the UI calls :func:`find_tool` (cheap: a PATH lookup) and runs
:func:`copy_text` in a thread worker, since a tool may take up to
:data:`TIMEOUT` seconds.

``MUSICMINT_CLIPBOARD`` overrides the choice: ``none`` for OSC 52 only, or a
command line (no shell; split like a POSIX shell would) that reads the text
on stdin. Tests use it to stand in for the system clipboard.
"""

from __future__ import annotations

import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tui.core.sanitize import clean

ENV_CLIPBOARD = "MUSICMINT_CLIPBOARD"
#: How long a tool may take: they answer in milliseconds unless something is
#: wrong (an unreachable X server), and the user is waiting for the message.
TIMEOUT = 2.0
#: How much of a failing tool's stderr is shown (its first line, cut here).
MAX_PROBLEM = 120

# One tool at a time, so two quick copies reach the clipboard in order.
_ONE_AT_A_TIME = threading.Lock()


@dataclass(frozen=True)
class ClipboardTool:
    """A command that puts its stdin on the clipboard."""

    name: str  # as the user knows it, for messages ("xclip")
    argv: tuple[str, ...]  # empty when MUSICMINT_CLIPBOARD could not be split


@dataclass(frozen=True)
class CopyOutcome:
    ok: bool
    tool: str
    problem: str = ""  # why not, one short clean line ("exit status 1: Can't open display")


def _on_wsl(env: Mapping[str, str]) -> bool:
    """Windows Subsystem for Linux: Linux, but the clipboard is Windows'."""
    if env.get("WSL_DISTRO_NAME") or env.get("WSL_INTEROP"):
        return True
    return "microsoft" in platform.uname().release.lower()


def _candidates(
    env: Mapping[str, str], system: str, wsl: bool
) -> list[tuple[str, tuple[str, ...]]]:
    """Tools worth trying here, best first.

    Each is only useful where its display server (or OS) is: xclip finds
    nothing to talk to without DISPLAY, so it is not even looked up then.
    On WSL clip.exe comes first: it writes the Windows clipboard directly,
    where WSLg's Wayland/X bridge may or may not pass the text on.
    """
    tools: list[tuple[str, tuple[str, ...]]] = []
    if system == "darwin":
        tools.append(("pbcopy", ("pbcopy",)))
    if system == "win32" or wsl:
        tools.append(("clip.exe", ("clip.exe",)))
    if env.get("WAYLAND_DISPLAY"):
        tools.append(("wl-copy", ("wl-copy",)))
    if env.get("DISPLAY"):
        tools.append(("xclip", ("xclip", "-selection", "clipboard")))
        tools.append(("xsel", ("xsel", "--clipboard", "--input")))
    return tools


def find_tool(
    env: Mapping[str, str] | None = None,
    system: str | None = None,
    which: Callable[[str], str | None] = shutil.which,
    wsl: bool | None = None,
) -> ClipboardTool | None:
    """The clipboard tool to use here, or ``None`` (OSC 52 is all there is).

    Looked up on every copy rather than once: a PATH lookup costs
    microseconds, and a changed environment (or a test) is then honoured.
    """
    env = os.environ if env is None else env
    chosen = env.get(ENV_CLIPBOARD, "").strip()
    if chosen.lower() == "none":
        return None
    if chosen:
        try:
            argv = tuple(shlex.split(chosen))
        except ValueError:
            argv = ()
        if argv:
            argv = (which(argv[0]) or argv[0], *argv[1:])
        return ClipboardTool(ENV_CLIPBOARD, argv)
    system = sys.platform if system is None else system
    wsl = (system == "linux" and _on_wsl(env)) if wsl is None else wsl
    for name, argv in _candidates(env, system, wsl):
        if path := which(argv[0]):
            return ClipboardTool(name, (path, *argv[1:]))
    return None


def copy_text(tool: ClipboardTool, text: str, timeout: float = TIMEOUT) -> CopyOutcome:
    """Run ``tool`` with ``text`` on stdin; blocks up to ``timeout`` seconds.

    stdout goes to /dev/null and stderr to a temporary file, never to the
    terminal (it would tear the dashboard) and never to a pipe: xclip and
    wl-copy leave a child behind that owns the clipboard and inherits both,
    so waiting for a pipe's end would wait for the next copy elsewhere. We
    wait for the tool itself only. A new session keeps that child (and with
    it the copied text) alive when the terminal closes. Text is sent as
    UTF-8; clip.exe reads the console code page, so only ASCII (IDs, URLs)
    is certain to arrive unchanged there.
    """
    if not tool.argv:
        return CopyOutcome(False, tool.name, "not a command line (unbalanced quotes?)")
    with _ONE_AT_A_TIME, tempfile.TemporaryFile() as errors:
        try:
            done = subprocess.run(
                tool.argv,
                input=text.encode("utf-8"),
                stdout=subprocess.DEVNULL,
                stderr=errors,
                timeout=timeout,
                check=False,
                start_new_session=True,
            )
        except FileNotFoundError:
            return CopyOutcome(False, tool.name, f"{tool.argv[0]} not found")
        except subprocess.TimeoutExpired:
            return CopyOutcome(False, tool.name, f"no answer within {timeout:g} s")
        except OSError as exc:
            return CopyOutcome(False, tool.name, exc.strerror or type(exc).__name__)
        if done.returncode == 0:
            return CopyOutcome(True, tool.name)
        errors.seek(0)
        said = errors.read(4096).decode("utf-8", "replace").strip().splitlines()
    problem = f"exit status {done.returncode}"
    if said:
        first = clean(said[0].strip(), one_line=True)
        problem += ": " + (first[:MAX_PROBLEM] + "…" if len(first) > MAX_PROBLEM else first)
    return CopyOutcome(False, tool.name, problem)
