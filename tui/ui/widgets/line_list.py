"""A long list of one-line texts with a cursor and a filter (the log screen's list).

A line-API widget, like the task table: only the lines on screen are drawn,
each from its string, so ten thousand lines cost a list of strings. The
filter is a substring test per line on lower-cased copies made once, not a
rebuild of widgets: OptionList measured ~0.5 s per keystroke at 10,000
lines, as it lays out every option again. Lines are shown literally (a
``Text``, never markup) and cut with ``…`` at the right edge; the whole of
the highlighted one is for the screen to show elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip


class LineList(ScrollView, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"line-list--cursor"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,g", "first", "First line", show=False),
        Binding("end,G", "last", "Last line", show=False),
    ]

    #: Row of the cursor among the shown (filtered) lines.
    cursor: reactive[int] = reactive(0, repaint=False, init=False)

    class Highlighted(Message):
        """The cursor is on another line (``None``: no line is shown)."""

        def __init__(self, line: str | None) -> None:
            super().__init__()
            self.line = line

    def __init__(self, lines: Sequence[str] = (), **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._lines: list[str] = []
        self._lowered: list[str] = []
        self._shown: list[int] = []  # indexes into _lines, top to bottom
        self._strips: LRUCache[tuple[int, bool, bool, int], Strip] = LRUCache(512)
        self.needle = ""
        self._lines = list(lines)
        self._lowered = [line.lower() for line in self._lines]
        self._shown = list(range(len(self._lines)))
        self.set_reactive(LineList.cursor, max(0, len(self._shown) - 1))

    def on_mount(self) -> None:
        """Start at the newest line, as a log does."""
        self.virtual_size = Size(0, len(self._shown))
        self.call_after_refresh(self.move_cursor, len(self._shown) - 1, True)

    # -- what is shown ---------------------------------------------------------
    def set_lines(self, lines: Sequence[str]) -> None:
        """Show ``lines`` (the filter still applies), the cursor on the last one."""
        self._lines = list(lines)
        self._lowered = [line.lower() for line in self._lines]
        self._apply_filter(keep=None)

    def set_filter(self, needle: str) -> None:
        """Show only the lines that contain ``needle`` (case-insensitive); the
        cursor stays on its line when that line is still shown."""
        if needle == self.needle:
            return
        keep = self._shown[self.cursor] if self._shown else None
        self.needle = needle
        self._apply_filter(keep)

    def _apply_filter(self, keep: int | None) -> None:
        needle = self.needle.lower()
        lowered = self._lowered
        self._shown = [i for i in range(len(lowered)) if needle in lowered[i]]
        self._strips.clear()
        self.virtual_size = Size(0, len(self._shown))
        row = self._shown.index(keep) if keep in self._shown else len(self._shown) - 1
        self.move_cursor(row, force=True)
        self.refresh()

    @property
    def shown(self) -> list[str]:
        """The lines that pass the filter, top to bottom."""
        return [self._lines[i] for i in self._shown]

    @property
    def shown_count(self) -> int:
        return len(self._shown)

    @property
    def total(self) -> int:
        return len(self._lines)

    @property
    def highlighted(self) -> str | None:
        shown, cursor = self._shown, self.cursor
        return self._lines[shown[cursor]] if 0 <= cursor < len(shown) else None

    # -- the cursor ------------------------------------------------------------
    def move_cursor(self, row: int, force: bool = False) -> None:
        before = self.highlighted
        self.cursor = max(0, min(row, len(self._shown) - 1))
        self._scroll_to_cursor()
        if force or self.highlighted != before:
            self.post_message(self.Highlighted(self.highlighted))

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh_line(old)
        self.refresh_line(new)

    def _scroll_to_cursor(self) -> None:
        height = max(1, self.scrollable_content_region.height)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor - max(1, self.size.height - 1))

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor + max(1, self.size.height - 1))

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._shown) - 1)

    def on_click(self, event: events.Click) -> None:
        row = int(self.scroll_y) + event.y
        if 0 <= row < len(self._shown):
            self.move_cursor(row)

    def on_resize(self) -> None:
        self.call_after_refresh(self._scroll_to_cursor)

    def on_focus(self) -> None:
        self.refresh()  # the cursor's colour follows focus

    def on_blur(self) -> None:
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    # -- drawing ---------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        row = int(self.scroll_y) + y
        if row >= len(self._shown):
            return Strip.blank(width, self.rich_style)
        cursor = row == self.cursor
        key = (self._shown[row], cursor, cursor and self.has_focus, width)
        strip = self._strips.get(key)
        if strip is None:
            text = Text(self._lines[self._shown[row]], no_wrap=True, end="")
            text.truncate(width, overflow="ellipsis", pad=True)
            top = self.get_component_rich_style("line-list--cursor") if cursor else None
            segments = Segment.apply_style(text.render(self.app.console), self.rich_style, top)
            strip = Strip(Segment.simplify(segments), width)
            self._strips[key] = strip
        return strip
