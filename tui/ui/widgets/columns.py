"""The task table's columns: which there are, how wide, and what gives way.

Widths are shared out from the table's width (:func:`column_widths`): the
fixed columns keep theirs, the ID and title share the rest, the least useful
columns go first when it is narrow, and a column grows only when a cell
needs it (:data:`GROWN_WIDTHS`), else that cell shows a short form.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text

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
TIME_COLUMNS = ("status", "age", "took", "expires")
#: The sort a click on each column's header picks.
COLUMN_SORTS = {
    "id": "id",
    "status": "status",
    "title": "title",
    "clips": "clips",
    "length": "length",
    "age": "created",
    "took": "took",
    "expires": "expiry",
}
#: Widths of the columns whose content has a known bound; ID and title share the rest.
FIXED_WIDTHS = {"status": 12, "clips": 3, "length": 6, "age": 7, "took": 6, "expires": 8}
#: How far those columns grow once a cell needs it ("1/2↓", "1:06:40",
#: "6d 23h (1 exp)"): most lists never need it, and keep the room for titles.
GROWN_WIDTHS = {"clips": 6, "length": 9, "expires": 14}  # length: up to "168:00:00"
FULL_ID_WIDTH = 24
SHORT_ID_WIDTH = 13
MIN_TITLE = 12
MAX_TITLE = 40
#: Columns given up, in order, when the table is too narrow for all of them.
DROPPABLE = ("took", "length", "clips", "age")
_CHROME = 4  # border and vertical scrollbar


def column_widths(
    table_width: int, longest_id: int = FULL_ID_WIDTH, grown: Mapping[str, int] | None = None
) -> dict[str, int]:
    """Share ``table_width`` between the columns that fit.

    IDs are shown whole (up to ``longest_id``) while the title keeps at least
    16 cells, and shortened (middle ellipsis) only beyond that; the least
    useful columns (took, then length, clips, age) are dropped before the
    title goes under ``MIN_TITLE``. ``grown``: widths some cells have needed,
    given while the ID keeps its short width and the title 16 cells (else
    those cells show their short form: see :func:`short_form`).
    """
    if grown:
        base = column_widths(table_width, longest_id, None)
        grown_widths = {
            key: max(base[key], min(width, GROWN_WIDTHS.get(key, 0)))
            for key, width in grown.items()
            if key in base
        }
        need = sum(grown_widths[key] - base[key] for key in grown_widths)
        # Room, in the order it is given: cells no column uses, a long title
        # down to 24 cells, the ID down to its short width (the detail pane
        # has it whole), then the title down to 16.
        widths = {**base}
        left = need - max(0, table_width - _CHROME - sum(w + 2 for w in base.values()))
        for key, floor in (("title", 24), ("id", SHORT_ID_WIDTH), ("title", 16)):
            take = max(0, min(left, widths[key] - floor))
            widths[key] -= take
            left -= take
        return base if left > 0 else {**widths, **grown_widths}
    fixed = dict(FIXED_WIDTHS)
    longest_id = max(8, longest_id)  # "Task ID▲"
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


def short_form(key: str, cell: Text, width: int) -> Text:
    """A cell that does not fit its column, in a shorter form where it has one
    (the detail pane has the long one): expires drops its "(1 exp)", a length
    of an hour or more becomes "1h06" rather than losing digits."""
    if key == "expires" and (cut := cell.plain.find(" (")) > 0:
        return cell[:cut]
    if key == "length" and cell.plain.count(":") == 2:
        hours, minutes, _ = cell.plain.split(":")
        return Text(f"{hours}h{minutes}", style=cell.style)
    return cell
