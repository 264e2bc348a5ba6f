"""The dashboard screen: table, detail pane, status bar, and the actions on them.

It owns what is selected (a task, and one of its clips) and every action that
works on the selection. It changes no record itself: services live on the
app (``self.app.tracker``, ``poller``, ``downloads``), and what changed
arrives as messages (:mod:`tui.ui.messages`) that this screen turns into
repaints and notifications.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar
from urllib.parse import urlsplit

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Static

from tui.api import MusicMintError
from tui.api.ids import ParsedIds, classify_task_ids
from tui.core.config import insecure_url
from tui.core.logs import log
from tui.core.sanitize import clean, scrub
from tui.domain.tracked import TrackedTask
from tui.domain.views import VIEWS
from tui.services.importer import recent_task_ids
from tui.ui import keys, wording
from tui.ui.announcer import Announcer, SavedFiles
from tui.ui.clip_actions import ClipActions
from tui.ui.host import HostApp
from tui.ui.listen_feed import ListenFeed
from tui.ui.make_actions import MakeActions
from tui.ui.messages import (
    DownloadFinished,
    DownloadUpdate,
    LinkChanged,
    TaskChanged,
    TasksLoaded,
)
from tui.ui.playback import Playback
from tui.ui.screens.add_tasks import AddTasksScreen
from tui.ui.screens.help import HelpScreen
from tui.ui.screens.log import LogScreen
from tui.ui.widgets.columns import COLUMN_SORTS
from tui.ui.widgets.detail_pane import DetailPane
from tui.ui.widgets.downloads_panel import DownloadsPanel
from tui.ui.widgets.footer import KeyFooter
from tui.ui.widgets.presentation import SORT_CYCLE
from tui.ui.widgets.presentation import SORTS as SORTS_BY_NAME
from tui.ui.widgets.status_bar import StatusBar
from tui.ui.widgets.task_table import FLUSH_DELAY, TaskTable
from tui.ui.widgets.waveform import NowPlaying


class MainScreen(Screen[None]):
    BINDINGS: ClassVar = keys.bindings()
    #: Side by side from 140 columns; below that the detail pane goes under the table,
    #: which keeps every table column readable.
    HORIZONTAL_BREAKPOINTS: ClassVar = [(0, "-narrow"), (140, "-wide")]

    app: HostApp  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self._status_timer: Timer | None = None
        #: The server refused the key, and no answer has accepted it since.
        self._key_refused = False
        self.announcer = Announcer(self)
        self.saved_files = SavedFiles(self)
        #: The selected clip: (task ID, index). Another task selects its first clip.
        self._clip: tuple[str | None, int] = (None, 0)
        self.clips = ClipActions(self, lambda: self.highlighted, self._clip_index)
        self.make = MakeActions(
            self, lambda: self.highlighted, self._clip_index, self._show_submitted
        )
        self.now_playing = NowPlaying(id="now-playing")
        self.playback = Playback(
            self,
            lambda: self.highlighted,
            self._clip_index,
            lambda: self.now_playing,
            lambda text: self.listen_feed.show_playing(text),
            lambda: self.listen_feed.target,
            lambda: self.table.row_ids(),
        )
        self.listen_feed = ListenFeed(self, lambda: self.detail.listen, lambda: self.playback)

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
        yield self.now_playing
        yield KeyFooter()

    def on_mount(self) -> None:
        app = self.app
        table = self.table
        table.bind_source(app.records, app.clock)
        table.warn_seconds = app.config.warn_hours * 3600
        state = app.ui_state  # as the user left it (tui/services/ui_state.py)
        table.sort_name = state.sort if state.sort in SORTS_BY_NAME else "added"
        table.reverse = state.reverse
        table.view = state.view if state.view in VIEWS else "all"
        table.border_title = "Tasks (loading…)"
        self.detail.listen.set_cover_mode(app.config.cover_art)
        table.focus()

    @property
    def highlighted(self) -> TrackedTask | None:
        return self.app.tracker.get(self.table.highlighted_id)

    # -- what the services report ------------------------------------------------
    def on_tasks_loaded(self, message: TasksLoaded) -> None:
        now = self.app.clock()
        if not self.table.fit_columns():
            self.table.rebuild(self.app.records.values(), now)
        self.table.prepare_filter()
        self._update_titles()
        self._show_highlighted()
        self.refresh_status(now)

    def on_task_changed(self, message: TaskChanged) -> None:
        change = message.change
        record = change.record
        if change.not_found is not None:
            self.notify(
                f"Task {record.id} is unknown to the server: {change.not_found}",
                severity="error",
                markup=False,
            )
        if change.finished:
            self.announcer.finished(record)
        if change.auto_download:
            self.clips.download(record, change.auto_download, quiet=True)
        if change.repaint:
            self.table.schedule(record)
            self._refresh_detail_if(record)
        if change.status_changed:
            self._refresh_status_soon()

    def on_link_changed(self, message: LinkChanged) -> None:
        link, previous = message.link, message.previous
        config = self.app.config
        if link.state == "auth_failed":
            if self._key_refused and previous.state != "auth_failed":
                # Only after a retry (ctrl+r): each request in flight when the
                # key was first refused reports it too, and that is no news.
                self.notify("The API key was refused again.", severity="error", markup=False)
            self._key_refused = True
            self.banner.update(wording.key_refused(config, self._scrub(link.message)))
            self.banner.add_class("-visible")
        elif link.state == "retrying" and self._key_refused:
            pass  # ctrl+r: the banner stays until an answer says the key works
        else:
            self.banner.remove_class("-visible")
            if link.state == "ok" and self._key_refused:
                self._key_refused = False
                self.notify(wording.key_accepted(config.masked_key), markup=False)
            elif previous.state == "offline" and link.state == "ok":
                self.notify("Connection restored; polling resumed.", markup=False)
        self.refresh_status()

    def on_download_update(self, message: DownloadUpdate) -> None:
        self.downloads_panel.show(message.progress)

    def on_download_finished(self, message: DownloadFinished) -> None:
        done = message.done
        if done.error is not None:
            log.error("download %s: %s", done.key, done.error)  # the log escapes controls
            name = clean(done.clip.title, one_line=True) or done.key
            self.notify(f"Download of {name} failed: {done.error}", severity="error", markup=False)
        elif done.saved is not None:
            if message.record is not None:
                self.table.schedule(message.record)
                self._refresh_detail_if(message.record)
            self.saved_files.add(done.saved.audio)

    def _scrub(self, server_text: str) -> str:
        """Server text for display: one line, no control characters, and never our key
        (a server may echo it back in an error message)."""
        return scrub(server_text, self.app.config.api_key)

    # -- time ----------------------------------------------------------------------
    def tick(self) -> None:
        """Clock-driven text: called by the app's heartbeat."""
        now = self.app.clock()
        self.table.tick(self.app.records, now)
        self.detail.tick(now)
        self.refresh_status(now)

    def quiet_for(self, now: float) -> float:
        """Seconds until the clock alone changes anything on screen."""
        app = self.app
        return min(
            self.table.quiet_for(now),
            self.detail.quiet_for(now),
            app.tracker.expiring_changes_in(now, app.config.warn_hours),
        )

    def _refresh_status_soon(self) -> None:
        """Coalesce bursts (a thousand tasks finishing together) into one repaint,
        in step with the table's own (same delay, so one frame shows both)."""
        if self._status_timer is None:
            self._status_timer = self.set_timer(FLUSH_DELAY, self._status_due)

    def _status_due(self) -> None:
        self._status_timer = None
        self.refresh_status()

    def refresh_status(self, now: float | None = None) -> None:
        app = self.app
        now = app.clock() if now is None else now
        parts = urlsplit(app.config.base_url)  # never a user:password@ part
        host = f"{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"
        host = f"demo · {host}" if app.demo else host
        if insecure_url(app.config.base_url):
            host += " ⚠ http"  # the key travels unencrypted (the config warning says more)
        if proxy := getattr(app.client, "proxy", None):
            host += f" via {urlsplit(proxy).hostname}"
        unsaved = app.tracker.expiring_unsaved(now, app.config.warn_hours)
        counts, last_poll = app.tracker.counts, app.tracker.last_poll
        self.status_bar.refresh_from(host, app.link, counts, last_poll, unsaved, now)

    def on_resize(self) -> None:
        """The status bar picks its wording by width: re-pick after a resize."""
        self.call_after_refresh(self.refresh_status)

    # -- selection ---------------------------------------------------------------
    @on(TaskTable.Highlighted)
    def _row_highlighted(self) -> None:
        self._show_highlighted()
        if self.table.anchor is not None:
            self._update_titles()  # the range's count follows the cursor

    @on(TaskTable.Selected)
    def _row_selected(self) -> None:
        """``enter`` on a row (the table's own binding) opens its details."""
        self.action_focus_detail()

    def _clip_index(self, record: TrackedTask) -> int:
        """The selected clip's index in ``record``, kept within its clips."""
        task_id, index = self._clip
        count = len(record.task.results) if record.task else 0
        index = min(index, max(0, count - 1)) if task_id == record.id else 0
        self._clip = (record.id, index)
        return index

    def _show_highlighted(self) -> None:
        record = self.highlighted
        index = self._clip_index(record) if record else 0
        self.detail.show(record, self.app.clock(), index)
        self.listen_feed.follow(record, index)
        self.app.wake()  # the new record may count seconds

    # -- actions: listening (tui/ui/playback.py) --------------------------------------
    def action_play(self) -> None:
        self.playback.play()

    def action_stop(self) -> None:
        self.playback.stop()

    def action_seek(self, seconds: float) -> None:
        self.playback.seek(seconds)

    def action_play_next(self, step: int) -> None:
        self.playback.play_next(step)

    def on_now_playing_seek(self, message: NowPlaying.Seek) -> None:
        self.playback.seek_to(message.fraction)

    def _refresh_detail_if(self, record: TrackedTask) -> None:
        if self.detail.record is record:
            index = self._clip_index(record)
            self.detail.show(record, self.app.clock(), index)
            self.listen_feed.follow(record, index)  # its clips may have just arrived

    def _select_clip(self, delta: int) -> None:
        record = self.highlighted
        clips = record.task.results if record and record.task else ()
        if record is None or not clips:
            return
        self._clip = (record.id, (self._clip_index(record) + delta) % len(clips))
        self.detail.show(record, self.app.clock(), self._clip[1], scroll=True)
        self.listen_feed.follow(record, self._clip[1])  # that clip's cover, waveform, lyrics

    def on_task_table_rows_changed(self, message: TaskTable.RowsChanged) -> None:
        self._update_titles()

    def _update_titles(self) -> None:
        table = self.table
        shown, total = table.row_count, len(self.app.records)
        count = f"{total}" if shown == total else f"{shown} of {total}"
        title = f"Tasks ({count})"
        if table.view != "all":
            title += f" · view: {VIEWS[table.view].label}"
        if table.filter_text:
            title += f" · filter: {table.filter_text}"
        marked, hidden = len(table.marked()), table.hidden_marks()
        if marked or hidden or table.anchor is not None:
            title += f" · {marked} marked"
            if hidden:  # kept, never acted on while not shown (esc clears them)
                title += f" (+{hidden} not shown)"
            if table.anchor is not None:
                title += " · range: v ends it"
        table.border_title = Text(title)  # type: ignore[assignment]
        arrow = " ▼" if table.reverse else " ▲"
        table.border_subtitle = f"sort: {table.sort_name}{arrow}"
        self.detail.border_title = "Details"

    def show_added(self, added: Iterable[TrackedTask]) -> None:
        """Rows for records the tracker just added (typed, pasted or imported)."""
        now = self.app.clock()
        for record in added:
            self.table.upsert(record, now)
        self.table.fit_columns()
        self._update_titles()

    def _show_submitted(self, record: TrackedTask) -> None:
        """A task made here: its row, selected (or why it cannot be)."""
        self.show_added([record])
        if record.id in self.table.shown:
            self.table.move_cursor(row=self.table.get_row_index(record.id))
            self.table.focus()
        else:
            self.notify(
                f"Task {record.id} is hidden by the view or the filter: 1 shows all tasks.",
                markup=False,
            )

    # -- actions: making tracks (tui/ui/make_actions.py) ---------------------------
    def action_new_track(self) -> None:
        self.make.new_track()

    def action_variation(self) -> None:
        self.make.variation()

    def action_extend(self) -> None:
        self.make.extend()

    def action_retry(self) -> None:
        self.make.retry()

    # -- actions: tasks ----------------------------------------------------------
    def action_add(self) -> None:
        # Pushed now, not from a worker: keys typed right after "a" belong to
        # the dialog (from a worker the push came later, and "i" opened a cover).
        self.app.push_screen(AddTasksScreen(set(self.app.records)), self._added)

    def _added(self, parsed: ParsedIds | None) -> None:
        if parsed is None:
            return
        self.show_added(self.app.track(parsed.valid))
        if parsed.valid and parsed.valid[-1] in self.table.shown:
            self.table.move_cursor(row=self.table.get_row_index(parsed.valid[-1]))
        self.notify(
            wording.add_summary(parsed),
            markup=False,
            severity="warning" if parsed.invalid else "information",
        )

    def targets(self) -> list[TrackedTask]:
        """What a task action works on: the marked rows, else the highlighted one."""
        if marked := self._marked_records():
            return marked
        record = self.highlighted
        return [record] if record is not None else []

    def action_remove(self) -> None:
        records = self.targets()
        if not records:
            self.notify("Nothing to remove.", markup=False)
            return
        removed = self.app.untrack(r.id for r in records)
        with self.app.batch_update():
            self.table.drop(r.id for r in removed)
            self.table.anchor = None
            self._update_titles()
            self._show_highlighted()
        what = removed[0].id if len(removed) == 1 else wording.plural(len(removed), "task")
        self.notify(f"Removed {what}. Press u to undo.", markup=False)

    def action_undo(self) -> None:
        records = self.app.restore()
        if not records:
            self.notify("Nothing to undo.", markup=False)
            return
        self.table.rebuild(self.app.records.values(), self.app.clock())
        if records[0].id in self.table.shown:
            self.table.move_cursor(row=self.table.get_row_index(records[0].id))
        self._update_titles()
        what = records[0].id if len(records) == 1 else wording.plural(len(records), "task")
        self.notify(f"Restored {what}.", markup=False)

    # -- actions: marks ----------------------------------------------------------
    def action_mark(self) -> None:
        """``space``: mark or unmark the row and move on, to mark a run quickly."""
        self.table.toggle_mark()
        self.table.action_cursor_down()
        self._update_titles()

    def action_mark_range(self) -> None:
        self.table.toggle_range()
        self._update_titles()

    def action_mark_all(self) -> None:
        self.table.mark_all()
        self._update_titles()

    def _polling_stopped(self) -> bool:
        blocked = self.app.poller.auth_blocked
        if blocked:
            self.notify(
                "Polling is stopped because the API key was refused; fix it and press ctrl+r.",
                severity="warning",
                markup=False,
            )
        return blocked

    def action_refresh(self) -> None:
        records = self.targets()
        if not records or self._polling_stopped():
            return
        for record in records:
            self.app.poller.poll_now(record.id)
        what = records[0].id if len(records) == 1 else wording.plural(len(records), "marked task")
        self.notify(f"Polling {what} now.", timeout=2, markup=False)

    def action_refresh_all(self) -> None:
        if self._polling_stopped():
            return
        unfinished = self.app.tracker.unfinished()
        for task_id in unfinished:
            self.app.poller.poll_now(task_id)
        self.notify(wording.polling_now(len(unfinished)), timeout=3, markup=False)

    @work(exclusive=True, group="import", exit_on_error=False)
    async def action_import(self, status: str = "all") -> None:
        """Add the account's recent tasks (``POST /api/v1/tasks``, 100 per page)."""
        if wait := self.app.poller.paused_for():
            self.notify(
                f"Rate limited: import again in {wait:.0f}s.", severity="warning", markup=False
            )
            return
        self.notify("Importing recent tasks…", timeout=2, markup=False)
        try:
            listing = await recent_task_ids(self.app.client, status)
        except MusicMintError as exc:
            self.notify(
                f"Import failed: {self._scrub(exc.describe())}", severity="error", markup=False
            )
            return
        listed = classify_task_ids(listing.ids, set(self.app.records))
        self.show_added(self.app.track(listed.valid))
        summary = wording.import_summary(
            len(listed.valid), listing.pages, len(listed.duplicates), len(listed.invalid)
        )
        self.notify(summary, markup=False)

    # -- actions: view -----------------------------------------------------------
    def action_focus_detail(self) -> None:
        self.detail.focus()

    def action_escape(self) -> None:
        """``esc`` undoes one layer at a time, as in lazygit: the filter being
        typed, else the detail pane's focus, else the marks, else a kept filter."""
        table = self.table
        if self.filter_input.has_focus:
            self._clear_filter()
        elif self.detail.has_focus:
            pass  # back to the table, below
        elif table.clear_marks():
            self._update_titles()
        elif table.filter_text:
            self._clear_filter()
        table.focus()

    def _clear_filter(self) -> None:
        filter_input = self.filter_input
        # Clear the filter now rather than on the Input.Changed that follows,
        # so the wider list and the hidden input are one frame, not two.
        with self.app.batch_update():
            filter_input.value = ""
            self.table.set_filter("", self.app.records, self.app.clock())
            self._update_titles()
            filter_input.remove_class("-visible")

    def action_filter(self) -> None:
        if self.filter_input.has_focus:  # "/" is a priority key: type it there
            self.filter_input.insert_text_at_cursor("/")
            return
        self.filter_input.add_class("-visible")
        # Focus now, not via focus()'s deferred callback: keys typed right
        # after "/" are already queued, and would reach the table (d: download).
        self.set_focus(self.filter_input, scroll_visible=False)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value.strip(), self.app.records, self.app.clock())
        self._update_titles()
        self._show_highlighted()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            event.input.remove_class("-visible")
        self.table.focus()

    def action_sort(self) -> None:
        name = self.table.sort_name
        index = SORT_CYCLE.index(name) if name in SORT_CYCLE else -1
        self._sort_by(SORT_CYCLE[(index + 1) % len(SORT_CYCLE)], reverse=False)

    def action_reverse_sort(self) -> None:
        self._sort_by(self.table.sort_name, reverse=not self.table.reverse)

    @on(StatusBar.ExpiringClicked)
    def _expiring_clicked(self) -> None:
        self.action_view("expiring")

    @on(TaskTable.HeaderClicked)
    def _header_clicked(self, event: TaskTable.HeaderClicked) -> None:
        """A click on a header sorts by that column; on the sorted one, reverses."""
        name = COLUMN_SORTS[event.column]
        same = name == self.table.sort_name
        self._sort_by(name, reverse=not self.table.reverse if same else False)

    def _sort_by(self, name: str, reverse: bool) -> None:
        table = self.table
        table.sort_name, table.reverse = name, reverse
        table.rebuild(self.app.records.values(), self.app.clock())
        self._update_titles()  # the border says the sort: no popup repeating it
        self.app.remember(sort=name, reverse=reverse)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The view on screen is not offered again (the footer drops "5 Expiring"
        while it is the view shown)."""
        return not (action == "view" and parameters == (self.table.view,))

    def action_view(self, name: str) -> None:
        """``1``-``5``: one of the standing views (tui/domain/views.py)."""
        if name not in VIEWS:
            return
        with self.app.batch_update():
            self.table.set_view(name, self.app.records.values())
            self._update_titles()
            self._show_highlighted()
        self.refresh_bindings()  # check_action's answer changed
        self.app.remember(view=name)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    def action_show_log(self) -> None:
        """The error log, with the failed tasks among its lines (see LogScreen)."""
        app = self.app
        failed = (
            [r for r in app.records.values() if r.status == "failed"]
            if app.tracker.counts.get("failed")
            else []
        )
        app.push_screen(LogScreen(app.recent_errors, failed, app.clock(), app.config.api_key))

    def action_next_clip(self) -> None:
        self._select_clip(+1)

    def action_prev_clip(self) -> None:
        self._select_clip(-1)

    # -- actions: clip (in tui/ui/clip_actions.py) ------------------------------
    def action_open_audio(self) -> None:
        self.clips.open_audio()

    def action_open_image(self) -> None:
        self.clips.open_image()

    def action_copy_id(self) -> None:
        if len(marked := self._marked_records()) > 1:
            self.clips.copy_ids(marked)
        else:
            self.clips.copy_id()

    def action_copy_audio(self) -> None:
        self.clips.copy_audio()

    def _marked_records(self) -> list[TrackedTask]:
        records = self.app.records
        return [records[i] for i in self.table.marked() if i in records]

    def action_download(self) -> None:
        if marked := self._marked_records():
            self.clips.download_many(marked)
        else:
            self.clips.download_selected()

    def action_download_all(self) -> None:
        if marked := self._marked_records():
            self.clips.download_many(marked)
        else:
            self.clips.download_all()

    def action_cancel_downloads(self) -> None:
        self.clips.cancel_downloads()

    def action_open_folder(self) -> None:
        self.clips.open_folder()
