"""A clip's audio, cover and small derived data (waveforms, lyric timings),
fetched into the cache folder so the dashboard can play and show them.

Why a cache and not the downloads folder: the downloads folder is the user's
collection (titled names, sidecars, kept forever); what we fetch just to
listen or look belongs to no one, can be fetched again while the clip lives,
and so sits under :func:`tui.core.locations.cache_dir` under hashed names,
private to the user (folders 0700, files 0600), pruned to a total size
(least recently used first, never a file in use). A clip already saved is
played from its saved file; nothing is fetched.

The file hosts are servers we do not control, so every fetch follows the same
rules as a download, by going through the same code
(:func:`tui.services.fetching.fetch_to_temp`): http(s) only, never the API
key, a size cap, a rate floor, the magic bytes of an MP3 (or a JPEG/PNG/WebP
cover), and a temporary file that is renamed into place only when whole and
removed on any failure or cancellation. On top of that a whole fetch has a
deadline, and callers asking for the same file share one fetch.

Errors are :class:`MediaError`, one line for the user. No Textual here.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import stat
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx

from tui.api.models import Clip
from tui.core.atomic import atomic_write
from tui.core.urls import refusal
from tui.services.downloads import DEFAULT_MAX_BYTES as DOWNLOAD_MAX_BYTES
from tui.services.fetching import (
    HEAD_BYTES,
    MIN_RATE,
    FetchError,
    fetch_to_temp,
    file_client,
    sends_credentials,
)
from tui.services.saved_files import looks_like

#: The whole cache, unless told otherwise: a few dozen clips with covers.
DEFAULT_MAX_BYTES = 500 * 1024**2
#: One audio file: the downloads' default cap (a clip is a few MB; an
#: endless stream that starts like an MP3 must stop somewhere).
AUDIO_MAX_BYTES = DOWNLOAD_MAX_BYTES
#: One cover: a real one is well under 1 MB.
COVER_MAX_BYTES = 10 * 1024**2
#: One cached JSON document (a waveform of a long clip is a few hundred KB).
JSON_MAX_BYTES = 4 * 1024**2
#: A whole fetch, retries included: the rate floor alone would let a 200 MB
#: file take hours.
MAX_SECONDS = 300.0
#: A temporary file untouched this long belongs to no running fetch (the app
#: was killed mid-transfer): prune removes it.
STALE_PART_SECONDS = 3600.0
ATTEMPTS = 2

_KIND = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_SUFFIXES = {"audio": (".mp3",), "image": (".jpg", ".png", ".webp")}
_FOLDERS = {"audio": "audio", "image": "covers", "json": "data"}
_WHAT = {"audio": "audio", "image": "cover"}


class MediaError(Exception):
    """Why a clip's audio or cover cannot be had, in one line for the user."""


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _norm(path: Path | str) -> Path:
    return Path(os.path.abspath(path))


def file_kind(path: Path, kind: str) -> str | None:
    """The suffix ``path``'s first bytes justify for ``kind`` (``"audio"`` or
    ``"image"``), or ``None`` when it is missing, not a regular file or not that kind."""
    if not os.path.isfile(path):  # first: opening a FIFO would block
        return None
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError:
        return None
    return looks_like(head, kind)


class MediaCache:
    """Fetches clips' audio and covers into ``folder``, at most ``max_bytes``
    in all; use ``async with`` (or :meth:`aclose`).

    Without ``http`` the cache makes and closes its own client
    (:func:`tui.services.fetching.file_client`); tests hand one in. A client
    that would send a key or cookie is refused.
    Paths handed out stay until pruned: :meth:`hold` the one playing or shown.
    """

    def __init__(
        self,
        folder: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        http: httpx.AsyncClient | None = None,
        audio_max_bytes: int = AUDIO_MAX_BYTES,
        cover_max_bytes: int = COVER_MAX_BYTES,
        min_rate: tuple[int, float] = MIN_RATE,
        max_seconds: float = MAX_SECONDS,
        attempts: int = ATTEMPTS,
        retry_base: float = 0.5,
    ) -> None:
        if http is not None and sends_credentials(http):
            raise ValueError("the media cache's HTTP client must not send credentials")
        self.folder = _norm(folder)
        self.max_bytes = max_bytes
        self.audio_max_bytes = audio_max_bytes
        self.cover_max_bytes = cover_max_bytes
        self.min_rate = min_rate
        self.max_seconds = max_seconds
        self.attempts = max(1, attempts)
        self.retry_base = retry_base
        self._own_http = http is None
        self._http = http  # made at the first fetch when not given
        self._held: Counter[Path] = Counter()
        self._jobs: dict[tuple[str, str], asyncio.Task[Path]] = {}
        self._waiters: Counter[asyncio.Task[Path]] = Counter()

    async def __aenter__(self) -> MediaCache:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop every fetch (their temporary files go) and close our client."""
        jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel()
        if jobs:
            await asyncio.wait(jobs)
        if self._own_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    # -- audio and covers ---------------------------------------------------------

    async def audio(self, clip: Clip, saved_path: str | None = None) -> Path:
        """A local MP3 of ``clip``: its saved file when that exists and is an
        MP3, else the cached copy, else fetched now."""
        if saved_path and file_kind(Path(saved_path), "audio"):
            return Path(saved_path)
        return await self._get("audio", clip.id, clip.audio_url, clip.duration)

    async def cover(self, clip: Clip) -> Path:
        """A local copy of ``clip``'s cover (JPEG, PNG or WebP)."""
        return await self._get("image", clip.id, clip.image_url, None)

    def cached_audio(self, clip: Clip) -> Path | None:
        """The cached audio of ``clip`` if there is one; never fetches."""
        if refusal(clip.audio_url):
            return None
        return self._cached("audio", _digest(clip.id or "", clip.audio_url or ""))

    async def _get(
        self, kind: str, clip_id: str | None, url: str | None, duration: float | None
    ) -> Path:
        what = _WHAT[kind]
        if reason := refusal(url):
            raise MediaError(f"cannot fetch the {what}: {reason}")
        assert url is not None
        key = _digest(clip_id or "", url)
        if (cached := self._cached(kind, key)) is not None:
            return cached
        job = self._jobs.get((kind, key))
        if job is None:
            job = asyncio.create_task(self._fetch(kind, key, url, duration), name=f"cache {what}")
            self._jobs[(kind, key)] = job
            job.add_done_callback(lambda done: self._forget((kind, key), done))
        return await self._wait(job, what)

    def _forget(self, job_key: tuple[str, str], job: asyncio.Task[Path]) -> None:
        if self._jobs.get(job_key) is job:
            del self._jobs[job_key]

    async def _wait(self, job: asyncio.Task[Path], what: str) -> Path:
        """Wait for a shared fetch. When the last caller waiting is cancelled,
        the fetch is too, and its temporary file is gone when this returns."""
        self._waiters[job] += 1
        try:
            return await asyncio.shield(job)
        except asyncio.CancelledError:
            me = asyncio.current_task()
            if me is None or not me.cancelling():  # the fetch was stopped, not us
                raise MediaError(f"cannot fetch the {what}: stopped") from None
            if self._waiters[job] == 1 and not job.done():
                job.cancel()
                await asyncio.wait([job])
            raise
        finally:
            self._waiters[job] -= 1
            if self._waiters[job] <= 0:
                del self._waiters[job]

    def _cached(self, kind: str, key: str) -> Path | None:
        folder = self.folder / _FOLDERS[kind]
        for suffix in _SUFFIXES[kind]:
            path = folder / f"{key}{suffix}"
            if not path.exists():
                continue
            if file_kind(path, kind) == suffix:
                self._touch(path)
                return path
            with contextlib.suppress(OSError):  # damaged: fetch it again
                path.unlink()
        return None

    async def _fetch(self, kind: str, key: str, url: str, duration: float | None) -> Path:
        what = _WHAT[kind]
        folder = self._folder(kind)
        limit = min(
            self.audio_max_bytes if kind == "audio" else self.cover_max_bytes, self.max_bytes
        )
        last: FetchError | None = None
        try:
            async with asyncio.timeout(self.max_seconds):
                for attempt in range(self.attempts):
                    if attempt:
                        await asyncio.sleep(self.retry_base * 2 ** (attempt - 1))
                    try:
                        if self._http is None:
                            self._http = file_client()
                        fetched = await fetch_to_temp(
                            self._http,
                            url,
                            folder,
                            kind,
                            max_bytes=limit,
                            min_rate=self.min_rate,
                            duration=duration,
                        )
                    except FetchError as exc:
                        last = exc
                        if exc.final:
                            break
                        continue
                    target = folder / f"{key}{fetched.suffix}"
                    # In a thread: pruning lists and stats the whole cache.
                    return await asyncio.to_thread(
                        self._place, fetched.temp, target, what, self.held_now()
                    )
        except TimeoutError:
            raise MediaError(
                f"cannot fetch the {what}: gave up after {self.max_seconds:g} s (too slow)"
            ) from None
        raise MediaError(f"cannot fetch the {what}: {last}")

    def _place(self, temp: Path, target: Path, what: str, held: frozenset[Path]) -> Path:
        try:
            os.replace(temp, target)  # a mkstemp file: 0600 already
        except OSError as exc:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise MediaError(f"cannot keep the {what}: {exc.strerror or exc}") from exc
        self.prune(keep=[target], held=held)
        return target

    # -- derived data ---------------------------------------------------------------

    def read_json(self, kind: str, clip_id: str) -> Any | None:
        """What :meth:`write_json` stored for ``clip_id`` under ``kind``
        (e.g. ``"waveform"``), or ``None`` when there is nothing usable."""
        path = self._json_path(kind, clip_id)
        try:
            with path.open("rb") as handle:
                raw = handle.read(JSON_MAX_BYTES + 1)
        except OSError:
            return None
        if len(raw) > JSON_MAX_BYTES:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        self._touch(path)
        return data

    def write_json(
        self, kind: str, clip_id: str, data: Any, *, held: frozenset[Path] | None = None
    ) -> None:
        """Keep JSON-able ``data`` for ``clip_id`` under ``kind``, atomically.
        From a thread, pass ``held`` (:meth:`held_now`, taken on the loop)."""
        path = self._json_path(kind, clip_id)
        try:
            payload = json.dumps(data, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise MediaError(f"cannot keep the {kind}: not JSON data ({exc})") from None
        if len(payload) > JSON_MAX_BYTES:
            limit = JSON_MAX_BYTES / 1024 / 1024
            raise MediaError(f"cannot keep the {kind}: larger than the {limit:g} MB limit")
        self._folder("json")
        try:
            atomic_write(path, payload.encode("ascii"))  # a mkstemp file: 0600
        except OSError as exc:
            raise MediaError(f"cannot keep the {kind}: {exc.strerror or exc}") from exc
        self.prune(keep=[path], held=held)

    def _json_path(self, kind: str, clip_id: str) -> Path:
        if not _KIND.fullmatch(kind):
            raise ValueError(f"not a cache kind: {kind!r}")
        return self.folder / _FOLDERS["json"] / f"{kind}-{_digest(clip_id)}.json"

    # -- in use, and pruning ----------------------------------------------------------

    def hold(self, path: Path | str) -> None:
        """Keep ``path`` from being pruned until as many :meth:`release` calls."""
        self._held[_norm(path)] += 1

    def release(self, path: Path | str) -> None:
        path = _norm(path)
        if self._held[path] <= 1:
            del self._held[path]
        else:
            self._held[path] -= 1

    @contextlib.contextmanager
    def holding(self, path: Path | str) -> Iterator[Path]:
        """``with cache.holding(path):`` while playing or showing it."""
        self.hold(path)
        try:
            yield Path(path)
        finally:
            self.release(path)

    def held_now(self) -> frozenset[Path]:
        """The files in use now: for a :meth:`prune` that runs in a thread."""
        return frozenset(self._held)

    def usage(self) -> int:
        """Bytes of cached files (temporary files of running fetches aside)."""
        return sum(size for _, size, _ in self._entries())

    def prune(
        self, keep: Iterable[Path | str] = (), *, held: frozenset[Path] | None = None
    ) -> None:
        """Remove least recently used files until the cache holds at most
        ``max_bytes``; never a held file, nor one of ``keep``. Leftover
        temporary files of a killed process go too. ``held``: the files in use
        as the event loop saw them (:meth:`held_now`), when this runs in a
        thread (the count itself is the loop's)."""
        protected = set(self._held if held is None else held) | {_norm(p) for p in keep}
        entries = sorted(self._entries(remove_stale=True))
        total = sum(size for _, size, _ in entries)
        for _, size, path in entries:
            if total <= self.max_bytes:
                break
            if path in protected:
                continue
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError:
                continue
            total -= size

    def _entries(self, remove_stale: bool = False) -> list[tuple[float, int, Path]]:
        """(last use, size, path) of every cached file."""
        now = time.time()
        found: list[tuple[float, int, Path]] = []
        for sub in _FOLDERS.values():
            try:
                names = os.listdir(self.folder / sub)
            except OSError:
                continue
            for name in names:
                path = self.folder / sub / name
                try:
                    st = path.lstat()
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode):  # a folder, a link: not ours
                    continue
                if name.startswith("."):  # a fetch's temporary file
                    if remove_stale and now - st.st_mtime > STALE_PART_SECONDS:
                        with contextlib.suppress(OSError):
                            path.unlink()
                    continue
                found.append((max(st.st_atime, st.st_mtime), st.st_size, path))
        return found

    # -- plumbing ---------------------------------------------------------------------

    def _folder(self, kind: str) -> Path:
        """The folder for ``kind``, made private (0700) with its parent."""
        folder = self.folder / _FOLDERS[kind]
        for path in (self.folder, folder):
            try:
                path.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.chmod(path, 0o700)
            except OSError as exc:
                raise MediaError(f"cannot create {path}: {exc.strerror or exc}") from exc
        return folder

    @staticmethod
    def _touch(path: Path) -> None:
        """Mark ``path`` as just used (atime alone is unreliable: relatime, noatime)."""
        with contextlib.suppress(OSError):
            os.utime(path)
