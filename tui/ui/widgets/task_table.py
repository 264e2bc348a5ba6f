"""The task table: one row per tracked task, rendered only where it is seen.

A line-API widget (as Textualize/toolong renders millions of lines): it keeps
the shown task IDs in order and draws each visible line on demand from the
records, with small LRU caches of cells and finished lines. Nothing per row
lives in widgets, so 50,000 tasks cost an ordered list of IDs, not 450,000
cell objects, and filling the table is sorting that list.

Rows keep their place when a status changes (calm beats jumpy): a new task
is appended, and sorting and filtering apply when the user asks. Updates are
coalesced (:meth:`TaskTable.schedule`) and repaint only their own line; the
1 s tick recomputes the clock columns of the rows on screen only.

DataTable's look is kept: a bold header on ``$panel``, zebra stripes, the
block cursor (blurred when the table has no focus), one cell of padding.
Statuses and expiries take the theme's palette (:mod:`tui.ui.palette`); a
new theme empties the caches of cells and lines, which hold its colours.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.theme import Theme
from textual.timer import Timer

from tui.domain.tracked import TrackedTask
from tui.domain.views import DEFAULT_VIEW, VIEWS
from tui.ui.palette import Palette, palette_of
from tui.ui.widgets.columns import (
    COLUMN_SORTS,
    COLUMNS,
    FULL_ID_WIDTH,
    GROWN_WIDTHS,
    TIME_COLUMNS,
    column_widths,
    short_form,
)
from tui.ui.widgets.presentation import SORTS, looks_change_at, row_cells, time_cells, time_looks
from tui.ui.widgets.table_search import SearchIndex, other_clip_matches

#: Seconds between applying queued row updates (see :meth:`TaskTable.schedule`).
FLUSH_DELAY = 0.25
#: Rendered rows kept (cells and finished lines): a few screens' worth.
CACHE_ROWS = 1024


class TaskTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "task-table--header",
        "task-table--even-row",
        "task-table--cursor",
        "task-table--marked",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("g,home", "first_row", "First row", show=False),
        Binding("G,end", "last_row", "Last row", show=False),
        Binding("enter", "select", "Details", show=False),
    ]

    #: No repaint of its own: the watcher repaints just the two rows involved.
    cursor_row: reactive[int] = reactive(0, repaint=False, init=False)

    class Highlighted(Message):
        """The cursor moved to another task (or the one under it changed)."""

        def __init__(self, task_id: str | None) -> None:
            super().__init__()
            self.task_id = task_id

    class RowsChanged(Message):
        """Queued updates added or removed rows (a change made a task match the
        filter, or stop matching it): titles that count rows are out of date."""

    class HeaderClicked(Message):
        """A click on a column's header: sort by it (the screen decides)."""

        def __init__(self, column: str) -> None:
            super().__init__()
            self.column = column

    class Selected(Message):
        """``enter`` or a click on the highlighted row."""

        def __init__(self, task_id: str) -> None:
            super().__init__()
            self.task_id = task_id

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.filter_text = ""
        self.sort_name = "added"
        self.reverse = False
        self.view = DEFAULT_VIEW
        #: The expiring view's horizon (the config's warn_hours, in seconds).
        self.warn_seconds = 24 * 3600.0
        #: Marked task IDs (space, ctrl+a); kept while the filter hides them.
        self.marks: set[str] = set()
        #: The row a range (v) started at, while one is being drawn.
        self.anchor: str | None = None
        #: Widths cells of this list have needed beyond the usual (see _check_growth).
        self._grown: dict[str, int] = {}
        self.widths = column_widths(120)
        self._records: Mapping[str, TrackedTask] = {}
        self._now: Callable[[], float] = lambda: 0.0
        self._order: list[str] = []  # shown task IDs, top to bottom
        self._index: dict[str, int] = {}  # task ID -> row
        self._cells: LRUCache[str, dict[str, Text]] = LRUCache(CACHE_ROWS)
        self._lines: LRUCache[tuple[object, ...], Strip] = LRUCache(CACHE_ROWS)
        self._versions: dict[str, int] = {}  # bumped when a row's content changes
        #: What the clock columns showed at the last tick, per row on screen.
        self._time_looks: LRUCache[str, tuple[object, ...]] = LRUCache(CACHE_ROWS)
        #: Per row on screen: no clock-driven change before this time.
        self._next_look: LRUCache[str, float] = LRUCache(CACHE_ROWS)
        self._last_tick = 0.0
        self.search = SearchIndex()
        self._pending: dict[str, TrackedTask] = {}
        self._flush_timer: Timer | None = None
        self._last_highlighted: str | None = None
        self._page = 0  # lines for rows (set on resize)
        self._palette: Palette | None = None  # the theme's, once mounted

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    @property
    def palette(self) -> Palette:
        """The styles cells are built with: the current theme's."""
        if self._palette is None:
            self._palette = palette_of(self.app)
        return self._palette

    def _theme_changed(self, theme: Theme | None = None) -> None:
        """A new theme: every cached cell and line has the old colours."""
        palette = palette_of(self.app)
        if palette is not self._palette:
            self._palette = palette
            self._cells.clear()
            self._lines.clear()
            self.refresh()

    def bind_source(self, records: Mapping[str, TrackedTask], now: Callable[[], float]) -> None:
        """Where rows are drawn from (the tracker's read-only view) and the clock."""
        self._records, self._now = records, now

    # -- what is shown -------------------------------------------------------
    @property
    def shown(self) -> Mapping[str, int]:
        """Task IDs with a row right now (the filter may hide others) -> row."""
        return self._index

    @property
    def row_count(self) -> int:
        return len(self._order)

    def row_ids(self) -> list[str]:
        """Task IDs in the order the rows are shown."""
        return list(self._order)

    def get_row_index(self, task_id: str) -> int:
        return self._index[task_id]

    @property
    def highlighted_id(self) -> str | None:
        if not self._order:
            return None
        return self._order[min(self.cursor_row, len(self._order) - 1)]

    def cells(self, task_id: str) -> dict[str, Text]:
        """The row's cells as they are drawn (computed when not cached)."""
        cells = self._cells.get(task_id)
        if cells is None:
            record = self._records[task_id]
            others = other_clip_matches(record, self.filter_text.lower())
            cells = row_cells(record, self._now(), self.widths, others, palette=self.palette)
            self._cells[task_id] = cells
            self._check_growth(cells)
        return cells

    def matches(self, record: TrackedTask) -> bool:
        if self.view != DEFAULT_VIEW and not VIEWS[self.view].test(
            record, self._now(), self.warn_seconds
        ):
            return False
        if not self.filter_text:
            return True
        return self.filter_text.lower() in self.search.text(record)

    def prepare_filter(self) -> None:
        """Warm the search index in slices once the list is loaded."""
        self.search.warm(self._records, 0, self.set_timer)

    # -- updates -------------------------------------------------------------
    def set_filter(self, text: str, records: Mapping[str, TrackedTask], now: float) -> None:
        """Filter as the user types. A needle that contains the previous one can
        only narrow the rows shown, so those are tested and kept in their order:
        no scan of the whole list and no re-sort per keystroke."""
        if text == self.filter_text:
            return
        old, self.filter_text = self.filter_text.lower(), text
        needle = text.lower()
        self._forget_match_notes(records)
        if old in needle:  # also from no filter at all: every shown task has a row
            cached, find = self.search.cached, self.search.text
            self._show(
                [
                    i
                    for i in self._order
                    if i in records and needle in (cached(i) or find(records[i]))
                ],
                False,
            )
        else:
            self.rebuild(records.values(), now)

    def _forget_match_notes(self, records: Mapping[str, TrackedTask]) -> None:
        """A title's "+1 match" depends on the needle, and only a task with more
        than one clip can have one: those rows are drawn again, the rest keep
        their cached lines (dropping all of them cost the 50,000-task filter
        its 100 ms per keystroke)."""
        for task_id in list(self._cells.keys()):
            record = records.get(task_id)
            if record is not None and record.task is not None and len(record.task.results) > 1:
                self._cells.discard(task_id)
                self._versions[task_id] = self._versions.get(task_id, 0) + 1

    def rebuild(self, records: Iterable[TrackedTask], now: float, columns: bool = False) -> None:
        """Show the matching records in sort order (after a sort, filter or width change)."""
        ordered = sorted(
            (r for r in records if self.matches(r)), key=SORTS[self.sort_name], reverse=self.reverse
        )
        self._show([r.id for r in ordered], columns)

    def set_view(self, name: str, records: Iterable[TrackedTask]) -> None:
        self.view = name if name in VIEWS else DEFAULT_VIEW
        self.rebuild(records, self._now())

    def _show(self, order: list[str], columns: bool) -> None:
        keep = self.highlighted_id
        self._order = order
        self._index = {task_id: row for row, task_id in enumerate(self._order)}
        if columns:  # cached cells and lines have the old widths
            self._cells.clear()
            self._lines.clear()
        self._resized()
        if keep is not None and keep in self._index:
            self.move_cursor(row=self._index[keep])
        else:
            self.move_cursor(row=min(self.cursor_row, max(0, len(self._order) - 1)))
        self.refresh()

    def upsert(self, record: TrackedTask, now: float) -> None:
        """Add a row (at the end: rows never jump) or redraw an existing one."""
        self.search.forget(record.id)  # its title, tags or status may have changed
        if not self.matches(record):
            self.drop([record.id])
            return
        self._cells.discard(record.id)
        self._next_look.discard(record.id)
        self._versions[record.id] = self._versions.get(record.id, 0) + 1
        row = self._index.get(record.id)
        if row is None:
            self._index[record.id] = len(self._order)
            self._order.append(record.id)
            self._resized()
            if len(self._order) == 1:
                self._highlight_changed()
        else:
            self._refresh_row(row)
            if row == self.cursor_row:
                self._highlight_changed(force=True)

    def schedule(self, record: TrackedTask) -> None:
        """Queue a row update; queued updates are applied together a moment later,
        so a burst of a thousand changes repaints a few times, not a thousand."""
        self._pending[record.id] = record
        self.search.forget(record.id)
        if self._flush_timer is None:
            self._flush_timer = self.set_timer(FLUSH_DELAY, self._flush)

    def _flush(self) -> None:
        self._flush_timer = None
        pending, self._pending = self._pending, {}
        now = self._now()
        rows = len(self._order)
        for record in pending.values():
            if record.id in self._index or self.matches(record):
                self.upsert(record, now)
            else:  # hidden by the filter: drawn fresh if it comes back
                self._cells.discard(record.id)
                self._next_look.discard(record.id)
                self._versions[record.id] = self._versions.get(record.id, 0) + 1
        if len(self._order) != rows:
            self.post_message(self.RowsChanged())

    def drop(self, task_ids: Iterable[str]) -> None:
        """Take the rows of ``task_ids`` out (one pass, however many)."""
        gone = set(task_ids)
        for task_id in gone:
            self._pending.pop(task_id, None)
            self.search.forget(task_id)
            self.marks.discard(task_id)
            self._cells.discard(task_id)
            self._next_look.discard(task_id)
            self._versions.pop(task_id, None)
        if self.anchor in gone:
            self.anchor = None
        if not any(task_id in self._index for task_id in gone):
            return
        self._order = [task_id for task_id in self._order if task_id not in gone]
        self._index = {task_id: row for row, task_id in enumerate(self._order)}
        self._lines.clear()  # rows below moved up: their zebra stripe changed
        self._resized()
        if self.cursor_row >= len(self._order):
            self.move_cursor(row=max(0, len(self._order) - 1))
        self._highlight_changed()
        self.refresh()

    def tick(self, records: Mapping[str, TrackedTask], now: float) -> None:
        """Refresh the clock-driven cells (age, expires) of the rows on screen.

        Off-screen rows are drawn fresh when they scroll into view, so the
        per-second cost does not grow with the length of the list; on screen,
        plain values are compared first and cells are rebuilt only on change.
        """
        if now < self._last_tick:  # the clock went back: look at every row again
            self._next_look.clear()
        self._last_tick = now
        for row in self._visible_rows():
            task_id = self._order[row]
            if now < self._next_look.get(task_id, 0.0):
                continue  # nothing on this row can change yet
            record = records.get(task_id)
            if record is None:
                continue
            self._next_look[task_id] = looks_change_at(record, now)
            old = self._cells.get(task_id)
            if old is None:  # not drawn yet: drawn fresh when it is
                continue
            looks = time_looks(record, now)
            if self._time_looks.get(task_id) == looks:
                continue
            self._time_looks[task_id] = looks
            fresh = time_cells(record, now, palette=self.palette)
            if any(old[key] != fresh[key] for key in TIME_COLUMNS):
                old.update(fresh)
                self._check_growth(fresh)
                self._versions[task_id] = self._versions.get(task_id, 0) + 1
                self._refresh_row(row)

    def quiet_for(self, now: float) -> float:
        """Seconds until a row on screen can show another age or countdown
        (after :meth:`tick` has looked at them)."""
        nexts = [self._next_look.get(self._order[row], now) for row in self._visible_rows()]
        return min(nexts, default=math.inf) - now

    def _check_growth(self, cells: Mapping[str, Text]) -> None:
        """A cell wider than its column (a partial save "1/2↓", an hour-long
        clip, "6d 23h (1 exp)"): grow that column, once, a moment later (this
        runs while lines are drawn)."""
        for key in GROWN_WIDTHS:
            need = cells[key].cell_len if key in cells else 0
            if need > self.widths.get(key, need) and need > self._grown.get(key, 0):
                self._grown[key] = need
                self.call_later(self.fit_columns)

    def fit_columns(self) -> bool:
        """Recompute column widths for the current size and IDs; rebuild if they changed."""
        longest = max((len(task_id) for task_id in self._records), default=FULL_ID_WIDTH)
        widths = column_widths(self.size.width, min(longest, FULL_ID_WIDTH * 2), self._grown)
        if widths == self.widths:
            return False
        self.widths = widths
        self.rebuild(self._records.values(), self._now(), columns=True)
        return True

    def on_resize(self) -> None:
        # Asking the DOM for the region every second costs more than the tick.
        self._page = self.scrollable_content_region.height
        self.fit_columns()
        self._resized()

    # -- marks ---------------------------------------------------------------
    def marked(self) -> list[str]:
        """Marked task IDs that have a row, top to bottom, with the range being
        drawn (v) included. Marks the filter hides are kept but not acted on:
        an action never reaches a row the user cannot see."""
        if not self.marks and self.anchor is None:
            return []
        in_range = self._range()
        return [
            task_id
            for row, task_id in enumerate(self._order)
            if task_id in self.marks or row in in_range
        ]

    def hidden_marks(self) -> int:
        return sum(1 for task_id in self.marks if task_id not in self._index)

    def _range(self) -> range:
        row = self._index.get(self.anchor) if self.anchor is not None else None
        if row is None:
            return range(0)
        return range(min(row, self.cursor_row), max(row, self.cursor_row) + 1)

    def toggle_mark(self) -> None:
        task_id = self.highlighted_id
        if task_id is None:
            return
        if task_id in self.marks:
            self.marks.discard(task_id)
        else:
            self.marks.add(task_id)
        self._refresh_row(self.cursor_row)

    def toggle_range(self) -> bool:
        """Start a range at the cursor, or end it (its rows become marks).
        True when a range is now being drawn."""
        if self.anchor is None:
            self.anchor = self.highlighted_id
            self.refresh()
            return self.anchor is not None
        self.marks.update(self._order[row] for row in self._range())
        self.anchor = None
        self.refresh()
        return False

    def mark_all(self) -> bool:
        """Mark every row shown; when they all are, clear them instead.
        True when rows are now marked."""
        shown = set(self._order)
        self.anchor = None
        if shown and not shown <= self.marks:
            self.marks |= shown
        else:
            self.marks -= shown
        self.refresh()
        return bool(shown & self.marks)

    def clear_marks(self) -> bool:
        """Clear the marks and any range; False when there were none."""
        if not self.marks and self.anchor is None:
            return False
        self.marks.clear()
        self.anchor = None
        self.refresh()
        return True

    # -- the cursor ----------------------------------------------------------
    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        self.cursor_row = max(0, min(row, len(self._order) - 1)) if self._order else 0
        self._scroll_to_cursor()
        self._highlight_changed()

    def watch_cursor_row(self, old: int, new: int) -> None:
        if self.anchor is not None:  # the range grows or shrinks with the cursor
            self.refresh()
            return
        self._refresh_row(old)
        self._refresh_row(new)

    def _highlight_changed(self, force: bool = False) -> None:
        task_id = self.highlighted_id
        if force or task_id != self._last_highlighted:
            self._last_highlighted = task_id
            self.post_message(self.Highlighted(task_id))

    def _scroll_to_cursor(self) -> None:
        """Bring the cursor's row on screen. ``force``: rows just added (400
        pasted IDs) are not scrollable until the next layout finds that the
        list overflows, and an unforced scroll is ignored until then."""
        rows = max(1, self.scrollable_content_region.height - 1)  # under the header
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True, force=True)
        elif self.cursor_row >= top + rows:
            y = self.cursor_row - rows + 1
            self.scroll_to(y=y, animate=False, immediate=True, force=True)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.move_cursor(row=self.cursor_row - max(1, self.size.height - 2))

    def action_page_down(self) -> None:
        self.move_cursor(row=self.cursor_row + max(1, self.size.height - 2))

    def action_first_row(self) -> None:
        self.move_cursor(row=0)

    def action_last_row(self) -> None:
        self.move_cursor(row=len(self._order) - 1)

    def action_select(self) -> None:
        if (task_id := self.highlighted_id) is not None:
            self.post_message(self.Selected(task_id))

    def on_click(self, event: events.Click) -> None:
        # The event's offset counts the border; lines are drawn inside it.
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            if column := self._column_at(offset.x + int(self.scroll_x)):
                self.post_message(self.HeaderClicked(column))
            return
        row = int(self.scroll_y) + offset.y - 1
        if not 0 <= row < len(self._order):
            return
        if row == self.cursor_row:
            self.action_select()
        else:
            self.move_cursor(row=row)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self.tick(self._records, self._now())
        # Rows new on screen may count seconds: a sleeping heartbeat beats again.
        if wake := getattr(self.app, "wake", None):
            wake()

    def on_focus(self) -> None:
        self.refresh()  # the border and the cursor's colour follow focus

    def on_blur(self) -> None:
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()  # theme or CSS changed: every colour may have
        if self._palette is not None:  # the theme's signal comes a moment later
            self._theme_changed()

    # -- drawing -------------------------------------------------------------
    def _resized(self) -> None:
        width = sum(w + 2 for key, w in self.widths.items())
        self.virtual_size = Size(width, len(self._order) + 1)

    def _visible_rows(self) -> range:
        first = int(self.scroll_y)
        return range(first, min(len(self._order), first + self._page))

    def _refresh_row(self, row: int) -> None:
        """Repaint one row's line (a no-op off screen: the region is clipped)."""
        self.refresh_line(row + 1)  # virtual y: the header is line 0

    def _columns(self) -> list[str]:
        return [key for key, _ in COLUMNS if key in self.widths]

    def _column_at(self, x: int) -> str | None:
        """The column under cell ``x`` of a line (each has a space either side)."""
        left = 0
        for key in self._columns():
            left += self.widths[key] + 2
            if x < left:
                return key
        return None

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            strip = self._header(width)
        else:
            row = int(self.scroll_y) + y - 1
            if row >= len(self._order):
                return Strip.blank(width, self.rich_style)
            strip = self._row(row, width)
        scroll_x = int(self.scroll_x)
        return strip.crop(scroll_x, scroll_x + width)

    def _header(self, width: int) -> Strip:
        key = ("header", tuple(self.widths.items()), width, self.sort_name, self.reverse)
        strip = self._lines.get(key)
        if strip is None:
            style = self.rich_style + self.get_component_rich_style("task-table--header")
            labels = dict(COLUMNS)
            cells = {k: Text(labels[k]) for k in self._columns()}
            arrow = "▼" if self.reverse else "▲"
            for column, sort in COLUMN_SORTS.items():
                if sort == self.sort_name and column in cells:
                    cells[column] = Text(f"{labels[column]}{arrow}")
            strip = self._assemble(cells, style, None, width)
            self._lines[key] = strip
        return strip

    def _row(self, row: int, width: int) -> Strip:
        task_id = self._order[row]
        cursor = row == self.cursor_row
        marked = task_id in self.marks or row in self._range()
        version = self._versions.get(task_id, 0)
        # Focus changes only the cursor's colour: other rows keep their cached lines.
        key = (task_id, version, cursor, marked, row % 2, cursor and self.has_focus, width)
        strip = self._lines.get(key)
        if strip is None:
            style = self.rich_style
            if row % 2 == 0:  # as DataTable: rows 0, 2, 4... carry the stripe
                style += self.get_component_rich_style("task-table--even-row")
            if marked:
                style += self.get_component_rich_style("task-table--marked")
            top = self.get_component_rich_style("task-table--cursor") if cursor else None
            strip = self._assemble(self.cells(task_id), style, top, width, marked)
            self._lines[key] = strip
        return strip

    def _assemble(
        self,
        cells: dict[str, Text],
        style: Style,
        top: Style | None,
        width: int,
        marked: bool = False,
    ) -> Strip:
        """One line: each cell cut or padded to its column, one space each side,
        on ``style`` (the row's colours under the cells' own), with ``top`` (the
        cursor) over everything, filled to the widget's width. A marked row
        shows ``▌`` in its first cell of padding (no column spent on marks)."""
        line = Text(no_wrap=True, end="")
        for n, key in enumerate(self._columns()):
            cell = cells[key]
            if cell.cell_len > self.widths[key]:
                cell = short_form(key, cell, self.widths[key])
            cell = cell.copy()
            cell.truncate(self.widths[key], overflow="ellipsis", pad=True)
            line.append("▌" if marked and n == 0 else " ", style="bold" if marked else "")
            line.append_text(cell)
            line.append(" ")
        if line.cell_len < width:
            line.append(" " * (width - line.cell_len))
        segments = Segment.apply_style(line.render(self.app.console), style, top)
        return Strip(Segment.simplify(segments), max(line.cell_len, width))
