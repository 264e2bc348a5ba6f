"""What the dashboard needs to hear and see one clip, each piece cached.

- the audio: the saved download when there is one, else a cached copy
  (:class:`~tui.services.media_cache.MediaCache`, same safety rules as
  downloads);
- the cover, the same way;
- the waveform: the server's (``GET /api/v1/music/waveform``), kept in the
  cache as JSON so a second look makes no request; when the server has none
  (an error, an empty answer) it is computed from the audio if that is
  already here (:func:`tui.services.audio_file.peaks`), and said so;
- the lyric timing (``GET /api/v1/music/timeline``), kept the same way;
  without it the lyrics are the clip's prompt as plain text.

Nothing here imports Textual; the UI calls these from workers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.api import MusicMintClient, MusicMintError
from tui.api.media import Timeline, Waveform, Word
from tui.api.models import Clip
from tui.core.logs import log
from tui.services.audio_file import PlayerError, peaks
from tui.services.media_cache import MediaCache, MediaError

#: Points computed from the audio when the server has no waveform.
COMPUTED_POINTS = 400
#: Waveforms kept in memory too (the rest are on disk): the ones looked at
#: as the cursor moves, without a file read per row.
REMEMBERED = 256


@dataclass(frozen=True)
class Shape:
    """A clip's waveform and where it came from ("server", "audio", "")."""

    waveform: Waveform
    source: str
    problem: str = ""  # why the server's could not be used


def _timeline_json(timeline: Timeline) -> list[list[Any]]:
    return [[w.text, w.start, w.end, w.line_start] for w in timeline.words]


def _timeline_from(data: Any) -> Timeline | None:
    if not isinstance(data, list):
        return None
    words = []
    for item in data[:20_000]:
        if (
            isinstance(item, list)
            and len(item) == 4
            and isinstance(item[0], str)
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in item[1:3])
        ):
            words.append(Word(item[0][:100], float(item[1]), float(item[2]), item[3] is True))
    return Timeline(tuple(words))


class Listening:
    def __init__(self, client: MusicMintClient, cache: MediaCache) -> None:
        self.client = client
        self.cache = cache
        self._shapes: dict[str, Shape] = {}  # newest last

    def known_shape(self, clip_id: str) -> Shape | None:
        """A waveform already in memory: no file is read (the cursor's path)."""
        return self._shapes.get(clip_id)

    def _remember(self, clip_id: str, shape: Shape) -> Shape:
        self._shapes.pop(clip_id, None)
        self._shapes[clip_id] = shape
        while len(self._shapes) > REMEMBERED:
            del self._shapes[next(iter(self._shapes))]
        return shape

    async def audio(self, clip: Clip, saved_path: str | None) -> Path:
        """Raises :class:`MediaError` with a one-line reason."""
        return await self.cache.audio(clip, saved_path)

    async def cover(self, clip: Clip) -> Path:
        return await self.cache.cover(clip)

    def _kept_shape(self, clip_id: str) -> Shape | None:
        """The waveform kept in the cache folder for ``clip_id`` (a file read
        and parsed: call it in a thread)."""
        data = self.cache.read_json("waveform", clip_id)
        if isinstance(data, dict) and isinstance(data.get("peaks"), list):
            try:
                waveform = Waveform.from_json(data["peaks"])
            except MusicMintError:
                return None
            return Shape(waveform, str(data.get("source", "server")))
        return None

    async def shape(self, clip: Clip, saved_path: str | None = None) -> Shape:
        """The waveform of ``clip``: kept, else the server's, else from the audio."""
        clip_id = clip.id or ""
        if clip_id and (known := self._shapes.get(clip_id)) is not None:
            return known
        if clip_id and (kept := await asyncio.to_thread(self._kept_shape, clip_id)) is not None:
            return self._remember(clip_id, kept)
        problem = ""
        try:
            waveform = await self.client.get_waveform(clip_id)
            if waveform:
                data = {"peaks": list(waveform.peaks), "source": "server"}
                await self._keep("waveform", clip_id, data)
                return self._remember(clip_id, Shape(waveform, "server"))
            problem = "the server has no waveform for it"
        except MusicMintError as exc:
            problem = exc.describe()
        audio = Path(saved_path) if saved_path else self.cache.cached_audio(clip)
        if audio is not None and audio.exists():
            try:
                computed = await asyncio.to_thread(peaks, audio, COMPUTED_POINTS)
            except (PlayerError, OSError, ValueError) as exc:
                log.info("waveform of %s not computed: %s", clip_id, exc)
            else:
                waveform = Waveform(computed)
                await self._keep("waveform", clip_id, {"peaks": list(computed), "source": "audio"})
                return self._remember(clip_id, Shape(waveform, "audio", problem))
        return Shape(Waveform(()), "", problem)

    async def timeline(self, clip_id: str) -> Timeline | None:
        """The clip's word timing, kept after the first answer; ``None`` when
        the server has none (the prompt is shown instead)."""
        # In a thread, as the client parses an answer: a kept timeline can be
        # 20,000 words.
        kept = await asyncio.to_thread(
            lambda: _timeline_from(self.cache.read_json("timeline", clip_id))
        )
        if kept is not None:
            return kept or None
        try:
            timeline = await self.client.get_timeline(clip_id)
        except MusicMintError as exc:
            log.info("no lyric timing for %s: %s", clip_id, exc.describe())
            return None
        await self._keep("timeline", clip_id, _timeline_json(timeline))
        return timeline or None

    async def _keep(self, kind: str, clip_id: str, data: Any) -> None:
        """Write it down in a thread (an fsync, then a prune of the cache)."""
        held = self.cache.held_now()
        try:
            await asyncio.to_thread(self.cache.write_json, kind, clip_id, data, held=held)
        except (MediaError, ValueError) as exc:
            log.info("%s of %s not kept: %s", kind, clip_id, exc)
