"""Notifications that reach the user outside the dashboard (issue #13).

Two ways, each optional (``[notifications]`` in the config):

- through the terminal, as an escape sequence it turns into a system
  notification: OSC 9 (iTerm2, WezTerm, Windows Terminal, ghostty), OSC 777
  (foot, urxvt's notify extension) or OSC 99 (kitty). Inside tmux the
  sequence is wrapped in tmux's passthrough (``ESC P tmux; … ESC \\``). Whether
  ``allow-passthrough`` is on cannot be asked cheaply (``tmux show`` is a
  process per notification, and the answer may be stale by the next one), so
  the sequence is always wrapped there: tmux drops it when passthrough is off,
  which costs nothing and shows nothing.
- a desktop notification command (notify-send, osascript, or the user's own
  command line), run directly with the title and message as separate
  arguments: never through a shell, with a timeout, its output discarded.

The text is partly the server's (task titles, error messages): it is made one
line, stripped of every control character (ESC, BEL, C1, bidi overrides) and
capped, so it can never end the sequence early or start one of its own.

No Textual here: the UI writes :func:`sequence`'s answer through its driver
and runs :func:`run_command` in a thread.
"""

from __future__ import annotations

import base64
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tui.core.logs import log

#: What a notification may hold: notification popups show a line or two.
MAX_TITLE = 60
MAX_BODY = 240
#: How long a desktop command may run (notify-send answers in milliseconds).
TIMEOUT = 5.0
APP_NAME = "MusicMint"

# Every control character (C0, DEL, C1), bidi overrides and invisible marks,
# plus line and paragraph separators: none belongs in a one-line popup, and
# ESC, BEL and the C1 ST/OSC would end or start an escape sequence.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u180e\u200b\u200e\u200f\u2028\u2029"
    "\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ud800-\udfff]+"
)


def safe_text(text: str, limit: int) -> str:
    """``text`` as one plain line of at most ``limit`` characters: runs of
    control characters become one space, and a cut ends with an ellipsis."""
    line = " ".join(_UNSAFE.sub(" ", text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


# -- through the terminal ------------------------------------------------------
def detect_terminal(env: Mapping[str, str]) -> str:
    """The sequence this terminal understands (``"off"`` when unknown).

    tmux replaces TERM and TERM_PROGRAM with its own, but keeps what the
    outer terminal put in the environment the tmux server started with
    (KITTY_WINDOW_ID, WEZTERM_PANE, WT_SESSION, LC_TERMINAL=iTerm2).
    """
    term = env.get("TERM", "")
    program = env.get("TERM_PROGRAM", "")
    if env.get("KITTY_WINDOW_ID") or term == "xterm-kitty":
        return "osc99"
    if (
        program in ("iTerm.app", "WezTerm", "ghostty")
        or term == "xterm-ghostty"
        or env.get("LC_TERMINAL") == "iTerm2"
        or env.get("WEZTERM_PANE")
        or env.get("WT_SESSION")
    ):
        return "osc9"
    if term.startswith(("foot", "rxvt")):
        return "osc777"
    return "off"


def terminal_method(setting: str, env: Mapping[str, str]) -> str:
    """``[notifications] terminal`` resolved: a method name or ``"off"``."""
    return detect_terminal(env) if setting == "auto" else setting


def _osc(body: str) -> str:
    return f"\x1b]{body}\x1b\\"


def sequence(method: str, title: str, body: str, *, tmux: bool = False) -> str:
    """The escape sequence(s) announcing ``title``/``body`` by ``method``
    (``""`` for ``"off"``), wrapped for tmux's passthrough when ``tmux``."""
    title, body = safe_text(title, MAX_TITLE), safe_text(body, MAX_BODY)
    if method == "osc9":
        # One field only; a message starting "4;" would be a ConEmu progress
        # report, so it always starts with the title.
        out = _osc(f"9;{title}: {body}")
    elif method == "osc777":
        # notify;title;body: a ";" in the title would move the split.
        out = _osc(f"777;notify;{title.replace(';', ',')};{body}")
    elif method == "osc99":
        # kitty: title and body as two chunks of one notification (i=…), each
        # base64 (e=1), so no byte of the text is ever read as protocol.
        def chunk(payload: str, text: str, done: int) -> str:
            encoded = base64.b64encode(text.encode()).decode()
            return _osc(f"99;i=musicmint:d={done}:e=1:p={payload};{encoded}")

        out = chunk("title", title, 0) + chunk("body", body, 1)
    else:
        return ""
    if tmux:
        out = "\x1bPtmux;" + out.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return out


def in_tmux(env: Mapping[str, str]) -> bool:
    return bool(env.get("TMUX"))


# -- a desktop command ---------------------------------------------------------
#: osascript's script takes the text as arguments, never as script source.
_OSASCRIPT = (
    "osascript",
    "-e",
    "on run argv",
    "-e",
    "display notification (item 2 of argv) with title (item 1 of argv)",
    "-e",
    "end run",
)


def desktop_command(
    setting: str,
    env: Mapping[str, str] | None = None,
    system: str | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> tuple[str, ...]:
    """The command to which the title and message are appended (empty: none).

    ``auto`` is notify-send where a Linux/BSD display is, osascript on macOS.
    Anything else is the user's command line, split like a POSIX shell would
    split it (quotes) but never run by one."""
    env = os.environ if env is None else env
    system = sys.platform if system is None else system
    if setting == "off":
        return ()
    if setting != "auto":
        try:
            return tuple(shlex.split(setting))
        except ValueError:  # the config check refuses these already
            return ()
    if system == "darwin":
        return _OSASCRIPT if which("osascript") else ()
    if (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")) and (path := which("notify-send")):
        # "--": a title starting with "-" is text, not an option.
        return (path, f"--app-name={APP_NAME}", "--")
    return ()


def command_line(command: tuple[str, ...], title: str, body: str) -> list[str]:
    """``command`` with the (made safe) title and message as its last two arguments."""
    return [*command, safe_text(title, MAX_TITLE), safe_text(body, MAX_BODY)]


@dataclass(frozen=True)
class CommandOutcome:
    ok: bool
    problem: str = ""


def run_command(argv: list[str], timeout: float = TIMEOUT) -> CommandOutcome:
    """Run ``argv`` without a shell; blocks up to ``timeout`` s (call it from a thread).

    Nothing reaches the terminal: stdin, stdout and stderr are /dev/null (a
    notifier's chatter would tear the dashboard), and a new session keeps it
    from the terminal's signals."""
    try:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
            start_new_session=True,
        )
    except FileNotFoundError:
        outcome = CommandOutcome(False, f"{argv[0]} not found")
    except subprocess.TimeoutExpired:
        outcome = CommandOutcome(False, f"no answer within {timeout:g} s")
    except OSError as exc:
        outcome = CommandOutcome(False, exc.strerror or type(exc).__name__)
    else:
        if done.returncode == 0:
            return CommandOutcome(True)
        outcome = CommandOutcome(False, f"exit status {done.returncode}")
    log.warning("desktop notification command %s failed: %s", argv[0], outcome.problem)
    return outcome
