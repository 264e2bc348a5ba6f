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
from textual.binding import Binding, BindingType
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from tui.store import TrackedTask
from tui.widgets.presentation import (
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
            self._cells[record.id] = cells
            self.add_row(*(cells[key] for key, _ in COLUMNS if key in self.widths), key=record.id)
            return
        for key, value in cells.items():
            if old[key] != value and key in self.widths:
                self.update_cell(record.id, key, value)
                old[key] = value

    def drop(self, task_id: str) -> None:
        if self._cells.pop(task_id, None) is not None:
            with contextlib.suppress(RowDoesNotExist):
                self.remove_row(task_id)

    def tick(self, records: dict[str, TrackedTask], now: float) -> None:
        """Refresh the clock-driven cells (age, expires) where their text changed."""
        for task_id, old in self._cells.items():
            record = records.get(task_id)
            if record is None:
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
        """Re-create every row in sort order (after a sort/filter/width change)."""
        keep = self.highlighted_id
        ordered = sorted((r for r in records if self.matches(r)), key=SORTS[self.sort_name])
        with self.app.batch_update():
            self.clear(columns=columns)
            if columns:
                self._add_columns()
            self._cells.clear()
            for record in ordered:
                self.upsert(record, now)
            if keep is not None and keep in self._cells:
                self.move_cursor(row=self.get_row_index(keep), animate=False)
