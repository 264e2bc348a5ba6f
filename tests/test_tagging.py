"""ID3 tags in saved MP3s: what tag_mp3 writes, and downloads that are tagged
before they are renamed into place (against the simulator's file server)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutagen import MutagenError
from mutagen.id3 import ID3, TALB

from tui.services.tagging import MAX_LYRICS_BYTES, MAX_TITLE, cover_type, genre, tag_mp3

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
        "cover_mime": "image/jpeg",
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
    tag(path, cover=PNG, cover_mime="image/jpeg")  # the server's claim is only a hint
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
