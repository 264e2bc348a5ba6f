"""The dashboard's download and import actions, kept apart from the wiring in
:mod:`tui.app`. A mixin of :class:`tui.app.MusicMintApp`: it uses the app's
records, table, detail pane, poller and client, and adds ``d``/``shift+d``,
``ctrl+x``, ``shift+o`` and ``shift+i``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.worker import Worker

from tui.api import MusicMintError
from tui.api.ids import classify_task_ids
from tui.api.models import Clip
from tui.downloads import Downloader, DownloadError, Progress
from tui.logs import log
from tui.messages import DownloadUpdate
from tui.store import TrackedTask
from tui.text import clean

if TYPE_CHECKING:
    from tui.app import MusicMintApp

    _Base = MusicMintApp
else:
    _Base = object

#: ``shift+i`` reads at most this many pages of 100 tasks.
IMPORT_MAX_PAGES = 50


class DownloadsMixin(_Base):
    downloader: Downloader
    _downloads: dict[str, Worker[None]]
    _progress: dict[str, Progress]

    def action_download(self) -> None:
        if target := self._target_clip():
            record, clip = target
            self._download(record, [clip], toggle=True)

    def action_download_all(self) -> None:
        record = self.highlighted
        if record is None or record.task is None or not record.task.results:
            self.notify("This task has no clips to download yet.", markup=False)
            return
        self._download(record, record.task.results)

    def _download(
        self,
        record: TrackedTask,
        clips: Iterable[Clip],
        quiet: bool = False,
        toggle: bool = False,
    ) -> None:
        """Start downloads; with ``toggle`` (the ``d`` key), a clip already
        downloading is cancelled instead."""
        now = self.clock()
        for index, clip in enumerate(clips):
            key = f"{record.id}/{clip.id or index}"
            if key in self._downloads:
                if toggle:
                    self._downloads[key].cancel()
                    self.notify(f"Cancelled the download of {self._scrub(key)}.", markup=False)
                continue
            if reason := record.clip_expired(clip.expire_at, now):
                if not quiet:
                    self.notify(f"Not downloading: {reason}.", severity="warning", markup=False)
                continue
            saved = record.downloads.get(clip.id or "")
            if saved and Path(saved).exists():
                if not quiet:
                    self.notify(f"Already saved: {saved}", markup=False)
                continue
            self._downloads[key] = self.run_worker(
                self._download_clip(record.id, clip, key), group="downloads", exit_on_error=False
            )

    async def _download_clip(self, task_id: str, clip: Clip, key: str) -> None:
        def report(progress: Progress) -> None:
            self._progress[key] = progress
            self.post_message(DownloadUpdate(progress))

        try:
            saved = await self.downloader.save_clip(clip, task_id, report)
        except DownloadError as exc:
            log.error("download %s: %s", key, exc)  # the log filter escapes control chars
            self.notify(
                f"Download of {clean(clip.title, one_line=True) or key} failed: {exc}",
                severity="error",
                markup=False,
            )
        except asyncio.CancelledError:
            if progress := self._progress.get(key):
                progress.state, progress.message = "cancelled", "by you"
                self.downloads_panel.show(progress)
            raise
        else:
            record = self.records.get(task_id)
            if record is not None and clip.id:
                record.downloads[clip.id] = str(saved.audio)
                self._dirty = True
                self.table.schedule(record)
                self._refresh_detail_if(record)
            self.notify(f"Saved {saved.audio}", title="Downloaded", markup=False)
        finally:
            self._downloads.pop(key, None)
            self._progress.pop(key, None)

    def on_download_update(self, message: DownloadUpdate) -> None:
        self.downloads_panel.show(message.progress)

    def action_cancel_downloads(self) -> None:
        running = list(self._downloads.values())
        for worker in running:
            worker.cancel()
        self.notify(f"Cancelled {len(running)} download(s).", markup=False)

    def action_open_folder(self) -> None:
        folder = self.config.download_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.notify(
                f"Cannot create {folder}: {exc.strerror or exc}", severity="error", markup=False
            )
            return
        self._open_in_thread(folder.as_uri())  # our own folder, not a server URL
        self.notify(f"Opening {folder}", timeout=3, markup=False)

    @work(exclusive=True, group="import", exit_on_error=False)
    async def action_import(self) -> None:
        """Add the account's recent tasks (``POST /api/v1/tasks``, 100 per page)."""
        status = self.import_status or "all"
        self.import_status = None
        if wait := self.poller.paused_for():
            self.notify(
                f"Rate limited: import again in {wait:.0f}s.", severity="warning", markup=False
            )
            return
        self.notify("Importing recent tasks…", timeout=2, markup=False)
        found: list[str] = []
        page = 1
        try:
            while page <= IMPORT_MAX_PAGES:
                result = await self.client.list_tasks(page=page, page_size=100, status=status)
                found += [item.id for item in result.items]
                if not result.items or (result.total is not None and len(found) >= result.total):
                    break
                page += 1
        except MusicMintError as exc:
            self.notify(
                f"Import failed: {self._scrub(exc.describe())}", severity="error", markup=False
            )
            return
        listed = classify_task_ids(found, set(self.records))
        self._add_tasks(listed.valid)
        self.notify(
            f"Imported {len(listed.valid)} new task(s) from {page} page(s); "
            f"{len(listed.duplicates)} were already tracked"
            + (f"; {len(listed.invalid)} had invalid IDs." if listed.invalid else "."),
            markup=False,
        )
