"""A waveform drawn in block characters, and the now-playing bar that shows it.

The waveform is one row of the eight block heights ``▁▂▃▄▅▆▇█``: each cell
is the loudest peak of its share of the clip, so a short loud moment is not
averaged away. The part already played takes the accent colour, the rest is
muted, so the playhead is where the colour changes (and a ``▏`` marks it when
the cell is silent).

:class:`NowPlaying` sits above the footer while something plays. It redraws
only when what it shows changes (the position to the tenth of a second, or a
cell of the played part), so a paused track costs nothing; clicking the
waveform seeks there.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget

from tui.api.media import Waveform
from tui.core.formatting import clip_length
from tui.core.sanitize import clean
from tui.ui.widgets.presentation import Styles

BLOCKS = "▁▂▃▄▅▆▇█"


@functools.lru_cache(maxsize=8)
def _blocks(peaks: tuple[float, ...], width: int) -> str:
    """The block characters for ``peaks`` at ``width`` (kept: a playing clip
    redraws the same shape with only the playhead moved)."""
    values = Waveform(peaks).resample(width)  # the loudest point of each cell
    top = max(values, default=0.0) or 1.0  # a quiet clip still has a shape
    return "".join(
        BLOCKS[min(len(BLOCKS) - 1, int(value / top * (len(BLOCKS) - 1) + 0.5))] for value in values
    )


def waveform_text(
    peaks: Sequence[float], width: int, played: float | None, *, palette: Styles
) -> Text:
    """One row of blocks; ``played`` (0..1) colours the part before the
    playhead, ``None`` draws it all muted (not playing)."""
    blocks = list(_blocks(tuple(peaks), width))
    head = -1 if played is None else min(width - 1, int(max(0.0, min(1.0, played)) * width))
    if 0 <= head < len(blocks) and blocks[head] == BLOCKS[0]:
        blocks[head] = "▏"
    # Two spans, not one per cell: this is redrawn while a clip plays.
    text = Text(no_wrap=True, overflow="crop")
    text.append("".join(blocks[: head + 1]), style=palette.get("wave.played"))
    text.append("".join(blocks[head + 1 :]), style=palette.get("wave.rest"))
    return text


@dataclass(frozen=True)
class Playing:
    """What the bar shows: the clip, where in it, and whether it is paused."""

    title: str
    position: float
    duration: float
    paused: bool
    peaks: tuple[float, ...] = ()
    note: str = ""  # "loading…", "waveform from the audio", an error
    ended: bool = False  # played to its end: ■, not ❚❚


class TextLine(Widget):
    """Rows of text that change without changing the widget's size: each
    change is a repaint, never a new layout of the screen (the bar, the
    waveform's playhead and the lyrics change while a clip plays)."""

    DEFAULT_CSS = "TextLine { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }"

    def __init__(self, rows: int = 1, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.styles.height = rows
        self.text = Text()

    def update(self, text: Text) -> None:
        text.no_wrap, text.overflow = True, "ellipsis"
        self.text = text
        self.refresh()

    def render(self) -> Text:
        return self.text


class NowPlaying(TextLine):
    """``▶ Title  0:42 / 2:31  ▁▂▅▇█▇▅▂…``, the line above the footer (in
    the flow, not docked: two widgets docked to one edge overlap)."""

    DEFAULT_CSS = """
    NowPlaying {
        height: 1;
        display: none;
        background: $panel;
        padding: 0 1;
    }
    NowPlaying.-shown {
        display: block;
    }
    """

    class Seek(Message):
        """The waveform was clicked at ``fraction`` (0..1) of the clip."""

        def __init__(self, fraction: float) -> None:
            super().__init__()
            self.fraction = fraction

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.playing: Playing | None = None
        self._shown_key: tuple[object, ...] | None = None
        self._wave_start = 0  # the cell where the waveform begins (for clicks)
        self._wave_width = 0

    @property
    def wave_width(self) -> int:
        """Cells the waveform takes (0 before the first draw)."""
        return self._wave_width

    def show(self, playing: Playing | None, palette: Styles) -> None:
        """Show ``playing`` (``None`` hides the bar); a no-op when what would
        be drawn is what is drawn."""
        self.playing = playing
        self.set_class(playing is not None, "-shown")
        if playing is None:
            self._shown_key = None
            return
        # Two cells whatever the state, so the title never shifts.
        head = "■  " if playing.ended else "❚❚ " if playing.paused else "▶  "
        times = f"  {clip_length(playing.position)} / {clip_length(playing.duration)}  "
        title = clean(playing.title, one_line=True) or "(untitled)"
        if cell_len(title) > 40:  # cells, not characters: wide titles too
            title = set_cell_size(title, 39) + "…"
        # The note ("ended: p plays it again") is news: the waveform gives it room.
        note = f"  {playing.note}" if playing.note else ""
        room = max(10, self.size.width - 2)
        used = cell_len(head) + len(times) + cell_len(title) + len(note) + 2
        wave_width = max(0, min(120, room - used))
        # The playhead moves with the clock's second, so the bar is drawn at
        # most once a second while a clip plays (each draw is a screen update).
        shown = math.floor(playing.position)
        fraction = min(1.0, shown / playing.duration) if playing.duration > 0 else 0.0
        cells = int(fraction * wave_width) if wave_width else 0
        key = (head, times, title, wave_width, cells, playing.peaks, playing.note, id(palette))
        if key == self._shown_key:
            return
        self._shown_key = key
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(head, style=palette.get("wave.played"))
        text.append(title, style="bold")
        text.append(times)
        self._wave_start = 1 + cell_len(head) + cell_len(title) + len(times)
        self._wave_width = wave_width
        if playing.peaks and wave_width:
            text.append_text(waveform_text(playing.peaks, wave_width, fraction, palette=palette))
        if note:
            text.append(note, style=palette.get("muted"))
        self.update(text)

    def on_click(self, event: events.Click) -> None:
        if self._wave_width and self._wave_start <= event.x < self._wave_start + self._wave_width:
            self.post_message(self.Seek((event.x - self._wave_start + 0.5) / self._wave_width))
