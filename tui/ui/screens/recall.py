"""``ctrl+r`` in the New track dialog: pick an earlier request, or a draft
that was set aside, to bring back into the dialog.

Drafts set aside come first (they are unsent work), then the last 50
requests the server accepted, newest first. Each line is the request in a
few words and when; the highlighted one is shown whole below the list, so
two requests with the same title can be told apart.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.core.formatting import at_time
from tui.core.sanitize import clean
from tui.domain.compose_form import ComposeForm, check, label_of
from tui.services.drafts import Aside, Sent


def _when(at: float, now: float) -> str:
    return at_time(at, "%H:%M" if abs(now - at) < 20 * 3600 else "%Y-%m-%d")


def _kind(form: ComposeForm) -> str:
    """What sort of request, in a word or two: "extend at 30 s", "inspiration"."""
    if form.continue_clip_id:
        at = f" at {form.continue_at.strip()} s" if form.continue_at.strip() else ""
        kind = f"extend{at}"
    else:
        kind = form.mode
    return kind + (", instrumental" if form.instrumental else "")


def _summary(form: ComposeForm) -> str:
    request = check(form).request
    if request is not None:
        return label_of(request)
    for text in (form.title, form.description, form.lyrics, form.tags):
        if text.strip():
            return text.strip().splitlines()[0][:60]
    return "(empty)"


class RecallScreen(ModalScreen[ComposeForm | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", "Back")]

    def __init__(self, aside: tuple[Aside, ...], sent: list[Sent], now: float) -> None:
        super().__init__()
        self._forms: list[ComposeForm] = []
        self._options: list[Option] = []
        for item in aside:
            form = item.form
            self._add(form, f"draft  {_when(item.at, now)}  {_kind(form):<22} {_summary(form)}")
        for entry in sent:
            form = ComposeForm.from_request(entry.request)
            line = f"sent   {_when(entry.at, now)}  {_kind(form):<22} {label_of(entry.request)}"
            self._add(form, line)

    def _add(self, form: ComposeForm, line: str) -> None:
        self._forms.append(form)
        self._options.append(Option(Text(clean(line, one_line=True))))

    def compose(self) -> ComposeResult:
        with Vertical(id="recall-dialog") as dialog:
            dialog.border_title = "Recall a request or a draft"
            dialog.border_subtitle = "enter recall · esc back"
            if self._options:
                yield OptionList(*self._options, id="recall-list")
            else:
                yield Static(
                    "Nothing to recall yet: requests appear here once the server accepts them.",
                    id="recall-empty",
                    markup=False,
                )
            yield Static("", id="recall-preview", markup=False)

    @on(OptionList.OptionHighlighted)
    def _preview(self, event: OptionList.OptionHighlighted) -> None:
        form = self._forms[event.option_index]
        text = form.description if form.mode == "inspiration" else form.lyrics
        extra = []
        if form.continue_clip_id:
            extra.append(f"extends clip {form.continue_clip_id}")
        if form.persona_id:
            extra.append(f"persona {form.persona_id}")
        if form.retention_days:
            extra.append(f"keep files {form.retention_days} days")
        parts = [_kind(form), *extra, form.title, form.tags, text]
        shown = "\n".join(clean(p) for p in parts if p.strip())
        lines = shown.splitlines()
        if len(lines) > 6:
            shown = "\n".join(lines[:6]) + f"\n… ({len(lines) - 6} more lines)"
        self.query_one("#recall-preview", Static).update(Text(shown, style="dim"))

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._forms[event.option_index])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
