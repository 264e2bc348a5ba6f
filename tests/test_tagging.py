"""ID3 tags in saved MP3s: what tag_mp3 writes, and downloads that are tagged
before they are renamed into place (against the simulator's file server)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutagen import MutagenError
from mutagen.id3 import ID3, TALB, ID3NoHeaderError

from tui.api.models import Clip
from tui.services import downloads, tagging
from tui.services.downloads import Downloader
from tui.services.tagging import MAX_LYRICS_BYTES, MAX_TITLE, cover_type, genre, tag_mp3
from tui.simulator import Fault

from .harness import files

ASSETS = Path(__file__).resolve().parents[1] / "assets"
SAMPLE = (ASSETS / "sample.mp3").read_bytes()
COVER = (ASSETS / "cover.jpg").read_bytes()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
#: Anything a terminal or an ID3 reader could trip on.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def mp3(tmp_path: Path, name: str = "t.mp3") -> Path:
    path = tmp_path / "out" / name  # tmp_path also holds the tests' home folder
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(SAMPLE * 4)
    return path


def tag(path: Path, **changes: object) -> None:
    values: dict[str, object] = {
        "title": "Night Drive",
        "tags": "synthwave, retro, female vocals",
        "prompt": "[Verse]\nNeon on the water\n[Chorus]\nDrive",
        "task_id": "task-1",
        "clip_id": "clip-9",
        "cover": COVER,
        **changes,
    }
    tag_mp3(path, **values)  # type: ignore[arg-type]


def text(id3: ID3, frame: str) -> str:
    return str(id3.getall(frame)[0].text[0])


def test_every_tag_reads_back(tmp_path: Path) -> None:
    path = mp3(tmp_path)
    tag(path)
    id3 = ID3(path)
    assert id3.version == (2, 3, 0)
    assert text(id3, "TIT2") == "Night Drive"
    assert text(id3, "TPE1") == "MusicMint"
    assert text(id3, "TCON") == "synthwave"
    assert id3.getall("USLT")[0].text == "[Verse]\nNeon on the water\n[Chorus]\nDrive"
    assert text(id3, "COMM") == "task task-1, clip clip-9"
    (apic,) = id3.getall("APIC")
    assert apic.data == COVER and apic.mime == "image/jpeg" and apic.type == 3
    assert path.read_bytes().endswith(SAMPLE * 4)  # the audio itself untouched
    assert files(path.parent) == ["t.mp3"]  # no copy left behind


def test_png_cover_is_typed_by_its_bytes(tmp_path: Path) -> None:
    path = mp3(tmp_path)
    tag(path, cover=PNG)  # not by what the server called it
    assert ID3(path).getall("APIC")[0].mime == "image/png"


@pytest.mark.parametrize(
    "cover",
    [
        b"<html>502 Bad Gateway</html>",
        b"RIFF\x00\x00\x00\x00WEBPVP8 ",  # a real image, but not one ID3 players show
        b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024),  # past 5 MB
        b"",
    ],
)
def test_a_cover_that_cannot_be_embedded_is_left_out(tmp_path: Path, cover: bytes) -> None:
    path = mp3(tmp_path)
    tag(path, cover=cover)
    id3 = ID3(path)
    assert id3.getall("APIC") == []
    assert text(id3, "TIT2") == "Night Drive"


def test_no_cover_and_no_text_still_says_who_made_it(tmp_path: Path) -> None:
    path = mp3(tmp_path)
    tag(path, cover=None, title=None, tags=None, prompt=None, task_id=None, clip_id=None)
    id3 = ID3(path)
    assert text(id3, "TPE1") == "MusicMint"
    assert text(id3, "COMM") == "task ?, clip ?"
    for frame in ("TIT2", "TCON", "USLT", "APIC"):
        assert id3.getall(frame) == []


def test_genre_is_the_first_tag() -> None:
    assert genre("pop, upbeat") == "pop"
    assert genre(" , jazz,") == "jazz"
    assert genre("lo-fi hip hop") == "lo-fi hip hop"
    assert genre(None) == genre("") == ""
    assert len(genre("x" * 10_000)) == 100


def test_cover_type_by_magic_bytes() -> None:
    assert cover_type(COVER) == "image/jpeg" and cover_type(PNG) == "image/png"
    assert cover_type(b"GIF89a") is None and cover_type(None) is None


def test_hostile_text_is_cleaned_and_bounded(tmp_path: Path) -> None:
    path = mp3(tmp_path)
    nasty = "\x1b]0;owned\x07\x00\u202e\ud800"
    tag(
        path,
        title=nasty + "T" * 5_000,
        tags=nasty + "rock\nroll, pop",
        prompt=(nasty + "la la\n") * 150_000,  # over 1 MB
        task_id="t\r\n1",
        clip_id=nasty,
    )
    id3 = ID3(path)
    for frame in ("TIT2", "TCON", "COMM"):
        value = text(id3, frame)
        assert not CONTROL.search(value) and "\u202e" not in value, frame
    lyrics = id3.getall("USLT")[0].text
    assert not CONTROL.search(lyrics.replace("\n", ""))
    assert "\n" in lyrics  # lyrics keep their lines
    assert len(lyrics.encode()) <= MAX_LYRICS_BYTES
    assert len(text(id3, "TIT2")) <= MAX_TITLE
    assert "\\x1b" in text(id3, "TIT2")  # shown as an escape, not dropped
    assert path.stat().st_size < len(SAMPLE) * 4 + 100_000


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(), st.text(), st.text(), st.text())
def test_any_text_is_written_or_refused_without_harm(
    tmp_path: Path, title: str, tags: str, prompt: str, clip_id: str
) -> None:
    path = mp3(tmp_path)
    tag(path, title=title, tags=tags, prompt=prompt, clip_id=clip_id)
    id3 = ID3(path)
    assert text(id3, "TPE1") == "MusicMint"
    assert path.read_bytes().endswith(SAMPLE * 4)


def test_server_tags_are_kept_and_ours_set_over_them(tmp_path: Path) -> None:
    path = mp3(tmp_path)
    old = ID3()
    old.add(TALB(encoding=3, text=["Server album"]))
    old.save(path)
    tag(path)
    id3 = ID3(path)
    assert text(id3, "TALB") == "Server album" and text(id3, "TIT2") == "Night Drive"


def test_a_mutagen_failure_keeps_the_untagged_file(tmp_path: Path, monkeypatch) -> None:
    path = mp3(tmp_path)
    before = path.read_bytes()

    def broken_save(self, filething=None, **kw):
        Path(filething).write_bytes(b"half a tag")  # the copy torn, then the error
        raise MutagenError("disk on fire")

    monkeypatch.setattr(ID3, "save", broken_save)
    tag(path)  # does not raise
    assert path.read_bytes() == before
    assert files(path.parent) == ["t.mp3"]


def test_a_malformed_tag_in_the_file_keeps_it_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "bad.mp3"
    path.write_bytes(b"ID3\x03\x00\x00\x7f\x7f\x7f\x7f" + SAMPLE)  # a 256 MB tag, 8 KB there
    before = path.read_bytes()
    tag(path)
    assert path.read_bytes() == before  # mutagen refuses it: left alone, not torn


# -- downloads ---------------------------------------------------------------------------


def clip(url: str, cid: str = "c1", **changes: object) -> Clip:
    values: dict[str, object] = {
        "id": cid,
        "audio_url": f"{url}/files/{cid}.mp3",
        "image_url": f"{url}/files/{cid}.jpg",
        "title": "Night Drive",
        "duration": 1.0,
        "tags": "synthwave, retro",
        "prompt": "Neon on the water",
        "expire_at": 0,
        **changes,
    }
    return Clip(**values)  # type: ignore[arg-type]


def file_requests(sim_server, name: str) -> int:
    return sum(r.path.endswith(f"/files/{name}") for r in sim_server.sim.requests)


async def test_a_downloaded_track_carries_its_tags(sim_server, tmp_path: Path) -> None:
    async with Downloader(tmp_path / "out") as downloader:
        saved = await downloader.save_clip(clip(sim_server.url), "task-7")
    id3 = ID3(saved.audio)
    assert text(id3, "TIT2") == "Night Drive"
    assert text(id3, "TPE1") == "MusicMint"
    assert text(id3, "TCON") == "synthwave"
    assert id3.getall("USLT")[0].text == "Neon on the water"
    assert text(id3, "COMM") == "task task-7, clip c1"
    assert id3.getall("APIC")[0].data == COVER
    # The cover file is the same bytes, fetched once for both.
    assert saved.cover is not None and saved.cover.read_bytes() == COVER
    assert file_requests(sim_server, "c1.jpg") == 1
    assert saved.sidecar.exists() and saved.audio.stat().st_mode & 0o044
    assert sorted(files(tmp_path / "out")) == sorted(
        p.name for p in (saved.audio, saved.cover, saved.sidecar)
    )


async def test_embed_tags_off_saves_the_file_as_served(sim_server, tmp_path: Path) -> None:
    async with Downloader(tmp_path, embed_tags=False) as downloader:
        saved = await downloader.save_clip(clip(sim_server.url), "t")
    with pytest.raises(ID3NoHeaderError):
        ID3(saved.audio)
    assert saved.audio.read_bytes().startswith(SAMPLE)
    assert saved.cover is not None and saved.cover.read_bytes() == COVER


async def test_a_corrupt_cover_tags_the_track_without_one(sim_server, tmp_path: Path) -> None:
    bad = Fault(
        status=200, body=b"<html>not a picture</html>", headers={"Content-Type": "image/jpeg"}
    )
    sim_server.sim.file_faults["c2.jpg"] = bad
    async with Downloader(tmp_path, retry_base=0.01) as downloader:
        saved = await downloader.save_clip(clip(sim_server.url, "c2"), "t")
    id3 = ID3(saved.audio)
    assert id3.getall("APIC") == [] and text(id3, "TIT2") == "Night Drive"
    assert saved.cover is None and not any(n.endswith(".jpg") for n in files(tmp_path))


async def test_a_slow_cover_is_given_up_for_the_tags_in_bounded_time(
    sim_server, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(downloads, "COVER_FOR_TAGS_SECONDS", 0.2)
    sim_server.sim.file_faults["c3.jpg"] = Fault.slow_file(0.3, times=1)
    async with Downloader(tmp_path) as downloader:
        saved = await downloader.save_clip(clip(sim_server.url, "c3"), "t")
    assert ID3(saved.audio).getall("APIC") == []
    # ... and the cover file is fetched the usual way after the track.
    assert saved.cover is not None and saved.cover.read_bytes() == COVER


async def test_the_track_has_its_tags_the_moment_it_has_its_name(
    sim_server, tmp_path: Path, monkeypatch
) -> None:
    seen: list[tuple[str, bool]] = []
    real_replace = os.replace

    def watching_replace(src, dst):
        if str(dst).endswith(".mp3"):
            try:
                seen.append((Path(dst).name, bool(ID3(src).getall("TIT2"))))
            except ID3NoHeaderError:
                seen.append((Path(dst).name, False))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", watching_replace)
    async with Downloader(tmp_path) as downloader:
        saved = await downloader.save_clip(clip(sim_server.url, "c4"), "t")
    assert seen == [(saved.audio.name, True)]  # one rename into the name, already tagged


async def test_a_tagging_failure_saves_the_verified_track_untagged(
    sim_server, tmp_path: Path, monkeypatch
) -> None:
    def broken_save(self, filething=None, **kw):
        raise MutagenError("cannot write")

    monkeypatch.setattr(tagging.ID3, "save", broken_save)
    async with Downloader(tmp_path) as downloader:
        saved = await downloader.save_clip(clip(sim_server.url, "c5"), "t")
    with pytest.raises(ID3NoHeaderError):
        ID3(saved.audio)
    assert saved.audio.read_bytes().startswith(SAMPLE)  # the bytes served, whole
    assert saved.sidecar.exists() and saved.cover is not None
    assert not any(n.endswith(".part") for n in files(tmp_path))


async def test_a_failed_cover_for_the_tags_does_not_look_running(sim_server, tmp_path: Path):
    """When the track then fails, nothing else would end the cover's row."""
    sim_server.sim.file_faults["c6"] = Fault.html_error(404)  # cover and audio
    seen: dict[str, str] = {}
    async with Downloader(tmp_path) as downloader:
        with pytest.raises(downloads.DownloadError):
            await downloader.save_clip(
                clip(sim_server.url, "c6"), "t", lambda p: seen.update({p.label: p.state})
            )
    assert seen and all(state in ("done", "failed") for state in seen.values()), seen
