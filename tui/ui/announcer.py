"""Saying what happened in bursts: one notification (and one bell) per burst.

A burst ends when nothing new has come for :data:`QUIET` seconds, or
:data:`LONGEST` seconds after it began, whichever comes first: 400 tasks
finishing over 40 s are four notifications, not one per half second (a fixed
window from the first finish made 58 popups and 58 bells of them), and a
bulk download of 175 clips says "Saved 175 files" rather than 175 times
"Saved …". A thousand toasts would also bury the screen and, being redrawn
together, cost more CPU than the polling (measured in the benchmark's churn
phase).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from textual.timer import Timer
from textual.widget import Widget

from tui.core.sanitize import clean
from tui.domain.tracked import TrackedTask
from tui.ui import wording

#: A burst is over after this long without news.
QUIET = 1.0
#: ...or this long after it began, so a long stream still says something.
LONGEST = 10.0

T = TypeVar("T")


class Burst(Generic[T]):
    """Collects items and hands each burst of them to ``say`` at once."""

    def __init__(
        self,
        widget: Widget,
        say: Callable[[list[T]], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._widget = widget  # timers run through it
        self._say = say
        self._clock = clock
        self.pending: list[T] = []
        self.timer: Timer | None = None
        self._first = 0.0
        self._last = 0.0

    def add(self, item: T) -> None:
        now = self._clock()
        self.pending.append(item)
        self._last = now
        if self.timer is None:
            self._first = now
            self.timer = self._widget.set_timer(QUIET, self._due)

    def _due(self) -> None:
        """One timer per burst: it looks again rather than being reset per item."""
        wait = min(self._last + QUIET, self._first + LONGEST) - self._clock()
        if wait > 0.01:
            self.timer = self._widget.set_timer(wait, self._due)
            return
        self.timer = None
        items, self.pending = self.pending, []
        if items:
            self._say(items)


class Announcer(Burst[TrackedTask]):
    """Finished tasks: one notification and one bell per burst."""

    def __init__(self, widget: Widget, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(widget, self._announce, clock)

    def finished(self, record: TrackedTask) -> None:
        self.add(record)

    def _announce(self, records: list[TrackedTask]) -> None:
        title, message, failed = wording.finished_group(records)
        severity = "error" if failed else "information"
        self._widget.notify(message, title=title, severity=severity, markup=False)
        app = self._widget.app
        if app.config.bell:  # type: ignore[attr-defined]
            app.bell()
        app.reach_out(title, message, "finish")  # type: ignore[attr-defined]


class SavedFiles(Burst[Path]):
    """Downloads saved: one notification per burst, naming the file or the folder."""

    def __init__(self, widget: Widget, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(widget, self._announce, clock)

    def _announce(self, paths: list[Path]) -> None:
        if len(paths) == 1:
            message = f"Saved {clean(str(paths[0]), one_line=True)}"
        else:
            folders = {p.parent for p in paths}
            where = f" in {clean(str(folders.pop()), one_line=True)}" if len(folders) == 1 else ""
            message = f"Saved {len(paths)} files{where}."
        self._widget.notify(message, title="Downloaded", markup=False)
