"""Listening from the dashboard: play, pause, seek, stop, the next clip.

``p`` plays the selected clip (or pauses and resumes it when it is the one
loaded), ``.`` stops, ``b``/``f`` seek 5 s and ``shift+b``/``shift+f`` 30 s,
``<``/``>`` play the previous/next clip (within the task, then the rows
around it, in the table's order). At the end of a clip playback stops; the
bar stays, so ``p`` plays it again.

The audio is the saved download when there is one, else fetched to the cache
first (playback starts when the file is complete: simple, and an MP3 of a
few minutes arrives in seconds). Opening the device, decoding and the
fetches run in workers; the player's thread reports the end through
``call_from_thread``. While something plays, the bar and the lyrics are
looked at when they next change (the clock's next second, the next word
when the lyrics are on screen) and not at all otherwise.

A machine without sound gets one message, "No audio output (…); press o to
open it in the browser", and the C libraries' complaints go to the log, not
the screen (see :mod:`tui.services.player`).

A part of :class:`~tui.ui.screens.main.MainScreen`, like
:class:`~tui.ui.clip_actions.ClipActions`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.screen import Screen

from tui.api.media import Timeline
from tui.api.models import Clip
from tui.core.logs import log
from tui.core.sanitize import clean
from tui.domain.tracked import TrackedTask, clip_keys
from tui.services.audio_file import AudioFileError, PlayerError
from tui.services.listening import Shape
from tui.services.media_cache import MediaError
from tui.services.player import PERIOD_MS, NoAudioOutput, Player
from tui.ui.palette import Palette, palette_of
from tui.ui.screen_part import ScreenPart
from tui.ui.widgets.waveform import NowPlaying, Playing

#: How far the position moves at once: the player hands the device a period
#: of frames at a time, so a look that comes early waits one period more.
STEP = PERIOD_MS / 1000
#: Shortest wait between two looks while playing (seconds), and how long
#: after a change is due to look (the step may land a little late).
MIN_WAIT = 0.05
SLACK = 0.02


@dataclass
class Loaded:
    """The clip in the player."""

    task_id: str
    index: int
    clip: Clip
    path: Path
    shape: Shape | None = None
    timeline: Timeline | None = None
    lyrics_fetched: bool = False

    @property
    def key(self) -> tuple[str, int]:
        """(task ID, clip index): which clip, as the detail pane names it."""
        return self.task_id, self.index


def lyrics_text(timeline: Timeline | None, prompt: str | None, position: float, styles) -> Text:
    """The line sung now with its word lit, and the next line dim; without
    timing, the prompt as plain text."""
    if not timeline:
        return Text(clean(prompt) if prompt else "(no lyrics)", style=styles.get("muted"))
    line, current = timeline.line_at(position)
    lines = timeline.lines()
    text = Text()
    # A long line is shown from a few words before the lit one, so that word
    # is on screen however narrow the pane (the row does not wrap).
    first = max(0, (current or 0) - 4)
    if first:
        text.append("… ", style=styles.get("muted"))
    for i, word in enumerate(line):
        if i < first:
            continue
        if i > first:
            text.append(" ")
        lit = current is not None and i == current
        text.append(clean(word.text, one_line=True), style=styles.get("lyrics.now") if lit else "")
    try:
        following = lines[lines.index(line) + 1]
    except (ValueError, IndexError):
        following = ()
    if following:
        text.append("\n")
        shown = " ".join(clean(w.text, one_line=True) for w in following)
        text.append(shown, style=styles.get("muted"))
    return text


@dataclass
class Opening:
    """A clip on its way to the player: fetched, then decoded."""

    task_id: str
    index: int
    clip: Clip
    saved: str | None
    #: ``.`` came while it loaded: it will not play.
    cancelled: bool = False
    #: Another clip asked for while it loaded: that one is opened instead.
    then: Opening | None = None

    @property
    def key(self) -> tuple[str, int]:
        return self.task_id, self.index

    @property
    def title(self) -> str:
        return self.clip.title or self.task_id

    @property
    def last(self) -> Opening:
        """The clip that will play in the end (the last one asked for)."""
        return self.then or self


class Playback(ScreenPart):
    def __init__(
        self,
        screen: Screen[None],
        highlighted: Callable[[], TrackedTask | None],
        clip_index: Callable[[TrackedTask], int],
        bar: Callable[[], NowPlaying],
        lyrics: Callable[[Text | None], None],
        card_clip: Callable[[], tuple[str, int] | None],
        ordered_ids: Callable[[], list[str]],
    ) -> None:
        super().__init__(screen, highlighted, clip_index)
        self._bar = bar
        self._lyrics = lyrics
        self._card_clip = card_clip  # the detail pane's clip: its lyrics show there
        self._ordered_ids = ordered_ids
        self._player: Player | None = None
        self.loaded: Loaded | None = None
        #: The next look at the player while playing (a plain event-loop
        #: timer: a Textual Timer costs a task and a message per wake-up).
        self._wake: asyncio.TimerHandle | None = None
        #: The clip being fetched and opened, if any (one at a time).
        self._opening: Opening | None = None
        self._signature: tuple[object, ...] | None = None

    @property
    def player(self) -> Player:
        if self._player is None:
            self._player = Player(on_end=self._ended_elsewhere)
        return self._player

    # -- the keys ------------------------------------------------------------------
    def play(self) -> None:
        """``p``: the selected clip, or pause/resume the loaded one."""
        found = self._selected_clip()
        if found is None:
            return
        record, index, _ = found
        opening = self._opening.last if self._opening else None
        if opening and opening.key == (record.id, index):
            self._say(f"Loading {opening.title}…")
            return
        loaded = self.loaded
        if not opening and loaded and loaded.key == (record.id, index):
            if self.player.state == "stopped":
                self.player.play()  # again, from the start
            else:
                self.player.toggle()
            self._frame(force=True)
            return
        self.start(record, index)

    def start(self, record: TrackedTask, index: int) -> None:
        """Play ``record``'s clip ``index``. While another clip is still
        loading, this one is next instead (the last asked for wins): keys are
        never dropped because a fetch is slow."""
        clips = record.task.results if record.task else ()
        if not 0 <= index < len(clips):
            return
        clip = clips[index]
        saved = self._saved_file(record, index)
        if (gone := record.clip_expired(clip.expire_at, self._app.clock())) and not saved:
            self._say(f"Cannot play this clip: {gone}.")
            return
        if not clip.audio_url and not saved:
            self._say("This clip's audio is not ready yet.")
            return
        opening = Opening(record.id, index, clip, saved)
        self._cancel_wake()  # the bar says "loading…" until the new clip plays
        self._show(Playing(opening.title, 0.0, clip.duration or 0.0, True, note="loading…"))
        if self._opening is not None:
            self._opening.then = opening
            return
        self._begin(opening)

    def _begin(self, opening: Opening) -> None:
        self._opening = opening
        self._screen.run_worker(self._open(opening), group="playback", exit_on_error=False)

    def _saved_file(self, record: TrackedTask, index: int) -> str | None:
        """The clip's download when it is still on disk (it plays even after
        the service's copy expired)."""
        keys = clip_keys(record.task.results) if record.task else []
        saved = record.downloads.get(keys[index]) if index < len(keys) else None
        return saved if saved and Path(saved).is_file() else None

    async def _open(self, opening: Opening) -> None:
        """Fetch (unless saved), decode, then play, unless ``.`` or another
        clip came in between: then that wins."""
        player = self.player
        opened: Path | None = None
        try:
            await asyncio.to_thread(player.check_output)  # no device: say so before fetching
            path = await self._app.listening.audio(opening.clip, opening.saved)
            if not (opening.cancelled or opening.then):
                await asyncio.to_thread(player.open, path, play=False)
                opened = path
        except NoAudioOutput as exc:  # the player has logged what the libraries said
            self._say(
                f"No audio output ({exc.reason}); press o to open it in the browser.",
                severity="warning",
                timeout=8,
            )
        except AudioFileError as exc:
            where = f"{exc.path.name}: " if opening.saved else ""  # a cached file's name is a hash
            self._say(f"Cannot play {opening.title}: {where}{exc.reason}", severity="error")
        except (MediaError, PlayerError) as exc:
            self._say(f"Cannot play {opening.title}: {exc}", severity="error")
        finally:
            # C code may have written while the device opened: repaint it all.
            self._app.refresh(repaint=True)
        self._opened(opening, opened)

    def _opened(self, opening: Opening, path: Path | None) -> None:
        """The open is over (``path`` is ``None`` when nothing new was loaded)."""
        self._opening = None
        if opening.then is not None:
            self._begin(opening.then)
            return
        if path is None or opening.cancelled:
            if opening.cancelled and path is not None:
                self.player.stop()
            if self.loaded is not None and self.player.path == self.loaded.path:
                self.redraw()  # the clip from before still plays (or holds)
            else:
                self._close_bar()
            return
        if self.loaded is not None:
            self._app.listening.cache.release(self.loaded.path)
        self._app.listening.cache.hold(path)
        self.loaded = Loaded(*opening.key, opening.clip, path)
        self.player.play()
        self._frame(force=True)
        self._screen.run_worker(self._fetch_extras(self.loaded), exit_on_error=False)

    async def _fetch_extras(self, loaded: Loaded) -> None:
        """Waveform and lyric timing: after the sound starts, never before."""
        saved = str(loaded.path)
        loaded.shape = await self._app.listening.shape(loaded.clip, saved)
        if loaded.clip.id:
            timeline = await self._app.listening.timeline(loaded.clip.id)
            loaded.timeline = timeline.within(self.player.duration) if timeline else None
        loaded.lyrics_fetched = True
        self._frame(force=True)

    def stop(self) -> None:
        if self._opening is not None:  # what loads will not play, and what plays stops
            self._opening.cancelled = True
            self._opening.then = None
            self._say("Stopped.")
        elif self.loaded is None:
            self._say("Nothing is playing.")
            return
        self.player.stop()
        self._close_bar()

    def seek(self, delta: float) -> None:
        if self._opening is not None:
            self._say(f"Loading {self._opening.last.title}…")
            return
        if self.loaded is None:
            self._say("Nothing is playing: p plays the selected clip.")
            return
        player = self.player
        player.seek(player.position + delta)
        self._frame(force=True)

    def seek_to(self, fraction: float) -> None:
        if self.loaded is None or self._opening is not None:
            return
        self.player.seek(fraction * self.player.duration)
        self._frame(force=True)

    def play_next(self, step: int) -> None:
        """The next (or previous) clip: in the loaded (or loading) task, then
        the rows around it in the table's order. When that task was removed,
        from the selected clip."""
        current = self._opening.last if self._opening else self.loaded
        record = self._app.records.get(current.task_id) if current else None
        index = current.index if current and record else 0
        if record is None:
            record = self._highlighted()
            if record is None:
                self._say("No clip is selected.")
                return
            index = self._clip_index(record)
        clips = record.task.results if record.task else ()
        following = range(index + step, len(clips)) if step > 0 else range(index + step, -1, -1)
        for other_index in following:
            if self._playable(record, clips[other_index], other_index):
                self.start(record, other_index)
                return
        ids = self._ordered_ids()
        try:
            at = ids.index(record.id)
        except ValueError:
            return
        for task_id in ids[at + step :: step] if step > 0 else ids[at + step :: -1]:
            other = self._app.records.get(task_id)
            if other is None:
                continue
            others = other.task.results if other.task else ()
            playable = [i for i, c in enumerate(others) if self._playable(other, c, i)]
            if playable:
                self.start(other, playable[0] if step > 0 else playable[-1])
                return
        self._say("No more clips that way.")

    def _playable(self, record: TrackedTask, clip: Clip, index: int) -> bool:
        """Has audio that has not expired, or a saved file (``<``/``>`` pass
        over the rest)."""
        if self._saved_file(record, index):
            return True
        return bool(clip.audio_url) and not record.clip_expired(clip.expire_at, self._app.clock())

    # -- what the player reports -------------------------------------------------
    def _ended_elsewhere(self) -> None:
        """The player's thread: the clip played to its end."""
        self._app.call_from_thread(self._frame, True)

    def redraw(self) -> None:
        """Draw the bar and the lyrics now (after a pause, a seek, or when the
        detail pane turns to the clip that plays)."""
        self._frame(force=True)

    def _frame(self, force: bool = False) -> None:
        """Redraw the bar (and the lyrics) if what they show changed; while
        playing, wake again when it next changes (:meth:`_next_change`)."""
        loaded = self.loaded
        if loaded is None:
            return
        player = self.player
        state = player.state
        position = player.position
        # What the bar and the lyrics would show, cheaply: the clock's second,
        # and the lit word only while the detail pane shows this clip.
        shown = self._card_clip() == loaded.key
        word = loaded.timeline.line_at(position) if shown and loaded.timeline else None
        signature = (
            state,
            int(position),
            (id(word[0]), word[1]) if word else None,
            loaded.shape is not None,
            loaded.lyrics_fetched,
            shown,
        )
        changed = force or signature != self._signature
        if changed:
            self._signature = signature
            styles = palette_of(self._app)
            playing = Playing(
                loaded.clip.title or loaded.task_id,
                position,
                player.duration,
                state != "playing",
                loaded.shape.waveform.peaks if loaded.shape else (),
                note=self._note(loaded, state),
                ended=state == "stopped",
            )
            self._show(playing, styles)
            prompt = loaded.clip.prompt
            self._lyrics(lyrics_text(loaded.timeline, prompt, position, styles) if shown else None)
        self._cancel_wake()
        if state == "playing":
            # The position moves in steps of the device's period: a wake-up
            # that came just before the step looks again one step later.
            delay = self._next_change(loaded, position, shown) if changed else STEP
            self._wake = asyncio.get_running_loop().call_later(delay, self._woken)

    def _woken(self) -> None:
        """The event loop's timer: like a Textual timer, a failure is not
        silent, but it stops the ticks rather than the app."""
        self._wake = None
        try:
            self._frame()
        except Exception:
            log.exception("playback: drawing the now-playing bar failed")
            self._say("The now-playing bar stopped (details in the log).", severity="error")

    def _cancel_wake(self) -> None:
        if self._wake is not None:
            self._wake.cancel()
            self._wake = None

    @staticmethod
    def _next_change(loaded: Loaded, position: float, lyrics: bool) -> float:
        """Seconds until the bar or the lyrics show something else: the next
        whole second of the clock, or the next word when the lyrics are on
        screen. A clip playing costs a wake-up a second (a Textual timer wake
        costs ~0.6 % of a core here), not a fixed frame rate."""
        upcoming = math.floor(position) + 1.0
        if lyrics and loaded.timeline:
            word = loaded.timeline.next_start(position)
            if word is not None:
                upcoming = min(upcoming, word)
        return max(MIN_WAIT, upcoming - position + SLACK)

    @staticmethod
    def _note(loaded: Loaded, state: str) -> str:
        if state == "stopped":
            return "ended: p plays it again"
        if loaded.shape and loaded.shape.source == "audio":
            return "(waveform from the audio)"
        return ""

    def _show(self, playing: Playing | None, styles: Palette | None = None) -> None:
        self._bar().show(playing, styles or palette_of(self._app))
        # Notifications sit above the bar, not over it (see app.tcss).
        self._screen.set_class(playing is not None, "-playing")

    def _close_bar(self) -> None:
        self._cancel_wake()
        if self.loaded is not None:
            self._app.listening.cache.release(self.loaded.path)
        self.loaded = None
        self._show(None)
        self._lyrics(None)

    def close(self) -> None:
        """The app is closing: release the device."""
        self._cancel_wake()
        if self._player is not None:
            self._player.close()
