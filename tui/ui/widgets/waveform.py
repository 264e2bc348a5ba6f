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

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets import Static

from tui.core.formatting import clip_length
from tui.core.sanitize import clean
from tui.ui.widgets.presentation import Styles

BLOCKS = "▁▂▃▄▅▆▇█"


def resample(peaks: Sequence[float], width: int) -> list[float]:
    """``peaks`` as ``width`` values: the max of each share (or repeated when
    there are fewer peaks than cells). Anything not a finite 0..1 is 0."""
    if width <= 0:
        return []
    clean_peaks = [p if isinstance(p, float | int) and math.isfinite(p) else 0.0 for p in peaks]
    clean_peaks = [min(1.0, max(0.0, float(p))) for p in clean_peaks]
    if not clean_peaks:
        return [0.0] * width
    count = len(clean_peaks)
    out = []
    for cell in range(width):
        start = cell * count // width
        end = max(start + 1, (cell + 1) * count // width)
        out.append(max(clean_peaks[start:end]))
    return out


def waveform_text(
    peaks: Sequence[float], width: int, played: float | None, *, palette: Styles
) -> Text:
    """One row of blocks; ``played`` (0..1) colours the part before the
    playhead, ``None`` draws it all muted (not playing)."""
    values = resample(peaks, width)
    top = max(values, default=0.0) or 1.0  # a quiet clip still has a shape
    text = Text(no_wrap=True, overflow="crop")
    head = -1 if played is None else min(width - 1, int(max(0.0, min(1.0, played)) * width))
    for cell, value in enumerate(values):
        block = BLOCKS[min(len(BLOCKS) - 1, int(value / top * (len(BLOCKS) - 1) + 0.5))]
        if cell == head and value < 0.1:
            block = "▏"
        role = "wave.played" if played is not None and cell <= head else "wave.rest"
        text.append(block, style=palette.get(role))
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


class NowPlaying(Static):
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
        super().__init__("", markup=False, **kwargs)  # type: ignore[arg-type]
        self.playing: Playing | None = None
        self._shown_key: tuple[object, ...] | None = None
        self._wave_start = 0  # the cell where the waveform begins (for clicks)
        self._wave_width = 0

    def show(self, playing: Playing | None, palette: Styles) -> None:
        """Show ``playing`` (``None`` hides the bar); a no-op when what would
        be drawn is what is drawn."""
        self.playing = playing
        self.set_class(playing is not None, "-shown")
        if playing is None:
            self._shown_key = None
            return
        head = f"{'❚❚' if playing.paused else '▶'} "
        times = f"  {clip_length(playing.position)} / {clip_length(playing.duration)}  "
        title = clean(playing.title, one_line=True) or "(untitled)"
        room = max(10, self.size.width - 2)
        wave_width = max(0, min(120, room - len(head) - len(times) - min(len(title), 40) - 2))
        title = (
            title if len(title) <= room - len(head) - len(times) - wave_width else title[:39] + "…"
        )
        fraction = playing.position / playing.duration if playing.duration > 0 else 0.0
        cells = int(fraction * wave_width) if wave_width else 0
        key = (head, times, title, wave_width, cells, playing.peaks, playing.note, id(palette))
        if key == self._shown_key:
            return
        self._shown_key = key
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(head, style=palette.get("wave.played"))
        text.append(title, style="bold")
        text.append(times)
        self._wave_start = 1 + len(head) + len(title) + len(times)
        self._wave_width = wave_width
        if playing.peaks and wave_width:
            text.append_text(waveform_text(playing.peaks, wave_width, fraction, palette=palette))
        if playing.note:
            text.append(f"  {playing.note}", style=palette.get("muted"))
        self.update(text)

    def on_click(self, event: events.Click) -> None:
        if self._wave_width and self._wave_start <= event.x < self._wave_start + self._wave_width:
            self.post_message(self.Seek((event.x - self._wave_start + 0.5) / self._wave_width))
