"""Fetching one file from a file host (the CDN that serves a clip's audio and
cover), with the safety rules every such fetch follows.

Two callers share this: :mod:`tui.services.downloads` (saving to the user's
folder) and :mod:`tui.services.media_cache` (fetching to play and show). A
file host is a server we do not control, so the same rules hold for both:

- only ``http``/``https`` URLs (:func:`tui.core.urls.refusal`; callers
  check first, to say which file) and never the API key: :func:`file_client` sends no Authorization;
- bytes as stored (``Accept-Encoding: identity``): nothing to decompress, and
  the size cap and magic check see the file itself;
- a size cap, checked on the announced length and again while streaming, and
  a rate floor, so neither an endless nor a trickling body holds us forever;
- the body goes to a temporary file in the target folder, which is removed on
  any failure or cancellation; only a file that is complete and starts with
  the bytes of its kind is handed back, for the caller to rename into place.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx

from tui import __version__
from tui.api.client import tls_context
from tui.core.formatting import clip_length
from tui.core.urls import refusal
from tui.services.saved_files import looks_like

#: The slowest transfer tolerated: (bytes, seconds) -- at least that many
#: bytes in every such window, or the attempt fails as stalled. A per-read
#: timeout alone lets a server trickle a byte a second forever.
MIN_RATE = (16 * 1024, 15.0)
#: Audio smaller than this many bytes per second of the clip's length was cut
#: short (8 kbit/s, below any real MP3), e.g. by a Content-Length that lied.
MIN_AUDIO_BYTES_PER_SECOND = 1000
#: Whatever the clip's length (unknown, or missing): no MP3 track is this small.
MIN_AUDIO_BYTES = 4096
#: How many leading bytes the magic check looks at.
HEAD_BYTES = 16


class FetchError(Exception):
    """Why a file could not be fetched, phrased for the user. ``final``: trying
    again will not help (404, not an MP3, too large, cannot write)."""

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


@dataclass
class Fetched:
    """A complete, checked file under a temporary name: the caller renames it
    into place (or unlinks it)."""

    temp: Path
    suffix: str  # what the bytes justify: .mp3, .jpg, .png, .webp
    size: int


def file_client(
    *, timeout: float = 30.0, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """An HTTP client for file hosts: no Authorization header, ever."""
    return httpx.AsyncClient(
        headers={
            "User-Agent": f"musicmint-tui/{__version__}",  # no Authorization
            # Bytes as stored: nothing to decompress (no bomb), and the
            # length and magic checks see the file itself.
            "Accept-Encoding": "identity",
        },
        timeout=httpx.Timeout(timeout, connect=10.0),
        follow_redirects=True,
        transport=transport,
        verify=tls_context(),
    )


def sends_credentials(http: httpx.AsyncClient) -> bool:
    """Would ``http`` send a key or cookie to a file host?"""
    return "authorization" in http.headers or bool(http.cookies)


async def fetch_to_temp(
    http: httpx.AsyncClient,
    url: str,
    folder: Path,
    kind: str,
    *,
    max_bytes: int,
    limit_hint: str = "",
    min_rate: tuple[int, float] = MIN_RATE,
    duration: float | None = None,
    on_bytes: Callable[[int, int | None], None] | None = None,
) -> Fetched:
    """Stream ``url`` into a temporary file in ``folder`` and check it is a
    whole file of ``kind`` (``"audio"``: MP3; ``"image"``: JPEG/PNG/WebP).

    ``on_bytes(received, total)`` hears of the transfer: once when the headers
    arrive, then after every chunk (``total`` is ``None`` without a
    Content-Length). ``limit_hint`` follows the size-cap message, e.g. the
    setting that raises it. On any failure or cancellation the temporary file
    is gone before this returns."""
    if reason := refusal(url):  # callers check first; this is the last line
        raise FetchError(reason, final=True)
    too_big = f"larger than the {max_bytes / 1024 / 1024:g} MB limit{limit_hint}"
    floor_bytes, window = min_rate
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".mm-", suffix=".part", dir=folder)
    except OSError as exc:
        raise FetchError(f"cannot write to {folder}: {exc.strerror or exc}", final=True) from exc
    tmp = Path(tmp_name)
    try:
        received = 0
        head = b""
        with os.fdopen(fd, "wb") as out:
            async with http.stream("GET", url) as response:
                status = response.status_code
                if status >= 400:
                    retryable = status >= 500 or status == 429
                    raise FetchError(f"server answered HTTP {status}", final=not retryable)
                length = response.headers.get("content-length", "")
                total = int(length) if length.isdigit() and len(length) < 16 else None
                if total is not None and total > max_bytes:
                    raise FetchError(f"the file is {_mb(total)} MB, {too_big}", final=True)
                if on_bytes:
                    on_bytes(0, total)
                window_start, window_bytes = time.monotonic(), 0
                async for chunk in response.aiter_raw():
                    if len(head) < HEAD_BYTES:
                        head += chunk[: HEAD_BYTES - len(head)]
                    received += len(chunk)
                    if received > max_bytes:
                        raise FetchError(f"stopped: {too_big}", final=True)
                    out.write(chunk)
                    now = time.monotonic()
                    window_bytes += len(chunk)
                    if now - window_start >= window:
                        if window_bytes < floor_bytes:
                            rate = window_bytes / (now - window_start) / 1024
                            raise FetchError(f"stalled: {rate:.1f} KB/s")
                        window_start, window_bytes = now, 0
                    if on_bytes:
                        on_bytes(received, total)
            out.flush()
            # In a thread: syncing a large file takes long enough to freeze the screen.
            await run_to_end(os.fsync, out.fileno())
        if received == 0:
            raise FetchError("the server sent an empty file")
        if total is not None and received != total:
            raise FetchError(f"incomplete: got {received} of {total} bytes")
        suffix = looks_like(head, kind)
        if suffix is None:
            what = "an MP3" if kind == "audio" else "an image"
            raise FetchError(f"the file is not {what} (it starts with {head[:8]!r})", final=True)
        if kind == "audio" and received < max(
            MIN_AUDIO_BYTES, (duration or 0) * MIN_AUDIO_BYTES_PER_SECOND
        ):
            what = f"{clip_length(duration)} of audio" if duration else "a track"
            raise FetchError(f"only {received} bytes: too small for {what} (cut short?)")
        return Fetched(tmp, suffix, received)
    except httpx.TimeoutException as exc:
        _remove(tmp)
        raise FetchError(f"timed out waiting for the file host ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        _remove(tmp)
        raise FetchError(f"transfer failed: {type(exc).__name__}: {exc}") from exc
    except OSError as exc:  # disk full, permissions...
        _remove(tmp)
        raise FetchError(f"cannot save the file: {exc.strerror or exc}", final=True) from exc
    except BaseException:  # FetchError, cancellation: no partial file either way
        _remove(tmp)
        raise


_T = TypeVar("_T")


async def run_to_end(func: Callable[..., _T], *args: object) -> _T:
    """``func(*args)`` in a thread. When the caller is cancelled meanwhile the
    thread is waited for before the cancellation goes on: it may own a file
    (a descriptor, a temporary copy) until it returns."""
    job = asyncio.ensure_future(asyncio.to_thread(func, *args))
    try:
        return await asyncio.shield(job)
    except asyncio.CancelledError:
        await asyncio.wait({job})
        raise


def _mb(size: int) -> str:
    mb = size / 1024 / 1024
    return f"{mb:.1f}" if mb < 10 else f"{mb:.0f}"


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
