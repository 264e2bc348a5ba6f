"""The dashboard application: wiring between store, poller and widgets.

Data flows one way: the client answers the poller, the poller's events arrive
here as :class:`~tui.messages.PollerUpdate` messages, and handlers update the
in-memory records and then the widgets. Time-driven text (ages, countdowns,
the status bar) is refreshed by one 1 s tick for the whole screen.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import Worker, WorkerState

from tui import keys, logs
from tui.api import MusicMintClient, NotFoundError, ResultExpiredError
from tui.api.ids import ParsedIds
from tui.api.models import Clip
from tui.app_downloads import DownloadsMixin
from tui.config import ENV_API_KEY, Config, ConfigError, load_config
from tui.downloads import Downloader, Progress
from tui.formatting import local_time
from tui.logs import RecentErrors, log
from tui.messages import PollerUpdate
from tui.poller import LinkState, Polled, Poller, PollEvent, PollFailed
from tui.store import LoadResult, StoreError, TaskStore, TrackedTask
from tui.text import clean, scrub
from tui.urls import refusal
from tui.widgets.add_dialog import AddTasksScreen
from tui.widgets.detail_pane import DetailPane
from tui.widgets.downloads_panel import DownloadsPanel
from tui.widgets.help_screen import HelpScreen
from tui.widgets.log_screen import LogScreen
from tui.widgets.status_bar import StatusBar, status_line
from tui.widgets.task_table import SORTS, TaskTable

SORT_CYCLE = tuple(SORTS)
WORKING = ("queuing", "processing")


class MusicMintApp(DownloadsMixin, App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "MusicMint"
    BINDINGS: ClassVar = keys.bindings()
    #: Side by side from 140 columns; below that the detail pane goes under the table,
    #: which keeps every table column readable.
    HORIZONTAL_BREAKPOINTS: ClassVar = [(0, "-narrow"), (140, "-wide")]

    def __init__(
        self,
        config: Config,
        store: TaskStore,
        *,
        initial_ids: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
        tick_interval: float = 1.0,
        client: MusicMintClient | None = None,
        reload_config: Callable[[], Config] | None = None,
        demo: bool = False,
        max_backoff: float = 60.0,
        recent_errors: RecentErrors | None = None,
        import_status: str | None = None,
        downloader: Downloader | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.store = store
        self.clock = clock
        self.tick_interval = tick_interval
        self.demo = demo
        self._initial_ids = list(initial_ids)
        self._reload = reload_config or (lambda: load_config(self.config.path))
        self.recent_errors = recent_errors or RecentErrors()
        self.import_status = import_status  # import recent tasks once loaded
        self.downloader = downloader or Downloader(config.download_dir)
        self._downloads: dict[str, Worker[None]] = {}  # clip key -> running download
        self._progress: dict[str, Progress] = {}  # clip key -> its latest file progress
        self.client = client or self._make_client(config)
        self.records: dict[str, TrackedTask] = {}
        self.poller = Poller(
            self.client,
            self._forward,
            interval=config.interval,
            max_concurrency=config.max_concurrency,
            max_backoff=max_backoff,
            wall=clock,
        )
        self.link = LinkState("ok")
        self._undo: list[tuple[int, TrackedTask]] = []  # (position, record)
        self._dirty = False
        self._save_seq = 0
        self._last_poll: float | None = None
        self._status_pending = False
        self.loaded = False  # the task file has been read and the table filled
        self._read_only: str | None = None  # why saving is off (unreadable/newer file)
        self._save_lock = threading.Lock()
        self._written_seq = 0

    @staticmethod
    def _make_client(config: Config) -> MusicMintClient:
        return MusicMintClient(
            config.base_url,
            config.api_key,
            timeout=config.timeout,
            max_connections=config.max_concurrency,
        )

    # -- layout ----------------------------------------------------------------
    def compose(self) -> ComposeResult:
        self.status_bar = StatusBar(id="status-bar")
        self.banner = Static("", id="banner", markup=False)
        self.filter_input = Input(placeholder="filter by ID, title, tags or status", id="filter")
        self.table = TaskTable(id="tasks")
        self.detail = DetailPane(id="detail")
        self.downloads_panel = DownloadsPanel(id="downloads")
        yield self.status_bar
        yield self.banner
        with Horizontal(id="main"):
            with Vertical(id="table-box"):
                yield self.filter_input
                yield self.table
            yield self.detail
        yield self.downloads_panel
        yield Footer()

    def on_mount(self) -> None:
        if self.config.theme in self.available_themes:
            self.theme = self.config.theme
        else:
            self.notify(
                f"Unknown theme {self.config.theme!r}; using the default.",
                severity="warning",
                markup=False,
            )
        for warning in self.config.warnings:
            self.notify(warning, title="Config", severity="warning", timeout=20, markup=False)
            log.warning(warning)
        self.table.bind_source(self.records.values, self.clock)
        self.table.border_title = "Tasks (loading…)"
        # Read the file only once the first frame is out: with thousands of tasks
        # parsing takes a while, and the GIL would slow the first paint down.
        self.call_after_refresh(self._load_store)
        self.set_interval(self.tick_interval, self._tick)
        self.table.focus()

    @work(thread=True, exit_on_error=False)
    def _load_store(self) -> None:
        """Parse the task file off the UI thread: with thousands of tasks TOML
        parsing takes a noticeable moment, and the first frame should not wait."""
        loaded = self.store.load()
        self.call_from_thread(self._loaded, loaded)

    def _loaded(self, loaded: LoadResult) -> None:
        if loaded.problem:
            log.error(loaded.problem)
            if loaded.read_only:
                note = f"{loaded.problem}. Changes in this session will not be saved."
            elif loaded.tasks:
                note = f"{loaded.problem}; the original is kept at {loaded.moved_aside}."
            else:
                where = f" It was moved to {loaded.moved_aside}." if loaded.moved_aside else ""
                note = f"{loaded.problem}; starting with an empty list.{where}"
            self.notify(note, severity="error", timeout=30, markup=False)
        self._read_only = loaded.read_only
        now = self.clock()
        added_meanwhile = list(self.records.values())  # typed in while the file loaded
        self.records.clear()
        for record in loaded.tasks:
            self.records[record.id] = record
        for record in added_meanwhile:
            self.records.setdefault(record.id, record)
        rng = random.Random()
        for record in loaded.tasks:
            if not record.finished:
                # Spread resumed polls over one interval rather than bursting.
                self.poller.track(record.id, delay=rng.uniform(0, self.config.interval))
        fresh = [i for i in self._initial_ids if i not in self.records]
        for task_id in fresh:
            self._track_new(task_id, now)
        if fresh or added_meanwhile:
            self._dirty = True
        if not self.table.fit_columns():
            self.table.rebuild(self.records.values(), now)
        self.loaded = True
        # Everything built so far (thousands of records and rows) lives as long as
        # the app: take it out of the cyclic GC's sweeps, and make full sweeps
        # rarer. With the defaults a full collection stalled the UI for up to
        # 65 ms at random moments (measured in the benchmark's key-to-screen).
        gc.freeze()
        gc.set_threshold(2000, 10, 100)
        self._update_titles()
        self._show_highlighted()
        self._refresh_status(now)
        self.run_worker(self.poller.run(), name="poller", exit_on_error=False)
        if self.import_status is not None:
            self.action_import()

    def _add_tasks(self, task_ids: list[str]) -> None:
        """Track new IDs (typed, pasted or imported): poll them now, show their rows."""
        if not task_ids:
            return
        now = self.clock()
        for task_id in task_ids:
            self.table.upsert(self._track_new(task_id, now), now)
        self.table.fit_columns()
        self._dirty = True
        self._update_titles()

    def _track_new(self, task_id: str, now: float) -> TrackedTask:
        record = TrackedTask(id=task_id, added_at=now)
        self.records[task_id] = record
        self.poller.track(task_id)
        return record

    # -- poller events -----------------------------------------------------------
    def _forward(self, event: PollEvent) -> None:
        self.post_message(PollerUpdate(event))

    def on_poller_update(self, message: PollerUpdate) -> None:
        event = message.event
        if isinstance(event, LinkState):
            self._link_changed(event)
        elif isinstance(event, Polled):
            self._polled(event)
        elif isinstance(event, PollFailed):
            self._poll_failed(event)

    def _polled(self, event: Polled) -> None:
        record = self.records.get(event.task_id)
        if record is None:  # removed while the request was in flight
            return
        self._last_poll = record.last_poll = event.at
        changed = record.last_error is not None or record.gone is not None
        record.last_error = None
        record.gone = None
        if record.first_seen is None:
            record.first_seen = event.at
            changed = True
        old_status = record.status
        if event.task != record.task:
            record.task = event.task
            changed = True
            # Only a finish we watched happen has a meaningful "took", and is news.
            if event.task.is_terminal and old_status in WORKING:
                if record.finished_at is None:
                    record.finished_at = event.at
                self._announce(record)
            if self.config.auto_download and event.task.status == "completed":
                self._download(record, event.task.results, quiet=True)
        if changed:
            self._dirty = True
            self.table.schedule(record)
            self._refresh_detail_if(record)
            if record.status != old_status:
                self._refresh_status_soon()

    def _poll_failed(self, event: PollFailed) -> None:
        record = self.records.get(event.task_id)
        if record is None:
            return
        self._last_poll = record.last_poll = event.at
        error = event.error
        retry = f"; retrying in {event.retry_in:.0f}s" if event.retry_in else ""
        problem = self._scrub(error.describe())
        if problem != (record.last_error or "").split("; retrying", 1)[0]:
            log.warning("task %s: %s", record.id, problem)  # once per distinct problem
        record.last_error = problem + retry
        if isinstance(error, NotFoundError):
            record.gone = error.message
            self._dirty = True
            self.notify(
                f"Task {record.id} is unknown to the server: {problem}",
                severity="error",
                markup=False,
            )
        elif isinstance(error, ResultExpiredError):
            record.expired = error.message
            record.last_error = f"{problem}: the files are gone"
            self._dirty = True
        self.table.schedule(record)
        self._refresh_detail_if(record)

    def _link_changed(self, link: LinkState) -> None:
        previous, self.link = self.link, link
        if link.state != previous.state:
            detail = f": {self._scrub(link.message)}" if link.message else ""
            log.log(
                logging.INFO if link.state == "ok" else logging.WARNING,
                "connection %s%s",
                link.state.replace("_", " "),
                detail,
            )
        banner = self.banner
        if link.state == "auth_failed":
            source = self.config.sources.get("api.api_key", "")
            where = (
                f"{ENV_API_KEY} comes first: fix it and restart"
                if source.startswith("env")
                else f"fix api_key in {self.config.path} (or set {ENV_API_KEY} and restart)"
            )
            banner.update(
                f"✘ The API key {self.config.masked_key} was refused: "
                f"{self._scrub(link.message)}. Polling is stopped. To fix: {where}, "
                "then press ctrl+r to reload the config."
            )
            banner.add_class("-visible")
        else:
            banner.remove_class("-visible")
            if previous.state in ("offline", "auth_failed") and link.state == "ok":
                self.notify("Connection restored; polling resumed.", markup=False)
        self._refresh_status()

    def _scrub(self, server_text: str) -> str:
        """Server text for display: one line, no control characters, and never our key
        (a server may echo it back in an error message)."""
        return scrub(server_text, self.config.api_key)

    def _announce(self, record: TrackedTask) -> None:
        task = record.task
        title = task.results[0].title if task and task.results else None
        name = clean(title, one_line=True) if title else record.id
        if record.status == "completed":
            count = len(task.results) if task else 0
            self.notify(
                f"✔ {name} completed ({count} clip{'s' if count != 1 else ''})",
                title="Task completed",
                markup=False,
            )
        else:
            reason = clean(task.error, one_line=True) if task and task.error else "no reason given"
            self.notify(
                f"✘ {record.id} failed: {reason}",
                title="Task failed",
                severity="error",
                markup=False,
            )
        if self.config.bell:
            self.bell()

    # -- the 1 s tick ---------------------------------------------------------------
    def _tick(self) -> None:
        now = self.clock()
        self.table.tick(self.records, now)
        self.detail.tick(now)
        self._refresh_status(now)
        if self._dirty:
            self._save_in_background()

    def _expiring_unsaved(self, now: float) -> int:
        """Clips that expire within ``warn_hours`` and have not been downloaded."""
        horizon = (now + self.config.warn_hours * 3600) * 1000
        count = 0
        for record in self.records.values():
            if record.task is None or record.expired is not None:
                continue
            for clip in record.task.results:
                stamp = clip.expire_at
                if (
                    clip.id
                    and stamp
                    and now * 1000 < stamp <= horizon
                    and clip.id not in record.downloads
                ):
                    count += 1
        return count

    def _refresh_status_soon(self) -> None:
        """Coalesce bursts (a thousand tasks finishing together) into one repaint."""
        if not self._status_pending:
            self._status_pending = True
            self.set_timer(0.1, self._refresh_status)

    def _refresh_status(self, now: float | None = None) -> None:
        self._status_pending = False
        host = self.config.base_url.split("://", 1)[-1]
        if self.demo:
            host = f"demo · {host}"
        self.status_bar.show(
            status_line(
                host,
                self.link,
                self.records,
                self._last_poll,
                self.clock() if now is None else now,
                width=self.status_bar.content_size.width or 200,
                unsaved=self._expiring_unsaved(self.clock() if now is None else now),
            )
        )

    # -- persistence ----------------------------------------------------------------
    def _save_in_background(self) -> None:
        if self._read_only or not self.loaded:
            return  # stays dirty: saved once the file has been read
        self._dirty = False
        self._save_seq += 1
        # Shallow copies (tasks themselves are immutable) are cheap; the TOML
        # encoding, which is not, happens on the worker thread.
        snapshot = [dataclasses.replace(r) for r in self.records.values()]
        self._write(snapshot, self._save_seq)

    @work(thread=True, group="save", exit_on_error=False)
    def _write(self, snapshot: list[TrackedTask], seq: int) -> None:
        try:
            self._write_in_order(TaskStore.serialise(snapshot), seq)
        except StoreError as exc:
            log.error("%s", exc)
            self.call_from_thread(self.notify, str(exc), severity="error", markup=False)

    def _write_in_order(self, payload: bytes, seq: int) -> None:
        """Writes may overlap (a slow disk, the final save on quit): never let an
        older snapshot land after a newer one."""
        with self._save_lock:
            if seq <= self._written_seq:
                return
            self.store.write(payload)
            self._written_seq = seq

    def save_now(self) -> None:
        """Synchronous save (on quit), so the last change is never lost."""
        if self._read_only or not self.loaded:
            return
        self._save_seq += 1
        try:
            self._write_in_order(TaskStore.serialise(list(self.records.values())), self._save_seq)
            self._dirty = False
        except StoreError as exc:
            log.error("%s", exc)
            self.notify(str(exc), severity="error", markup=False)

    async def action_quit(self) -> None:
        self.save_now()
        self.exit(0)

    async def on_unmount(self) -> None:
        self.poller.stop()
        await self.downloader.aclose()
        if self._dirty:
            self.save_now()
        await self.client.aclose()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures land: report, and restart the poller."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        self.notify(
            f"Background job {event.worker.name!r} failed: {error!r}",
            severity="error",
            markup=False,
        )
        if event.worker.name == "poller":
            self.run_worker(self.poller.run(), name="poller", exit_on_error=False)

    # -- selection ---------------------------------------------------------------
    @property
    def highlighted(self) -> TrackedTask | None:
        task_id = self.table.highlighted_id
        return self.records.get(task_id) if task_id else None

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self._show_highlighted()

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        """``enter`` on a row (the table's own binding) opens its details."""
        self.action_focus_detail()

    def _show_highlighted(self) -> None:
        self.detail.show(self.highlighted, self.clock())

    def _refresh_detail_if(self, record: TrackedTask) -> None:
        if self.detail.record is record:
            self.detail.show(record, self.clock())

    def on_resize(self) -> None:
        """The status bar picks its wording by width: re-pick after a resize."""
        self.call_after_refresh(self._refresh_status)

    def _update_titles(self) -> None:
        shown, total = self.table.row_count, len(self.records)
        count = f"{total}" if shown == total else f"{shown} of {total}"
        title = f"Tasks ({count})"
        if self.table.filter_text:
            title += f" · filter: {self.table.filter_text}"
        self.table.border_title = Text(title)  # type: ignore[assignment]
        self.table.border_subtitle = f"sort: {self.table.sort_name}"
        self.detail.border_title = "Details"

    # -- actions: tasks ----------------------------------------------------------
    @work
    async def action_add(self) -> None:
        parsed: ParsedIds | None = await self.push_screen_wait(AddTasksScreen(set(self.records)))
        if parsed is None:
            return
        self._add_tasks(parsed.valid)
        if parsed.valid and parsed.valid[-1] in self.table.shown:
            self.table.move_cursor(row=self.table.get_row_index(parsed.valid[-1]))
        self.notify(
            _add_summary(parsed),
            markup=False,
            severity="warning" if parsed.invalid else "information",
        )

    def action_remove(self) -> None:
        record = self.highlighted
        if record is None:
            self.notify("Nothing to remove.", markup=False)
            return
        position = list(self.records).index(record.id)
        del self.records[record.id]
        self.poller.untrack(record.id)
        self.table.drop(record.id)
        self._undo.append((position, record))
        self._dirty = True
        self._update_titles()
        self._show_highlighted()
        self.notify(f"Removed {record.id}. Press u to undo.", markup=False)

    def action_undo(self) -> None:
        if not self._undo:
            self.notify("Nothing to undo.", markup=False)
            return
        position, record = self._undo.pop()
        items = list(self.records.items())
        items.insert(position, (record.id, record))
        self.records.clear()  # same dict object: the table reads it on resize
        self.records.update(items)
        if not record.finished:
            self.poller.track(record.id)
        self.table.rebuild(self.records.values(), self.clock())
        if record.id in self.table.shown:
            self.table.move_cursor(row=self.table.get_row_index(record.id))
        self._dirty = True
        self._update_titles()
        self.notify(f"Restored {record.id}.", markup=False)

    def _polling_stopped(self) -> bool:
        if self.poller.auth_blocked:
            self.notify(
                "Polling is stopped because the API key was refused; fix it and press ctrl+r.",
                severity="warning",
                markup=False,
            )
        return self.poller.auth_blocked

    def action_refresh(self) -> None:
        record = self.highlighted
        if record is None or self._polling_stopped():
            return
        self.poller.poll_now(record.id)
        self.notify(f"Polling {record.id} now.", timeout=2, markup=False)

    def action_refresh_all(self) -> None:
        if self._polling_stopped():
            return
        unfinished = [r.id for r in self.records.values() if not r.finished]
        for task_id in unfinished:
            self.poller.poll_now(task_id)
        self.notify(f"Polling {len(unfinished)} unfinished task(s) now.", timeout=2, markup=False)

    def action_reload_config(self) -> None:
        try:
            config = self._reload()
        except ConfigError as exc:
            log.error("config not reloaded: %s", exc)
            self.notify(str(exc), title="Config not reloaded", severity="error", markup=False)
            return
        if not config.api_key:
            self.notify(
                f"Still no API key in {config.path} or {ENV_API_KEY}.",
                severity="error",
                markup=False,
            )
            return
        old = self.client
        logs.add_secret(config.api_key)
        if config.download_dir != self.config.download_dir:
            if not self._downloads:
                self.run_worker(self.downloader.aclose(), exit_on_error=False)
            self.downloader = Downloader(config.download_dir)  # running ones finish as they are
        self.config = config
        self.client = self.poller.client = self._make_client(config)  # type: ignore[assignment]
        self.poller.interval = config.interval
        self.run_worker(old.aclose(), exit_on_error=False)
        self.poller.resume()
        self.notify(f"Config reloaded (key {config.masked_key}); polling resumed.", markup=False)

    # -- actions: view -----------------------------------------------------------
    def action_focus_detail(self) -> None:
        self.detail.focus()

    def action_focus_table(self) -> None:
        filter_input = self.filter_input
        if filter_input.has_focus:
            filter_input.value = ""
            filter_input.remove_class("-visible")
        self.table.focus()

    def action_filter(self) -> None:
        filter_input = self.filter_input
        filter_input.add_class("-visible")
        filter_input.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.filter_text = event.value.strip()
        self.table.rebuild(self.records.values(), self.clock())
        self._update_titles()
        self._show_highlighted()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            event.input.remove_class("-visible")
        self.table.focus()

    def action_sort(self) -> None:
        index = SORT_CYCLE.index(self.table.sort_name)
        self.table.sort_name = SORT_CYCLE[(index + 1) % len(SORT_CYCLE)]
        self.table.rebuild(self.records.values(), self.clock())
        self._update_titles()
        self.notify(f"Sorted by {self.table.sort_name}.", timeout=2, markup=False)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_next_clip(self) -> None:
        self.detail.select_clip(+1)

    def action_prev_clip(self) -> None:
        self.detail.select_clip(-1)

    # -- actions: clip -----------------------------------------------------------
    def _target_clip(self) -> tuple[TrackedTask, Clip] | None:
        record = self.highlighted
        if record is None:
            self.notify("No task selected.", markup=False)
            return None
        if self.detail.record is not record:
            self.detail.show(record, self.clock())
        clip = self.detail.selected_clip
        if clip is None:
            self.notify(f"Task {record.id} has no results yet ({record.status}).", markup=False)
            return None
        return record, clip

    def _open(self, url: str | None, what: str) -> None:
        reason = refusal(url)
        if reason is not None or url is None:
            self.notify(f"Not opening the {what}: {reason}", severity="warning", markup=False)
            return
        self._open_in_thread(url)
        self.notify(f"Opening the {what} in your browser.", timeout=3, markup=False)

    @work(thread=True, group="browser", exit_on_error=False)
    def _open_in_thread(self, url: str) -> None:
        """webbrowser may wait for the browser command to exit: keep it off the UI."""
        self.open_url(url)

    def _live_clip(self) -> Clip | None:
        """The selected clip, unless its files are known to be gone (then say why)."""
        target = self._target_clip()
        if target is None:
            return None
        record, clip = target
        if reason := record.clip_expired(clip.expire_at, self.clock()):
            when = f" at {local_time(clip.expire_at)}" if clip.expire_at else ""
            self.notify(f"Not opening: {reason}{when}.", severity="warning", markup=False)
            return None
        return clip

    def action_open_audio(self) -> None:
        if clip := self._live_clip():
            self._open(clip.audio_url, "audio")

    def action_open_image(self) -> None:
        if clip := self._live_clip():
            self._open(clip.image_url, "cover image")

    def action_show_log(self) -> None:
        self.push_screen(LogScreen(list(self.recent_errors.lines)))

    def action_copy_id(self) -> None:
        record = self.highlighted
        if record is None:
            self.notify("No task selected.", markup=False)
            return
        self.copy_to_clipboard(record.id)
        self.notify(f"Copied task ID {record.id}.", timeout=3, markup=False)

    def action_copy_audio(self) -> None:
        target = self._target_clip()
        if target is None:
            return
        url = target[1].audio_url
        if not url:
            self.notify("The audio URL is not ready yet.", markup=False)
            return
        self.copy_to_clipboard(url)
        self.notify(f"Copied {clean(url, one_line=True)}", timeout=3, markup=False)

    # -- command palette -------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for key in keys.KEYMAP:
            yield SystemCommand(
                key.description, f"Key: {key.shown_keys}", partial(self.run_action, key.action)
            )


def _add_summary(parsed: ParsedIds) -> str:
    parts = []
    if parsed.valid:
        parts.append(f"Added {len(parsed.valid)} task{'s' if len(parsed.valid) != 1 else ''}")
    if parsed.duplicates:
        parts.append(f"{len(parsed.duplicates)} already tracked: {', '.join(parsed.duplicates)}")
    for token, reason in parsed.invalid:
        parts.append(f"skipped '{token}': {reason}")
    return ". ".join(parts) + "."


def run_app(
    config: Config,
    initial_ids: Iterable[str] = (),
    *,
    demo: bool = False,
    store: TaskStore | None = None,
    reload_config: Callable[[], Config] | None = None,
    import_status: str | None = None,
) -> int:
    """Run the dashboard with its data-folder lock and error log around it."""
    from tui import exit_codes, locations, logs
    from tui.lock import DataLock, FolderInUse

    store = store or TaskStore(locations.data_dir() / "tasks.toml")
    recent, _ = logs.setup(None if demo else locations.log_dir(), config.api_key)
    try:
        with DataLock(store.path.parent):
            app = MusicMintApp(
                config,
                store,
                initial_ids=initial_ids,
                demo=demo,
                reload_config=reload_config,
                recent_errors=recent,
                import_status=import_status,
            )
            result = app.run()
    except FolderInUse as exc:
        import sys

        print(f"musicmint-tui: {exc}", file=sys.stderr)
        return exit_codes.IN_USE
    finally:
        logs.teardown()
    return result if isinstance(result, int) else (app.return_code or 0)
