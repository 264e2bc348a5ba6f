"""Downloads, import and export, against the simulator and on real files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tui.api.models import Clip
from tui.cli.main import main
from tui.domain.tracked import TrackedTask
from tui.services.downloads import Downloader, DownloadError
from tui.services.saved_files import safe_name
from tui.services.store import TaskStore
from tui.simulator import Fault

from .conftest import KEY
from .harness import loaded, make_app, notifications, screen_text, wait_for

SIZE = (160, 40)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def music(tmp_path: Path) -> Path:
    return tmp_path / "music"


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


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
        sim.file_faults[clip.id] = Fault.slow_file(0.2)  # 8 KB at 1 KB / 200 ms
        await pilot.press("d")
        await wait_for(pilot, lambda: "KB of 8.1 KB" in screen_text(app))
        assert "Downloads (1 running)" in screen_text(app)
        await pilot.press("d")  # again: cancel
        await wait_for(pilot, lambda: "cancelled" in screen_text(app))
        assert app.records["slow"].downloads == {}
    assert files(music) == []  # the partial file was removed


async def test_indeterminate_progress_without_content_length(sim_server, tmp_path):
    sim_server.sim.file_faults["c1"] = Fault.slow_file(0.01, no_length=True)
    seen: list[int | None] = []
    clip = Clip("c1", f"{sim_server.url}/files/c1.mp3", None, "T", 1.0, None, None, 0)
    async with Downloader(tmp_path) as downloader:
        saved = await downloader.save_clip(clip, "t", lambda p: seen.append(p.total))
    assert saved.audio.exists() and seen and all(total is None for total in seen)


async def test_server_error_then_success_retries(sim_server, tmp_path):
    sim_server.sim.file_faults["c2"] = Fault.html_error(500, times=1)
    clip = Clip("c2", f"{sim_server.url}/files/c2.mp3", None, "T", 1.0, None, None, 0)
    states: list[str] = []
    async with Downloader(tmp_path, retry_base=0.05) as downloader:
        saved = await downloader.save_clip(clip, "t", lambda p: states.append(p.state))
    assert saved.audio.exists()
    assert "retrying" in states and states[-1] == "done"


async def test_truncated_body_is_rejected_not_renamed(sim_server, tmp_path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    sim_server.sim.file_faults["c3"] = Fault.truncated()  # stays: every attempt is cut short
    clip = Clip("c3", f"{sim_server.url}/files/c3.mp3", None, "T", 1.0, None, None, 0)
    async with Downloader(tmp_path, retry_base=0.01) as downloader:
        with pytest.raises(DownloadError, match=r"incomplete|transfer failed"):
            await downloader.save_clip(clip, "t")
    assert files(tmp_path) == []


async def test_not_audio_is_rejected(sim_server, tmp_path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    clip = Clip("c4", f"{sim_server.url}/files/c4.jpg", None, "T", 1.0, None, None, 0)
    async with Downloader(tmp_path) as downloader:
        with pytest.raises(DownloadError, match="not an MP3"):
            await downloader.save_clip(clip, "t")
    assert files(tmp_path) == []


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


def test_safe_name_examples() -> None:
    assert safe_name("../../etc/passwd", "c1") == "etc passwd [c1]"
    assert safe_name("", None) == "untitled [clip]"
    assert safe_name("...", "x") == "untitled [x]"
    assert safe_name("a\nb\tc", "x") == "a b c [x]"
    assert "/" not in safe_name("x/y", "../../z")


async def test_same_name_different_clip_does_not_overwrite(sim_server, tmp_path):
    clips = [
        Clip(cid, f"{sim_server.url}/files/{cid}.mp3", None, "Same", 1.0, None, None, 0)
        for cid in ("aa", "aa", "bb")
    ]
    async with Downloader(tmp_path) as downloader:
        first = await downloader.save_clip(clips[0], "t")
        again = await downloader.save_clip(clips[1], "t")
        other = await downloader.save_clip(clips[2], "t")
    assert first.audio == again.audio  # same clip: same file, refreshed
    assert first.audio.name == "Same [aa].mp3" and other.audio.name == "Same [bb].mp3"


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
        await wait_for(pilot, lambda: "⚠ 1 expiring soon, not downloaded" in screen_text(app))
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


async def test_import_adds_exactly_the_missing_tasks(sim_server, data_dir, clock):
    book = sim_server.sim.book
    for i in range(230):
        book.seed(f"acct{i:03d}", outcome="completed", age=1000 + i)
    # Tracked already: two account tasks and one the simulator learns of by polling.
    app = make_app(sim_server, data_dir, clock, ids=["acct005", "acct100", "mine"])
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("I")
        await wait_for(pilot, lambda: len(app.records) == 231)
        assert (
            "Imported 228 new task(s) from 3 page(s); 3 were already tracked"
            in (notifications(app)[-1])
        )
    pages = [r for r in sim_server.sim.requests if r.path == "/api/v1/tasks"]
    assert [json.loads(r.body)["page"] for r in pages] == [1, 2, 3]
    assert all(json.loads(r.body)["page_size"] == 100 for r in pages)


def _seed_store() -> None:
    from tui.api.models import Task
    from tui.core import locations

    clip1 = Clip(
        "c1",
        "https://x/1.mp3",
        "https://x/1.jpg",
        "=HYPERLINK(evil)",
        61.0,
        "pop",
        'say "hi", then\nleave',
        0,
    )
    clip2 = Clip("c2", "https://x/2.mp3", None, "Second", 62.0, None, None, 1_800_000_000_000)
    TaskStore(locations.data_dir() / "tasks.toml").save(
        [
            TrackedTask(
                "t1",
                1.0,
                Task("t1", "completed", 1_700_000_000_000, (clip1, clip2)),
                downloads={"c1": "/music/a.mp3"},
            ),
            TrackedTask("t2", 2.0, Task("t2", "failed", None, (), "boom")),
            TrackedTask("t3", 3.0),
        ]
    )


def test_export_json_round_trips(capsys) -> None:
    _seed_store()
    assert main(["export", "--format", "json"]) == 0
    tasks = json.loads(capsys.readouterr().out)
    assert [t["id"] for t in tasks] == ["t1", "t2", "t3"]
    assert [c["id"] for c in tasks[0]["results"]] == ["c1", "c2"]
    assert tasks[0]["results"][0]["saved_path"] == "/music/a.mp3"
    assert tasks[1]["error"] == "boom" and tasks[2]["status"] == "pending"


def test_export_csv_has_header_and_a_row_per_clip(capsys) -> None:
    _seed_store()
    assert main(["export", "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][:4] == ["task_id", "task_status", "task_created_at", "clip_id"]
    assert [r[3] for r in rows[1:]] == ["c1", "c2"]
    assert rows[1][4] == "'=HYPERLINK(evil)"  # not a formula in a spreadsheet
    assert rows[1][7] == 'say "hi", then\nleave'


def test_wait_download(sim_server, monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.setenv("MUSICMINT_API_KEY", KEY)
    monkeypatch.setenv("MUSICMINT_BASE_URL", sim_server.url)
    sim_server.sim.book.seed("w1", outcome="completed", expiries=("week", "week"), age=60)
    out = tmp_path / "out"
    assert main(["wait", "w1", "--interval", "0.05", "--download", str(out)]) == 0
    assert len(list(out.glob("*.mp3"))) == 2 and len(list(out.glob("*.json"))) == 2
    assert capsys.readouterr().err.count("saved ") == 2


async def test_long_emoji_title_gets_a_bounded_name(sim_server, tmp_path):
    clip = Clip(
        "c9",
        f"{sim_server.url}/files/c9.mp3",
        f"{sim_server.url}/files/c9.jpg",
        "🎵" * 80,
        1.0,
        None,
        None,
        0,
    )
    async with Downloader(tmp_path / "out") as downloader:
        saved = await downloader.save_clip(clip, "t")
    assert len(saved.audio.name.encode()) < 200
    assert saved.sidecar.exists() and saved.cover is not None
    assert saved.audio.stat().st_mode & 0o044  # readable by others, as the umask allows


async def test_unwritable_folder_is_a_clear_error(sim_server, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    clip = Clip("c8", f"{sim_server.url}/files/c8.mp3", None, "T", 1.0, None, None, 0)
    async with Downloader(blocker / "sub") as downloader:
        with pytest.raises(DownloadError, match="cannot create"):
            await downloader.save_clip(clip, "t")


def test_mpeg_frame_sync_variants_are_audio() -> None:
    from tui.services.saved_files import looks_like as _looks_like

    for head in (b"ID3\x04", b"\xff\xfb\x90", b"\xff\xfa\x90", b"\xff\xf3\x40", b"\xff\xe3\x18"):
        assert _looks_like(head, "audio") == ".mp3"
    assert _looks_like(b"<html>", "audio") is None


async def test_cancel_during_cover_leaves_no_orphan(sim_server, data_dir, clock, music):
    sim = sim_server.sim
    sim.book.seed("cov", outcome="completed", expiries=("week",), age=60)
    app = make_app(sim_server, data_dir, clock, ids=["cov"], download_dir=music)
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


def test_export_leaves_a_corrupt_file_alone(capsys) -> None:
    from tui.core import locations

    path = locations.data_dir() / "tasks.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("not [toml")
    assert main(["export"]) == 2
    assert path.read_text() == "not [toml"
    assert sorted(p.name for p in path.parent.iterdir()) == ["tasks.toml"]
    assert "corrupt" in capsys.readouterr().err


async def test_dashboard_retries_a_500_then_saves(sim_server, data_dir, clock, music):
    sim = sim_server.sim
    sim.book.seed("r500", outcome="completed", expiries=("week",), age=60)
    app = make_app(sim_server, data_dir, clock, ids=["r500"], download_dir=music)
    app.downloads.downloader.retry_base = 1.0  # the "retrying" row shows for 0.5-1 s
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.records["r500"].finished)
        clip = app.records["r500"].task.results[0]
        sim.file_faults[clip.id] = Fault.html_error(500, times=1)
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


async def test_import_flag_with_a_status_filter(sim_server, data_dir, clock):
    book = sim_server.sim.book
    book.seed("ok1", outcome="completed", age=1000)
    book.seed("ok2", outcome="completed", age=1001)
    book.seed("bad1", outcome="failed", age=1002)
    app = make_app(sim_server, data_dir, clock)
    app._import_status = "completed"  # as `--import-recent completed` sets it
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: set(app.records) == {"ok1", "ok2"})
    body = next(r.body for r in sim_server.sim.requests if r.path == "/api/v1/tasks")
    assert json.loads(body)["status"] == 2


def test_import_recent_flag_parses() -> None:
    from tui.cli.main import _dashboard_parser

    assert _dashboard_parser().parse_args(["--import-recent"]).import_recent == "all"
    args = _dashboard_parser().parse_args(["--import-recent", "failed", "t1"])
    assert args.import_recent == "failed" and args.task_ids == ["t1"]
