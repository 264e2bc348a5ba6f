"""Modal dialog for adding task IDs, one or many (a pasted list works).

Enter submits; a paste keeps its newlines. The feedback line classifies every
token as you type, so invalid IDs are explained before anything is sent, and
says which IDs were taken out of pasted URLs and JSON answers.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static, TextArea

from tui.api.ids import ParsedIds, parse_task_ids
from tui.ui import wording


class _IdArea(TextArea):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "screen.submit", "Add", show=False, priority=True),
    ]


def feedback(parsed: ParsedIds) -> Text:
    parts: list[Text | str] = []
    if note := wording.extracted(parsed):
        parts.append(Text(note, style="cyan"))
    if parsed.valid:
        parts.append(Text(f"{len(parsed.valid)} new", style="green"))
    if parsed.duplicates:
        shown = ", ".join(parsed.duplicates[:3]) + ("…" if len(parsed.duplicates) > 3 else "")
        parts.append(Text(f"{len(parsed.duplicates)} already tracked ({shown})", style="yellow"))
    if parsed.repeated:
        parts.append(
            Text(f"{len(parsed.repeated)} repeated in the paste (added once)", style="dim")
        )
    for token, reason in parsed.invalid[:4]:
        parts.append(Text(f"invalid '{token}': {reason}", style="red"))
    if len(parsed.invalid) > 4:
        parts.append(Text(f"and {len(parsed.invalid) - 4} more invalid", style="red"))
    if not parts:
        return Text(
            "Paste or type task IDs, separated by spaces, commas or new lines;"
            " task URLs and JSON answers with task_id work too.",
            style="dim",
        )
    return Text("\n").join(Text.assemble(p) if isinstance(p, str) else p for p in parts)


class AddTasksScreen(ModalScreen[ParsedIds | None]):
    """Returns the parsed IDs (``valid`` to add) or ``None`` when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, known: set[str]) -> None:
        super().__init__()
        self.known = frozenset(known)

    def compose(self) -> ComposeResult:
        with Vertical(id="add-dialog"):
            yield Label("Add task IDs", id="add-title")
            yield _IdArea(id="add-input", soft_wrap=True, show_line_numbers=False)
            yield Static(feedback(ParsedIds()), id="add-feedback")
            with Horizontal(id="add-buttons"):
                yield Button("Add", variant="primary", id="add-ok")
                yield Button("Cancel", id="add-cancel")

    def on_mount(self) -> None:
        self.query_one("#add-input").focus()

    @property
    def parsed(self) -> ParsedIds:
        return parse_task_ids(self.query_one("#add-input", TextArea).text, self.known)

    @on(TextArea.Changed)
    def _changed(self) -> None:
        self.query_one("#add-feedback", Static).update(feedback(self.parsed))

    @on(Button.Pressed, "#add-ok")
    def action_submit(self) -> None:
        parsed = self.parsed
        if not parsed.valid:
            note = feedback(parsed)
            if not parsed.invalid and not parsed.duplicates:
                note = Text("Nothing to add yet: type or paste at least one task ID.", style="red")
            self.query_one("#add-feedback", Static).update(note)
            self.query_one("#add-feedback").add_class("-error")
            return
        self.dismiss(parsed)

    @on(Button.Pressed, "#add-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
