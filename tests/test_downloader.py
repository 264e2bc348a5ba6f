"""Saving clips with the Downloader, no UI: names, checks, retries, `wait --download`."""

from __future__ import annotations

import asyncio

import pytest

from tui.api.models import Clip
from tui.cli.main import main
from tui.services.downloads import Downloader, DownloadError
from tui.services.saved_files import safe_name
from tui.simulator import Fault

from .conftest import KEY
from .harness import files


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


async def test_a_bug_in_a_download_is_reported_not_taken_for_a_cancel(tmp_path) -> None:
    """The queue runs downloads as bare asyncio tasks: an unexpected exception
    must still end as a failure with its reason."""
    from tui.services.download_queue import DownloadDone, DownloadQueue

    class Broken(Downloader):
        async def save_clip(self, clip, task_id, on_progress=lambda p: None, **kw):  # type: ignore[override]
            raise RuntimeError("boom")

    ended: list[DownloadDone] = []
    queue = DownloadQueue(Broken(tmp_path), lambda p: None, ended.append)
    clip = Clip("c1", "https://x/a.mp3", None, "t", 1.0, None, None, 0)
    queue.start("task1", clip, "c1")
    async with asyncio.timeout(5):
        while not ended:
            await asyncio.sleep(0.01)
    assert ended[0].saved is None and ended[0].error == "unexpected RuntimeError: boom"
    assert len(queue) == 0
    await queue.aclose()
