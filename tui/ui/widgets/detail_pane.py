"""The detail pane: everything known about the highlighted task.

A header card plus one card per clip. The screen owns which clip is
*selected* (``[``/``]``, or ``up``/``down`` while the pane has focus: the
target of open/copy/download) and says so in :meth:`DetailPane.show`.
Cards re-render only when their text changes; the 1 s tick mostly touches
the countdown of clips expiring within the hour. Colours come from the
theme's palette (:mod:`tui.ui.palette`), which is part of each card's
signature: a new theme redraws them all.
"""

from __future__ import annotations

import math
import time
from typing import ClassVar

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.theme import Theme
from textual.widgets import Static

from tui.api.generate import DEFAULT_RETENTION_DAYS, GenerateRequest
from tui.api.models import Clip
from tui.core.formatting import clip_length, coarse_span, local_time, span
from tui.core.sanitize import clean
from tui.domain.tracked import TrackedTask, clip_keys, shown_status
from tui.ui.palette import palette_of
from tui.ui.widgets.listen_card import ListenCard
from tui.ui.widgets.presentation import (
    OneLine,
    Styles,
    elide_url,
    expiry_countdown,
    status_text,
    styled,
)

#: Lines of lyrics the Request section shows; the rest are counted.
LYRICS_LINES = 12


def _grid(palette: Styles) -> Table:
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(style=palette["muted"], no_wrap=True, width=10)
    grid.add_column(ratio=1, overflow="fold")
    return grid


def _ago(epoch_seconds: float | None, now: float) -> str:
    """``2026-11-25 12:03:07 (4s ago)``; past the first minute the relative
    part counts minutes (the absolute time has the seconds), so a task left on
    screen does not repaint the pane every second."""
    if epoch_seconds is None:
        return "—"
    stamp = local_time(int(epoch_seconds * 1000))
    delta = now - epoch_seconds
    relative = f"{coarse_span(delta)} ago" if delta >= 0 else f"in {coarse_span(-delta)}"
    return f"{stamp} ({relative})"


def retry_text(record: TrackedTask, now: float) -> str:
    """``; retrying in 12s``, counted down live; ``; retrying now`` once due."""
    if record.retry_at is None:
        return ""
    left = record.retry_at - now
    return f"; retrying in {span(left)}" if left >= 1 else "; retrying now"


def header_renderable(record: TrackedTask, now: float, *, palette: Styles) -> RenderableType:
    task = record.task
    grid = _grid(palette)
    grid.add_row("Task", Text(record.id, style="bold"))
    grid.add_row("Status", status_text(shown_status(record), palette=palette, width=None))
    created = task.created_at if task else None
    grid.add_row("Created", _ago(created / 1000 if created else None, now))
    start, since = record.started_at()
    if record.finished_at is not None and start is not None:
        grid.add_row("Took", span(record.finished_at - start) + f" ({since} → done)")
    if record.gone:
        grid.add_row("Server", styled(clean(record.gone), "error", palette))
    if task and task.error:
        grid.add_row("Error", styled(clean(task.error), "error", palette))
    grid.add_row("Polled", _ago(record.last_poll, now) if record.last_poll else "not yet")
    if record.last_error:
        problem = clean(record.last_error) + retry_text(record, now)
        grid.add_row("Problem", styled(problem, "problem", palette))
    if task and task.is_terminal:
        note = "finished: no longer polled (r polls again)"
        grid.add_row("", styled(note, "note", palette))
    return grid


def request_mode(request: GenerateRequest) -> str:
    """Which kind of generation: Custom (lyrics and/or tags), Inspiration (a
    description), or an extension of an earlier clip."""
    if request.continue_clip_id:
        at = f" at {request.continue_at} s" if request.continue_at is not None else ""
        return f"Extend of clip {clean(request.continue_clip_id, one_line=True)}{at}"
    if request.gpt_description_prompt and request.gpt_description_prompt.strip():
        return "Inspiration"
    return "Custom"


def lyrics_text(prompt: str, limit: int = LYRICS_LINES) -> str:
    """Lyrics with their line breaks, cut after ``limit`` lines with how many more."""
    lines = clean(prompt.strip("\n")).splitlines()
    if len(lines) <= limit:
        return "\n".join(lines)
    return "\n".join(lines[:limit]) + f"\n… ({len(lines) - limit} more lines)"


def request_renderable(record: TrackedTask, now: float, *, palette: Styles) -> RenderableType:
    """The Request section: what the task was asked to be, all of it literal text."""
    request = record.generate_request or GenerateRequest()
    grid = _grid(palette)
    # The dialog's words (its labels must fit the 10-cell column: "Keep files",
    # "Describe"); fields not sent are left out, instrumental joins the mode.
    mode = request_mode(request) + (", instrumental" if request.make_instrumental else "")
    grid.add_row("Request", Text(mode, style="bold"))
    if request.title:
        grid.add_row("Title", Text(clean(request.title, one_line=True)))
    if request.tags:
        grid.add_row("Tags", Text(clean(request.tags, one_line=True)))
    if request.gpt_description_prompt:
        grid.add_row("Describe", Text(clean(request.gpt_description_prompt)))
    if request.prompt:
        grid.add_row("Lyrics", Text(lyrics_text(request.prompt)))
    if request.persona_id:
        grid.add_row("Persona", Text(clean(request.persona_id, one_line=True)))
    if request.retention_days is None:
        retention = f"{DEFAULT_RETENTION_DAYS} days (the default)"
    else:
        retention = f"{request.retention_days} day{'s' if request.retention_days != 1 else ''}"
    grid.add_row("Keep files", retention)
    grid.add_row("Submitted", _ago(record.submitted_at, now))
    return grid


def clip_renderable(
    clip: Clip,
    index: int,
    count: int,
    now: float,
    server_expired: str | None = None,
    saved: str | None = None,
    *,
    palette: Styles,
) -> RenderableType:
    grid = _grid(palette)
    title = Text(clean(clip.title, one_line=True) or "(untitled)", style="bold")
    label = f"Clip {index + 1}/{count}"
    grid.add_row(label if len(label) <= 10 else f"Clip {index + 1}", title)  # the column is 10
    grid.add_row("Clip ID", Text(clean(clip.id, one_line=True) or "—"))
    grid.add_row("Length", clip_length(clip.duration))
    grid.add_row("Tags", Text(clean(clip.tags) or "—"))
    expires = expiry_countdown(clip, now, palette=palette)
    if server_expired is not None:
        expired = f"expired (server: {clean(server_expired, one_line=True)})"
        expires = styled(expired, "expiry.expired", palette)
    elif clip.expire_at:
        expires = Text.assemble(local_time(clip.expire_at), "  ", expires)
    grid.add_row("Expires", expires)
    # One line each, the middle elided: o / i / y use the clip's own URL.
    audio, cover = clean(clip.audio_url, one_line=True), clean(clip.image_url, one_line=True)
    grid.add_row("Audio", OneLine(audio, elide_url) if audio else Text("not ready yet"))
    grid.add_row("Cover", OneLine(cover, elide_url) if cover else Text("—"))
    grid.add_row("Prompt", Text(clean(clip.prompt) or "—"))
    if saved:
        grid.add_row("Saved", styled(clean(saved, one_line=True), "saved", palette))
    return grid


class _Card(Static):
    """A Static that skips ``update`` when what it would show is unchanged, and
    skips the layout pass when only a clock's digits changed.

    ``shape`` is a cheap first test of whether the height may have changed: the
    signature with each ticking text replaced by its length. When it changed,
    the new height is measured at the current width (one render of the card,
    ~1 ms) and the screen is laid out again only if it differs. A relayout
    costs ~9-14 ms; without these tests the "4s ago" in the header paid one
    every second, and every status change of the shown task paid one (27 % of
    the app's CPU in the benchmark's churn phase).
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._signature: object = None
        self._shape: object = None

    def show(self, signature: object, build: object, shape: object = None) -> None:
        if signature == self._signature:
            return
        maybe_taller = shape is None or shape != self._shape
        self._signature, self._shape = signature, shape
        self.update(build() if callable(build) else build, layout=False)  # type: ignore[arg-type]
        if maybe_taller and self._height_changed():
            self.refresh(layout=True)

    def _height_changed(self) -> bool:
        width, height = self.content_size
        if not (self.is_mounted and self.display and width):
            return True  # not laid out yet: let the layout decide
        return self.get_content_height(self.size, self.app.size, width) != height


#: Clip cards built at most: a task with 10,000 results once froze the UI for
#: 10-32 s building one widget each. The cards show a window that follows
#: the selected clip.
MAX_CARDS = 20


class DetailPane(VerticalScroll, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "screen.next_clip", "Next clip", show=False),
        Binding("up,k", "screen.prev_clip", "Previous clip", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.record: TrackedTask | None = None
        self.selected = 0
        self._empty = Static("No task selected. Press a to add task IDs.", id="detail-empty")
        self._header = _Card(id="detail-header")
        self._request = _Card(id="detail-request")
        self.listen = ListenCard(id="detail-listen")
        self._clips_box = Vertical(id="detail-clips")
        self._card_list: list[_Card] = []  # in clip order; removal from the DOM is deferred
        self._first = 0  # the clip the first card shows
        self._more = Static("", id="detail-more", markup=False)
        self._now = 0.0  # of the last tick

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme: Theme) -> None:
        self.tick(self._now)  # the palette is in every card's signature

    def compose(self) -> ComposeResult:
        yield self._empty
        yield self._header
        yield self._request
        yield self.listen  # the selected clip's cover, waveform, lyrics
        yield self._more  # above the cards: seen without scrolling
        yield self._clips_box

    def show(
        self,
        record: TrackedTask | None,
        now: float | None = None,
        selected: int = 0,
        scroll: bool = False,
    ) -> None:
        """Show ``record`` (or nothing) with clip ``selected`` marked; cheap when
        called with an unchanged one. ``scroll`` brings the selected clip into view."""
        now = time.time() if now is None else now
        if record is not self.record or (record and record.id != getattr(self.record, "id", None)):
            self.scroll_home(animate=False)
        self.record = record
        self.selected = selected
        self._empty.display = record is None
        self._header.display = record is not None
        self._request.display = record is not None and record.request is not None
        clips_box = self._clips_box
        if record is None:
            clips_box.remove_children()
            self._card_list = []
            self._more.display = False
            return
        clips = record.task.results if record.task else ()
        count = min(len(clips), MAX_CARDS)
        if len(self._card_list) != count:
            clips_box.remove_children()
            self._card_list = [_Card(classes="clip") for _ in range(count)]
            clips_box.mount_all(self._card_list)
        # The cards are a window of MAX_CARDS clips that follows the selection.
        if selected < self._first:
            self._first = selected
        elif selected >= self._first + count:
            self._first = selected - count + 1
        self._first = max(0, min(self._first, len(clips) - count))
        more = len(clips) > count
        self._more.display = more
        if more:
            last = self._first + count
            self._more.update(
                f"Clips {self._first + 1}–{last} of {len(clips):,} shown; "
                "j / k move through the rest."
            )
        self.tick(now)
        card = selected - self._first
        if scroll and 0 <= card < len(self._card_list):
            self.call_after_refresh(
                self.scroll_to_widget, self._card_list[card], animate=False, top=True
            )

    def quiet_for(self, now: float) -> float:
        """Seconds until anything shown can change by the clock alone: "(4s
        ago)" and countdowns under an hour count seconds, the rest minutes."""
        record = self.record
        if record is None:
            return math.inf
        if record.retry_at is not None:
            return 1.0
        soonest = math.inf
        task = record.task
        created = (task.created_at or 0) / 1000 if task else 0
        for start in (created, record.last_poll or 0, record.submitted_at or 0):
            if start > 0:
                age = now - start
                if age < 61:
                    return 1.0
                soonest = min(soonest, start + 60 * (int(age) // 60 + 1) - now)
        clips = task.results if task else ()
        for clip in clips[self._first : self._first + len(self._card_list)]:
            if clip.expire_at:
                left = clip.expire_at / 1000 - now
                if 0 < left < 3660:
                    return 1.0
                if left > 0:
                    soonest = min(soonest, left - 60 * (int(left) // 60))
        return soonest

    def tick(self, now: float) -> None:
        self._now = now
        record = self.record
        if record is None:
            return
        palette = palette_of(self.app)
        header = self._header
        polled = _ago(record.last_poll, now)
        created = _ago((record.task.created_at or 0) / 1000 if record.task else None, now)
        # Everything header_renderable reads, the ID first: two tasks not polled
        # yet differ in nothing else.
        stable = (
            record.id,
            shown_status(record),
            record.task,
            record.gone,
            record.last_error,
            record.first_seen,
            record.finished_at,
        )
        retry = retry_text(record, now) if record.last_error else ""
        header.show(
            (*stable, polled, created, retry, palette),
            lambda: header_renderable(record, now, palette=palette),
            shape=(*stable, len(polled), len(created), len(retry), self.size.width),
        )
        request = self._request
        request.display = record.request is not None
        if record.request is not None:
            submitted = _ago(record.submitted_at, now)
            request.show(
                (record.id, record.request, submitted, palette),
                lambda: request_renderable(record, now, palette=palette),
                shape=(record.id, record.request, len(submitted), self.size.width),
            )
        clips = record.task.results if record.task else ()
        keys = clip_keys(clips) if record.downloads else ()
        first = self._first
        window = clips[first : first + len(self._card_list)]
        for index, (card, clip) in enumerate(zip(self._card_list, window, strict=False), first):
            card.set_class(index == self.selected and len(clips) > 1, "-selected")
            countdown = expiry_countdown(clip, now, palette=palette).plain
            saved = record.downloads.get(keys[index]) if keys else None
            card.show(
                (clip, index, len(clips), countdown, record.expired, saved, palette),
                lambda clip=clip, index=index, saved=saved: clip_renderable(
                    clip,
                    index,
                    len(clips),
                    now,
                    record.expired,
                    saved,
                    palette=palette,
                ),
                shape=(clip, len(countdown), record.expired, saved, self.size.width),
            )
