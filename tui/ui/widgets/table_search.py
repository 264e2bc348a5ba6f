"""What the table's filter searches, per task, kept between keystrokes.

The ID, status, a generated task's request label (what its row shows before
clips have titles), and every clip's title and tags, lower-cased and joined (NUL
between, so a needle never spans two of them). Built once per task and kept
until its row changes, so a keystroke costs a substring test per task:
measured 50 ms -> ~10 ms at 50,000 tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from tui.domain.tracked import TrackedTask

#: Search texts built per slice while warming up (~2.5 ms each).
WARM_SLICE = 2000


class SearchIndex:
    def __init__(self) -> None:
        self._texts: dict[str, str] = {}

    def text(self, record: TrackedTask) -> str:
        text = self._texts.get(record.id)
        if text is None:
            task = record.task
            parts = [record.id, record.status or ""]
            if record.request is not None:  # a generated task: what it was asked for
                parts.append(record.request_label or "")
            if task:
                for clip in task.results:
                    parts += [clip.title or "", clip.tags or ""]
            text = self._texts[record.id] = "\0".join(parts).lower()
        return text

    def cached(self, task_id: str) -> str | None:
        return self._texts.get(task_id)

    def forget(self, task_id: str) -> None:
        """The row changed: its title, tags or status may have."""
        self._texts.pop(task_id, None)

    def clear(self) -> None:
        self._texts.clear()

    def warm(
        self,
        records: Mapping[str, TrackedTask],
        start: int,
        later: Callable[[float, Callable[[], None]], object],
    ) -> None:
        """Build the texts of every task ahead of the first keystroke, in slices
        of :data:`WARM_SLICE` a moment apart (``later`` schedules the next, so
        keys are handled between them): ~60 ms at 50,000 tasks in one go would
        be a visible stall. A filter typed before it is done builds what is
        missing as it goes."""
        if start == 0:
            self._texts.clear()  # the records may have been replaced (loading)
        ids = list(records)[start : start + WARM_SLICE]
        for task_id in ids:
            record = records.get(task_id)
            if record is not None and task_id not in self._texts:
                self.text(record)
        if len(ids) == WARM_SLICE:
            later(0.02, lambda: self.warm(records, start + WARM_SLICE, later))


def other_clip_matches(record: TrackedTask, needle: str) -> int:
    """How many clips after the first (the one the row shows) match ``needle``,
    when the shown part of the row does not: why a row with another title is
    in the filtered list. 0 when the row's own text explains it."""
    task = record.task
    if not needle or task is None or len(task.results) < 2:
        return 0
    first = task.results[0]
    shown = "\0".join((record.id, record.status, first.title or "", first.tags or "")).lower()
    if needle in shown:
        return 0
    return sum(
        1
        for clip in task.results[1:]
        if needle in (clip.title or "").lower() or needle in (clip.tags or "").lower()
    )
