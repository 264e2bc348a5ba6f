"""The detail pane's listening card: the selected clip's cover, its waveform,
and, while it plays, the lyric line being sung.

It only shows what it is given (:class:`~tui.ui.screens.main.MainScreen`
fetches, through :mod:`tui.services.listening`); each part redraws only when
what it would show changed.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical

from tui.ui.palette import palette_of
from tui.ui.widgets.cover import CoverArt
from tui.ui.widgets.waveform import TextLine, waveform_text


class ListenCard(Horizontal):
    DEFAULT_CSS = """
    ListenCard { height: auto; display: none; margin-top: 1; }
    ListenCard.-shown { display: block; }
    ListenCard #listen-cover { width: 24; max-height: 12; margin-right: 1; }
    ListenCard #listen-side { width: 1fr; height: auto; }
    ListenCard #listen-wave { height: 1; }
    ListenCard #listen-lyrics { margin-top: 1; }
    """

    def __init__(self, cover_mode: str = "auto", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._cover_mode = cover_mode
        self._wave: tuple[object, ...] | None = None
        self._lyrics: Text | None = None
        self.peaks: tuple[float, ...] = ()
        self._last: tuple[tuple[float, ...], float | None, str] | None = None

    def compose(self) -> ComposeResult:
        yield CoverArt(mode=self._cover_mode, max_rows=10, id="listen-cover")  # type: ignore[arg-type]
        with Vertical(id="listen-side"):
            yield TextLine(id="listen-wave")
            # The line sung now and the next: two rows, one line each (a word
            # lit several times a second must not lay out the screen again).
            yield TextLine(rows=2, id="listen-lyrics")

    def on_mount(self) -> None:
        self.query_one("#listen-lyrics").display = False
        self.app.theme_changed_signal.subscribe(self, lambda theme: self._redraw())

    def _redraw(self) -> None:
        """The theme or the width changed: draw the waveform again."""
        self._wave = None
        if self._last is not None:
            self.show_wave(*self._last)

    def set_shown(self, shown: bool) -> None:
        self.set_class(shown, "-shown")

    def show_cover(self, path: Path | None) -> None:
        self.query_one(CoverArt).show(path)

    def show_cover_problem(self, reason: str) -> None:
        self.query_one(CoverArt).show_problem(reason)

    def set_cover_mode(self, mode: str) -> None:
        self._cover_mode = mode
        self.query_one(CoverArt).set_mode(mode)  # type: ignore[arg-type]

    def show_wave(self, peaks: tuple[float, ...], played: float | None, note: str = "") -> None:
        """The waveform across the card (``played`` 0..1 while this clip plays)."""
        self._last = (peaks, played, note)
        wave = self.query_one("#listen-wave", TextLine)
        width = max(0, wave.size.width or 40)
        cells = None if played is None else int(played * width)
        key = (peaks, width, cells, note, id(palette_of(self.app)))
        if key == self._wave:
            return
        self._wave = key
        self.peaks = peaks
        if not peaks:
            wave.update(Text(note or "no waveform", style=palette_of(self.app).get("muted")))
            return
        wave.update(waveform_text(peaks, width, played, palette=palette_of(self.app)))

    def on_resize(self) -> None:
        self._redraw()

    def show_lyrics(self, text: Text | None) -> None:
        lyrics = self.query_one("#listen-lyrics", TextLine)
        shown = text is not None
        if lyrics.display != shown:
            lyrics.display = shown
        if text is not None and text != self._lyrics:
            lyrics.update(text)
        self._lyrics = text
