"""Downloads from the dashboard: d, shift+d, cancel, auto-download, progress."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tui.simulator import Fault
from tui.simulator.media import clip_audio

from .harness import SIZE, files, make_app, notifications, screen_text, wait_for


async def test_download_one_clip_with_cover_and_sidecar(sim_server, data_dir, clock, music):
    sim_server.sim.book.seed("dl1", outcome="completed", expiries=("week", "week"), age=60)
    app = make_app(sim_server, data_dir, clock, ids=["dl1"], download_dir=music)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["dl1"].finished)
        clip = app.records["dl1"].task.results[0]
        await pilot.press("d")
        await wait_for(pilot, lambda: clip.id in app.records["dl1"].downloads)
        saved = Path(app.records["dl1"].downloads[clip.id])
        await wait_for(pilot, lambda: "Saved" in screen_text(app))
    assert saved.parent == music
    assert saved.read_bytes()[:2] in (b"\xff\xf3", b"ID3"[:2])
    cover = saved.with_suffix(".jpg")
    assert cover.read_bytes()[:3] == b"\xff\xd8\xff"
    meta = json.loads(saved.with_suffix(".json").read_text())
    assert meta["clip_id"] == clip.id and meta["task_id"] == "dl1"
    assert meta["title"] == clip.title and meta["audio_url"] == clip.audio_url
    assert len(files(music)) == 3  # no temp files left


async def test_download_all_clips_of_a_task(sim_server, data_dir, clock, music):
    sim_server.sim.book.seed("dl2", outcome="completed", expiries=("week", "never"), age=60)
    app = make_app(sim_server, data_dir, clock, ids=["dl2"], download_dir=music)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["dl2"].finished)
        await pilot.press("D")
        await wait_for(pilot, lambda: len(app.records["dl2"].downloads) == 2)
        await wait_for(pilot, lambda: "2↓" in screen_text(app))
    assert len([f for f in files(music) if f.endswith(".mp3")]) == 2
    assert len([f for f in files(music) if f.endswith(".json")]) == 2


async def test_progress_is_visible_and_download_cancellable(sim_server, data_dir, clock, music):
    sim = sim_server.sim
    sim.book.seed("slow", outcome="completed", expiries=("week",), age=60)
    app = make_app(sim_server, data_dir, clock, ids=["slow"], download_dir=music)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["slow"].finished)
        clip = app.records["slow"].task.results[0]
        # The audio only (an eighth every 500 ms): the cover, fetched first for
        # the tags, would hold the audio back by seconds.
        sim.file_faults[f"{clip.id}.mp3"] = Fault.slow_file(0.5)
        await pilot.press("d")
        # The clip's MP3 is the demo tune looped to the clip's length.
        size = len(clip_audio(clip.duration or 0)) / 1024
        progress = re.compile(rf"\d KB of {size:.1f} KB")
        await wait_for(pilot, lambda: progress.search(screen_text(app)) is not None)
        assert "Downloads (1 running)" in screen_text(app)
        await pilot.press("d")  # again: cancel
        await wait_for(pilot, lambda: "cancelled" in screen_text(app))
        assert app.records["slow"].downloads == {}
    assert files(music) == []  # the partial file was removed


async def test_hostile_title_stays_inside_the_folder(sim_server, data_dir, clock, music):
    base = f"{sim_server.url}/files"
    sim_server.sim.book.override(
        "evil",
        {
            "id": "evil",
            "status": "completed",
            "results": [
                {
                    "id": "c-5",
                    "title": "../../etc/passwd",
                    "audio_url": f"{base}/c-5.mp3",
                    "image_url": f"{base}/c-5.jpg",
                    "expire_at": 0,
                },
                {
                    "id": "c/../6",
                    "title": "\x1b[31m/abs/..\\\\win:name*?" + "x" * 300,
                    "audio_url": f"{base}/c6.mp3",
                    "expire_at": 0,
                },
            ],
        },
    )
    app = make_app(sim_server, data_dir, clock, ids=["evil"], download_dir=music)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["evil"].finished)
        await pilot.press("D")
        await wait_for(pilot, lambda: len(app.records["evil"].downloads) == 2)
    for path in music.rglob("*"):
        assert path.parent == music
        assert len(path.name) < 140 and "\x1b" not in path.name
    assert (music / "etc passwd [c-5].mp3").exists()
    assert not (music.parent.parent / "etc").exists()


async def test_auto_download_on_completion(sim_server, data_dir, clock, music):
    sim_server.sim.book.seed(
        "auto", queued_for=1, processing_for=1, outcome="completed", expiries=("week",)
    )
    app = make_app(
        sim_server, data_dir, clock, ids=["auto"], download_dir=music, auto_download=True
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["auto"].status == "queuing")
        clock.advance(5)
        await wait_for(pilot, lambda: len(app.records["auto"].downloads) == 1)
    assert any(f.endswith(".mp3") for f in files(music))


async def test_expiring_unsaved_clips_are_flagged(sim_server, data_dir, clock, music):
    sim_server.sim.book.seed("soon", outcome="completed", expiries=("minutes",), age=60)
    app = make_app(sim_server, data_dir, clock, ids=["soon"], download_dir=music)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "⚠ 1 clip expiring soon, not downloaded" in screen_text(app))
        await pilot.press("d")
        await wait_for(pilot, lambda: "expiring soon" not in screen_text(app).splitlines()[0])


async def test_expired_clip_is_not_downloaded(sim_server, data_dir, clock, music):
    sim_server.sim.book.seed("gone", outcome="completed", expiries=("expired",), age=60)
    app = make_app(sim_server, data_dir, clock, ids=["gone"], download_dir=music)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["gone"].finished)
        await pilot.press("d")
        assert "Not downloading: its files expired" in notifications(app)[-1]
    assert files(music) == []


async def test_cancel_during_cover_leaves_no_orphan(sim_server, data_dir, clock, music):
    """Without tags the cover comes after the audio and its sidecar: a cancel
    then must not make the next try save under `` (2)`` names."""
    sim = sim_server.sim
    sim.book.seed("cov", outcome="completed", expiries=("week",), age=60)
    app = make_app(sim_server, data_dir, clock, ids=["cov"], download_dir=music, embed_tags=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["cov"].finished)
        clip = app.records["cov"].task.results[0]
        sim.file_faults[f"{clip.id}.jpg"] = Fault.slow_file(0.3, times=1)  # the cover only
        await pilot.press("d")
        await wait_for(pilot, lambda: any(p.endswith(".json") for p in files(music)), timeout=8)
        await pilot.press("d")  # cancel while the cover downloads
        await wait_for(pilot, lambda: "cancelled" in screen_text(app))
        await pilot.press("d")  # and again: must reuse the same name
        await wait_for(pilot, lambda: clip.id in app.records["cov"].downloads, timeout=8)
    assert not any("(2)" in name for name in files(music)), files(music)


async def test_cancel_during_the_cover_for_tags_leaves_nothing(sim_server, data_dir, clock, music):
    """With tags the cover is fetched first, into memory: a cancel then leaves
    no file at all, and the next try saves under the clip's own names."""
    sim = sim_server.sim
    sim.book.seed("covt", outcome="completed", expiries=("week",), age=60)
    app = make_app(sim_server, data_dir, clock, ids=["covt"], download_dir=music)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["covt"].finished)
        clip = app.records["covt"].task.results[0]
        sim.file_faults[f"{clip.id}.jpg"] = Fault.slow_file(0.3, times=1)  # the cover only
        await pilot.press("d")
        await wait_for(pilot, lambda: "(cover)" in screen_text(app))
        await pilot.press("d")  # cancel while the cover downloads
        await wait_for(pilot, lambda: "cancelled" in screen_text(app))
        assert files(music) == []
        await pilot.press("d")
        await wait_for(pilot, lambda: clip.id in app.records["covt"].downloads, timeout=8)
    assert sorted(Path(name).suffix for name in files(music)) == [".jpg", ".json", ".mp3"]
    assert not any("(2)" in name for name in files(music)), files(music)


async def test_shift_d_does_not_cancel_running_downloads(sim_server, data_dir, clock, music):
    sim = sim_server.sim
    sim.book.seed("two", outcome="completed", expiries=("week", "week"), age=60)
    app = make_app(sim_server, data_dir, clock, ids=["two"], download_dir=music)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["two"].finished)
        first = app.records["two"].task.results[0]
        sim.file_faults[first.id] = Fault.slow_file(0.1, times=1)
        await pilot.press("d")
        await pilot.press("D")
        await wait_for(pilot, lambda: len(app.records["two"].downloads) == 2, timeout=8)
        assert not any("Cancelled" in n for n in notifications(app))


async def test_auto_download_for_a_task_already_finished(sim_server, data_dir, clock, music):
    sim_server.sim.book.seed("done", outcome="completed", expiries=("week",), age=600)
    app = make_app(
        sim_server, data_dir, clock, ids=["done"], download_dir=music, auto_download=True
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.records["done"].downloads) == 1)


async def test_dashboard_retries_a_500_then_saves(sim_server, data_dir, clock, music):
    sim = sim_server.sim
    sim.book.seed("r500", outcome="completed", expiries=("week",), age=60)
    app = make_app(sim_server, data_dir, clock, ids=["r500"], download_dir=music)
    app.downloads.downloader.retry_base = 1.0  # the "retrying" row shows for 0.5-1 s
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["r500"].finished)
        clip = app.records["r500"].task.results[0]
        sim.file_faults[f"{clip.id}.mp3"] = Fault.html_error(500, times=1)
        await pilot.press("d")
        await wait_for(pilot, lambda: "retrying" in screen_text(app))
        await wait_for(pilot, lambda: clip.id in app.records["r500"].downloads)
    saved = Path(app.records["r500"].downloads[clip.id])
    assert saved.exists() and saved.with_suffix(".json").exists()


async def test_dashboard_rejects_a_truncated_file(sim_server, data_dir, clock, music):
    sim = sim_server.sim
    sim.book.seed("trunc", outcome="completed", expiries=("week",), age=60)
    app = make_app(sim_server, data_dir, clock, ids=["trunc"], download_dir=music)
    app.downloads.downloader.retry_base = 0.05
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["trunc"].finished)
        clip = app.records["trunc"].task.results[0]
        sim.file_faults[clip.id] = Fault.truncated()
        await pilot.press("d")
        await wait_for(pilot, lambda: any("failed" in n for n in notifications(app)), timeout=8)
        assert app.records["trunc"].downloads == {}
    assert not any(name.endswith(".mp3") for name in files(music))


async def test_skipped_clips_are_counted_in_one_message(sim_server, data_dir, clock, music):
    """shift+d on a task with two expired clips and one live: one line, not a
    line per expired clip."""
    sim_server.sim.book.seed(
        "mixed", outcome="completed", expiries=("expired", "week", "expired"), age=60
    )
    app = make_app(sim_server, data_dir, clock, ids=["mixed"], download_dir=music)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["mixed"].finished)
        app.clear_notifications()
        await pilot.press("D")
        assert notifications(app) == ["Downloading 1 clip; skipped 2 expired."]
        await wait_for(pilot, lambda: len(app.records["mixed"].downloads) == 1)
        await pilot.press("D")
        assert notifications(app)[-1] == "Not downloading: 2 expired, 1 already saved."
