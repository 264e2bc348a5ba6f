"""How ``wait`` shows its progress on stderr: a live board or plain lines.

In a terminal, one line per task (glyph, ID, status, elapsed time) is
redrawn in place, as ``gh run watch`` does, with nothing but ANSI cursor
movement. Anywhere else (a pipe, a CI log, a file) each change is one
timestamped line, the shape scripts have always read.

Everything the server said is passed through :func:`~tui.core.sanitize.scrub`
before it is written: in either shape no escape sequence from the server
reaches the terminal, and the API key is masked if the server echoes it.
"""

from __future__ import annotations

import asyncio
import os
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TextIO

from tui.core.formatting import span
from tui.core.sanitize import scrub
from tui.domain.tracked import NOT_FOUND, SUBMITTED

#: The dashboard's glyphs (``tui.ui.widgets.presentation.STATUS_LOOK``) plus
#: ``error``, which only ``wait`` has; tests keep the two in step.
GLYPHS = {
    "pending": "…",
    SUBMITTED: "↑",
    "queuing": "◷",
    "processing": "◐",
    "completed": "✔",
    "failed": "✘",
    NOT_FOUND: "⊘",
    "error": "✘",
}
UNKNOWN_GLYPH = "?"
FINAL = frozenset({"completed", "failed", NOT_FOUND, "error"})
#: The least time between two frames: at most four redraws a second.
MIN_GAP = 0.25
#: Widths the ID and status columns are padded to ("processing" is 10).
ID_COLUMN = 32
STATUS_COLUMN = 10


class Progress(Protocol):
    """What ``wait`` reports as polls answer; one implementation per output shape."""

    def status(self, task_id: str, status: str, reason: str | None = None) -> None:
        """The server gave ``task_id`` a new status (``reason``: why it failed)."""

    def stopped(self, task_id: str, status: str, error: str) -> None:
        """The server will not answer for ``task_id`` (``not found``, ``error``)."""

    def trouble(self, task_id: str, text: str) -> None:
        """A passing problem (retrying, rate limited); the next answer clears it."""

    async def run(self) -> None:
        """Keep the display current until cancelled (return at once if static)."""

    def close(self) -> None:
        """Polling is over: show the final state."""


class PlainLog:
    """``HH:MM:SS ID: text`` per change: for pipes, files and CI logs."""

    def __init__(self, stream: TextIO, secret: str = "") -> None:
        self.stream = stream
        self.secret = secret

    def _say(self, task_id: str, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        print(f"{stamp} {task_id}: {scrub(text, self.secret)}", file=self.stream, flush=True)

    def status(self, task_id: str, status: str, reason: str | None = None) -> None:
        self._say(task_id, f"{status} ({reason})" if reason else status)

    def stopped(self, task_id: str, status: str, error: str) -> None:
        self._say(task_id, f"{status}: {error}")

    def trouble(self, task_id: str, text: str) -> None:
        self._say(task_id, text)

    async def run(self) -> None:
        return

    def close(self) -> None:
        return


@dataclass
class _Row:
    status: str = "pending"
    text: str = ""  # the failure reason or final error: kept
    trouble: str = ""  # a passing problem: cleared by the next answer
    ended: float | None = None  # monotonic time it reached a final status


class LiveBoard:
    """One line per task, redrawn in place at most every :data:`MIN_GAP`
    seconds and only when its text changed (a running task's elapsed time
    changes once a second, so a quiet wait writes about once a second).

    Lines are cut to the terminal's width, since a wrapped line would throw
    the cursor arithmetic off; past its height the last line counts the rest.
    """

    def __init__(
        self,
        stream: TextIO,
        task_ids: list[str],
        secret: str = "",
        *,
        clock: Callable[[], float] = time.monotonic,
        size: Callable[[], os.terminal_size] | None = None,
    ) -> None:
        self.stream = stream
        self.secret = secret
        self.clock = clock
        self.size = size or (lambda: _terminal_size(stream))
        self.rows = {task_id: _Row() for task_id in task_ids}
        # Columns line up as in gh's lists; a rare very long ID just pushes its line.
        self._id_width = min(max((len(t) for t in task_ids), default=0), ID_COLUMN)
        self.started = clock()
        self.frames = 0  # frames written, for tests and curiosity
        self._shown: list[str] = []
        self._drawn_at = -MIN_GAP

    # -- events ----------------------------------------------------------------
    def status(self, task_id: str, status: str, reason: str | None = None) -> None:
        row = self.rows[task_id]
        row.status, row.text, row.trouble = status, scrub(reason, self.secret), ""
        self._maybe_ended(row)
        self.draw()

    def stopped(self, task_id: str, status: str, error: str) -> None:
        row = self.rows[task_id]
        row.status, row.text, row.trouble = status, scrub(error, self.secret), ""
        self._maybe_ended(row)
        self.draw()

    def trouble(self, task_id: str, text: str) -> None:
        self.rows[task_id].trouble = scrub(text, self.secret)
        self.draw()

    def _maybe_ended(self, row: _Row) -> None:
        if row.status in FINAL and row.ended is None:
            row.ended = self.clock()

    # -- drawing ---------------------------------------------------------------
    async def run(self) -> None:
        self.draw()
        while True:
            await asyncio.sleep(MIN_GAP)
            self.draw()

    def close(self) -> None:
        self.draw(force=True)

    def frame(self) -> list[str]:
        """The lines the board shows right now, each fitted to the width."""
        columns, lines = self.size()
        now = self.clock()
        rows = list(self.rows.items())
        room = max(1, lines - 1)  # the cursor's own line must stay on screen
        shown, hidden = (rows, []) if len(rows) <= room else (rows[: room - 1], rows[room - 1 :])
        width = max(1, columns - 1)  # the last column would make some terminals wrap
        out = [_fit(self._line(task_id, row, now), width) for task_id, row in shown]
        if hidden:
            out.append(_fit(_more(hidden), width))
        return out

    def _line(self, task_id: str, row: _Row, now: float) -> str:
        glyph = GLYPHS.get(row.status, UNKNOWN_GLYPH)
        status = scrub(row.status, self.secret)
        elapsed = span((row.ended if row.ended is not None else now) - self.started)
        extra = row.trouble or row.text
        line = f"{glyph} {task_id.ljust(self._id_width)}  {status.ljust(STATUS_COLUMN)}  {elapsed}"
        return f"{line.ljust(len(line) + 6 - len(elapsed))}  {extra}" if extra else line

    def draw(self, *, force: bool = False) -> None:
        """Write a new frame, unless one was written under :data:`MIN_GAP` ago
        (the ticker in :meth:`run` catches up) or nothing changed."""
        now = self.clock()
        if not force and now - self._drawn_at < MIN_GAP:
            return
        lines = self.frame()
        if lines == self._shown:
            return
        parts = [f"\r\x1b[{len(self._shown)}A"] if self._shown else []
        parts += [f"\x1b[2K{line}\n" for line in lines]
        if len(lines) < len(self._shown):
            parts.append("\x1b[J")  # the terminal shrank: clear what is left below
        self.stream.write("".join(parts))
        self.stream.flush()
        self._shown, self._drawn_at = lines, now
        self.frames += 1


def _more(rows: list[tuple[str, _Row]]) -> str:
    counts: dict[str, int] = {}
    for _, row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    parts = ", ".join(f"{n} {scrub(status, None)}" for status, n in counts.items())
    return f"… and {len(rows)} more: {parts}"


def _cells(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def _fit(line: str, columns: int) -> str:
    """``line`` cut to ``columns`` terminal cells (wide characters count two), with ``…``."""
    if sum(_cells(ch) for ch in line) <= columns:
        return line
    out, used = [], 0
    for ch in line:
        width = _cells(ch)
        if used + width > columns - 1:
            break
        out.append(ch)
        used += width
    return "".join(out) + "…"


def _terminal_size(stream: TextIO) -> os.terminal_size:
    """The size of the terminal ``stream`` writes to (stdout may be a pipe
    while stderr is the terminal), 80x24 when it cannot be asked."""
    try:
        return os.get_terminal_size(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return os.terminal_size((80, 24))


def is_terminal(stream: TextIO | None) -> bool:
    """Whether ``stream`` is a terminal that understands cursor movement."""
    if stream is None or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (ValueError, OSError):
        return False
