"""``?``: every key, grouped, generated from :data:`tui.ui.keys.KEYMAP`."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.ui.keys import KEYMAP
from tui.ui.screens.compose import ComposeScreen
from tui.ui.widgets.footer import KeyFooter

LEFT_GROUPS = ("Tasks", "View")
MIDDLE_GROUPS = ("Make", "Marks", "Clip")


def help_table(groups: tuple[str, ...]) -> Table:
    """The keys of ``groups``, in KEYMAP order, under a heading per group."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for group in groups:
        if table.row_count:
            table.add_row("", "")
        table.add_row(Text(group, style="bold underline"), "")
        for key in KEYMAP:
            if key.group == group:
                table.add_row(Text(key.shown_keys), Text(key.description))
    return table


def dialog_keys() -> list[tuple[str, str]]:
    """The New track dialog's keys as (key, what it does): from its bindings,
    so the help and the README (tests/test_docs.py) follow them."""
    rows = []
    for binding in ComposeScreen.BINDINGS:
        assert isinstance(binding, Binding)
        rows.append((binding.key.replace("escape", "esc"), binding.description))
    return rows


def dialog_table() -> Group:
    """The heading on a line of its own: as a row it would widen the key column."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for key, description in dialog_keys():
        table.add_row(Text(key), Text(description))
    return Group(Text("In the New track dialog", style="bold underline"), table)


def extra_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    table.add_row(Text("Also", style="bold underline"), "")
    table.add_row(Text("ctrl+p"), Text("Command palette (every action)"))
    table.add_row(Text("up/down, j/k"), Text("Move in the table; pick a clip in details"))
    table.add_row(Text("g / G"), Text("First / last row"))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        groups = tuple(dict.fromkeys(k.group for k in KEYMAP))
        middle = tuple(g for g in groups if g in MIDDLE_GROUPS)
        right = tuple(g for g in groups if g not in LEFT_GROUPS + MIDDLE_GROUPS)
        with VerticalScroll(id="help-dialog"):
            yield Static(Text("Keys", style="bold"), id="help-title")
            # Three columns: every key fits a 160x40 terminal without scrolling.
            with Horizontal(id="help-columns"):
                with Vertical(classes="help-column"):
                    yield Static(help_table(LEFT_GROUPS))
                    yield Static(extra_table(), id="help-extra")
                with Vertical(classes="help-column"):
                    yield Static(help_table(middle))
                with Vertical(classes="help-column"):
                    yield Static(help_table(right))
                    yield Static(dialog_table(), id="help-dialog-keys")
            yield Static(Text("Press esc to close.", style="dim"), id="help-hint")
        yield KeyFooter()  # this dialog's keys, over the dashboard's
