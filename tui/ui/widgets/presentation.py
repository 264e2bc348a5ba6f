"""How task data looks on screen: glyphs, colours and cell texts.

Every server string goes through :func:`tui.core.sanitize.clean` and into a
``rich.text.Text`` (never a markup string), so ``[bold]`` in a title is shown
as typed and escape sequences never reach the terminal.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text

from tui.api.models import Clip
from tui.core.formatting import clip_length, coarse_span, expiry
from tui.core.sanitize import clean
from tui.domain.tracked import NOT_FOUND, TrackedTask, clip_keys

STATUS_LOOK: dict[str, tuple[str, str]] = {
    "pending": ("…", "dim"),
    "queuing": ("◷", "yellow"),
    "processing": ("◐", "cyan"),
    "completed": ("✔", "green"),
    "failed": ("✘", "red"),
    NOT_FOUND: ("⊘", "red"),
}
UNKNOWN_LOOK = ("?", "magenta")
STATUS_ORDER = {
    "processing": 0,
    "queuing": 1,
    "pending": 2,
    "failed": 3,
    NOT_FOUND: 4,
    "completed": 5,
}

HOUR = 3600
DAY = 86_400


def status_text(status: str) -> Text:
    glyph, style = STATUS_LOOK.get(status, UNKNOWN_LOOK)
    return Text(f"{glyph} {clean(status, one_line=True)[:16]}", style=style)


def short_id(task_id: str, width: int) -> str:
    if len(task_id) > width:
        keep = width - 1
        return f"{task_id[: keep - keep // 2]}…{task_id[-(keep // 2) :]}"
    return task_id


def plain(value: str | None, width: int | None = None, placeholder: str = "—") -> Text:
    """Untrusted text for one cell: cleaned, single line, cut to ``width`` cells."""
    text = clean(value, one_line=True) if value else placeholder
    if width is not None:
        text = fit_cells(text, width)
    return Text(text, style="" if value else "dim")


def fit_cells(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal cells, ending in ``…`` when cut.

    Measured in cells the way Rich and Textual measure them when they lay out
    the line (a CJK character is two cells, an emoji ZWJ sequence such as 👩‍👩‍👧
    is two): counting characters cut a CJK title at twice its column and left
    the ellipsis to chance. A wide character that would straddle the edge is
    left out, so the result may be a cell short of ``width``, never over.
    """
    if cell_len(text) <= width:
        return text
    if width <= 0:
        return ""
    cut = set_cell_size(text, width - 1)
    if not text.startswith(cut):  # Rich padded a straddling wide character with a space
        cut = cut[:-1]
    return cut + "…"


def elide_middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, its middle replaced by ``…``: for
    values whose both ends matter (IDs, paths)."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    head = (width - 1) - (width - 1) // 2
    return fit_cells(text, head + 1)[:-1] + "…" + tail_cells(text, width - 1 - head)


def tail_cells(text: str, width: int) -> str:
    """The end of ``text`` that fits in ``width`` cells (a binary search on where
    it starts: one cell measure per step, not per character)."""
    if width <= 0:
        return ""
    low, high = 0, len(text)  # text[high:] fits; find the smallest such start
    while low < high:
        middle = (low + high) // 2
        if cell_len(text[middle:]) <= width:
            high = middle
        else:
            low = middle + 1
    return text[high:]


def elide_url(url: str, width: int) -> str:
    """A URL on one line of ``width`` cells: scheme and host kept, then ``…``,
    then the end of the path (the file name), the query string (signatures,
    tokens) dropped first as the least readable part.

    ``https://cdn.example.com/a/b/c/night-drive.mp3?sig=…`` at 40 cells:
    ``https://cdn.example.com…night-drive.mp3?…``. What is copied or opened is
    always the clip's full URL, never this text.
    """
    if cell_len(url) <= width:
        return url
    scheme, sep, rest = url.partition("://")
    slash = rest.find("/")
    if not sep or slash < 0:
        return elide_middle(url, width)
    head = f"{scheme}://{rest[:slash]}"
    path, query_mark, _query = rest[slash:].partition("?")
    if query_mark and cell_len(short := f"{head}{path}?…") <= width:
        return short
    tail = path + ("?…" if query_mark else "")
    room = width - cell_len(head) - 1  # the ellipsis
    if room < min(12, cell_len(tail)):  # a long host leaves too little: an even cut
        return elide_middle(head + tail, width)
    return head + "…" + tail_cells(tail, room)


class OneLine:
    """A value kept on one line at whatever width the layout gives it: ``shorten``
    fits the text to that width when it renders, so a resize re-fits it.

    For URLs and paths in the detail pane: folded over several lines they
    broke mid-name and pushed the rest of the card down.
    """

    def __init__(
        self, text: str, shorten: Callable[[str, int], str] = elide_middle, style: str = ""
    ) -> None:
        self.text, self.shorten, self.style = text, shorten, style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text(self.shorten(self.text, options.max_width), style=self.style, no_wrap=True)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, cell_len(self.text))


def expiry_style(expire_at: int | None, now: float) -> str:
    if not expire_at:
        return "dim"
    remaining = expire_at / 1000 - now
    if remaining <= 0:
        return "dim strike"
    if remaining < HOUR:
        return "bold red"
    if remaining < DAY:
        return "yellow"
    return ""


def earliest_expiry(clips: tuple[Clip, ...]) -> int | None:
    """The ``expire_at`` that matters most: the soonest real one, else 0 (never)."""
    stamps = [c.expire_at for c in clips if c.expire_at is not None]
    real = [s for s in stamps if s > 0]
    if real:
        return min(real)
    return 0 if stamps else None


def expiry_cell(clips: tuple[Clip, ...], now: float, server_expired: bool = False) -> Text:
    label, style = expiry_look(clips, now, server_expired)
    return Text(label, style=style)


def expiry_look(
    clips: tuple[Clip, ...], now: float, server_expired: bool = False
) -> tuple[str, str]:
    """The expires cell as (text, style): cheap to compare every second."""
    if server_expired:
        return "expired", "dim strike"
    stamp = earliest_expiry(clips)
    if stamp is None:
        return "—", "dim"
    if stamp == 0:
        return "never", "dim"
    remaining = stamp / 1000 - now
    label = "expired" if remaining <= 0 else coarse_span(remaining)
    return label, expiry_style(stamp, now)


def time_looks(record: TrackedTask, now: float) -> tuple[object, ...]:
    """What the clock-driven cells (age, expires) show at ``now``, as plain
    values: the 1 s tick compares these before building any cell."""
    task = record.task
    created = task.created_at if task else None
    age = coarse_span(now - created / 1000) if created and created > 0 else None
    return age, expiry_look(task.results if task else (), now, record.expired is not None)


def looks_change_at(record: TrackedTask, now: float) -> float:
    """A time before which :func:`time_looks` cannot change (conservative).

    Ages and countdowns in the table show seconds only under a minute; past
    that they change on minute boundaries (the colour thresholds, 1 h and 1 d,
    are on such boundaries too). So a row with a week-old age and a day-long
    countdown needs no look for up to a minute: the 1 s tick skips it."""
    task = record.task
    soonest = math.inf
    created = task.created_at if task else None
    if created and created > 0:
        age = now - created / 1000
        if age < 61:
            return now + 1
        soonest = created / 1000 + 60 * (int(age) // 60 + 1)
    if task and record.expired is None:
        stamp = earliest_expiry(task.results)
        if stamp:
            remaining = stamp / 1000 - now
            if 0 < remaining < 61:
                return now + 1
            if remaining > 0:
                soonest = min(soonest, stamp / 1000 - 60 * (int(remaining) // 60))
    return soonest - 0.5  # a margin for rounding: early is harmless


def expiry_countdown(clip: Clip, now: float) -> Text:
    return Text(expiry(clip.expire_at, now), style=expiry_style(clip.expire_at, now))


COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "Task ID"),
    ("status", "Status"),
    ("title", "Title"),
    ("clips", "#"),
    ("length", "Length"),
    ("age", "Age"),
    ("took", "Took"),
    ("expires", "Expires"),
)
TIME_COLUMNS = ("age", "expires")
#: Widths of the columns whose content has a known bound; ID and title share the rest.
FIXED_WIDTHS = {"status": 12, "clips": 3, "length": 6, "age": 7, "took": 6, "expires": 8}
FULL_ID_WIDTH = 24
SHORT_ID_WIDTH = 13
MIN_TITLE = 12
MAX_TITLE = 40
#: Columns given up, in order, when the table is too narrow for all of them.
DROPPABLE = ("took", "length", "clips", "age")
_CHROME = 4  # border and vertical scrollbar


def column_widths(
    table_width: int, longest_id: int = FULL_ID_WIDTH, longest_length: int = 0
) -> dict[str, int]:
    """Share ``table_width`` between the columns that fit.

    IDs are shown whole (up to ``longest_id``) while the title keeps at least
    16 cells, and shortened (middle ellipsis) only beyond that; the least
    useful columns (took, then length, clips, age) are dropped before the
    title goes under ``MIN_TITLE``. The Length column widens to
    ``longest_length`` (``1:06:40`` needs 7 cells): a cut length is a wrong one.
    """
    fixed = dict(FIXED_WIDTHS)
    fixed["length"] = max(fixed["length"], longest_length)
    longest_id = max(7, longest_id)
    while True:
        padding = 2 * (len(fixed) + 2) + _CHROME
        free = table_width - padding - sum(fixed.values())
        id_width = min(longest_id, max(SHORT_ID_WIDTH, free - 16))
        title = free - id_width
        droppable = [c for c in DROPPABLE if c in fixed]
        if title >= MIN_TITLE or not droppable:
            break
        del fixed[droppable[0]]
    return {"id": id_width, "title": max(6, min(MAX_TITLE, title)), **fixed}


def row_cells(record: TrackedTask, now: float, widths: dict[str, int]) -> dict[str, Text]:
    """Every cell of one table row, keyed by column."""
    task = record.task
    clips = task.results if task else ()
    first = clips[0] if clips else None
    took = (
        coarse_span(record.finished_at - record.first_seen)
        if record.finished_at is not None and record.first_seen is not None
        else "—"
    )
    return {
        "id": Text(short_id(record.id, widths["id"])),
        "status": status_text(record.status),
        "title": plain(first.title if first else None, widths["title"]),
        "clips": clips_cell(record),
        "length": Text(clip_length(first.duration) if first else "—"),
        "age": age_cell(task.created_at if task else None, now),
        "took": Text(took, style="" if took != "—" else "dim"),
        "expires": expiry_cell(clips, now, record.expired is not None),
    }


def length_cells(record: TrackedTask) -> int:
    """Cells the Length cell of ``record`` needs beyond the usual ``m:ss``
    (0 for those): cheap, as the table asks it of every task."""
    task = record.task
    duration = task.results[0].duration if task and task.results else None
    if duration is None or duration < 3599.5:  # m:ss fits the column
        return 0
    return len(clip_length(duration))


def clips_cell(record: TrackedTask) -> Text:
    """Clip count, with ↓ once every clip has been downloaded. Past 999 the
    three-cell column says thousands ("10k"); the detail pane has the exact
    number."""
    clips = record.task.results if record.task else ()
    if not clips:
        return Text("—", style="dim")
    downloads = record.downloads
    saved = len(downloads) >= len(clips) and all(k in downloads for k in clip_keys(clips))
    count = len(clips)
    shown = str(count) if count < 1000 else f"{min(count // 1000, 99)}k"
    return Text(f"{shown}{'↓' if saved else ''}", style="green" if saved else "")


def age_cell(created_at: int | None, now: float) -> Text:
    if created_at is None or created_at <= 0:
        return Text("—", style="dim")
    return Text(coarse_span(now - created_at / 1000))


#: Sort orders of the table, by name (``s`` cycles through them).
SORTS: dict[str, Callable[[TrackedTask], object]] = {
    "added": lambda r: r.seq,
    "created": lambda r: -(r.task.created_at or 0) if r.task else 0,
    "status": lambda r: STATUS_ORDER.get(r.status, 6),
    "expiry": lambda r: _expiry_key(r),
}


def _expiry_key(record: TrackedTask) -> float:
    stamp = earliest_expiry(record.task.results) if record.task else None
    if not stamp:
        return float("inf")  # never, or unknown: last
    return stamp
