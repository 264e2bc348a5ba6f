"""How task data looks on screen: glyphs, colours and cell texts.

Every server string goes through :func:`tui.core.sanitize.clean` and into a
``rich.text.Text`` (never a markup string), so ``[bold]`` in a title is shown
as typed and escape sequences never reach the terminal.

Colours are named by role ("status.completed", "expiry.soon"; see
:data:`tui.ui.palette.ROLES`); the functions that build text take the
``palette`` that maps roles to the current theme's styles, so they work
without an app and a theme change only needs them called again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.style import Style
from rich.text import Text

from tui.api.models import Clip
from tui.core.formatting import clip_length, coarse_span, expiry
from tui.core.sanitize import clean
from tui.domain.tracked import NOT_FOUND, SUBMITTED, TrackedTask, shown_status
from tui.ui.widgets.columns import GROWN_WIDTHS

#: Status -> (glyph, palette role).
STATUS_LOOK: dict[str, tuple[str, str]] = {
    "pending": ("…", "status.pending"),
    # Generated here: the server accepted it, its first poll has not answered.
    SUBMITTED: ("↑", "status.submitted"),
    "queuing": ("◷", "status.queuing"),
    "processing": ("◐", "status.processing"),
    "completed": ("✔", "status.completed"),
    "failed": ("✘", "status.failed"),
    NOT_FOUND: ("⊘", "status.not-found"),
}
UNKNOWN_LOOK = ("?", "status.unknown")
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

#: Role -> style, for the current theme (a :class:`tui.ui.palette.Palette`).
Styles = Mapping[str, Style]


def styled(text: str, role: str, palette: Styles) -> Text:
    """``text`` in ``role``'s style; the empty role means the default colour."""
    return Text(text, style=palette[role] if role else "")


def status_text(
    status: str, glyph: str | None = None, *, palette: Styles, width: int | None = 16
) -> Text:
    """Glyph and status word; ``glyph`` replaces the status's own (a spinner
    frame). An unknown status longer than ``width`` cells ends in ``…`` (the
    detail pane passes None: it shows the whole of it)."""
    own, role = STATUS_LOOK.get(status, UNKNOWN_LOOK)
    word = clean(status, one_line=True)
    if width is not None:
        word = fit_cells(word, width)
    return styled(f"{glyph or own} {word}", role, palette)


def short_id(task_id: str, width: int) -> str:
    if len(task_id) > width:
        keep = width - 1
        return f"{task_id[: keep - keep // 2]}…{task_id[-(keep // 2) :]}"
    return task_id


def plain(
    value: str | None, width: int | None = None, placeholder: str = "—", *, palette: Styles
) -> Text:
    """Untrusted text for one cell: cleaned, single line, cut to ``width`` cells."""
    text = clean(value, one_line=True) if value else placeholder
    if width is not None:
        text = fit_cells(text, width)
    return styled(text, "" if value else "muted", palette)


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


def expiry_role(expire_at: int | None, now: float) -> str:
    """The palette role of an expiry: red within the hour, amber within the day."""
    if not expire_at:
        return "muted"
    remaining = expire_at / 1000 - now
    if remaining <= 0:
        return "expiry.expired"
    if remaining < HOUR:
        return "expiry.soon"
    if remaining < DAY:
        return "expiry.warn"
    return ""


def earliest_expiry(clips: tuple[Clip, ...]) -> int | None:
    """The ``expire_at`` that matters most: the soonest real one, else 0 (never)."""
    stamps = [c.expire_at for c in clips if c.expire_at is not None]
    real = [s for s in stamps if s > 0]
    if real:
        return min(real)
    return 0 if stamps else None


def expiry_cell(record: TrackedTask, now: float, *, palette: Styles) -> Text:
    label, role = expiry_look(record, now)
    return styled(label, role, palette)


def expiry_look(record: TrackedTask, now: float) -> tuple[str, str]:
    """The expires cell as (text, palette role): cheap to compare every second,
    and the same whatever the theme.

    What needs acting on comes first: the soonest clip that is neither expired
    nor saved, coloured by urgency; once every live clip is saved its
    countdown stays, muted (the server copy still goes). Clips already gone
    are counted after it: ``6d 23h (1 exp)``."""
    if record.expired is not None:
        return "expired", "expiry.expired"
    clips = record.task.results if record.task else ()
    if not clips:
        return "—", "muted"
    unsaved, saved, expired = record.clip_states(now)
    gone = f" ({expired} exp)" if expired else ""
    if real := [s for s in unsaved if s > 0]:
        stamp = min(real)
        return coarse_span(stamp / 1000 - now) + gone, expiry_role(stamp, now)
    if real := [s for s in saved if s > 0]:
        return coarse_span(min(real) / 1000 - now) + gone, "muted"
    if unsaved or saved:
        return "never" + gone, "muted"
    if expired:
        return "expired", "expiry.expired"
    return "—", "muted"


def time_looks(record: TrackedTask, now: float) -> tuple[object, ...]:
    """What the clock-driven cells (age, expires) show at ``now``, as plain
    values: the 1 s tick compares these before building any cell."""
    task = record.task
    created = task.created_at if task else None
    age = coarse_span(now - created / 1000) if created and created > 0 else None
    return age, expiry_look(record, now), live_looks(record, now)


def looks_change_at(record: TrackedTask, now: float) -> float:
    """A time before which :func:`time_looks` cannot change (conservative).

    Ages and countdowns in the table show seconds only under a minute; past
    that they change on minute boundaries (the colour thresholds, 1 h and 1 d,
    are on such boundaries too). So a row with a week-old age and a day-long
    countdown needs no look for up to a minute: the 1 s tick skips it. Any
    clip expiring changes which one is counted down."""
    if not record.finished:
        return now + 1  # its spinner and elapsed time move
    task = record.task
    soonest = math.inf
    created = task.created_at if task else None
    if created and created > 0:
        age = now - created / 1000
        if age < 61:
            return now + 1
        soonest = created / 1000 + 60 * (int(age) // 60 + 1)
    if task and record.expired is None:
        for clip in task.results:
            stamp = clip.expire_at
            if stamp:
                remaining = stamp / 1000 - now
                if 0 < remaining < 61:
                    return now + 1
                if remaining > 0:
                    soonest = min(soonest, stamp / 1000 - 60 * (int(remaining) // 60))
    return soonest - 0.5  # a margin for rounding: early is harmless


def expiry_countdown(clip: Clip, now: float, *, palette: Styles) -> Text:
    return styled(expiry(clip.expire_at, now), expiry_role(clip.expire_at, now), palette)


#: A turning glyph for rows the server is working on (one frame a second, the
#: heartbeat's pace: motion says "alive" without costing a faster timer).
SPINNER = "◐◓◑◒"


def row_cells(
    record: TrackedTask,
    now: float,
    widths: dict[str, int],
    other_matches: int = 0,
    *,
    palette: Styles,
) -> dict[str, Text]:
    """Every cell of one table row, keyed by column. ``other_matches``: clips
    other than the shown one that match the filter (said after the title)."""
    task = record.task
    clips = task.results if task else ()
    first = clips[0] if clips else None
    title = first.title if first else None
    if other_matches:
        more = f" +{other_matches} match"
        cell = plain(title, max(1, widths["title"] - len(more)), placeholder="", palette=palette)
        cell.append(more, style="italic")
    elif not title and (label := record.request_label):
        # Queued before its clips have titles: what it was asked to be, muted.
        cell = styled(fit_cells(clean(label, one_line=True), widths["title"]), "muted", palette)
    else:
        cell = plain(title, widths["title"], palette=palette)
    return {
        "id": Text(short_id(record.id, widths["id"])),
        "title": cell,
        "clips": clips_cell(record, palette=palette),
        "length": Text(clip_length(first.duration) if first else "—"),
        **time_cells(record, now, palette=palette),
    }


def time_cells(record: TrackedTask, now: float, *, palette: Styles) -> dict[str, Text]:
    """The cells that change with the clock alone (see :data:`TIME_COLUMNS`)."""
    status, took = live_looks(record, now)
    return {
        "status": status_text(shown_status(record), status, palette=palette),
        "took": styled(took, "" if took != "—" else "muted", palette),
        "age": age_cell(record.task.created_at if record.task else None, now, palette=palette),
        "expires": expiry_cell(record, now, palette=palette),
    }


def live_looks(record: TrackedTask, now: float) -> tuple[str | None, str]:
    """(spinner frame or None, the took column's text): from the start
    (:meth:`TrackedTask.started_at`) to the finish we watched, or, live, to now."""
    start = record.started_at()[0]
    if record.finished_at is not None and start is not None:
        return None, coarse_span(record.finished_at - start)
    if record.finished:
        return None, "—"
    elapsed = coarse_span(now - start) if start is not None else "—"
    frame = SPINNER[int(now) % len(SPINNER)] if record.status == "processing" else None
    return frame, elapsed


def clips_cell(record: TrackedTask, *, palette: Styles) -> Text:
    """Clip count, with ↓ once every clip has been downloaded and ``1/2↓``
    while some are. Past 999 the column says thousands ("10k"); the detail
    pane has the exact number."""
    clips = record.task.results if record.task else ()
    if not clips:
        return styled("—", "muted", palette)
    count = len(clips)
    shown = str(count) if count < 1000 else f"{min(count // 1000, 99)}k"
    saved = record.saved_count()
    if not saved:
        return Text(shown)
    if saved == count:
        return styled(f"{shown}↓", "saved", palette)
    partial = f"{saved}/{shown}↓"
    return Text(partial if len(partial) <= GROWN_WIDTHS["clips"] else f"{shown}↓·")


def age_cell(created_at: int | None, now: float, *, palette: Styles) -> Text:
    if created_at is None or created_at <= 0:
        return styled("—", "muted", palette)
    return Text(coarse_span(now - created_at / 1000))


#: Sort orders of the table, by name. ``s`` cycles through the first four;
#: a click on a column's header picks its own (again: reversed).
SORTS: dict[str, Callable[[TrackedTask], object]] = {
    "added": lambda r: r.seq,
    "created": lambda r: -(r.task.created_at or 0) if r.task else 0,
    "status": lambda r: STATUS_ORDER.get(r.status, 6),
    "expiry": lambda r: _expiry_key(r),
    "id": lambda r: r.id,
    "title": lambda r: _first(r, lambda c: (c.title or "").casefold(), ""),
    "clips": lambda r: len(r.task.results) if r.task else -1,
    "length": lambda r: _first(r, lambda c: c.duration or 0.0, -1.0),
    "took": lambda r: _took(r),
}
SORT_CYCLE = ("added", "created", "status", "expiry")


def _took(record: TrackedTask) -> float:
    start = record.started_at()[0]
    if record.finished_at is None or start is None:
        return float("inf")  # not finished while we watched: last
    return record.finished_at - start


def _first(record: TrackedTask, get: Callable[[Clip], object], missing: object) -> object:
    clips = record.task.results if record.task else ()
    return get(clips[0]) if clips else missing


def _expiry_key(record: TrackedTask) -> float:
    stamp = earliest_expiry(record.task.results) if record.task else None
    if not stamp:
        return float("inf")  # never, or unknown: last
    return stamp
