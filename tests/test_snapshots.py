"""SVG snapshots of the main screens (pytest-textual-snapshot).

Everything that could vary between runs is pinned: a fake clock shared by
the app and the simulator, the origin shown in the status bar and written
into clip URLs (the real port is random), UTC for absolute times. Update with
``uv run pytest tests/test_snapshots.py --snapshot-update`` and look at the
SVGs in tests/__snapshots__/ before committing them.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from textual.pilot import Pilot

from tui.cli.demo import seed
from tui.services.media_cache import MediaCache
from tui.simulator import Simulator, SimulatorServer

from .conftest import KEY, FakeClock
from .harness import make_app, wait_for

SHOWN_ORIGIN = "http://127.0.0.1:48811"


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[SimulatorServer]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    server = SimulatorServer(
        Simulator(api_key=KEY, time_scale=0.6, clock=clock), public_url=SHOWN_ORIGIN
    )
    with server:
        yield server
    monkeypatch.delenv("TZ")
    time.tzset()


def demo_app(server: SimulatorServer, tmp_path: Path, clock: FakeClock):
    ids = seed(server.sim)
    # The clock is frozen, so nothing changes after the first poll of each task:
    # a long interval keeps the app from re-polling (and using CPU) meanwhile.
    app = make_app(server, tmp_path / "data", clock, ids=ids, tick=60, interval=60)
    app.demo = True
    # The client already points at the real port; only what is shown is pinned.
    app.config = dataclasses.replace(app.config, base_url=SHOWN_ORIGIN)
    # Clip URLs name the pinned origin: the media cache's requests go to the
    # real port (covers drawn in half cells, the same everywhere).
    app.config = dataclasses.replace(app.config, cover_art="halfcell")
    app.listening.cache = MediaCache(
        tmp_path / "cache", http=httpx.AsyncClient(transport=_Repinned(server.url))
    )
    return app


class _Repinned(httpx.AsyncBaseTransport):
    """Sends requests for :data:`SHOWN_ORIGIN` to the simulator's real port."""

    def __init__(self, real: str) -> None:
        self.real = httpx.URL(real)
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(host=self.real.host, port=self.real.port)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def listen_settled(app) -> bool:
    """The selected clip's cover and waveform are in (fetched 0.3 s after the
    selection rests, the cover decoded in a thread)."""
    from tui.ui.widgets.cover import CoverArt

    card = app.main.detail.listen
    if not card.has_class("-shown"):
        return True
    if app.main.listen_feed.shown != app.main.listen_feed.target:
        return False
    cover = card.query_one(CoverArt)
    return not cover.placeholder.startswith("loading")  # drawn, or why not


async def settled(pilot: Pilot) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: app.loaded and all(r.task for r in app.records.values()))
    await pilot.pause()  # the screen has handled every TaskChanged (rows queued)
    await wait_for(pilot, lambda: not app.main.table._pending)  # queued row updates applied
    await wait_for(pilot, lambda: listen_settled(app), 10)
    app.clear_notifications()
    await pilot.pause()


def test_demo_screen(snap_compare, pinned, tmp_path, clock) -> None:
    assert snap_compare(
        demo_app(pinned, tmp_path, clock), terminal_size=(150, 32), run_before=settled
    )


def test_detail_of_completed_task_with_two_clips(snap_compare, pinned, tmp_path, clock) -> None:
    async def focus_detail(pilot: Pilot) -> None:
        await settled(pilot)
        await pilot.press("enter", "down")  # second clip selected
        await pilot.pause()
        await wait_for(pilot, lambda: listen_settled(pilot.app), 10)

    assert snap_compare(
        demo_app(pinned, tmp_path, clock), terminal_size=(150, 40), run_before=focus_detail
    )


def test_add_dialog_with_validation_error(snap_compare, pinned, tmp_path, clock) -> None:
    async def bad_paste(pilot: Pilot) -> None:
        await settled(pilot)
        await pilot.press("a")
        area = pilot.app.screen.query_one("#add-input")
        area.cursor_blink = False  # a blinking cursor makes the snapshot flaky
        area.insert("fresh-id-1, demo-failed\nbad/id ../etc")
        await pilot.pause()

    assert snap_compare(
        demo_app(pinned, tmp_path, clock), terminal_size=(120, 32), run_before=bad_paste
    )


def test_help_screen(snap_compare, pinned, tmp_path, clock) -> None:
    async def help_(pilot: Pilot) -> None:
        await settled(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(
        demo_app(pinned, tmp_path, clock), terminal_size=(120, 36), run_before=help_
    )


def test_80x24_terminal(snap_compare, pinned, tmp_path, clock) -> None:
    assert snap_compare(
        demo_app(pinned, tmp_path, clock), terminal_size=(80, 24), run_before=settled
    )


def test_demo_screen_in_the_light_theme(snap_compare, pinned, tmp_path, clock) -> None:
    """textual-light, where the ANSI colour names were unreadable (issue #12):
    statuses, expiries and the status bar in the theme's colours, darkened to
    4.5:1 where needed."""
    app = demo_app(pinned, tmp_path, clock)
    app.config = dataclasses.replace(app.config, theme="textual-light")
    assert snap_compare(app, terminal_size=(150, 32), run_before=settled)


def test_finishes_close_together_are_one_notification(
    snap_compare, pinned, tmp_path, clock
) -> None:
    """A burst of finishes: one notification naming the first few (issue #12)."""

    async def burst(pilot: Pilot) -> None:
        await settled(pilot)
        app = pilot.app
        for record in app.records.values():
            if record.status in ("completed", "failed"):
                app.main.announcer.finished(record)
        await wait_for(pilot, lambda: len(app._notifications) == 1)
        await pilot.pause()

    assert snap_compare(
        demo_app(pinned, tmp_path, clock), terminal_size=(150, 32), run_before=burst
    )


def test_marks_and_a_range_in_the_table(snap_compare, pinned, tmp_path, clock) -> None:
    async def mark(pilot: Pilot) -> None:
        await settled(pilot)
        await pilot.press("space", "j", "v", "j", "j")  # one mark, then a range of three
        await pilot.pause()
        await wait_for(pilot, lambda: listen_settled(pilot.app), 10)

    assert snap_compare(demo_app(pinned, tmp_path, clock), terminal_size=(150, 32), run_before=mark)


@pytest.mark.parametrize("key", ["2", "3", "4", "5"])
def test_quick_view(snap_compare, pinned, tmp_path, clock, key: str) -> None:
    """2 active, 3 completed, 4 failed, 5 expiring soon and not saved."""

    async def view(pilot: Pilot) -> None:
        await settled(pilot)
        await pilot.press(key)
        await pilot.pause()
        await wait_for(pilot, lambda: listen_settled(pilot.app), 10)

    assert snap_compare(demo_app(pinned, tmp_path, clock), terminal_size=(120, 24), run_before=view)


@pytest.mark.parametrize("size", [(80, 24), (160, 45)], ids=["80x24", "160x45"])
@pytest.mark.parametrize("mode", ["custom", "inspiration"])
def test_new_track_dialog(snap_compare, pinned, tmp_path, clock, mode: str, size) -> None:
    """The New track dialog (issue #14) in each mode, filled in, with one
    problem shown (retention days out of range) and the counts."""

    async def write(pilot: Pilot) -> None:
        await settled(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: pilot.app.screen.query("#lyrics"))
        screen = pilot.app.screen
        for area in screen.query("TextArea"):
            area.cursor_blink = False
        for field in screen.query("Input"):
            field.cursor_blink = False
        if mode == "custom":
            screen.query_one("#lyrics").load_text(
                "[Verse]\nNeon rain on the overpass\nEngines humming low\n\n[Chorus]\nDrive"
            )
            screen.query_one("#tags").value = "synthwave, dreamy, female vocals"
            screen.query_one("#title").value = "Night Drive"
        else:
            await pilot.press("ctrl+t")
            screen.query_one("#description").load_text("a calm sea shanty sung by a choir")
        screen.query_one("#retention_days").value = "45"
        await pilot.pause()

    assert snap_compare(demo_app(pinned, tmp_path, clock), terminal_size=size, run_before=write)


def test_a_paused_clip_with_its_lyrics_in_the_light_theme(
    snap_compare, pinned, tmp_path, clock
) -> None:
    """The now-playing bar (the played part of the waveform in the accent
    colour), and the card's waveform and lyric line with the word sung at
    0:12 lit, in textual-light: paused, so the picture holds still."""
    app = demo_app(pinned, tmp_path, clock)
    app.config = dataclasses.replace(app.config, theme="textual-light")

    async def paused(pilot: Pilot) -> None:
        await settled(pilot)
        table, playback = app.main.table, app.main.playback
        table.move_cursor(row=table.get_row_index("demo-expiring-soon"))
        await wait_for(pilot, lambda: listen_settled(app), 10)
        await pilot.press("p")
        await wait_for(pilot, lambda: bool(playback.loaded and playback.loaded.lyrics_fetched), 10)
        await pilot.press("p")
        playback.player.seek(12.0)
        playback.redraw()
        await wait_for(pilot, lambda: "❚❚ " in str(app.main.now_playing.render()))
        await wait_for(pilot, lambda: listen_settled(app), 10)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 36), run_before=paused)
