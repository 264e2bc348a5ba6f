"""The task table: one keyed row per tracked task, updated cell by cell.

Rows are keyed by task ID and each row's last rendered cells are cached, so
an update touches only the cells whose text changed and a poll that returns
the same state repaints nothing. Rows keep their place when a status changes
(calm beats jumpy); sorting and filtering apply when the user asks for them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import ClassVar

from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist, RowKey

from tui.domain.tracked import TrackedTask
from tui.ui.widgets.presentation import (
    COLUMNS,
    FULL_ID_WIDTH,
    STATUS_ORDER,
    TIME_COLUMNS,
    age_cell,
    column_widths,
    earliest_expiry,
    expiry_cell,
    row_cells,
)

#: Seconds between applying queued row updates (see :meth:`TaskTable.schedule`).
FLUSH_DELAY = 0.25
#: A rebuild that would remove more rows than this re-fills the table instead
#: (``remove_row`` is O(n) per row).
REFILL_ABOVE = 50

SORTS: dict[str, Callable[[TrackedTask], object]] = {
    "added": lambda r: r.added_at,
    "created": lambda r: -(r.task.created_at or 0) if r.task else 0,
    "status": lambda r: STATUS_ORDER.get(r.status, 6),
    "expiry": lambda r: _expiry_key(r),
}


def _expiry_key(record: TrackedTask) -> float:
    stamp = earliest_expiry(record.task.results) if record.task else None
    if not stamp:
        return float("inf")  # never, or unknown: last
    return stamp


class TaskTable(DataTable[Text]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g,home", "first_row", "First row", show=False),
        Binding("G,end", "last_row", "Last row", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self._cells: dict[str, dict[str, Text]] = {}
        self.filter_text = ""
        self.sort_name = "added"
        self.widths = column_widths(120)
        self._records: Callable[[], Iterable[TrackedTask]] = list
        self._tick_records: dict[str, TrackedTask] | None = None
        self._pending: dict[str, TrackedTask] = {}
        self._flush_timer: Timer | None = None
        self._now: Callable[[], float] = lambda: 0.0

    def bind_source(
        self, records: Callable[[], Iterable[TrackedTask]], now: Callable[[], float]
    ) -> None:
        """Where to re-read rows from when a resize needs a rebuild."""
        self._records, self._now = records, now

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        for key, label in COLUMNS:
            if key in self.widths:
                self.add_column(Text(label), key=key, width=self.widths[key])

    def on_resize(self) -> None:
        self.fit_columns()

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """Skip DataTable's per-cell measuring of new rows.

        Every column here has a fixed width and every row is one line, so the
        measurement (a Rich render per cell) only costs time: ~0.2 s per
        thousand rows, the bulk of startup with a long list. The virtual size
        is still recomputed by the base class.
        """
        super()._update_dimensions(())

    def visible_row_keys(self) -> list[str]:
        """Keys of the rows currently on screen (plus a small margin)."""
        first = max(0, int(self.scroll_y) - 2)
        last = first + self.size.height + 4
        return [row.key.value for row in self.ordered_rows[first:last] if row.key.value]

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if self._tick_records is not None:
            self.tick(self._tick_records, self._now())

    def fit_columns(self) -> bool:
        """Recompute column widths for the current size and IDs; rebuild if they changed."""
        longest = max((len(r.id) for r in self._records()), default=FULL_ID_WIDTH)
        widths = column_widths(self.size.width, min(longest, FULL_ID_WIDTH * 2))
        if widths == self.widths:
            return False
        self.widths = widths
        self.rebuild(self._records(), self._now(), columns=True)
        return True

    def action_first_row(self) -> None:
        self.move_cursor(row=0)

    def action_last_row(self) -> None:
        self.move_cursor(row=self.row_count - 1)

    @property
    def shown(self) -> dict[str, dict[str, Text]]:
        """Task IDs with a row right now (the filter may hide others)."""
        return self._cells

    def row_ids(self) -> list[str]:
        """Task IDs in the order the rows are shown."""
        return [row.key.value for row in self.ordered_rows if row.key.value is not None]

    # -- queries -------------------------------------------------------------
    @property
    def highlighted_id(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:  # cursor outside the table during a rebuild
            return None
        return key.value

    def matches(self, record: TrackedTask) -> bool:
        if not self.filter_text:
            return True
        needle = self.filter_text.lower()
        task = record.task
        haystack = [record.id, record.status]
        if task:
            for clip in task.results:
                haystack += [clip.title or "", clip.tags or ""]
        return any(needle in item.lower() for item in haystack)

    # -- updates -------------------------------------------------------------
    def upsert(self, record: TrackedTask, now: float) -> None:
        """Add or update one row, touching only changed cells."""
        if not self.matches(record):
            if record.id in self._cells:
                self.drop(record.id)
            return
        cells = row_cells(record, now, self.widths)
        old = self._cells.get(record.id)
        if old is None:
            self._add(record, cells)
            return
        for key, value in cells.items():
            if old[key] != value and key in self.widths:
                self.update_cell(record.id, key, value)
                old[key] = value

    def schedule(self, record: TrackedTask) -> None:
        """Queue a row update; queued updates are applied together a moment later.

        Any cell change makes DataTable re-render every visible cell (its cell
        cache is keyed on a global update counter), so a thousand tasks changing
        within a few seconds would otherwise repaint the table on every frame.
        Coalescing to a few flushes a second keeps the UI and the poller on time.
        """
        self._pending[record.id] = record
        if self._flush_timer is None:
            self._flush_timer = self.set_timer(FLUSH_DELAY, self._flush)

    def _flush(self) -> None:
        self._flush_timer = None
        pending, self._pending = self._pending, {}
        now = self._now()
        with self.app.batch_update():
            for record in pending.values():
                if record.id in self._cells or self.matches(record):
                    self.upsert(record, now)

    def drop(self, task_id: str) -> None:
        self._pending.pop(task_id, None)
        if self._cells.pop(task_id, None) is not None:
            with contextlib.suppress(RowDoesNotExist):
                self.remove_row(task_id)

    def tick(self, records: dict[str, TrackedTask], now: float) -> None:
        """Refresh the clock-driven cells (age, expires) of the rows on screen.

        Off-screen rows are brought up to date when they scroll into view, so
        the per-second cost does not grow with the length of the list.
        """
        self._tick_records = records
        for task_id in self.visible_row_keys():
            record = records.get(task_id)
            old = self._cells.get(task_id)
            if record is None or old is None:
                continue
            task = record.task
            fresh = {
                "age": age_cell(task.created_at if task else None, now),
                "expires": expiry_cell(
                    task.results if task else (), now, record.expired is not None
                ),
            }
            for key in TIME_COLUMNS:
                if old[key] != fresh[key]:
                    self.update_cell(task_id, key, fresh[key])
                    old[key] = fresh[key]

    def rebuild(self, records: Iterable[TrackedTask], now: float, columns: bool = False) -> None:
        """Show the matching records in sort order (after a sort/filter/width change).

        Rows that stay are reordered in place and keep their rendered cells; only
        when many rows go (a filter) or the columns change is the table re-filled.
        """
        keep = self.highlighted_id
        ordered = sorted((r for r in records if self.matches(r)), key=SORTS[self.sort_name])
        wanted = {r.id for r in ordered}
        stale = [task_id for task_id in self._cells if task_id not in wanted]
        with self.app.batch_update():
            if columns or len(stale) > REFILL_ABOVE:
                reusable = {} if columns else self._cells
                self.clear(columns=columns)
                if columns:
                    self._add_columns()
                self._cells = {}
                for record in ordered:
                    self._add(
                        record, reusable.get(record.id) or row_cells(record, now, self.widths)
                    )
            else:
                for task_id in stale:
                    self.drop(task_id)
                for record in ordered:
                    if record.id not in self._cells:
                        self._add(record, row_cells(record, now, self.widths))
                self._reorder([r.id for r in ordered])
            if keep is not None and keep in self._cells:
                self.move_cursor(row=self.get_row_index(keep), animate=False)

    def _add(self, record: TrackedTask, cells: dict[str, Text]) -> None:
        self._cells[record.id] = cells
        self.add_row(*(cells[key] for key, _ in COLUMNS if key in self.widths), key=record.id)

    def _reorder(self, order: list[str]) -> None:
        """Put existing rows in ``order`` without re-adding them.

        DataTable.sort does exactly this, but sorts by cell values only; we sort
        by task fields, so we set the row order the same way it does.
        """
        keys = {row_key.value: row_key for row_key in self.rows}
        self._row_locations = TwoWayDict({keys[k]: i for i, k in enumerate(order)})
        self._update_count += 1
        self.refresh()
