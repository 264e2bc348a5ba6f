"""``l``: the error log with the failed tasks, its file, a filter and copying a line."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tui.api.models import Clip, Task
from tui.core import logs
from tui.core.logs import RecentErrors
from tui.domain.tracked import TrackedTask
from tui.simulator import Fault
from tui.ui.screens.log import LogScreen, log_lines, summary

from .conftest import KEY
from .harness import make_app, notifications, region_text, screen_text, wait_for

NOW = 1_790_000_000.0


@pytest.fixture
def recent(tmp_path: Path):
    """The session's log as the command line sets it up: a file and the memory."""
    recent, _ = logs.setup(tmp_path / "logs", KEY)
    yield recent
    logs.teardown()


def _failed(task_id: str, error: str | None, at: float, title: str | None = None) -> TrackedTask:
    clips = (Clip("c", None, None, title, None, None, None, None),) if title else ()
    task = Task(task_id, "failed", None, clips, error)
    return TrackedTask(task_id, 0.0, task, first_seen=at)


def test_failed_tasks_join_the_log_lines_in_time_order() -> None:
    recent = RecentErrors()
    for at, message in ((NOW - 20, "connection offline: refused"), (NOW, "task x: timed out")):
        record = logging.LogRecord("musicmint", logging.WARNING, "", 0, message, (), None)
        record.created = at
        recent.emit(record)
    failed = [
        _failed("late", "upstream timeout", NOW + 5),
        _failed("early", f"policy [bold]no[/bold] {KEY}\x1b[31m", NOW - 30, "Night Drive"),
    ]
    lines = log_lines(recent, failed, NOW, KEY)
    assert [line.split(" ", 1)[1] for line in lines] == [
        # Untrusted text as sent (markup is shown as typed), controls escaped, key masked.
        'task early "Night Drive" failed: policy [bold]no[/bold] sk-mm-…0001\\x1b[31m',
        "connection offline: refused",
        "task x: timed out",
        "task late failed: upstream timeout",
    ]


def test_the_summary_says_what_there_is_none_of() -> None:
    assert summary(0, 2) == "No connection or other errors logged this session; 2 tasks failed."
    assert summary(3, 0) == "3 errors logged this session; no task failed."
    assert summary(200, 1, kept=200).startswith("The last 200 errors logged")


async def test_failed_tasks_are_in_the_log_with_the_file_path(
    sim_server, data_dir, clock, recent: RecentErrors
) -> None:
    book = sim_server.sim.book
    book.seed("goes-bad", outcome="failed", age=60, error="prompt rejected by content filter")
    book.seed("bad-two", outcome="failed", age=60, error="upstream timeout")
    app = make_app(sim_server, data_dir, clock, ids=["goes-bad", "bad-two"])
    app.recent_errors = recent
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.records["goes-bad"].finished)
        await wait_for(pilot, lambda: app.records["bad-two"].finished)
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen))
        await pilot.pause()
        text = screen_text(app)
        # Once "No errors so far." while the status bar counted two failed tasks.
        assert "No connection or other errors logged this session; 2 tasks failed." in text
        assert "task goes-bad failed: prompt rejected by content filter" in text
        assert "task bad-two failed: upstream timeout" in text
        assert f"Full log: {recent.path}" in text
        assert "↑↓ select · c copy line · / filter (esc clears it) · esc/q/l close" in text
        await pilot.press("q")
        assert not isinstance(app.screen, LogScreen)


async def test_filter_narrows_the_lines_as_you_type(sim_server, data_dir, clock, recent) -> None:
    sim_server.sim.book.seed("goes-bad", outcome="failed", age=60, error="content filter")
    sim_server.sim.inject("down", Fault.html_error(502))
    app = make_app(sim_server, data_dir, clock, ids=["goes-bad", "down"])
    app.recent_errors = recent
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.records["goes-bad"].finished)
        await wait_for(pilot, lambda: app.records["down"].last_error is not None)
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen))
        screen = app.screen
        lines = screen.list.shown
        assert any("goes-bad" in line for line in lines) and any("HTML" in line for line in lines)
        await pilot.press("slash", *"goes")
        await wait_for(pilot, lambda: len(screen.list.shown) == 1)
        shown = region_text(app, screen.list)
        assert "task goes-bad failed: content filter" in shown and "HTML" not in shown
        assert f"Showing 1 of {len(lines)} lines." in screen_text(app)
        await pilot.press("escape")  # in the filter: clears it, the dialog stays
        assert screen.list.shown == lines and app.screen is screen
        await pilot.press("escape")
        assert app.screen is not screen


async def test_c_copies_the_highlighted_line_exactly(
    sim_server, data_dir, clock, recent, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim_server.sim.book.seed("goes-bad", outcome="failed", age=60, error="[red]boom[/red]")
    sim_server.sim.inject("down", Fault.html_error(502))
    app = make_app(sim_server, data_dir, clock, ids=["goes-bad", "down"])
    app.recent_errors = recent
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.records["goes-bad"].finished)
        await wait_for(pilot, lambda: app.records["down"].last_error is not None)
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen))
        screen = app.screen
        await pilot.press("slash", *"boom", "enter")  # the list has the keys again
        await wait_for(pilot, lambda: len(screen.list.shown) == 1)
        line = screen.list.shown[0]
        assert line.endswith("task goes-bad failed: [red]boom[/red]")  # literal, not markup
        assert line in region_text(app, screen.list)
        await pilot.press("c")
        assert copied == [line]
        said = notifications(app)[-1]  # no clipboard tool in tests (MUSICMINT_CLIPBOARD=none)
        assert said.startswith("Sent the log line to the terminal clipboard (OSC 52")
        # Another line: up/down pick it, whole under the list, and c copies that one.
        await pilot.press("slash", "ctrl+u", "enter")
        assert screen.list.highlighted == line  # the cursor stayed on its line
        # (Log lines carry the real time, tasks the test's clock: either may be first.)
        await pilot.press("down" if screen.list.cursor == 0 else "up")
        other = screen.list.highlighted
        assert other is not None and other != line
        assert other in region_text(app, screen.query_one("#log-line"))
        await pilot.press("c")
        assert copied == [line, other]


async def test_nothing_to_show_says_so(sim_server, data_dir, clock) -> None:
    app = make_app(sim_server, data_dir, clock)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, LogScreen))
        await pilot.pause()
        text = screen_text(app)
        assert "No connection or other errors logged this session; no task failed." in text
        assert "This session keeps no log file." in text
        await pilot.press("c")
        assert notifications(app)[-1] == "No line to copy."
