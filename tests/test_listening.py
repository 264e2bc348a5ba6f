"""Listening in the dashboard, on miniaudio's NULL backend (it plays in real
time and discards the sound): what the user sees after each key."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tui.services.player import NoAudioOutput

from .conftest import KEY
from .harness import SIZE, make_app, notifications, screen_text, wait_for

HEADERS = {"Authorization": f"Bearer {KEY}"}


def bar(app) -> str:
    return str(app.main.now_playing.render()) if app.main.now_playing.playing else ""


async def playing_app(sim_server, data_dir, clock, pilot_size=SIZE):
    sim_server.sim.book.seed("song1", outcome="completed", age=600)
    sim_server.sim.book.seed("song2", outcome="completed", age=600)
    return make_app(sim_server, data_dir, clock, ids=["song1", "song2"])


async def test_play_pause_seek_stop_and_the_next_clip(sim_server, data_dir, clock) -> None:
    app = await playing_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["song1"].status == "completed")
        clip = app.records["song1"].task.results[0]
        await pilot.press("p")
        await wait_for(pilot, lambda: app.main.playback.player.state == "playing", 10)
        await wait_for(pilot, lambda: app.main.playback.player.position > 0.3)
        assert "▶" in bar(app) and (clip.title or "") in bar(app)
        await pilot.press("p")  # pause holds the position
        await wait_for(pilot, lambda: "❚❚" in bar(app))
        held = app.main.playback.player.position
        await pilot.press("f", "f")  # +10 s, still paused
        assert abs(app.main.playback.player.position - (held + 10)) < 0.01
        await pilot.press("B")  # -30 s: clamped at the start
        assert app.main.playback.player.position == 0.0
        assert app.main.playback.player.state == "paused"
        await pilot.press("greater_than_sign")  # the task's second clip
        loaded = app.main.playback
        await wait_for(pilot, lambda: loaded.loaded is not None and loaded.loaded.index == 1, 10)
        await pilot.press("full_stop")
        assert not app.main.now_playing.playing and loaded.player.state == "stopped"
        assert "▶" not in screen_text(app).splitlines()[-2]


async def test_the_end_of_a_clip_stops_and_p_plays_it_again(sim_server, data_dir, clock) -> None:
    app = await playing_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["song1"].status == "completed")
        await pilot.press("p")
        player = app.main.playback.player
        await wait_for(pilot, lambda: player.state == "playing", 10)
        player.seek(player.duration - 0.3)
        await wait_for(pilot, lambda: "ended: p plays it again" in screen_text(app), 10)
        assert player.state == "stopped"
        await pilot.press("p")
        await wait_for(pilot, lambda: player.state == "playing")


async def test_waveform_and_lyrics_come_once_and_are_cached(sim_server, data_dir, clock) -> None:
    sim = sim_server.sim
    app = await playing_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["song1"].status == "completed")
        card = app.main.detail.listen
        await wait_for(pilot, lambda: bool(card.peaks), 10)  # shown before playing
        waveform_requests = [r for r in sim.requests if "waveform" in r.path]
        assert len(waveform_requests) == 1
        await pilot.press("p")
        await wait_for(pilot, lambda: str(card.query_one("#listen-lyrics").render()).strip(), 10)
        await pilot.press("j", "k")  # away and back: no second request
        await wait_for(pilot, lambda: bool(card.peaks))
        assert len([r for r in sim.requests if "waveform" in r.path]) == 1
        assert len([r for r in sim.requests if "timeline" in r.path]) == 1


async def test_a_broken_waveform_is_computed_from_the_audio(sim_server, data_dir, clock) -> None:
    httpx.post(
        sim_server.url + "/_sim/faults",
        json={"kind": "waveform_error", "junk": "not_json"},
        headers=HEADERS,
    )
    app = await playing_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["song1"].status == "completed")
        await pilot.press("p")
        await wait_for(pilot, lambda: "waveform from the audio" in bar(app), 15)
        assert app.main.playback.loaded.shape.waveform.peaks


async def test_no_sound_device_is_one_message(sim_server, data_dir, clock, monkeypatch) -> None:
    from tui.services import player as player_module

    def no_device(*args, **kwargs):
        raise NoAudioOutput("ALSA: cannot find card '0'")

    monkeypatch.setattr(player_module.Player, "open", no_device)
    app = await playing_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["song1"].status == "completed")
        await pilot.press("p")
        await wait_for(pilot, lambda: any("No audio output" in n for n in notifications(app)), 10)
        message = next(n for n in notifications(app) if "No audio output" in n)
        assert message == (
            "No audio output (ALSA: cannot find card '0'); press o to open it in the browser."
        )
        assert not app.main.now_playing.playing


async def test_expired_clips_are_not_played_and_the_card_follows_the_clip(
    sim_server, data_dir, clock
) -> None:
    from tui.simulator.lifecycle import EXPIRE_PAST, EXPIRE_WEEK

    sim_server.sim.book.seed("gone1", outcome="completed", age=600, expiries=(EXPIRE_PAST,))
    sim_server.sim.book.seed(
        "two1", outcome="completed", age=600, expiries=(EXPIRE_WEEK, EXPIRE_WEEK)
    )
    app = make_app(sim_server, data_dir, clock, ids=["gone1", "two1"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["two1"].status == "completed")
        await pilot.press("p")  # gone1: its files expired
        await wait_for(pilot, lambda: any("Cannot play this clip" in n for n in notifications(app)))
        assert app.main.playback.loaded is None
        await pilot.press("j", "enter", "right_square_bracket")  # two1's second clip
        await wait_for(pilot, lambda: app.main.listen_feed.shown == ("two1", 1), 10)
        await pilot.press("p")
        loaded = app.main.playback
        await wait_for(pilot, lambda: loaded.loaded is not None and loaded.loaded.index == 1, 10)


def lit_word(app) -> str:
    """The word the card's lyric line lights (its style is the palette's ``lyrics.now``)."""
    from tui.ui.palette import palette_of

    lyrics = app.main.detail.listen.query_one("#listen-lyrics")
    if not lyrics.display:
        return ""
    text, now = lyrics.text, palette_of(app).get("lyrics.now")
    return next((text.plain[s.start : s.end] for s in text.spans if s.style == now), "")


async def test_the_lit_word_and_the_clock_follow_the_song(sim_server, data_dir, clock) -> None:
    """The card lights each word when it is sung, though nothing ticks at a
    fixed rate: the next look is due at the next word or the next second."""
    app = await playing_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["song1"].status == "completed")
        await pilot.press("p")
        playback = app.main.playback
        await wait_for(pilot, lambda: bool(playback.loaded and playback.loaded.timeline), 10)
        words = playback.loaded.timeline.words
        # Every word of the first line but the first, as it is sung.
        line = playback.loaded.timeline.lines()[0]
        playback.player.seek(line[0].start)
        # Words come 0.6 s apart here: a look once a second would skip some.
        for word in line[1:4]:
            await wait_for(pilot, lambda w=word: lit_word(app) == w.text)
        # The bar's clock shows each second, with another task's card shown.
        await pilot.press("j")
        lyrics = app.main.detail.listen.query_one("#listen-lyrics")
        await wait_for(pilot, lambda: not lyrics.display)
        playback.player.seek(words[0].start)
        second = int(words[0].start) + 2
        await wait_for(pilot, lambda: f"0:{second:02d} /" in bar(app))


def test_the_next_look_is_at_the_next_second_or_word() -> None:
    from tui.api.media import Timeline, Word
    from tui.api.models import Clip
    from tui.ui.playback import MIN_WAIT, SLACK, Loaded, Playback

    timeline = Timeline((Word("a", 3.5, 3.9), Word("b", 7.25, 7.5)))
    loaded = Loaded("t", 0, Clip.from_json({"id": "c"}), Path("x.mp3"), timeline=timeline)
    due = Playback._next_change
    assert due(loaded, 3.4, lyrics=False) == pytest.approx(0.6 + SLACK)  # the clock's 0:04
    assert due(loaded, 3.4, lyrics=True) == pytest.approx(0.1 + SLACK)  # "a"
    assert due(loaded, 7.1, lyrics=True) == pytest.approx(0.15 + SLACK)  # "b"
    assert due(loaded, 9.0, lyrics=True) == pytest.approx(1.0 + SLACK)  # no words left
    assert due(loaded, 3.999, lyrics=False) == MIN_WAIT


def test_the_dashboard_caches_media_in_the_user_cache_folder(tmp_path, isolated_home, monkeypatch):
    """Fetched audio and covers can be fetched again: the user cache folder,
    never the data folder (which people back up). The demo keeps its own."""
    import dataclasses

    from tui.cli import launch
    from tui.core import locations
    from tui.core.config import load_config
    from tui.services.store import DB_NAME, TaskStore
    from tui.ui.app import MusicMintApp

    folders: list[Path] = []
    monkeypatch.setattr(
        MusicMintApp, "run", lambda self: folders.append(self.listening.cache.folder) or 0
    )
    config = dataclasses.replace(load_config(env={}), cover_art="halfcell")
    for demo in (False, True):
        store = TaskStore(tmp_path / f"data-{demo}" / DB_NAME)
        assert launch.run_app(config, store=store, demo=demo) == 0
    assert folders[0] == locations.cache_dir().resolve()
    assert str(folders[0]).startswith(str(isolated_home))
    assert folders[1] == (tmp_path / "data-True" / "cache").resolve()


# -- keys while a clip loads, and loads that fail ---------------------------------------------


def slow_audio(sim_server, task_id: str, index: int, chunk_delay: float = 0.2) -> None:
    from tui.simulator.faults import Fault
    from tui.simulator.lifecycle import clip_id

    sim_server.sim.file_faults[f"{clip_id(task_id, index)}.mp3"] = Fault.slow_file(
        chunk_delay, times=10
    )


async def test_stop_while_a_clip_loads_plays_nothing(sim_server, data_dir, clock) -> None:
    app = await playing_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["song1"].status == "completed")
        slow_audio(sim_server, "song1", 0)
        playback = app.main.playback
        await pilot.press("p")
        assert "loading…" in bar(app)
        await pilot.press("full_stop")
        await wait_for(pilot, lambda: "Stopped." in notifications(app))
        assert not app.main.now_playing.playing
        await wait_for(pilot, lambda: playback._opening is None, 15)  # the fetch ran out
        assert playback.player.state != "playing" and playback.loaded is None
        assert not app.main.now_playing.playing


async def test_the_next_clip_asked_for_while_one_loads_is_the_one_that_plays(
    sim_server, data_dir, clock
) -> None:
    app = await playing_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["song1"].status == "completed")
        slow_audio(sim_server, "song1", 0)
        playback = app.main.playback
        await pilot.press("p", "greater_than_sign")  # the second key is not dropped
        await wait_for(pilot, lambda: playback.loaded is not None, 15)
        assert (playback.loaded.task_id, playback.loaded.index) == ("song1", 1)
        await wait_for(pilot, lambda: playback.player.state == "playing")
        title = app.records["song1"].task.results[1].title
        await wait_for(pilot, lambda: title in bar(app) and "loading" not in bar(app))


async def test_a_clip_that_fails_to_load_leaves_the_playing_one_in_reach(
    sim_server, data_dir, clock
) -> None:
    """The clip playing goes on (the player keeps it when the next cannot be
    loaded), so its bar stays and ``.`` still stops it."""
    from tui.simulator.faults import Fault

    app = await playing_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["song2"].status == "completed")
        playback = app.main.playback
        await pilot.press("p")
        await wait_for(pilot, lambda: playback.player.state == "playing", 10)
        first = app.records["song1"].task.results[0].title
        broken = app.records["song2"].task.results[0].id
        sim_server.sim.file_faults[f"{broken}.mp3"] = Fault.html_error(500, times=10)
        await pilot.press("j", "p")
        await wait_for(pilot, lambda: any("Cannot play" in n for n in notifications(app)), 15)
        await wait_for(pilot, lambda: first in bar(app) and "▶" in bar(app))
        assert playback.player.state == "playing" and playback.loaded.task_id == "song1"
        await pilot.press("full_stop")
        assert playback.player.state == "stopped" and not app.main.now_playing.playing


async def test_a_saved_clip_plays_after_the_service_copy_expired(
    sim_server, data_dir, clock, tmp_path
) -> None:
    import shutil

    from tui.domain.tracked import clip_keys
    from tui.simulator.lifecycle import EXPIRE_PAST
    from tui.simulator.state import assets_dir

    sim_server.sim.book.seed("gone1", outcome="completed", age=600, expiries=(EXPIRE_PAST,))
    app = make_app(sim_server, data_dir, clock, ids=["gone1"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["gone1"].status == "completed")
        record = app.records["gone1"]
        await pilot.press("p")
        await wait_for(pilot, lambda: any("expired" in n for n in notifications(app)))
        saved = tmp_path / "Saved take.mp3"
        shutil.copy(assets_dir() / "sample.mp3", saved)
        record.downloads[clip_keys(record.task.results)[0]] = str(saved)
        await pilot.press("p")
        playback = app.main.playback
        await wait_for(pilot, lambda: playback.player.state == "playing", 10)
        assert playback.loaded.path == saved


async def test_next_after_the_playing_task_was_removed_goes_on_from_the_selection(
    sim_server, data_dir, clock
) -> None:
    app = await playing_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["song2"].status == "completed")
        playback = app.main.playback
        await pilot.press("p")
        await wait_for(pilot, lambda: playback.player.state == "playing", 10)
        await pilot.press("x")  # song1 goes; song2 is selected
        await wait_for(pilot, lambda: "song1" not in app.records)
        await pilot.press("greater_than_sign")
        await wait_for(
            pilot, lambda: playback.loaded is not None and playback.loaded.task_id == "song2", 10
        )
        assert playback.loaded.index == 1  # the one after the selected clip


async def test_no_sound_device_fetches_nothing(sim_server, data_dir, clock, monkeypatch) -> None:
    monkeypatch.setenv("MUSICMINT_AUDIO", "off")
    app = await playing_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["song1"].status == "completed")
        await pilot.press("p")
        await wait_for(pilot, lambda: any("No audio output" in n for n in notifications(app)))
        assert not [r for r in sim_server.sim.requests if r.path.endswith(".mp3")]
        assert not app.main.now_playing.playing


async def test_a_cover_that_cannot_be_fetched_says_why(sim_server, data_dir, clock) -> None:
    from tui.simulator.faults import Fault
    from tui.simulator.lifecycle import clip_id

    sim_server.sim.book.seed("song1", outcome="completed", age=600)
    sim_server.sim.file_faults[f"{clip_id('song1', 0)}.jpg"] = Fault.html_error(404, times=10)
    app = make_app(sim_server, data_dir, clock, ids=["song1"], cover_art="halfcell")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "cover unavailable:" in screen_text(app), 10)


async def test_without_lyric_timing_the_card_shows_the_prompt(sim_server, data_dir, clock) -> None:
    httpx.post(
        sim_server.url + "/_sim/faults",
        json={"kind": "timeline_error", "status": 404},
        headers=HEADERS,
    )
    app = await playing_app(sim_server, data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["song1"].status == "completed")
        await pilot.press("p")
        playback = app.main.playback
        await wait_for(pilot, lambda: bool(playback.loaded and playback.loaded.lyrics_fetched), 10)
        assert playback.loaded.timeline is None
        prompt = app.records["song1"].task.results[0].prompt
        lyrics = app.main.detail.listen.query_one("#listen-lyrics")
        await wait_for(pilot, lambda: lyrics.display and lyrics.text.plain == prompt)
        assert playback.player.state == "playing"
        assert not [n for n in app.said if "failed" in n.lower()]
