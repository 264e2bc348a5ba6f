"""Grouping finishes into notifications, in virtual time (a fake widget runs
the timers when the test says so)."""

from __future__ import annotations

from types import SimpleNamespace

from tui.api.models import Clip, Task
from tui.domain.tracked import TrackedTask
from tui.ui.announcer import LONGEST, QUIET, Announcer


class FakeWidget:
    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[tuple[float, object]] = []
        self.notes: list[str] = []
        self.app = SimpleNamespace(
            config=SimpleNamespace(bell=True), bell=self._bell, reach_out=self._reach_out
        )
        self.bells = 0
        self.outside: list[tuple[str, str, str]] = []

    def _reach_out(self, title: str, message: str, kind: str) -> None:
        self.outside.append((title, message, kind))

    def _bell(self) -> None:
        self.bells += 1

    def set_timer(self, delay: float, callback):  # type: ignore[no-untyped-def]
        self.timers.append((self.now + delay, callback))
        return object()

    def notify(self, message: str, **kwargs: object) -> None:
        self.notes.append(message)

    def run_until(self, until: float) -> None:
        while True:
            due = [t for t in self.timers if t[0] <= until]
            if not due:
                break
            first = min(due, key=lambda t: t[0])
            self.timers.remove(first)
            self.now = first[0]
            first[1]()  # type: ignore[operator]
        self.now = until


def record(n: int, title: str = "") -> TrackedTask:
    clip = Clip(f"c{n}", None, None, title or f"Song {n}", 60.0, None, None, 0)
    return TrackedTask(f"t{n}", 0.0, Task(f"t{n}", "completed", None, (clip,)))


def test_a_steady_stream_is_one_notification_per_longest_window() -> None:
    """400 finishes over 40 s (one every 0.1 s): four notifications and four
    bells, not one per half second."""
    widget = FakeWidget()
    announcer = Announcer(widget, clock=lambda: widget.now)  # type: ignore[arg-type]
    for n in range(400):
        widget.run_until(n * 0.1)
        announcer.finished(record(n))
    widget.run_until(40 + QUIET + 0.1)
    assert len(widget.notes) == 4 == widget.bells == len(widget.outside)
    assert widget.outside[0] == ("Tasks finished", widget.notes[0], "finish")
    assert all(note.startswith("✔ 100 completed") for note in widget.notes)
    assert LONGEST == 10.0


def test_a_pause_ends_a_burst() -> None:
    widget = FakeWidget()
    announcer = Announcer(widget, clock=lambda: widget.now)  # type: ignore[arg-type]
    announcer.finished(record(1))
    widget.run_until(0.5)
    announcer.finished(record(2))
    widget.run_until(0.5 + QUIET + 0.01)
    assert len(widget.notes) == 1 and widget.notes[0].startswith("✔ 2 completed")
    announcer.finished(record(3))
    widget.run_until(10)
    assert len(widget.notes) == 2 and widget.notes[1] == "✔ Song 3 completed (1 clip)"


def test_a_repeated_title_is_named_once() -> None:
    widget = FakeWidget()
    announcer = Announcer(widget, clock=lambda: widget.now)  # type: ignore[arg-type]
    for n in range(4):
        announcer.finished(record(n, title="Velvet Static"))
    announcer.finished(record(9, title="Other"))
    widget.run_until(5)
    assert widget.notes == [
        "✔ 5 completed: Velvet Static completed (1 clip); Other completed (1 clip)"
    ]
