"""The actions on the selected clip: open, copy, download.

A part of :class:`~tui.ui.screens.main.MainScreen`, which binds the keys and
delegates here; it is told how to find the selection rather than importing
the screen, so there is no import cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path

from tui.api.models import Clip
from tui.core.formatting import local_time
from tui.core.sanitize import clean, scrub
from tui.core.urls import refusal
from tui.domain.tracked import TrackedTask, clip_keys
from tui.ui import copying, wording
from tui.ui.screen_part import ScreenPart


class ClipActions(ScreenPart):
    def _target_clip(self) -> tuple[TrackedTask, Clip] | None:
        """The highlighted task and its selected clip, or say why there is none."""
        found = self._selected_clip()
        return None if found is None else (found[0], found[2])

    def _live_clip(self) -> Clip | None:
        """The selected clip, unless its files are known to be gone (then say why)."""
        target = self._target_clip()
        if target is None:
            return None
        record, clip = target
        if reason := record.clip_expired(clip.expire_at, self._app.clock()):
            when = f" at {local_time(clip.expire_at)}" if clip.expire_at else ""
            self._say(f"Not opening: {reason}{when}.", severity="warning")
            return None
        return clip

    def _open(self, url: str | None, what: str) -> None:
        reason = refusal(url)
        if reason is not None or url is None:
            self._say(f"Not opening the {what}: {reason}", severity="warning")
            return
        self._open_in_thread(url)
        self._say(f"Opening the {what} in your browser.", timeout=3)

    def _open_in_thread(self, url: str) -> None:
        """webbrowser may wait for the browser command to exit: keep it off the UI."""
        self._screen.run_worker(
            partial(self._app.open_url, url), thread=True, group="browser", exit_on_error=False
        )

    def open_audio(self) -> None:
        if clip := self._live_clip():
            self._open(clip.audio_url, "audio")

    def open_image(self) -> None:
        if clip := self._live_clip():
            self._open(clip.image_url, "cover image")

    def copy_id(self) -> None:
        record = self._highlighted()
        if record is None:
            self._say("No task selected.")
            return
        self._copy(record.id, "task ID", record.id)

    def copy_ids(self, records: list[TrackedTask]) -> None:
        """The marked tasks' IDs, one per line (as a paste into the add dialog takes)."""
        self._copy("\n".join(r.id for r in records), f"{len(records)} task IDs", "one per line")

    def copy_audio(self) -> None:
        target = self._target_clip()
        if target is None:
            return
        url = target[1].audio_url
        if not url:
            self._say("The audio URL is not ready yet.")
            return
        self._copy(url, "the audio URL", clean(url, one_line=True))

    def _copy(self, text: str, thing: str, shown: str) -> None:
        copying.copy(self._screen, text, thing, shown)

    # -- downloads -----------------------------------------------------------------
    def download_selected(self) -> None:
        """``d``: the selected clip (again while it downloads: cancel it)."""
        if target := self._target_clip():
            record = target[0]
            self.download(record, [self._clip_index(record)], toggle=True)

    def download_all(self) -> None:
        record = self._highlighted()
        if record is None or record.task is None or not record.task.results:
            self._say(wording.no_clips(record) if record else "No task selected.")
            return
        self.download(record, range(len(record.task.results)))

    def download_many(self, records: list[TrackedTask]) -> None:
        """Every clip of the marked tasks that is not saved, downloading or gone."""
        before = len(self._app.downloads)
        for record in records:
            clips = record.task.results if record.task else ()
            self.download(record, range(len(clips)), quiet=True)
        started = len(self._app.downloads) - before
        tasks = wording.plural(len(records), "marked task")
        if started:
            self._say(f"Downloading {wording.plural(started, 'clip')} of {tasks}.")
        else:
            self._say(f"Nothing to download in {tasks}: saved, downloading, expired or not ready.")

    def download(
        self, record: TrackedTask, indices: Iterable[int], quiet: bool = False, toggle: bool = False
    ) -> None:
        """Start downloads of the clips at ``indices``; with ``toggle`` (the ``d``
        key), a clip already downloading is cancelled instead. What was skipped
        is said once, counted, not once per clip."""
        downloads = self._app.downloads
        now = self._app.clock()
        clips = record.task.results if record.task else ()
        keys = clip_keys(clips)
        started = 0
        skipped: dict[str, int] = {}  # why -> how many clips
        saved_at = gone = ""
        for index in indices:
            clip, clip_key = clips[index], keys[index]
            key = downloads.key(record.id, clip_key)
            if key in downloads:
                if toggle:
                    downloads.cancel(key)
                    self._say(
                        "Cancelled the download of " + scrub(key, self._app.config.api_key) + "."
                    )
                else:
                    skipped["already downloading"] = skipped.get("already downloading", 0) + 1
                continue
            if reason := record.clip_expired(clip.expire_at, now):
                skipped[reason] = skipped.get(reason, 0) + 1
                gone = reason
                continue
            saved = record.downloads.get(clip_key)
            if saved and Path(saved).exists():
                skipped["already saved"] = skipped.get("already saved", 0) + 1
                saved_at = saved
                continue
            downloads.start(record.id, clip, clip_key)
            started += 1
        if quiet or not skipped:
            return
        if not started and sum(skipped.values()) == 1:  # one clip: say it whole
            if "already saved" in skipped:
                self._say(f"Already saved: {saved_at}")
            elif "already downloading" not in skipped:
                self._say(f"Not downloading: {gone}.", severity="warning")
            return
        short = {"its files expired": "expired"}
        why = ", ".join(f"{n} {short.get(reason, reason)}" for reason, n in skipped.items())
        if started:
            self._say(f"Downloading {wording.plural(started, 'clip')}; skipped {why}.")
        else:
            self._say(f"Not downloading: {why}.", severity="warning")

    def cancel_downloads(self) -> None:
        count = self._app.downloads.cancel_all()
        if count:
            self._say(f"Cancelled {wording.plural(count, 'download')}.")
        else:
            self._say("No download to cancel.")

    def open_folder(self) -> None:
        folder = self._app.config.download_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._say(f"Cannot create {folder}: {exc.strerror or exc}", severity="error")
            return
        self._open_in_thread(folder.as_uri())  # our own folder, not a server URL
        self._say(f"Opening {folder}", timeout=3)
