"""The strip of running downloads above the footer: one row per file.

Hidden when nothing is downloading; finished rows linger a few seconds so
the result can be read. Rows are keyed by the file's label.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.theme import Theme
from textual.widgets import ProgressBar, Static

from tui.core.sanitize import clean
from tui.services.downloads import Progress
from tui.ui.palette import palette_of
from tui.ui.widgets.presentation import Styles, styled

LINGER = 4.0
MAX_ROWS = 6


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def describe(progress: Progress, *, palette: Styles) -> Text:
    if progress.state == "done":
        return styled(f"saved {_size(progress.received)}", "saved", palette)
    if progress.state in ("failed", "cancelled"):
        failure = f"{progress.state}: {clean(progress.message, one_line=True)}"
        return styled(failure, "error", palette)
    total = f" of {_size(progress.total)}" if progress.total else ""
    state = "retrying · " if progress.state == "retrying" else ""
    return Text(f"{state}{_size(progress.received)}{total} · {_size(progress.rate)}/s")


class DownloadRow(Horizontal):
    def __init__(self, progress: Progress) -> None:
        super().__init__(classes="download-row")
        self.progress = progress
        self._label = Static(Text(clean(progress.label, one_line=True)), classes="download-label")
        self._bar = ProgressBar(total=progress.total, show_eta=False, classes="download-bar")
        self._info = Static(classes="download-info")

    def compose(self) -> ComposeResult:
        yield self._label
        yield self._bar
        yield self._info

    def show(self, progress: Progress) -> None:
        self.progress = progress
        if progress.state == "done":
            self._bar.update(total=max(progress.received, 1), progress=max(progress.received, 1))
        else:
            self._bar.update(total=progress.total, progress=progress.received)
        self._info.update(describe(progress, palette=palette_of(self.app)))
        self.set_class(progress.state in ("failed", "cancelled"), "-failed")


class DownloadsPanel(Vertical):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.rows: dict[str, DownloadRow] = {}
        self.display = False

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme: Theme) -> None:
        for row in self.rows.values():
            row.show(row.progress)  # in the new theme's colours

    def show(self, progress: Progress) -> None:
        if not self.is_attached:  # news after the app began to quit
            return
        self.display = True
        row = self.rows.get(progress.label)
        if row is None:
            row = self.rows[progress.label] = DownloadRow(progress)
            self.mount(row)
            self._fit()
        row.show(progress)
        self.border_title = f"Downloads ({self.active} running)"
        if progress.state in ("done", "failed", "cancelled"):
            self.set_timer(LINGER, lambda: self._forget(progress.label, row))

    def _fit(self) -> None:
        """Height from the row count: a just-mounted row is not yet laid out, so
        ``height: auto`` would lag one row behind."""
        self.styles.height = 1 + min(len(self.rows), MAX_ROWS)

    @property
    def active(self) -> int:
        return sum(r.progress.state in ("downloading", "retrying") for r in self.rows.values())

    def _forget(self, label: str, row: DownloadRow) -> None:
        if self.rows.get(label) is row and row.progress.state in ("done", "failed", "cancelled"):
            del self.rows[label]
            row.remove()
            self._fit()
        self.display = bool(self.rows)
        self.border_title = f"Downloads ({self.active} running)"
