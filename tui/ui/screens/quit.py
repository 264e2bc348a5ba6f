"""``q`` while files are downloading: ask before dropping them.

Three ways out, each one key: quit anyway (the partial files are removed, as
a cancel does), wait and quit when the last download ends, or stay. Without
downloads in progress ``q`` quits at once, as before.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

Choice = Literal["quit", "wait", "stay"]


class QuitScreen(ModalScreen[Choice]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,y", "choose('quit')", "Quit anyway"),
        Binding("w", "choose('wait')", "Wait, then quit"),
        Binding("escape,n,c", "choose('stay')", "Cancel"),
    ]

    def __init__(self, downloads: int) -> None:
        super().__init__()
        self.downloads = downloads

    def compose(self) -> ComposeResult:
        count = f"{self.downloads} download{'' if self.downloads == 1 else 's'}"
        with Vertical(id="quit-dialog"):
            yield Static(Text(f"{count} in progress", style="bold"), id="quit-title")
            yield Static(
                Text(
                    "Quitting now stops them and removes their partial files. "
                    "Wait, and the dashboard quits when the last one ends."
                ),
                id="quit-body",
            )
            with Horizontal(id="quit-buttons"):
                yield Button("q Quit anyway", id="quit", variant="error")
                yield Button("w Wait, then quit", id="wait", variant="primary")
                yield Button("esc Cancel", id="stay")

    def on_mount(self) -> None:
        self.query_one("#wait", Button).focus()  # the safe choice under enter

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)  # type: ignore[arg-type]

    def action_choose(self, choice: Choice) -> None:
        self.dismiss(choice)
