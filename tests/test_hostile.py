"""A hostile server: each attack of the hardening issue, over real loopback HTTP.

Every test here reproduces one way a server (or something between us and it)
can misbehave, and checks what a user would notice: no crash, no freeze, a
clear message, nothing lost.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import pytest

from tui.api.models import Clip
from tui.core import logs
from tui.services.downloads import Downloader, DownloadError
from tui.simulator import Fault

from .conftest import KEY, FakeClock
from .harness import (
    gzip_bomb,
    make_app,
    notifications,
    region_text,
    screen_text,
    wait_for,
)

HUGE = 10**400  # valid JSON; overflows a float, and SQLite's INTEGER


async def test_out_of_range_numbers_show_as_missing_and_survive_a_restart(
    sim_server, data_dir: Path, tmp_path: Path, clock: FakeClock
) -> None:
    """A 400-digit ``expire_at``/``created_at`` once raised OverflowError on every
    repaint, and, saved with an unfinished task, on every start."""
    book = sim_server.sim.book
    book.override(
        "huge",
        {
            "id": "huge",
            "status": "processing",
            "created_at": HUGE,
            "results": [
                {"id": "c1", "title": "Big", "duration": HUGE, "expire_at": HUGE},
                {"id": "c2", "title": "Nan", "duration": float("nan"), "expire_at": -5},
            ],
        },
    )
    seconds = int(clock.now)  # a server sending seconds where the spec says ms
    book.override(
        "secs",
        {
            "id": "secs",
            "status": "completed",
            "created_at": seconds - 60,
            "results": [{"id": "c3", "title": "Secs", "expire_at": seconds + 86_400}],
        },
    )
    recent, _ = logs.setup(tmp_path / "logs", "sk-mm-unused")
    try:
        app = make_app(sim_server, data_dir, clock, ids=["huge", "secs"])
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_for(pilot, lambda: app.records["huge"].task is not None)
            await wait_for(pilot, lambda: app.records["secs"].finished)
            await wait_for(pilot, lambda: "Big" in region_text(app, app.main.detail))
            detail = region_text(app, app.main.detail)
            assert "Created    —" in detail and "Length     —" in detail
            assert re.search(r"\d{20,}", screen_text(app)) is None  # no 400-digit numbers
            clip = app.records["secs"].task.results[0]
            assert clip.expire_at == (seconds + 86_400) * 1000  # read as seconds
            await pilot.press("j")
            await wait_for(pilot, lambda: "1d" in region_text(app, app.main.detail))
            assert "expired" not in region_text(app, app.main.detail)
        logged = "\n".join(recent.lines)
        assert "created_at a 401-digit number is out of range" in logged
        assert "expire_at -5 is out of range" in logged
        assert f"expire_at {seconds + 86_400} looks like seconds" in logged
        # The unfinished task and its values were saved: the next start is fine.
        again = make_app(sim_server, data_dir, clock)
        async with again.run_test(size=(160, 40)) as pilot:
            await wait_for(pilot, lambda: again.records["huge"].task is not None)
            await wait_for(pilot, lambda: "Big" in screen_text(again))
    finally:
        logs.teardown()


async def test_invisible_and_bidi_characters_in_titles_are_made_visible(
    sim_server, data_dir: Path, clock: FakeClock
) -> None:
    title = "A\u200bB\u061cC\ufeffD\u202eE 👨\u200d👩\u200d👧"  # the joiners stay: emoji
    sim_server.sim.book.override(
        "inv", {"id": "inv", "status": "completed", "results": [{"id": "c", "title": title}]}
    )
    app = make_app(sim_server, data_dir, clock, ids=["inv"])
    async with app.run_test(size=(160, 40)) as pilot:
        shown = "A\\u200bB\\u061cC\\ufeffD\\u202eE 👨\u200d👩\u200d👧"
        await wait_for(pilot, lambda: shown in region_text(app, app.main.detail))
        assert "\u200b" not in screen_text(app) and "\u202e" not in screen_text(app)


# -- downloads ----------------------------------------------------------------------


async def test_clips_with_null_int_or_duplicate_ids_each_get_their_own_file(
    sim_server, data_dir: Path, clock: FakeClock, music: Path
) -> None:
    """Null, integer and repeated clip IDs with one title once all landed on
    ``Same [clip].mp3``, each reported "Saved"; across tasks too."""
    files_url = f"{sim_server.url}/files"
    same = [
        {"id": clip_id, "title": "Same", "audio_url": f"{files_url}/{name}.mp3", "expire_at": 0}
        for clip_id, name in [(None, "a"), (7, "b"), ("dup", "c"), ("dup", "d")]
    ]
    book = sim_server.sim.book
    book.override("t1", {"id": "t1", "status": "completed", "results": same})
    book.override("t2", {"id": "t2", "status": "completed", "results": same[:1]})
    app = make_app(sim_server, data_dir, clock, ids=["t1", "t2"], download_dir=music)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.records["t1"].finished and app.records["t2"].finished)
        await pilot.press("D")
        await wait_for(pilot, lambda: len(app.records["t1"].downloads) == 4)
        await pilot.press("j", "D")
        await wait_for(pilot, lambda: len(app.records["t2"].downloads) == 1)
        saved = [p for r in ("t1", "t2") for p in app.records[r].downloads.values()]
        await wait_for(pilot, lambda: "Saved" in screen_text(app))
    audio = sorted(p for p in music.iterdir() if p.suffix == ".mp3")
    assert len(audio) == 5 and len(set(saved)) == 5
    assert sorted(Path(p) for p in saved) == audio
    owners = set()
    for path in audio:
        meta = json.loads(path.with_suffix(".json").read_text())
        owners.add((meta["task_id"], meta["clip_key"]))
    assert owners == {("t1", "#1"), ("t1", "#2"), ("t1", "#3"), ("t1", "#4"), ("t2", "#1")}


def _clip(sim_server, name: str, duration: float = 1.0) -> Clip:
    return Clip(name, f"{sim_server.url}/files/{name}.mp3", None, "T", duration, None, None, 0)


async def test_an_endless_download_stops_at_the_size_cap_and_leaves_nothing(
    sim_server, tmp_path: Path
) -> None:
    sim_server.sim.file_faults["big"] = Fault.endless_file()
    folder = tmp_path / "out"
    folder.mkdir()
    async with Downloader(folder, max_bytes=256 * 1024) as downloader:
        with pytest.raises(DownloadError, match=r"larger than the 0\.25 MB limit"):
            await downloader.save_clip(_clip(sim_server, "big"), "t")
    assert list(folder.iterdir()) == []  # no .part left behind


async def test_a_body_longer_than_announced_is_not_reported_saved(
    sim_server, tmp_path: Path
) -> None:
    """Content-Length: 100 on a whole MP3: 100 bytes arrive, which cannot hold
    95 s of audio."""
    sim_server.sim.file_faults["short"] = Fault(short_length=100)
    folder = tmp_path / "out"
    folder.mkdir()
    async with Downloader(folder, retry_base=0.01) as downloader:
        with pytest.raises(DownloadError, match="too small for 1:35 of audio"):
            await downloader.save_clip(_clip(sim_server, "short", duration=95), "t")
    assert list(folder.iterdir()) == []


async def test_a_tiny_audio_file_of_unknown_length_is_not_reported_saved(
    sim_server, tmp_path: Path
) -> None:
    sim_server.sim.file_faults["tiny"] = Fault(short_length=100)
    folder = tmp_path / "out"
    folder.mkdir()
    clip = Clip("tiny", f"{sim_server.url}/files/tiny.mp3", None, "T", None, None, None, 0)
    async with Downloader(folder, retry_base=0.01) as downloader:
        with pytest.raises(DownloadError, match="only 100 bytes: too small for a track"):
            await downloader.save_clip(clip, "t")
    assert list(folder.iterdir()) == []


async def test_a_trickling_download_fails_at_the_rate_floor(sim_server, tmp_path: Path) -> None:
    sim_server.sim.file_faults["slow"] = Fault.slow_file(0.2)  # an eighth per 200 ms
    folder = tmp_path / "out"
    folder.mkdir()
    floor = (1024 * 1024, 0.2)  # at least 1 MB in every 0.2 s
    async with Downloader(folder, retry_base=0.01, min_rate=floor) as downloader:
        started = time.monotonic()
        with pytest.raises(DownloadError, match="stalled"):
            await downloader.save_clip(_clip(sim_server, "slow"), "t")
    assert time.monotonic() - started < 5
    assert list(folder.iterdir()) == []


def test_wait_download_keeps_to_the_timeout_and_leaves_no_part_file(
    sim_server, tmp_path: Path, monkeypatch, capsys
) -> None:
    from tui.cli.main import main

    monkeypatch.setenv("MUSICMINT_API_KEY", KEY)
    monkeypatch.setenv("MUSICMINT_BASE_URL", sim_server.url)
    plan = sim_server.sim.book.seed("dlt", outcome="completed", expiries=("week",), age=60)
    assert plan is not None
    payload = sim_server.sim.book.payload("dlt", f"{sim_server.url}/files")
    clip_id = payload["results"][0]["id"]
    sim_server.sim.file_faults[clip_id] = Fault.slow_file(10)  # 80 s for the file
    out = tmp_path / "out"
    started = time.monotonic()
    status = main(["wait", "dlt", "--interval", "0.05", "--timeout", "1", "--download", str(out)])
    assert status == 3  # the timeout's exit status
    assert time.monotonic() - started < 3
    assert "--timeout reached while downloading" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == []  # no .part, no sidecar


# -- slow answers ---------------------------------------------------------------------


async def test_eight_trickling_answers_do_not_starve_a_healthy_task(sim_server) -> None:
    """Eight answers trickling a byte a second once held all eight slots: a
    healthy task went unpolled for 40 s. It keeps its 5 s cadence (±1 s) now."""
    from tui.api import MusicMintClient
    from tui.services.poller import Polled, Poller

    sim = sim_server.sim
    for i in range(8):
        sim.inject(f"slow{i}", Fault.trickling(1.0))
        sim.book.seed(f"slow{i}", queued_for=1000)
    sim.book.seed("healthy", queued_for=1000)
    polled: list[float] = []

    def on_event(event: object) -> None:
        if isinstance(event, Polled) and event.task_id == "healthy":
            polled.append(time.monotonic())

    # A 1 s deadline: the trickles time out during the test, as after 15 s in
    # use; the link must not be judged offline while the healthy task answers.
    async with MusicMintClient(sim_server.url, KEY, timeout=1.0, max_connections=32) as client:
        poller = Poller(client, on_event, interval=5.0, max_concurrency=8)
        for i in range(8):
            poller.track(f"slow{i}")
        poller.track("healthy")
        started = time.monotonic()
        runner = asyncio.create_task(poller.run())
        try:
            async with asyncio.timeout(15):
                while len(polled) < 2:
                    await asyncio.sleep(0.05)
        finally:
            poller.stop()
            runner.cancel()
    assert polled[0] - started < 1.0  # waited at most for the slow ones' slots
    assert 4.0 <= polled[1] - polled[0] <= 6.0, polled  # 5 s ± 1 s


def test_wait_against_a_gzip_bomb_peaks_under_100_mb(sim_server, tmp_path: Path) -> None:
    """64 MB of zeros in a 64 KB gzip body, every answer: decoding stops at the
    8 MB cap. Measured in a grandchild so no other process's peak counts."""
    import subprocess
    import sys

    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    sim_server.sim.inject("bomb", Fault(status=200, body=gzip_bomb(), headers=headers))
    measure = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print(done.stderr, file=sys.stderr)\n"
    )
    command = [sys.executable, "-m", "tui", "wait", "bomb", "--timeout", "1", "--interval", "0.05"]
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "MUSICMINT_API_KEY": KEY,
        "MUSICMINT_BASE_URL": sim_server.url,
    }
    done = subprocess.run(
        [sys.executable, "-c", measure, *command],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    status, peak_kb = (int(x) for x in done.stdout.split())
    assert status == 3, done.stderr  # timed out: the bomb is an error, retried
    assert "larger than 8 MB" in done.stderr
    assert len(sim_server.sim.task_requests("bomb")) >= 2  # it kept polling
    assert peak_kb / 1024 < 100, f"peak RSS {peak_kb / 1024:.0f} MB"  # 45 MB here


# -- many results -----------------------------------------------------------------------


async def test_a_task_with_10000_clips_opens_with_a_window_of_cards(
    sim_server, data_dir: Path, clock: FakeClock, monkeypatch
) -> None:
    """One widget per clip froze the UI for 10-32 s and grew memory by 550 MB."""
    from tui.ui.widgets import detail_pane

    monkeypatch.setattr(detail_pane, "MAX_CARDS", 5)  # fewer key presses to walk past it
    MAX_CARDS = 5

    clips = [{"id": f"c{i}", "title": f"Take {i + 1}", "expire_at": 0} for i in range(10_000)]
    sim_server.sim.book.override("many", {"id": "many", "status": "completed", "results": clips})
    sim_server.sim.book.seed("small", outcome="completed", age=60)
    app = make_app(sim_server, data_dir, clock, ids=["small", "many"])
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.records["many"].finished, timeout=10)
        await wait_for(pilot, lambda: app.main.table.cells("many")["clips"].plain == "10k")
        await pilot.press("j")
        detail = app.main.detail
        await wait_for(pilot, lambda: "of 10,000 shown" in region_text(app, detail))
        assert len(detail.query(".clip")) == MAX_CARDS
        assert f"Clips 1–{MAX_CARDS} of 10,000 shown" in region_text(app, detail)
        await pilot.press("enter")  # into the clips; j walks past the window
        for _ in range(MAX_CARDS):
            await pilot.press("j")
        beyond = MAX_CARDS + 1
        await wait_for(pilot, lambda: f"Clip {beyond} " in region_text(app, detail))
        assert f"Take {beyond}" in region_text(app, detail)
        more = str(detail.query_one("#detail-more").render())
        assert f"Clips 2–{beyond} of 10,000 shown" in more


# -- secrets ---------------------------------------------------------------------------


async def test_the_header_says_when_the_key_would_travel_unencrypted(
    sim_server, data_dir: Path, clock: FakeClock
) -> None:
    app = make_app(sim_server, data_dir, clock, base_url="http://api.example.invalid")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: "⚠ http" in screen_text(app).splitlines()[0])
    safe = make_app(sim_server, data_dir, clock)  # http:// to this machine: fine
    async with safe.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: "nothing to poll" in screen_text(safe).splitlines()[0])
        assert "⚠ http" not in screen_text(safe)


# -- the data folder ---------------------------------------------------------------------


def test_an_unwritable_data_folder_is_one_clear_line(tmp_path: Path) -> None:
    """As root, chmod does not stop writes; /proc does, for everyone."""
    import subprocess
    import sys

    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": "/proc/musicmint-no-such-place",
        "MUSICMINT_API_KEY": KEY,
    }
    done = subprocess.run(
        [sys.executable, "-m", "tui", "some-task"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert "cannot use the data folder /proc/musicmint-no-such-place/musicmint-tui" in done.stderr
    assert "Traceback" not in done.stderr


async def test_quitting_with_unsaved_changes_says_so_and_exits_non_zero(
    sim_server, data_dir: Path, clock: FakeClock, capsys
) -> None:
    from tui.cli.launch import exit_status
    from tui.core import exit_codes

    app = make_app(sim_server, data_dir, clock)

    def disk_full(changes: object) -> None:
        raise OSError(28, "No space left on device")

    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.loaded)
        app.store._write = disk_full  # type: ignore[method-assign]
        app.track(["kept-in-memory"])
        await wait_for(pilot, lambda: any("No space left" in n for n in notifications(app)))
        await pilot.press("q")
    assert exit_status(app, None) == exit_codes.UNSAVED
    err = capsys.readouterr().err
    assert "1 task change(s) could not be saved to" in err
    assert "No space left on device" in err


def test_wait_caps_a_huge_retry_after_like_the_dashboard(sim_server, monkeypatch, capsys) -> None:
    from tui.cli.main import main
    from tui.services.poller import MAX_PAUSE

    monkeypatch.setenv("MUSICMINT_API_KEY", KEY)
    monkeypatch.setenv("MUSICMINT_BASE_URL", sim_server.url)
    sim_server.sim.inject("rl", Fault.rate_limited("1000000000000"))
    status = main(["wait", "rl", "--timeout", "0.5", "--interval", "0.05"])
    err = capsys.readouterr().err
    assert status == 3
    assert f"rate limited, pausing {MAX_PAUSE:.0f}s" in err
    assert "1000000000000" not in err


async def test_megabytes_of_title_and_prompt_are_cut_and_shown_at_once(
    sim_server, data_dir: Path, clock: FakeClock
) -> None:
    """One clip with a 1 MB title and a 6 MB prompt took 20 s to lay out."""
    clip = {"id": "c", "title": "T" * 1_000_000, "prompt": "p " * 3_000_000, "expire_at": 0}
    sim_server.sim.book.override("long", {"id": "long", "status": "completed", "results": [clip]})
    app = make_app(sim_server, data_dir, clock, ids=["long"])
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.records["long"].finished, timeout=10)
        title = app.records["long"].task.results[0].title
        assert title is not None and len(title) == 300 and title.endswith("…")
        await wait_for(pilot, lambda: "TTTT" in region_text(app, app.main.detail))


# -- idle ------------------------------------------------------------------------------


async def test_at_rest_the_heartbeat_sleeps_until_the_next_change_and_wakes_on_news(
    sim_server, data_dir: Path, clock: FakeClock
) -> None:
    """Every wake-up costs CPU (a 1 s Textual timer: ~0.8 % of a core here),
    so with nothing counting seconds on screen the heartbeat sleeps."""
    sim_server.sim.book.seed("old", outcome="completed", expiries=("never",), age=3 * 86_400)
    app = make_app(sim_server, data_dir, clock, ids=["old"])
    app.quiet_max = 30.0
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.records["old"].finished and not app.poller.tracked)
        clock.advance(120)  # "polled 0s ago" counts seconds; two minutes on, minutes
        await wait_for(pilot, lambda: app._next_beat() > 5, timeout=10)  # saved, at rest
        app.track(["fresh"])  # news: beat at once again
        assert app._beat_due - time.monotonic() <= app.tick_interval + 0.01
        await wait_for(pilot, lambda: app.records["fresh"].last_poll is not None)
