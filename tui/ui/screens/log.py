"""``l``: what went wrong, in one filterable list (the full log is on disk).

One list, oldest first, the cursor on the newest line (a log reads
downwards, as ``k9s`` and ``lazygit`` show theirs), merging two sources by
time:

* this session's warnings and errors (connection trouble, tasks the server
  could not answer, downloads, the task file), from :class:`RecentErrors`;
* every tracked task whose generation failed, as
  ``HH:MM:SS task <ID> "<title>" failed: <server's reason>``. A failed task is
  not a log message (nothing went wrong talking to the server), but it is
  the error a user comes here for: with only the log, ``l`` once said "No
  errors so far." while the status bar counted two failed tasks.

A line above the list says how many of each there are ("No connection or
other errors logged this session; 2 tasks failed."), so an empty part is
stated, not guessed. ``/`` filters the lines as you type (the input at the top),
``up``/``down`` pick one, shown whole under the list, and ``c`` copies it.
The list is what opening the screen found; ``l`` again shows newer lines.

Everything shown is untrusted text: cleaned of control characters, masked
of the API key, and shown as ``Text`` (never parsed as markup).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.core.logs import RecentErrors
from tui.core.sanitize import clean, scrub
from tui.domain.tracked import TrackedTask
from tui.ui import copying
from tui.ui.widgets.footer import KeyFooter
from tui.ui.widgets.line_list import LineList
from tui.ui.wording import plural

HINT = "↑↓ select · c copy line · / filter (esc clears it) · esc/q/l close"


def when(epoch: float | None, now: float) -> str:
    """``20:16:53`` within the last day (as the log's own lines), else the date too."""
    if epoch is None:
        return "--:--:--"
    stamp = time.localtime(epoch)
    if abs(now - epoch) < 86_400:
        return time.strftime("%H:%M:%S", stamp)
    return time.strftime("%Y-%m-%d %H:%M:%S", stamp)


def failed_at(record: TrackedTask) -> float | None:
    """When we learned the task failed: the poll that saw it finish, else the
    first poll that found it already failed."""
    return record.finished_at if record.finished_at is not None else record.first_seen


def failed_line(record: TrackedTask, now: float, secret: str = "") -> str:
    """One failed task as a log line: ID, title (if any), the server's reason."""
    task = record.task
    title = next((clip.title for clip in task.results if clip.title), None) if task else None
    named = f' "{clean(title, one_line=True)}"' if title else ""
    reason = scrub(task.error, secret) if task and task.error else "no reason given"
    return f"{when(failed_at(record), now)} task {record.id}{named} failed: {reason}"


def log_lines(
    recent: RecentErrors, failed: Iterable[TrackedTask], now: float, secret: str = ""
) -> list[str]:
    """The session's log lines and the failed tasks, oldest first (a task by
    :func:`failed_at`; one with no time at all comes first)."""
    timed = [(at, clean(line, one_line=True)) for at, line in recent.entries]
    timed += [(failed_at(r) or 0.0, failed_line(r, now, secret)) for r in failed]
    timed.sort(key=lambda entry: entry[0])  # stable: the log's own order is kept
    return [line for _, line in timed]


def summary(errors: int, failed: int, kept: int | None = None) -> str:
    """``3 errors logged this session; 2 tasks failed.``, saying so when there
    are none (``kept``: how many log lines the memory holds, when it is full)."""
    if not errors:
        logged = "No connection or other errors logged this session"
    elif errors == kept:
        logged = f"The last {plural(errors, 'error')} logged this session"
    else:
        logged = f"{plural(errors, 'error')} logged this session"
    tasks = f"{plural(failed, 'task')} failed" if failed else "no task failed"
    return f"{logged}; {tasks}."


class LogScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("q,l", "dismiss", "Close", show=False),
        Binding("slash", "filter", "Filter"),
        Binding("c", "copy_line", "Copy line"),
        # While the filter has the focus the arrows still move the cursor.
        Binding("up", "cursor('up')", show=False),
        Binding("down", "cursor('down')", show=False),
    ]

    def __init__(
        self,
        recent: RecentErrors,
        failed: Iterable[TrackedTask] = (),
        now: float | None = None,
        secret: str = "",
    ) -> None:
        super().__init__()
        now = time.time() if now is None else now
        failed = list(failed)
        self.lines = log_lines(recent, failed, now, secret)
        self.counts = (len(recent.entries), len(failed), recent.entries.maxlen)
        self.where = f"Full log: {recent.path}" if recent.path is not None else recent.no_file

    def compose(self) -> ComposeResult:
        with Vertical(id="log-dialog"):
            yield Static(Text("Errors and failed tasks", style="bold"), id="log-title")
            yield Static(Text(self.where), id="log-path")
            yield Static(Text(summary(*self.counts)), id="log-summary")
            yield Input(placeholder="/ filter lines", id="log-filter", compact=True)
            self.list = LineList(self.lines, id="log-lines")
            yield self.list
            yield Static("", id="log-line", markup=False)
            yield Static(Text(HINT, style="dim"), id="log-hint")
        yield KeyFooter()  # this dialog's keys, over the dashboard's

    def on_mount(self) -> None:
        self.list.focus()
        if not self.lines:
            self.query_one("#log-line", Static).update(Text("No errors so far.", style="dim"))

    @on(LineList.Highlighted)
    def _show_whole(self, event: LineList.Highlighted) -> None:
        """The highlighted line whole (the list cuts long lines at its edge)."""
        if event.line is not None:
            self.query_one("#log-line", Static).update(Text(event.line))
        elif self.lines:
            self.query_one("#log-line", Static).update(Text("No line matches.", style="dim"))

    @on(Input.Changed, "#log-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.list.set_filter(event.value.strip())
        shown, total = self.list.shown_count, self.list.total
        note = summary(*self.counts)
        if event.value.strip():
            note += f" Showing {shown} of {plural(total, 'line')}."
        self.query_one("#log-summary", Static).update(Text(note))

    @on(Input.Submitted, "#log-filter")
    def _filter_done(self) -> None:
        self.list.focus()

    def action_filter(self) -> None:
        self.query_one("#log-filter", Input).focus()

    def action_close(self) -> None:
        """``esc`` in the filter clears it (as in the task list); elsewhere it closes."""
        filter_input = self.query_one("#log-filter", Input)
        if filter_input.has_focus:
            filter_input.value = ""
            self.list.focus()
        else:
            self.dismiss()

    def action_cursor(self, direction: str) -> None:
        if direction == "up":
            self.list.action_cursor_up()
        else:
            self.list.action_cursor_down()

    def action_copy_line(self) -> None:
        line = self.list.highlighted
        if line is None:
            self.notify("No line to copy.", severity="warning", markup=False)
            return
        self.copy(line)

    def copy(self, line: str) -> None:
        """The whole line, by the clipboard tool when there is one, else OSC 52
        (whose message says only "sent": nothing tells us the terminal took it)."""
        shown = line if len(line) <= 60 else line[:59] + "…"
        copying.copy(self, line, "the log line", shown)
