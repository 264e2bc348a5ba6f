"""Announcing finished tasks: one notification and one bell per burst.

Finishes that arrive within :data:`WINDOW` seconds are grouped: a thousand
toasts would bury the screen and, being redrawn together, cost more CPU than
the polling (measured in the benchmark's churn phase).
"""

from __future__ import annotations

from textual.timer import Timer
from textual.widget import Widget

from tui.domain.tracked import TrackedTask
from tui.ui import wording

#: Finishes this close together are announced as one notification.
WINDOW = 0.5


class Announcer:
    def __init__(self, widget: Widget) -> None:
        self._widget = widget  # notifications are shown, and timers run, through it
        self.pending: list[TrackedTask] = []
        self.timer: Timer | None = None

    def finished(self, record: TrackedTask) -> None:
        self.pending.append(record)
        if self.timer is None:
            self.timer = self._widget.set_timer(WINDOW, self._announce)

    def _announce(self) -> None:
        self.timer = None
        records, self.pending = self.pending, []
        if not records:
            return
        title, message, failed = wording.finished_group(records)
        severity = "error" if failed else "information"
        self._widget.notify(message, title=title, severity=severity, markup=False)
        app = self._widget.app
        if app.config.bell:  # type: ignore[attr-defined]
            app.bell()
