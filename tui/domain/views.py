"""The one-key views of the task list (``1``-``5``): which tasks each shows.

A view is a standing question ("what is still running?", "what must I save
before it goes?"); the text filter narrows within it. Membership that depends
on the clock (expiring soon) is decided when rows are built or change, and
again whenever a view is chosen, so a row does not vanish under the cursor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tui.domain.tracked import NOT_FOUND, TrackedTask

Test = Callable[[TrackedTask, float, float], bool]  # (record, now, warn seconds)


@dataclass(frozen=True)
class View:
    name: str
    label: str  # in the table's border, after "Tasks"
    test: Test


VIEWS: dict[str, View] = {
    view.name: view
    for view in (
        View("all", "all", lambda r, now, warn: True),
        View("active", "active", lambda r, now, warn: not r.finished),
        View("completed", "completed", lambda r, now, warn: r.status == "completed"),
        View("failed", "failed", lambda r, now, warn: r.status in ("failed", NOT_FOUND)),
        View(
            "expiring",
            "expiring soon, not saved",
            lambda r, now, warn: r.expiring_unsaved(now, warn),
        ),
    )
}
DEFAULT_VIEW = "all"
