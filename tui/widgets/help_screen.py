"""``?``: every key, grouped, generated from :data:`tui.keys.KEYMAP`."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.keys import KEYMAP


def help_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    group = None
    for key in KEYMAP:
        if key.group != group:
            if group is not None:
                table.add_row("", "")
            group = key.group
            table.add_row(Text(group, style="bold underline"), "")
        table.add_row(Text(key.shown_keys), Text(key.description))
    table.add_row("", "")
    table.add_row(Text("ctrl+p"), Text("Command palette (every action)"))
    table.add_row(Text("up/down, j/k"), Text("Move in the table; pick a clip in the detail pane"))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Static(Text("Keys", style="bold"), id="help-title")
            yield Static(help_table())
            yield Static(Text("Press esc to close.", style="dim"), id="help-hint")
