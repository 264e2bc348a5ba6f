"""``q`` while files are downloading: ask before dropping them.

Three ways out, each one key: quit anyway (the partial files are removed, as
a cancel does), wait and quit when the last download ends, or stay. Without
downloads in progress ``q`` quits at once, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.ui.wording import plural

Choice = Literal["quit", "wait", "stay"]


class QuitScreen(ModalScreen[Choice]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,y", "choose('quit')", "Quit anyway"),
        Binding("w", "choose('wait')", "Wait, then quit"),
        Binding("escape,n,c", "choose('stay')", "Cancel"),
    ]

    def __init__(self, downloads: Callable[[], int]) -> None:
        super().__init__()
        self.downloads = downloads  # how many are not finished, asked as it changes

    def _title(self) -> Text:
        count = self.downloads()
        if not count:
            return Text("The downloads have finished: q quits.", style="bold")
        return Text(f"{plural(count, 'download')} not finished", style="bold")

    def compose(self) -> ComposeResult:
        with Vertical(id="quit-dialog"):
            yield Static(self._title(), id="quit-title")
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
        # Downloads end while the question is open: the title follows.
        self.set_interval(0.5, lambda: self.query_one("#quit-title", Static).update(self._title()))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)  # type: ignore[arg-type]

    def action_choose(self, choice: Choice) -> None:
        self.dismiss(choice)
