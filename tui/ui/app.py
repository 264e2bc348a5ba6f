"""The dashboard application: services and lifecycle.

The app holds the config and the services (tracker, store, poller, client,
downloads), starts and stops them, applies poller events to the tracker and
posts what changed to :class:`~tui.ui.screens.main.MainScreen`, which owns the
widgets and the actions. Data flows one way: client -> poller -> tracker ->
messages -> widgets.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path

from textual import work
from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import Worker, WorkerState

from tui.api import MusicMintClient
from tui.api.ids import parse_task_ids
from tui.core import logs
from tui.core.config import ENV_API_KEY, Config, ConfigError, load_config
from tui.core.logs import RecentErrors, log
from tui.core.sanitize import scrub
from tui.domain.tracked import TrackedTask
from tui.services import ui_state
from tui.services.download_queue import DownloadDone, DownloadQueue
from tui.services.downloads import Downloader, Progress
from tui.services.expiry_watch import LAST_HOURS, ExpiryWatch
from tui.services.ipc import AddResult, DashboardServer, IpcError
from tui.services.listening import Listening
from tui.services.media_cache import MediaCache
from tui.services.poller import MAX_BACKOFF, LinkState, Polled, Poller, PollEvent, PollFailed
from tui.services.store import LoadResult, StoreError, TaskStore
from tui.services.tracker import Tracker
from tui.services.ui_state import UiState
from tui.ui import keys, wording
from tui.ui.messages import (
    DownloadFinished,
    DownloadUpdate,
    LinkChanged,
    TaskChanged,
    TasksLoaded,
)
from tui.ui.outside import Kind, OutsideNotifier
from tui.ui.palette import legible_variables
from tui.ui.screens.main import MainScreen
from tui.ui.screens.quit import QuitScreen

#: Seconds between checks for unsaved changes (saves are coalesced to this).
SAVE_EVERY = 1.0


class MusicMintApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "MusicMint"

    def __init__(
        self,
        config: Config,
        store: TaskStore,
        *,
        initial_ids: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
        tick_interval: float = 1.0,
        quiet_max: float = 60.0,
        client: MusicMintClient | None = None,
        reload_config: Callable[[], Config] | None = None,
        demo: bool = False,
        max_backoff: float = MAX_BACKOFF,
        recent_errors: RecentErrors | None = None,
        import_status: str | None = None,
        media_folder: Path | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.store = store
        self.clock = clock
        self.tick_interval = tick_interval
        #: The longest the heartbeat sleeps when nothing on screen counts seconds.
        self.quiet_max = quiet_max
        self.demo = demo
        self.recent_errors = recent_errors or RecentErrors()
        self._initial_ids = list(initial_ids)
        self._reload = reload_config or (lambda: load_config(self.config.path))
        self._import_status = import_status  # import recent tasks once loaded
        self.tracker = Tracker(secret=config.api_key, auto_download=config.auto_download)
        self.client = client or MusicMintClient.from_config(config)
        self.poller = Poller(
            self.client,
            self._poll_event,
            interval=config.interval,
            max_concurrency=config.max_concurrency,
            max_backoff=max_backoff,
            wall=clock,
        )
        #: Hearing and seeing clips: cached audio, covers, waveforms, timings,
        #: in ``media_folder`` (the launcher passes the user cache folder;
        #: without one, ``cache`` beside the task file, as tests and the demo want).
        self.listening = Listening(
            self.client, MediaCache(media_folder or store.path.parent / "cache")
        )
        self.downloads = DownloadQueue(
            Downloader(
                config.download_dir,
                max_bytes=config.max_download_bytes,
                embed_tags=config.embed_tags,
            ),
            self._download_progress,
            self._download_done,
        )
        #: The link as the screen last heard of it (the poller's may be newer).
        self.link = LinkState("ok")
        self.loaded = False  # the task file has been read and the table filled
        self._read_only: str | None = None  # why saving is off (unreadable/newer file)
        self._saved_at = 0.0  # monotonic time of the last save check
        #: Theme, sort and view as the user left them (the demo starts fresh).
        self._ui_state_path = store.path.parent / ui_state.FILE_NAME
        self.ui_state = UiState() if demo else ui_state.load(self._ui_state_path)
        self._ui_state_lock = threading.Lock()
        self.main = MainScreen()
        #: "Wait, then quit" was chosen: quit when the last download ends.
        self._quit_when_idle = False
        self._quit_despite_send = False  # quit pressed once while a track was sent
        self.expiry_watch = ExpiryWatch(
            {(str(t), str(c)): int(n) for t, c, n in self.ui_state.warned}  # type: ignore[call-overload]
        )
        self.outside = OutsideNotifier(self)
        #: The socket other terminals hand task IDs to (tui/services/ipc.py).
        self.ipc: DashboardServer | None = None
        #: No key yet: the setup screen comes first, and polling waits for it.
        self.needs_setup = not config.api_key and not demo
        self._poller_started = False

    @property
    def records(self) -> Mapping[str, TrackedTask]:
        """Every tracked record, read-only (the tracker alone changes them)."""
        return self.tracker.records

    @property
    def data_folder(self) -> Path:
        """Where the task database lives; the dialog's draft and history too."""
        return self.store.path.parent

    # -- start-up -------------------------------------------------------------
    def get_default_screen(self) -> Screen:
        """The dashboard is the bottom of the screen stack (dialogs go on top)."""
        return self.main

    def on_mount(self) -> None:
        remembered = self.ui_state.theme_for(self.config.theme)
        if remembered in self.available_themes:
            self.theme = remembered
        elif self.config.theme in self.available_themes:
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
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        # Read the file only once the first frame is out: with thousands of tasks
        # parsing takes a while, and the GIL would slow the first paint down.
        self.call_after_refresh(self._load_store)
        # One heartbeat for the clock-driven text and saving. Every wake-up
        # costs (a bare Textual app: 0.13 % idle with no timer, 0.77 % with a
        # 1 s one), so it beats each second only while something is going on
        # or on screen counts seconds, and otherwise sleeps until the next
        # change (see _next_beat); wake() brings it back at once.
        self._beat = self.set_timer(self.tick_interval, self._heartbeat)
        self._beat_due = time.monotonic() + self.tick_interval
        if self.needs_setup:
            self.open_setup()

    def open_setup(self) -> None:
        """The key setup screen (first run, or from the command palette)."""
        from tui.ui.screens.setup import SetupScreen

        self.push_screen(
            SetupScreen(self.config, self._reload, first_run=self.needs_setup), self._setup_done
        )

    def _setup_done(self, config: Config | None) -> None:
        """A key was saved (``config`` read back with it) or setup was left."""
        if config is None:
            return
        self.needs_setup = False
        self._apply_config(config, said=f"Saved; polling with the key {config.masked_key}.")
        if self.loaded:
            self._start_poller()

    def action_open_settings(self) -> None:
        """Every setting of the config file (``,``; tui/ui/screens/settings.py)."""
        from tui.ui.screens.settings import SettingsScreen

        # The file as it is now: it may have been edited by hand since the start.
        try:
            config = self.config if self.demo else self._reload()
        except ConfigError as exc:
            self.notify(str(exc), title="Settings", severity="error", markup=False)
            return
        screen = SettingsScreen(config, self._reload, list(self.available_themes), demo=self.demo)
        self.push_screen(screen, self._settings_done)

    def _settings_done(self, config: Config | None) -> None:
        """Settings were saved (``config`` read back with them), or left unsaved."""
        if config is None:
            return
        theme_changed = config.theme != self.config.theme
        self._apply_config(config, said=f"Settings saved to {config.path}; applied.")
        if theme_changed and config.theme in self.available_themes:
            self.theme = config.theme

    @work(thread=True, exit_on_error=False)
    def _load_store(self) -> None:
        """Parse the task file off the UI thread: the first frame should not wait."""
        loaded = self.store.load()
        self.call_from_thread(self._loaded, loaded)

    def _loaded(self, loaded: LoadResult) -> None:
        if loaded.problem:
            log.error(loaded.problem)
            if loaded.read_only:
                note = f"{loaded.problem}. Changes in this session will not be saved."
            elif loaded.tasks and loaded.moved_aside:
                note = f"{loaded.problem}; the original is kept at {loaded.moved_aside}."
            elif loaded.tasks:
                note = f"{loaded.problem}."  # the problem says where a good copy is
            else:
                where = f" It was moved to {loaded.moved_aside}." if loaded.moved_aside else ""
                note = f"{loaded.problem}; starting with an empty list.{where}"
            self.notify(note, severity="error", timeout=30, markup=False)
        self._read_only = loaded.read_only
        merged = self.tracker.merge_loaded(loaded.tasks, self._initial_ids, self.clock())
        rng = random.Random()
        for task_id in merged.resume:
            # Spread resumed polls over one interval rather than bursting.
            self.poller.track(task_id, delay=rng.uniform(0, self.config.interval))
        for record in merged.added:
            self.poller.track(record.id)
        self.main.post_message(TasksLoaded())
        self.loaded = True
        # Everything built so far (thousands of records and rows) lives as long as
        # the app: take it out of the cyclic GC's sweeps, and make full sweeps
        # rarer. With the defaults a full collection stalled the UI for up to
        # 65 ms at random moments (measured in the benchmark's key-to-screen).
        gc.freeze()
        gc.set_threshold(2000, 10, 100)
        if not self.needs_setup:
            self._start_poller()
        if not self.demo:  # the demo's folder is its own: nobody to talk to
            self.run_worker(self._listen(), name="ipc", exit_on_error=False)
        if self._import_status is not None:
            self.main.action_import(self._import_status)
            self._import_status = None

    def _start_poller(self) -> None:
        if not self._poller_started:
            self._poller_started = True
            self.run_worker(self.poller.run(), name="poller", exit_on_error=False)

    def track(self, task_ids: Iterable[str]) -> list[TrackedTask]:
        """Track new IDs (typed, pasted or imported) and poll them at once."""
        self.wake()
        added = self.tracker.add(task_ids, self.clock())
        for record in added:
            self.poller.track(record.id)
        return added

    def track_submitted(
        self, task_id: str, request: Mapping[str, object], sent_at: float | None = None
    ) -> TrackedTask:
        """Track a task the server just accepted a generate ``request`` for (the
        body as sent) and poll it at once. Its row appears, saying "submitted"
        until the first poll answers; already tracked, it gets the request
        attached (see :meth:`Tracker.add_submitted`)."""
        self.wake()
        record = self.tracker.add_submitted(task_id, request, self.clock(), sent_at=sent_at)
        if not record.finished:
            self.poller.track(record.id)
        self.main.show_added([record])
        return record

    async def _listen(self) -> None:
        """Take task IDs from other terminals (``musicmint-tui add``) from now on."""
        server = DashboardServer(self.store.path.parent, self._handed_over, self._submitted_over)
        try:
            await server.start()
        except IpcError as exc:
            log.warning("%s", exc)
            self.notify(
                f"Other terminals cannot add tasks here: {exc}",
                severity="warning",
                markup=False,
            )
            return
        self.ipc = server

    def _handed_over(self, text: str) -> AddResult:
        """IDs from another terminal, read like a paste into the Add dialog."""
        parsed = parse_task_ids(text, set(self.records))
        self.main.show_added(self.track(parsed.valid))
        self.notify(
            f"From another terminal: {wording.add_summary(parsed)}",
            markup=False,
            severity="warning" if parsed.invalid else "information",
        )
        return AddResult(
            added=list(parsed.valid),
            duplicates=list(parsed.duplicates),
            invalid=list(parsed.invalid),
        )

    def _submitted_over(self, task_id: str, request: dict[str, object]) -> AddResult:
        """A task ``musicmint-tui generate`` just started, with its request."""
        known = task_id in self.records
        self.track_submitted(task_id, request)
        if not known:
            self.notify(f"From another terminal: started {task_id}", markup=False)
        return AddResult(added=[] if known else [task_id], duplicates=[task_id] if known else [])

    def untrack(self, task_ids: Iterable[str]) -> list[TrackedTask]:
        """Stop tracking ``task_ids`` (one undo with :meth:`restore` brings them back)."""
        self.wake()  # the removal is saved by the heartbeat
        removed = self.tracker.remove(task_ids)
        for record in removed:
            self.poller.untrack(record.id)
        return removed

    def restore(self) -> list[TrackedTask]:
        """Undo the last removal; unfinished tasks are polled again."""
        self.wake()
        records = self.tracker.undo()
        for record in records:
            if not record.finished:
                self.poller.track(record.id)
        return records

    # -- service events -----------------------------------------------------------
    def _poll_event(self, event: PollEvent) -> None:
        """Every poll's outcome, called by the poller on this loop (it runs as an
        async worker here). The tracker takes it directly; only changes become
        messages. A message per poll cost ~0.1 ms each at 1,000 polls/s, and
        queued ahead of key presses."""
        if isinstance(event, LinkState):
            previous, self.link = self.link, event
            if event.state == "ok" and previous.state in ("offline", "retrying"):
                # The poller released every task from its backoff: the detail
                # pane's countdowns now say "retrying now" (at its next tick).
                self.tracker.link_restored(self.clock())
            if event.state != previous.state:
                detail = f": {scrub(event.message, self.config.api_key)}" if event.message else ""
                level = logging.INFO if event.state == "ok" else logging.WARNING
                log.log(level, "connection %s%s", event.state.replace("_", " "), detail)
            self.main.post_message(LinkChanged(event, previous))
            return
        if isinstance(event, Polled):
            change = self.tracker.polled(event)
        elif isinstance(event, PollFailed):
            change = self.tracker.poll_failed(event)
        else:
            return
        if change is not None:
            self.main.post_message(TaskChanged(change))

    def _download_progress(self, progress: Progress) -> None:
        self.wake()
        self.main.post_message(DownloadUpdate(progress))

    def _download_done(self, done: DownloadDone) -> None:
        record = None
        if done.saved is not None:
            record = self.tracker.download_saved(done.task_id, done.clip_key, str(done.saved.audio))
        self.main.post_message(DownloadFinished(done, record))
        if self._quit_when_idle and done.error is not None:
            # Quitting would hide it: stay, and say why (the failure's own
            # notification follows from the screen).
            self._quit_when_idle = False
            self.notify(
                "Not quitting: a download failed (see below). q quits.",
                severity="warning",
                markup=False,
            )
        elif self._quit_when_idle and not len(self.downloads):  # that was the last
            self.call_after_refresh(self._quit_if_idle)

    def _quit_if_idle(self) -> None:
        if self._quit_when_idle and not len(self.downloads):
            self.save_now()
            self.exit(0)

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

    def _heartbeat(self) -> None:
        self.main.tick()
        self._warn_expiring()
        if time.monotonic() - self._saved_at >= SAVE_EVERY:
            self._save_if_dirty()
        delay = self._next_beat()
        self._beat = self.set_timer(delay, self._heartbeat)
        self._beat_due = time.monotonic() + delay

    def _next_beat(self) -> float:
        busy = (
            not self.loaded
            or self.poller.tracked
            or len(self.downloads)
            or self.link.state != "ok"
            or self.tracker.dirty
        )
        if busy:
            return self.tick_interval
        now = self.clock()
        quiet = self.main.quiet_for(now)
        if self.config.notify_on_expiry:  # the last hour's warning is an edge too
            last = min(LAST_HOURS, self.config.warn_hours)
            quiet = min(quiet, self.tracker.expiring_changes_in(now, last))
        return max(self.tick_interval, min(quiet, self.quiet_max))

    def _warn_expiring(self) -> None:
        """Unsaved clips nearing their expiry: one warning for those due together."""
        if not self.config.notify_on_expiry or not self.loaded:
            return
        now = self.clock()
        watch = self.expiry_watch
        warnings = watch.due(self.tracker, now, self.config.warn_hours)
        if watch.changed:  # kept for the next run: a restart warns no clip twice
            watch.changed = False
            self.remember(warned=[[t, c, n] for (t, c), n in watch.warned.items()])
        if warnings:
            title, message = wording.expiring(warnings, now)
            self.notify(message, title=title, severity="warning", timeout=15, markup=False)
            self.reach_out(title, message, "expiry")

    def reach_out(self, title: str, message: str, kind: Kind) -> None:
        """Say it outside the dashboard too, as ``[notifications]`` asks."""
        self.outside.send(self.config, title, message, kind, demo=self.demo)

    def wake(self) -> None:
        """Something changed: beat within ``tick_interval`` (cheap when it will anyway)."""
        beat = getattr(self, "_beat", None)
        if beat is None or self._beat_due - time.monotonic() <= self.tick_interval:
            return
        beat.stop()
        self._beat = self.set_timer(self.tick_interval, self._heartbeat)
        self._beat_due = time.monotonic() + self.tick_interval

    def get_css_variables(self) -> dict[str, str]:
        """The theme's variables, with the text colours of Textual's own
        widgets that a theme leaves under 4.5:1 made readable (tui/ui/palette.py)."""
        variables = super().get_css_variables()
        return legible_variables(variables, dark=self.current_theme.dark)

    # -- remembered choices ---------------------------------------------------------
    def _theme_changed(self, theme: Theme) -> None:
        if theme.name != (self.ui_state.theme or self.config.theme):
            self.remember(theme=theme.name, config_theme=self.config.theme)

    def remember(self, **changes: object) -> None:
        """Keep a UI choice (sort, view, theme) for the next start, written off
        the UI thread (an fsync can take tens of milliseconds)."""
        for name, value in changes.items():
            setattr(self.ui_state, name, value)
        if not self.demo:
            self.run_worker(self._write_ui_state, thread=True, exit_on_error=False)

    def _write_ui_state(self) -> None:
        """One writer at a time, each writing the latest state: the last to run
        leaves the newest choices on disk, whatever order the threads ran in."""
        with self._ui_state_lock:
            ui_state.save(self._ui_state_path, dataclasses.replace(self.ui_state))

    # -- saving -----------------------------------------------------------------------
    def _save_if_dirty(self) -> None:
        self._saved_at = time.monotonic()
        if self.tracker.dirty and self.loaded and not self._read_only:
            self.store.save_soon(self.tracker.changes(), self._save_failed)

    def _save_failed(self, exc: StoreError) -> None:
        """Called on the store's writer thread."""
        log.error("%s", exc)
        self.call_from_thread(self.notify, str(exc), severity="error", markup=False)

    def save_now(self) -> None:
        """Synchronous save (on quit), so the last change is never lost."""
        if self._read_only or not self.loaded:
            return
        try:
            self.store.apply(self.tracker.changes())  # a failed batch stays in the store
        except StoreError as exc:
            log.error("%s", exc)
            self.notify(str(exc), severity="error", markup=False)

    def unsaved_reason(self) -> str | None:
        """After the app ended: why some changes of this session are on no disk
        (the command line says so and exits non-zero), else ``None``."""
        if self._read_only and self.tracker.dirty:
            return f"changes in this session were not saved: {self._read_only}"
        if count := self.store.unsaved:
            return (
                f"{count} task change(s) could not be saved to {self.store.path}: "
                f"{self.store.last_error or 'unknown error'}"
            )
        return None

    # -- lifecycle ---------------------------------------------------------------------
    async def action_quit(self) -> None:
        """Quit, asking first while files download (tui/ui/screens/quit.py).

        While the New track dialog waits for the server's answer, the first
        quit only warns: the request may have made a task whose ID only that
        answer carries (the draft would bring it back, and a resend would pay
        twice). A second quit goes."""
        sending = any(getattr(screen, "sending", False) for screen in self.screen_stack)
        if sending and not self._quit_despite_send:
            self._quit_despite_send = True
            self.notify(
                "A new track is being sent: quitting before the answer could lose its "
                "task ID. Quit again to quit anyway.",
                severity="warning",
                markup=False,
            )
            return
        if len(self.downloads):
            self.push_screen(QuitScreen(lambda: len(self.downloads)), self._quit_chosen)
            return
        self.save_now()
        self.exit(0)

    def _quit_chosen(self, choice: str | None) -> None:
        if choice == "quit" or (choice == "wait" and not len(self.downloads)):
            self.downloads.cancel_all()  # "stops them" now, not after the exit drains
            self.save_now()
            self.exit(0)
        elif choice == "wait":
            self._quit_when_idle = True
            self.notify(
                "Quitting when the downloads end (q again asks again; esc there stays).",
                markup=False,
            )
        else:
            self._quit_when_idle = False

    async def on_unmount(self) -> None:
        if self.ipc is not None:
            await self.ipc.close()
        self.poller.stop()
        self.main.playback.close()
        await self.listening.cache.aclose()
        await self.downloads.aclose()
        if self.tracker.dirty:
            self.save_now()
        self.store.wait_saved(timeout=10)
        self.store.close()
        await self.client.aclose()

    def action_reload_config(self) -> None:
        self.wake()
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
        self._apply_config(config)

    def _apply_config(self, config: Config, said: str | None = None) -> None:
        """Run with ``config`` from now on: a new client, the poller retargeted."""
        logs.add_secret(config.api_key)
        key_was_refused = self.poller.auth_blocked
        same_key = config.api_key == self.config.api_key
        self.downloads.retarget(config.download_dir, config.max_download_bytes, config.embed_tags)
        old, self.config = self.client, config
        self.tracker.secret = config.api_key
        self.tracker.auto_download = config.auto_download
        self.client = MusicMintClient.from_config(config)
        self.listening.client = self.client  # waveforms and timings by the new key
        self.main.detail.listen.set_cover_mode(config.cover_art)
        self.poller.reconfigure(self.client, config.interval)
        self.poller.set_max_concurrency(config.max_concurrency)
        self.run_worker(old.aclose(), exit_on_error=False)
        self.poller.resume()
        said = said or wording.reloaded(
            config.masked_key,
            self.poller.paused_for(),
            key_was_refused=key_was_refused,
            same_key=same_key,
        )
        self.notify(said, markup=False)
        self.wake()
        self.main.refresh_status()  # the header names the server: a new one at once

    # -- command palette -------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if not self.demo:
            yield SystemCommand(
                "Set API key", "Test and save a key in the config file", self.open_setup
            )
        # Run on the dashboard whichever screen is on top: from a dialog, too,
        # "Remove task" removes the highlighted task.
        for key in keys.KEYMAP:
            yield SystemCommand(
                key.description, f"Key: {key.shown_keys}", partial(self.main.run_action, key.action)
            )
