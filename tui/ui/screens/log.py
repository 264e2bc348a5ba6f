"""``l``: the most recent errors of this session (the full log is on disk)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.core.sanitize import clean


class LogScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,l", "dismiss", "Close")]

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="log-dialog"):
            yield Static(Text("Recent errors", style="bold"), id="log-title")
            body = (
                Text("\n").join(Text(clean(line, one_line=True)) for line in self.lines[-100:])
                if self.lines
                else Text("No errors so far.", style="dim")
            )
            yield Static(body, id="log-body")
            yield Static(Text("Press esc to close.", style="dim"), id="log-hint")

    def on_mount(self) -> None:
        self.query_one("#log-dialog").scroll_end(animate=False)
