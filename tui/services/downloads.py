"""Saving a clip's audio and cover (plus a metadata sidecar) before they expire.

No Textual here: the app and ``wait --download`` both drive :class:`Downloader`
and get progress through a callback. Files are streamed to a temporary name
in the target folder, checked (non-empty, as long as announced, and starting
with the bytes an MP3/JPEG/PNG/WebP starts with) and only then renamed into
place, so a half-downloaded or wrong file never sits under the final name.
With ``embed_tags`` the verified MP3 gets its ID3 tags (and the cover, fetched
first) before that rename (:mod:`tui.services.tagging`), so a track under its
final name is tagged from the moment it exists.
CDN requests never carry the API key. The fetching itself (size cap, rate
floor, magic check, no partial file) is :mod:`tui.services.fetching`, shared
with the media cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tui.api.models import Clip
from tui.core.atomic import atomic_write
from tui.core.urls import refusal
from tui.services.fetching import MIN_RATE, FetchError, fetch_to_temp, file_client, run_to_end
from tui.services.saved_files import NameTaken, free_target, looks_like, make_readable, safe_name
from tui.services.tagging import MAX_COVER_BYTES, tag_mp3

ATTEMPTS = 3
#: The largest file saved unless ``downloads.max_mb`` says otherwise: a clip
#: is a few MB; an endless stream that starts like an MP3 once filled 2 GiB.
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
#: The cover fetched to embed in the tags: one attempt, whole within this many
#: seconds (a slow or failing cover host delays a track by no more), at most
#: MAX_COVER_BYTES. When it fails the track is tagged without a cover and the
#: cover file is fetched the usual way (with retries) after the track.
COVER_FOR_TAGS_SECONDS = 20.0


class DownloadError(Exception):
    """Why a file could not be saved, phrased for the user."""


@dataclass
class Progress:
    """One file's transfer, as the UI shows it."""

    label: str
    received: int = 0
    total: int | None = None  # None: the server sent no Content-Length
    started: float = field(default_factory=time.monotonic)
    state: str = "downloading"  # downloading | retrying | done | failed | cancelled
    message: str = ""

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.received / elapsed if elapsed > 0 else 0.0


@dataclass
class SavedClip:
    audio: Path
    cover: Path | None
    sidecar: Path


def sidecar_data(
    clip: Clip, owner: tuple[str, str], audio: Path, cover: Path | None
) -> dict[str, Any]:
    task_id, clip_key = owner
    return {
        "title": clip.title,
        "tags": clip.tags,
        "prompt": clip.prompt,
        "duration": clip.duration,
        "task_id": task_id,
        "clip_id": clip.id,
        "clip_key": clip_key,
        "audio_url": clip.audio_url,
        "image_url": clip.image_url,
        "expire_at": clip.expire_at,
        "audio_file": audio.name,
        "cover_file": cover.name if cover else None,
        "saved_at": int(time.time()),
    }


class Downloader:
    """Streams files with a bounded number in parallel; use ``async with``."""

    def __init__(
        self,
        folder: Path,
        *,
        parallel: int = 3,
        timeout: float = 30.0,
        retry_base: float = 1.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        min_rate: tuple[int, float] = MIN_RATE,
        embed_tags: bool = True,
    ) -> None:
        self.folder = folder
        self.embed_tags = embed_tags
        self.retry_base = retry_base
        self.max_bytes = max_bytes
        self.min_rate = min_rate
        self._sem = asyncio.Semaphore(parallel)
        self._http = file_client(timeout=timeout, transport=transport)

    async def __aenter__(self) -> Downloader:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def save_clip(
        self,
        clip: Clip,
        task_id: str,
        on_progress: Callable[[Progress], None] = lambda p: None,
        *,
        clip_key: str | None = None,
    ) -> SavedClip:
        """Audio, then cover (best effort), then the sidecar that marks it saved.

        ``clip_key`` tells the clip apart within its task (see
        :func:`tui.domain.tracked.clip_keys`); a file of another task or clip
        is never overwritten, a name already taken gets `` (2)``."""
        owner = (task_id, clip_key or clip.id or clip.audio_url or "?")
        if reason := refusal(clip.audio_url):
            raise DownloadError(f"not downloading the audio: {reason}")
        stem = safe_name(clip.title, clip.id)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DownloadError(f"cannot create {self.folder}: {exc.strerror or exc}") from exc
        cover_progress = Progress(f"{stem} (cover)")
        cover_ok = bool(clip.image_url) and refusal(clip.image_url) is None
        # Held in memory only: a cover file renamed into place before the
        # audio's sidecar claims it would be left unclaimed if the audio failed.
        embed = self.embed_tags  # as it was when this clip started
        image = None
        if embed and cover_ok:
            image = await self._cover_for_tags(clip.image_url or "", cover_progress, on_progress)

        def tag(path: Path) -> None:
            tag_mp3(
                path,
                title=clip.title,
                tags=clip.tags,
                prompt=clip.prompt,
                task_id=task_id,
                clip_id=clip.id,
                cover=image,
            )

        audio_progress = Progress(f"{stem}.mp3")
        audio = await self.fetch(
            clip.audio_url or "",
            stem,
            "audio",
            owner,
            audio_progress,
            on_progress,
            clip.duration,
            before_rename=tag if embed else None,
        )
        # The sidecar marks the audio as this clip's at once, so a cancelled or
        # failed cover never leaves an unclaimed MP3 that a retry would duplicate.
        sidecar = audio.with_suffix(".json")
        self._write_sidecar(sidecar, clip, owner, audio, None)
        cover: Path | None = None
        if image is not None:  # the embedded cover's bytes: not fetched twice
            cover = self._save_cover(image, stem, owner, cover_progress, on_progress)
            self._write_sidecar(sidecar, clip, owner, audio, cover)
        elif cover_ok:
            try:
                cover = await self.fetch(
                    clip.image_url, stem, "image", owner, cover_progress, on_progress
                )
            except DownloadError as exc:
                cover_progress.state, cover_progress.message = "failed", str(exc)
                on_progress(cover_progress)
            else:
                self._write_sidecar(sidecar, clip, owner, audio, cover)
        return SavedClip(audio, cover, sidecar)

    @staticmethod
    def _write_sidecar(
        path: Path, clip: Clip, owner: tuple[str, str], audio: Path, cover: Path | None
    ) -> None:
        data = json.dumps(sidecar_data(clip, owner, audio, cover), indent=2, ensure_ascii=True)
        try:
            atomic_write(path, data.encode())
            make_readable(path)
        except OSError as exc:
            raise DownloadError(f"cannot write {path.name}: {exc.strerror or exc}") from exc

    async def fetch(
        self,
        url: str,
        stem: str,
        kind: str,
        owner: tuple[str, str],
        progress: Progress,
        on_progress: Callable[[Progress], None],
        duration: float | None = None,
        *,
        before_rename: Callable[[Path], None] | None = None,
    ) -> Path:
        """Download with retries; return the final path. ``before_rename`` gets
        the verified temporary file just before it is renamed into place."""
        last: Exception | None = None
        for attempt in range(ATTEMPTS):
            if attempt:
                progress.state = "retrying"
                progress.message = f"{last}; retry {attempt}/{ATTEMPTS - 1}"
                on_progress(progress)
                delay = self.retry_base * 2 ** (attempt - 1)
                await asyncio.sleep(random.uniform(delay / 2, delay))
            try:
                async with self._sem:
                    path = await self._fetch_once(
                        url, stem, kind, owner, progress, on_progress, duration, before_rename
                    )
            except _Final as exc:
                last = exc
                break
            except DownloadError as exc:
                last = exc
                continue
            progress.state, progress.message = "done", str(path)
            on_progress(progress)
            return path
        progress.state, progress.message = "failed", str(last)
        on_progress(progress)
        raise DownloadError(str(last))

    async def _fetch_once(
        self,
        url: str,
        stem: str,
        kind: str,
        owner: tuple[str, str],
        progress: Progress,
        on_progress: Callable[[Progress], None],
        duration: float | None,
        before_rename: Callable[[Path], None] | None = None,
    ) -> Path:
        progress.received, progress.total = 0, None
        progress.started = time.monotonic()
        progress.state, progress.message = "downloading", ""
        last_report = 0.0

        def on_bytes(received: int, total: int | None) -> None:
            nonlocal last_report
            progress.received, progress.total = received, total
            now = time.monotonic()
            if received == 0 or now - last_report > 0.1:
                last_report = now
                on_progress(progress)

        try:
            fetched = await fetch_to_temp(
                self._http,
                url,
                self.folder,
                kind,
                max_bytes=self.max_bytes,
                limit_hint=" (downloads.max_mb)",
                min_rate=self.min_rate,
                duration=duration,
                on_bytes=on_bytes,
            )
        except FetchError as exc:
            raise (_Final if exc.final else DownloadError)(str(exc)) from exc
        try:
            size = fetched.size
            if before_rename is not None:
                # In a thread (a copy and an fsync of up to max_mb would
                # freeze the screen), finished even when cancelled: the temp
                # file is the tagger's until it returns.
                await run_to_end(before_rename, fetched.temp)
                size = fetched.temp.stat().st_size  # the bytes received, plus the tags
            # No await from here to the rename: no other download can take the name.
            target = free_target(self.folder, stem, fetched.suffix, owner)
            os.replace(fetched.temp, target)
            make_readable(target)
            if target.stat().st_size != size:  # "Saved" must be true
                raise _Final(f"{target.name} is not the {size} bytes received")
            return target
        except NameTaken as exc:
            raise _Final(str(exc)) from exc
        except OSError as exc:  # disk full, name too long, permissions...
            raise _Final(f"cannot save the file: {exc.strerror or exc}") from exc
        finally:
            with contextlib.suppress(OSError):
                fetched.temp.unlink()

    async def _cover_for_tags(
        self, url: str, progress: Progress, on_progress: Callable[[Progress], None]
    ) -> bytes | None:
        """The cover's bytes for the track's tags, or ``None`` (said on
        ``progress``: the cover file is then fetched after the track)."""
        progress.started = time.monotonic()
        progress.state, progress.message = "downloading", ""
        try:
            data = await self._fetch_cover_bytes(url, progress, on_progress)
        except DownloadError as exc:
            # Not "retrying": should the track fail, nothing would end this row.
            progress.state = "failed"
            progress.message = f"{exc}; not in the tags, fetched again after the track"
            on_progress(progress)
            return None
        progress.state, progress.message = "done", "for the tags; saved after the track"
        on_progress(progress)
        return data

    async def _fetch_cover_bytes(
        self, url: str, progress: Progress, on_progress: Callable[[Progress], None]
    ) -> bytes:
        """One attempt within :data:`COVER_FOR_TAGS_SECONDS`, by the rules of
        every fetch (:func:`fetch_to_temp`: no API key, no decompression, as
        long as announced, the bytes of an image), at most MAX_COVER_BYTES."""
        progress.received, progress.total = 0, None

        def on_bytes(received: int, total: int | None) -> None:
            progress.received, progress.total = received, total
            if received == 0:
                on_progress(progress)

        try:
            # The time bound starts once a slot is free: queued behind other
            # downloads, the cover is not given up for waiting its turn.
            async with self._sem, asyncio.timeout(COVER_FOR_TAGS_SECONDS):
                fetched = await fetch_to_temp(
                    self._http,
                    url,
                    self.folder,
                    "image",
                    max_bytes=min(self.max_bytes, MAX_COVER_BYTES),
                    min_rate=self.min_rate,
                    on_bytes=on_bytes,
                )
        except FetchError as exc:
            raise DownloadError(str(exc)) from exc
        except TimeoutError:
            raise DownloadError(f"not fetched within {COVER_FOR_TAGS_SECONDS:g} s") from None
        try:
            return fetched.temp.read_bytes()  # at most MAX_COVER_BYTES, for the tags
        except OSError as exc:
            raise DownloadError(f"cannot read it back: {exc.strerror or exc}") from exc
        finally:
            with contextlib.suppress(OSError):
                fetched.temp.unlink()

    def _save_cover(
        self,
        data: bytes,
        stem: str,
        owner: tuple[str, str],
        progress: Progress,
        on_progress: Callable[[Progress], None],
    ) -> Path | None:
        """The cover file from the bytes already fetched for the tags (best
        effort, like a fetched cover: ``None`` when it cannot be written)."""
        try:
            target = free_target(self.folder, stem, looks_like(data[:16], "image") or ".jpg", owner)
            atomic_write(target, data)
        except (OSError, NameTaken) as exc:
            progress.state = "failed"
            progress.message = f"cannot save the cover: {getattr(exc, 'strerror', None) or exc}"
            on_progress(progress)
            return None
        make_readable(target)
        progress.state, progress.message = "done", str(target)
        on_progress(progress)
        return target


class _Final(DownloadError):
    """A failure that retrying will not fix (404, not an MP3...)."""
