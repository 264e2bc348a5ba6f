"""The media cache against the simulator's file server: what it fetches (and
what it does not), what it refuses, sharing, pruning and cancelling."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from pathlib import Path

import pytest

from tui.api.models import Clip
from tui.core.locations import cache_dir
from tui.services.fetching import file_client
from tui.services.media_cache import JSON_MAX_BYTES, MediaCache, MediaError
from tui.simulator import Fault, SimulatorServer
from tui.simulator.state import assets_dir

from .conftest import KEY
from .harness import files


def _clip(server: SimulatorServer, cid: str, duration: float | None = 1.0) -> Clip:
    base = f"{server.url}/files/{cid}"
    return Clip(cid, f"{base}.mp3", f"{base}.jpg", "T", duration, None, None, 0)


def file_requests(server: SimulatorServer) -> list[str]:
    return [r.path for r in server.sim.requests if r.path.startswith("/files/")]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def wait_until(condition, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.fixture
async def cache(tmp_path: Path):
    async with MediaCache(tmp_path / "cache", retry_base=0.01) as media:
        yield media


async def test_a_saved_file_is_played_without_any_request(sim_server, cache, tmp_path):
    saved = tmp_path / "music" / "Song [c1].mp3"
    saved.parent.mkdir()
    saved.write_bytes((assets_dir() / "sample.mp3").read_bytes())
    assert await cache.audio(_clip(sim_server, "c1"), str(saved)) == saved
    assert file_requests(sim_server) == []
    assert not cache.folder.exists()


async def test_a_saved_file_that_is_not_an_mp3_or_gone_is_fetched_instead(
    sim_server, cache, tmp_path
):
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"<!DOCTYPE html>")
    first = await cache.audio(_clip(sim_server, "c1"), str(broken))
    second = await cache.audio(_clip(sim_server, "c1"), str(tmp_path / "gone.mp3"))
    assert first == second and first.parent == cache.folder / "audio"
    assert file_requests(sim_server) == ["/files/c1.mp3"]


async def test_audio_is_fetched_once_privately_then_served_from_the_cache(sim_server, cache):
    clip = _clip(sim_server, "c2")
    path = await cache.audio(clip)
    again = await cache.audio(clip)
    assert path == again and cache.cached_audio(clip) == path
    assert file_requests(sim_server) == ["/files/c2.mp3"]
    assert path.read_bytes()[:3] == b"ID3" or path.read_bytes()[:2] == b"\xff\xf3"
    assert path.stat().st_size >= 300 * 1024
    assert mode(path) == 0o600
    assert mode(cache.folder) == 0o700 and mode(path.parent) == 0o700
    assert files(path.parent) == [path.name]  # no temporary file left


async def test_the_default_folder_is_the_cache_dir() -> None:
    async with MediaCache(cache_dir()) as media:
        assert media.folder == cache_dir()
        assert media.folder.name == "musicmint-tui"


async def test_a_new_url_for_the_same_clip_is_a_new_file(sim_server, cache):
    clip = _clip(sim_server, "c3")
    moved = Clip("c3", f"{sim_server.url}/files/c3b.mp3", None, "T", 1.0, None, None, 0)
    assert await cache.audio(clip) != await cache.audio(moved)
    assert len(file_requests(sim_server)) == 2


async def test_the_cover_is_fetched_and_checked_as_an_image(sim_server, cache):
    path = await cache.cover(_clip(sim_server, "c4"))
    assert path.suffix == ".jpg" and path.read_bytes()[:3] == b"\xff\xd8\xff"
    assert path.parent == cache.folder / "covers" and mode(path) == 0o600
    assert await cache.cover(_clip(sim_server, "c4")) == path
    assert file_requests(sim_server) == ["/files/c4.jpg"]


async def test_an_html_page_instead_of_an_mp3_is_refused_and_leaves_nothing(sim_server, cache):
    sim_server.sim.file_faults["c5"] = Fault.html_error(200)
    with pytest.raises(MediaError) as info:
        await cache.audio(_clip(sim_server, "c5"))
    assert str(info.value) == (
        "cannot fetch the audio: the file is not an MP3 (it starts with b'<!DOCTYP')"
    )
    assert files(cache.folder / "audio") == []
    assert file_requests(sim_server) == ["/files/c5.mp3"]  # not retried: it will not change


async def test_an_html_page_instead_of_a_cover_is_refused(sim_server, cache):
    sim_server.sim.file_faults["c6.jpg"] = Fault.html_error(200)
    with pytest.raises(MediaError, match=r"^cannot fetch the cover: the file is not an image"):
        await cache.cover(_clip(sim_server, "c6"))
    assert files(cache.folder / "covers") == []


async def test_a_refusal_by_the_file_host_is_said_in_one_line(sim_server, cache):
    sim_server.sim.file_faults["c7"] = Fault.html_error(403)
    with pytest.raises(MediaError) as info:
        await cache.audio(_clip(sim_server, "c7"))
    assert str(info.value) == "cannot fetch the audio: server answered HTTP 403"
    assert len(file_requests(sim_server)) == 1


async def test_a_server_error_is_tried_again(sim_server, cache):
    sim_server.sim.file_faults["c8"] = Fault.html_error(503, times=1)
    path = await cache.audio(_clip(sim_server, "c8"))
    assert path.exists() and len(file_requests(sim_server)) == 2


async def test_a_file_larger_than_the_cap_is_refused(sim_server, tmp_path):
    async with MediaCache(tmp_path / "c", audio_max_bytes=128 * 1024) as media:
        with pytest.raises(
            MediaError, match=r"^cannot fetch the audio: the file is 0\.\d MB, larger"
        ):
            await media.audio(_clip(sim_server, "big"))  # by its Content-Length
        sim_server.sim.file_faults["endless"] = Fault.endless_file()
        with pytest.raises(MediaError, match=r"stopped: larger than the 0\.125 MB limit$"):
            await media.audio(_clip(sim_server, "endless"))  # while streaming
        assert files(media.folder / "audio") == []


async def test_a_cover_has_a_smaller_cap(sim_server, tmp_path):
    async with MediaCache(tmp_path / "c", cover_max_bytes=1024) as media:
        with pytest.raises(MediaError, match=r"larger than the 0\.0009765"):
            await media.cover(_clip(sim_server, "c9"))
        assert files(media.folder / "covers") == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "only http and https links are opened, not file:"),
        ("ftp://example.com/a.mp3", "only http and https links are opened, not ftp:"),
        ("javascript:alert(1)", "only http and https links are opened, not javascript:"),
        (None, "no URL yet"),
    ],
)
async def test_a_url_that_is_not_http_is_refused_without_a_request(sim_server, cache, url, reason):
    clip = Clip("c10", url, url, "T", 1.0, None, None, 0)
    with pytest.raises(MediaError, match=f"^cannot fetch the audio: {reason}"):
        await cache.audio(clip)
    with pytest.raises(MediaError, match=f"^cannot fetch the cover: {reason}"):
        await cache.cover(clip)
    assert sim_server.sim.requests == []


async def test_the_api_key_never_goes_to_the_file_host(sim_server, cache):
    await cache.audio(_clip(sim_server, "c11"))
    await cache.cover(_clip(sim_server, "c11"))
    seen = [r for r in sim_server.sim.requests if r.path.startswith("/files/")]
    assert len(seen) == 2
    assert all(r.authorization == "" for r in seen)
    assert all(r.user_agent.startswith("musicmint-tui/") for r in seen)


async def test_a_client_that_would_send_the_key_is_refused(tmp_path):
    keyed = file_client()
    keyed.headers["Authorization"] = f"Bearer {KEY}"
    try:
        with pytest.raises(ValueError, match="credentials"):
            MediaCache(tmp_path, http=keyed)
    finally:
        await keyed.aclose()


async def test_a_shared_client_is_used_and_left_open(sim_server, tmp_path):
    async with file_client() as http:
        async with MediaCache(tmp_path / "c", http=http) as media:
            await media.audio(_clip(sim_server, "c12"))
        assert not http.is_closed


async def test_concurrent_calls_for_one_clip_share_one_request(sim_server, cache):
    sim_server.sim.file_faults["c13"] = Fault.slow_file(0.01)
    clip = _clip(sim_server, "c13")
    paths = await asyncio.gather(*(cache.audio(clip) for _ in range(5)))
    assert len(set(paths)) == 1
    assert file_requests(sim_server) == ["/files/c13.mp3"]


async def test_cancelling_leaves_no_partial_file(sim_server, cache):
    sim_server.sim.file_faults["c14"] = Fault.slow_file(0.2, times=1)
    clip = _clip(sim_server, "c14")
    audio = cache.folder / "audio"
    task = asyncio.create_task(cache.audio(clip))
    await wait_until(lambda: any(n.endswith(".part") for n in files(audio)))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert files(audio) == []
    assert (await cache.audio(clip)).exists()  # and it can be fetched afterwards


async def test_one_caller_cancelling_does_not_stop_the_others(sim_server, cache):
    sim_server.sim.file_faults["c15"] = Fault.slow_file(0.05)
    clip = _clip(sim_server, "c15")
    leaving = asyncio.create_task(cache.audio(clip))
    staying = asyncio.create_task(cache.audio(clip))
    await wait_until(lambda: any(n.endswith(".part") for n in files(cache.folder / "audio")))
    leaving.cancel()
    path = await staying
    assert path.exists() and leaving.cancelled()
    assert file_requests(sim_server) == ["/files/c15.mp3"]


async def test_closing_the_cache_stops_a_fetch_cleanly(sim_server, tmp_path):
    sim_server.sim.file_faults["c16"] = Fault.slow_file(0.5)
    media = MediaCache(tmp_path / "c")
    waiting = asyncio.create_task(media.audio(_clip(sim_server, "c16")))
    await wait_until(lambda: any(n.endswith(".part") for n in files(media.folder / "audio")))
    await media.aclose()
    with pytest.raises(MediaError, match=r"^cannot fetch the audio: stopped$"):
        await waiting
    assert files(media.folder / "audio") == []


async def test_a_slow_host_is_given_up_on_in_time(sim_server, tmp_path):
    sim_server.sim.file_faults["c17"] = Fault.slow_file(0.5)  # 4 s for the file
    async with MediaCache(tmp_path / "c", max_seconds=0.5) as media:
        started = time.monotonic()
        with pytest.raises(MediaError, match=r"gave up after 0\.5 s \(too slow\)$"):
            await media.audio(_clip(sim_server, "c17"))
        assert time.monotonic() - started < 3
        assert files(media.folder / "audio") == []


async def test_a_trickle_fails_at_the_rate_floor(sim_server, tmp_path):
    sim_server.sim.file_faults["c18"] = Fault.slow_file(0.2)
    floor = (1024 * 1024, 0.2)
    async with MediaCache(tmp_path / "c", min_rate=floor, retry_base=0.01) as media:
        with pytest.raises(MediaError, match="stalled"):
            await media.audio(_clip(sim_server, "c18"))
        assert files(media.folder / "audio") == []


async def test_a_damaged_cached_file_is_fetched_again(sim_server, cache):
    clip = _clip(sim_server, "c19")
    path = await cache.audio(clip)
    path.write_bytes(b"<html>")
    assert await cache.audio(clip) == path
    assert path.read_bytes()[:1] != b"<"
    assert len(file_requests(sim_server)) == 2


# -- pruning ----------------------------------------------------------------------------


def _age(path: Path, seconds_ago: float) -> None:
    when = time.time() - seconds_ago
    os.utime(path, (when, when))


async def test_prune_keeps_the_cap_and_skips_held_files(sim_server, cache):
    a = await cache.audio(_clip(sim_server, "pa"))
    b = await cache.audio(_clip(sim_server, "pb"))
    size = a.stat().st_size
    cache.max_bytes = int(size * 2.5)
    cache.hold(a)
    _age(a, 300)  # the oldest, but playing
    _age(b, 200)
    c = await cache.audio(_clip(sim_server, "pc"))  # over the cap: b goes
    assert a.exists() and not b.exists() and c.exists()
    assert cache.usage() <= cache.max_bytes
    cache.release(a)
    d = await cache.audio(_clip(sim_server, "pd"))  # now a can go
    assert not a.exists() and c.exists() and d.exists()
    assert cache.usage() <= cache.max_bytes


async def test_prune_goes_by_last_use_not_by_age(sim_server, cache):
    clips = [_clip(sim_server, f"u{i}") for i in range(3)]
    paths = [await cache.audio(clip) for clip in clips]
    for i, path in enumerate(paths):
        _age(path, 300 - i)
    await cache.audio(clips[0])  # a cache hit counts as a use
    cache.max_bytes = int(paths[0].stat().st_size * 2.5)
    cache.prune()
    assert [p.exists() for p in paths] == [True, False, True]


def test_prune_never_removes_a_held_file_even_over_the_cap(tmp_path):
    media = MediaCache(tmp_path / "c", max_bytes=10)
    folder = media._folder("audio")
    held = folder / ("a" * 32 + ".mp3")
    held.write_bytes(b"x" * 100)
    with media.holding(held):
        media.prune()
        assert held.exists()
    media.prune()
    assert not held.exists()


def test_prune_removes_stale_temporary_files_only(tmp_path):
    media = MediaCache(tmp_path / "c")
    folder = media._folder("audio")
    stale, live = folder / ".mm-old.part", folder / ".mm-new.part"
    stale.write_bytes(b"x")
    live.write_bytes(b"x")
    _age(stale, 7200)
    media.prune()
    assert not stale.exists() and live.exists()


# -- JSON data --------------------------------------------------------------------------


def test_json_round_trip_private_and_atomic(tmp_path):
    media = MediaCache(tmp_path / "c")
    assert media.read_json("waveform", "c1") is None
    media.write_json("waveform", "c1", {"peaks": [0, 0.5, 1]})
    assert media.read_json("waveform", "c1") == {"peaks": [0, 0.5, 1]}
    assert media.read_json("timeline", "c1") is None
    [path] = (media.folder / "data").iterdir()
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert "c1" not in path.name  # hashed: an ID from the server names no path


def test_json_refuses_too_much_and_non_json(tmp_path):
    media = MediaCache(tmp_path / "c")
    with pytest.raises(MediaError, match=r"^cannot keep the waveform: larger than the 4 MB limit$"):
        media.write_json("waveform", "c1", "x" * JSON_MAX_BYTES)
    with pytest.raises(MediaError, match=r"^cannot keep the waveform: not JSON data"):
        media.write_json("waveform", "c1", {"x": object()})
    with pytest.raises(ValueError, match="not a cache kind"):
        media.write_json("../etc", "c1", {})
    assert files(media.folder / "data") == []


def test_a_damaged_json_file_reads_as_nothing(tmp_path):
    media = MediaCache(tmp_path / "c")
    media.write_json("waveform", "c1", [1, 2])
    [path] = (media.folder / "data").iterdir()
    path.write_bytes(b"{not json")
    assert media.read_json("waveform", "c1") is None
    path.write_bytes(b"[" + b"1," * JSON_MAX_BYTES + b"1]")
    assert media.read_json("waveform", "c1") is None
