"""Announcing finished tasks: one notification and one bell per burst.

A burst ends when no task has finished for :data:`QUIET` seconds, or
:data:`LONGEST` seconds after its first finish, whichever comes first: 400
tasks finishing over 40 s are four notifications, not one per half second
(a fixed window from the first finish made 58 popups and 58 bells of them).
A thousand toasts would also bury the screen and, being redrawn together,
cost more CPU than the polling (measured in the benchmark's churn phase).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.timer import Timer
from textual.widget import Widget

from tui.domain.tracked import TrackedTask
from tui.ui import wording

#: A burst is over after this long without a finish.
QUIET = 1.0
#: ...or this long after its first finish, so a long stream still says something.
LONGEST = 10.0


class Announcer:
    def __init__(self, widget: Widget, clock: Callable[[], float] = time.monotonic) -> None:
        self._widget = widget  # notifications are shown, and timers run, through it
        self._clock = clock
        self.pending: list[TrackedTask] = []
        self.timer: Timer | None = None
        self._first = 0.0
        self._last = 0.0

    def finished(self, record: TrackedTask) -> None:
        now = self._clock()
        self.pending.append(record)
        self._last = now
        if self.timer is None:
            self._first = now
            self.timer = self._widget.set_timer(QUIET, self._due)

    def _due(self) -> None:
        """One timer per burst: it looks again rather than being reset per finish."""
        now = self._clock()
        wait = min(self._last + QUIET, self._first + LONGEST) - now
        if wait > 0.01:
            self.timer = self._widget.set_timer(wait, self._due)
            return
        self._announce()

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
