"""Putting text on the clipboard, and saying honestly how it went.

Shared by every screen that copies (clip actions, the error log): a native
clipboard tool (:mod:`tui.services.clipboard`) confirms by its exit status
and runs in a thread, as it may take up to its timeout; without one, OSC 52
is sent at once and the message says only that it was sent.
"""

from __future__ import annotations

from textual.screen import Screen

from tui.services.clipboard import CopyOutcome, copy_text, find_tool
from tui.ui import wording


def copy(screen: Screen, text: str, thing: str, shown: str) -> None:  # type: ignore[type-arg]
    """Copy the whole ``text``; messages name it as ``thing`` and show ``shown``."""
    app = screen.app
    tool = find_tool()
    if tool is None:
        app.copy_to_clipboard(text)
        screen.notify(wording.sent_osc52(thing, shown), timeout=5, markup=False)
        return

    def run() -> None:
        outcome = copy_text(tool, text)
        app.call_from_thread(_copied, screen, outcome, text, thing, shown)

    screen.run_worker(run, thread=True, group="clipboard", exit_on_error=False)


def _copied(screen: Screen, outcome: CopyOutcome, text: str, thing: str, shown: str) -> None:  # type: ignore[type-arg]
    app = screen.app
    if outcome.ok:
        # What ctrl+v pastes inside the app (Textual's local clipboard)
        # follows, without writing OSC 52 a second time.
        app._clipboard = text
        screen.notify(wording.copied(thing, shown), timeout=3, markup=False)
        return
    app.copy_to_clipboard(text)
    screen.notify(
        wording.sent_osc52(thing, shown, outcome.tool, outcome.problem),
        severity="warning",
        timeout=8,
        markup=False,
    )
