"""What the detail pane's listening card shows, and when it is fetched.

The card follows the selected clip: once the selection rests (0.3 s, so
moving through the list fetches nothing on the way) its cover and waveform
are fetched through :mod:`tui.services.listening`; while that clip plays,
playback's frames bring the playhead and the lyric line. A part of
:class:`~tui.ui.screens.main.MainScreen`.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.screen import Screen
from textual.timer import Timer

from tui.core.logs import log
from tui.domain.tracked import TrackedTask
from tui.services.media_cache import MediaError
from tui.ui.host import HostApp
from tui.ui.playback import Playback
from tui.ui.widgets.listen_card import ListenCard

#: Seconds the selection must rest before its cover and waveform are fetched.
REST = 0.3


class ListenFeed:
    def __init__(
        self,
        screen: Screen[None],
        card: Callable[[], ListenCard],
        playback: Callable[[], Playback],
    ) -> None:
        self._screen = screen
        self._card = card
        self._playback = playback
        self._timer: Timer | None = None
        #: The clip the card is about: (task ID, clip index), or None.
        self.target: tuple[str, int] | None = None
        #: The clip whose cover and waveform the card last finished fetching.
        self.shown: tuple[str, int] | None = None

    @property
    def _app(self) -> HostApp:
        return self._screen.app  # type: ignore[return-value]

    def follow(self, record: TrackedTask | None, index: int) -> None:
        """The selection is now ``record``'s clip ``index`` (or nothing)."""
        clips = record.task.results if record and record.task else ()
        card = self._card()
        target = (record.id, index) if record and index < len(clips) else None
        if target == self.target:
            return
        self.target = target
        if self._timer is not None:
            self._timer.stop()
        card.set_shown(
            target is not None and bool(clips[index].audio_url or clips[index].image_url)
        )
        if record is None or target is None:
            return
        card.show_lyrics(None)
        shape = self._app.listening.known_shape(clips[index].id or "")  # no disk read here
        card.show_wave(shape.waveform.peaks if shape else (), None, "…")
        self._timer = self._screen.set_timer(REST, lambda: self._fetch(record, index))
        playback = self._playback()
        loaded = playback.loaded
        if loaded is not None and loaded.key == target:
            playback.redraw()  # its lyrics and playhead now, not at the next second

    def _fetch(self, record: TrackedTask, index: int) -> None:
        self._screen.run_worker(
            self._fetched(record, index), group="listen", exclusive=True, exit_on_error=False
        )

    async def _fetched(self, record: TrackedTask, index: int) -> None:
        clips = record.task.results if record.task else ()
        if index >= len(clips) or self.target != (record.id, index):
            return
        clip = clips[index]
        card = self._card()
        listening = self._app.listening
        if self._app.config.cover_art != "off":
            if not clip.image_url:
                card.show_cover(None)  # "no cover", not the last clip's
            else:
                try:
                    cover = await listening.cover(clip)
                except MediaError as exc:
                    log.info("cover of %s: %s", clip.id, exc)
                    if self.target == (record.id, index):
                        card.show_cover_problem(str(exc))
                else:
                    if self.target == (record.id, index):  # the cursor may have moved on
                        card.show_cover(cover)
        if self.target != (record.id, index):
            return
        if clip.audio_url or record.downloads:
            shape = await listening.shape(clip)
            if self.target == (record.id, index):
                note = "" if shape.waveform else f"no waveform ({shape.problem})"
                card.show_wave(shape.waveform.peaks, self._played((record.id, index)), note)
        self.shown = (record.id, index)

    def _played(self, clip: tuple[str, int]) -> float | None:
        """How far the clip plays (0..1), or ``None`` when it is not the one loaded."""
        playback = self._playback()
        loaded = playback.loaded
        if loaded and loaded.key == clip:
            player = playback.player
            return player.position / player.duration if player.duration else 0.0
        return None

    def show_playing(self, text: Text | None) -> None:
        """Playback's frame: the lyrics, and the playhead with them, when the
        clip playing is the one the card is about (``None``: it is not)."""
        card = self._card()
        card.show_lyrics(text)
        loaded = self._playback().loaded
        if text is not None and loaded is not None and loaded.shape is not None:
            card.show_wave(loaded.shape.waveform.peaks, self._played(loaded.key))
