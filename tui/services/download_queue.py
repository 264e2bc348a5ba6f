"""The clip downloads running now: start, cancel, report (the app's queue of
:class:`~tui.services.downloads.Downloader` jobs). No Textual here: progress
and endings arrive through callbacks, so the UI only displays.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tui.api.models import Clip
from tui.services.downloads import (
    DEFAULT_MAX_BYTES,
    Downloader,
    DownloadError,
    Progress,
    SavedClip,
)


@dataclass
class DownloadDone:
    """How one clip's download ended: ``saved``, or why not."""

    task_id: str
    clip: Clip
    key: str
    clip_key: str
    saved: SavedClip | None = None
    error: str | None = None  # None with no ``saved``: cancelled


class DownloadQueue:
    """The clip downloads running now, by key (``task/clip``): start, cancel,
    report. Each runs as its own asyncio task on the caller's loop; progress
    and endings arrive through the two callbacks, so the UI only displays."""

    def __init__(
        self,
        downloader: Downloader,
        on_progress: Callable[[Progress], None],
        on_done: Callable[[DownloadDone], None],
    ) -> None:
        self.downloader = downloader
        self._on_progress = on_progress
        self._on_done = on_done
        self._running: dict[str, asyncio.Task[None]] = {}
        self._progress: dict[str, Progress] = {}  # key -> its latest file progress
        self._closing: set[asyncio.Task[None]] = set()

    @staticmethod
    def key(task_id: str, clip_key: str) -> str:
        return f"{task_id}/{clip_key}"

    def __contains__(self, key: str) -> bool:
        return key in self._running

    def __len__(self) -> int:
        return len(self._running)

    def start(self, task_id: str, clip: Clip, clip_key: str) -> None:
        key = self.key(task_id, clip_key)
        task = asyncio.create_task(self._run(task_id, clip, clip_key, key), name=f"download {key}")
        self._running[key] = task

    def cancel(self, key: str) -> bool:
        task = self._running.get(key)
        if task is None:
            return False
        task.cancel()
        return True

    def cancel_all(self) -> int:
        running = list(self._running.values())
        for task in running:
            task.cancel()
        return len(running)

    def retarget(
        self, folder: Path, max_bytes: int = DEFAULT_MAX_BYTES, embed_tags: bool = True
    ) -> None:
        """New downloads go to ``folder`` with a size cap of ``max_bytes``, tagged
        or not as ``embed_tags`` says; running ones finish where they are."""
        if folder == self.downloader.folder:
            self.downloader.max_bytes = max_bytes
            self.downloader.embed_tags = embed_tags
            return
        old = self.downloader
        self.downloader = Downloader(
            folder, max_bytes=max_bytes, min_rate=old.min_rate, embed_tags=embed_tags
        )
        if not self._running:
            closing = asyncio.get_running_loop().create_task(old.aclose())
            self._closing.add(closing)  # keep a reference until it is done
            closing.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        self.cancel_all()
        if self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)
        await self.downloader.aclose()

    async def _run(self, task_id: str, clip: Clip, clip_key: str, key: str) -> None:
        def report(progress: Progress) -> None:
            self._progress[key] = progress
            self._on_progress(progress)

        done = DownloadDone(task_id, clip, key, clip_key)
        try:
            done.saved = await self.downloader.save_clip(clip, task_id, report, clip_key=clip_key)
        except DownloadError as exc:
            done.error = str(exc)
        except Exception as exc:  # a bug: say so rather than look cancelled
            done.error = f"unexpected {type(exc).__name__}: {exc}"
        except asyncio.CancelledError:
            if progress := self._progress.get(key):
                progress.state, progress.message = "cancelled", "by you"
                self._on_progress(progress)
            raise
        finally:
            self._running.pop(key, None)
            self._progress.pop(key, None)
            self._on_done(done)
