"""ID3 tags for a saved MP3: title, artist, genre, lyrics, IDs and cover art.

No Textual and no network here: :mod:`tui.services.downloads` calls
:func:`tag_mp3` on the verified temporary file, before it is renamed into
place, so the file under its final name is tagged from the first moment it
exists (a crash leaves the ``.part`` file, never a half-tagged track).

Tags are written as **ID3v2.3** (text in UTF-16): Windows Explorer and Windows
Media Player, older iTunes, many car stereos and hardware players read v2.3
but not v2.4, while every player that reads v2.4 (VLC, foobar2000, mpv,
Apple Music, Android) also reads v2.3. Nothing written here needs v2.4
(no UTF-8 text, no v2.4-only frames).

All text comes from the server: it is cleaned of control characters (shown
as visible escapes, :func:`tui.core.sanitize.clean`) and bounded before it is
written.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from mutagen.id3 import (
    APIC,
    COMM,
    ID3,
    TCON,
    TIT2,
    TPE1,
    USLT,
    Encoding,
    ID3NoHeaderError,
    PictureType,
)

from tui.core.logs import log
from tui.core.sanitize import clean
from tui.services.saved_files import looks_like

#: ID3v2 minor version written (see the module docstring for why 3).
ID3_VERSION = 3
ARTIST = "MusicMint"
#: Bounds on what goes into the tags (characters unless said otherwise).
MAX_TITLE = 300
MAX_GENRE = 100
MAX_ID = 200
#: Lyrics: UTF-8 bytes of the prompt kept (a prompt is at most 10,000
#: characters from the API, but this function trusts nobody).
MAX_LYRICS_BYTES = 20 * 1024
#: The largest cover embedded; a larger one is left out of the tags.
MAX_COVER_BYTES = 5 * 1024 * 1024
#: ID3 language code for the comment and the lyrics: "eng" is what players
#: look for (the prompt's real language is not known).
LANG = "eng"

#: The image kinds ID3 players show, by the extension :func:`looks_like` gives.
_COVER_MIME = {".jpg": "image/jpeg", ".png": "image/png"}


def cover_type(data: bytes | None) -> str | None:
    """The MIME type the bytes justify for an embedded cover: JPEG or PNG (what
    ID3 players show), within :data:`MAX_COVER_BYTES`; else ``None``."""
    if not data or len(data) > MAX_COVER_BYTES:
        return None
    return _COVER_MIME.get(looks_like(data[:12], "image") or "")


def _line(text: str | None, limit: int) -> str:
    text = clean(text, one_line=True).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bounded_bytes(text: str, limit: int) -> str:
    """``text`` cut (with ``…``) to at most ``limit`` bytes of UTF-8."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", errors="ignore") + "…"


def genre(tags: str | None) -> str:
    """The genre from a clip's tags: the first comma-separated tag ("pop" of
    "pop, upbeat, female vocals"), or the whole string when it has no comma."""
    first = next((t for t in (tags or "").split(",") if t.strip()), "")
    return _line(first, MAX_GENRE)


def comment(task_id: str | None, clip_id: str | None) -> str:
    return f"task {_line(task_id, MAX_ID) or '?'}, clip {_line(clip_id, MAX_ID) or '?'}"


def build_tags(
    existing: ID3 | None,
    *,
    title: str | None,
    tags: str | None,
    prompt: str | None,
    task_id: str | None,
    clip_id: str | None,
    cover: bytes | None,
) -> ID3:
    """The tag to write: ``existing`` (the server's own, if any) with our frames
    set over it, converted for ID3v2.3."""
    id3 = existing if existing is not None else ID3()
    utf16 = Encoding.UTF16
    if text := _line(title, MAX_TITLE):
        id3.setall("TIT2", [TIT2(encoding=utf16, text=[text])])
    id3.setall("TPE1", [TPE1(encoding=utf16, text=[ARTIST])])
    if text := genre(tags):
        id3.setall("TCON", [TCON(encoding=utf16, text=[text])])
    if lyrics := _bounded_bytes(clean(prompt).strip(), MAX_LYRICS_BYTES):
        id3.setall("USLT", [USLT(encoding=utf16, lang=LANG, desc="", text=lyrics)])
    id3.setall("COMM", [COMM(encoding=utf16, lang=LANG, desc="", text=[comment(task_id, clip_id)])])
    if mime := cover_type(cover):
        id3.setall(
            "APIC",
            [
                APIC(
                    encoding=utf16,
                    mime=mime,
                    type=PictureType.COVER_FRONT,
                    desc="Cover",
                    data=cover,
                )
            ],
        )
    id3.update_to_v23()
    return id3


def tag_mp3(
    path: Path,
    *,
    title: str | None,
    tags: str | None,
    prompt: str | None,
    task_id: str | None,
    clip_id: str | None,
    cover: bytes | None,
) -> None:
    """Write ID3v2.3 tags into the MP3 at ``path`` (in place, as far as anyone
    looking at ``path`` can tell: a tagged copy replaces it in one rename).

    TIT2 ``title``, TPE1 "MusicMint", TCON the first of ``tags``, USLT the
    ``prompt`` (at most 20 KB), COMM "task <id>, clip <id>", and APIC the front
    cover when ``cover`` is JPEG or PNG of at most 5 MB. The bytes decide (a
    server's Content-Type is not asked), and a cover that is neither (or too
    big) is left out while everything else is written.

    Never raises for a tagging problem: when mutagen fails (a malformed tag
    already in the file, an unwritable folder, a full disk) the reason is
    logged and ``path`` stays exactly the untagged file it was, so a download
    is never lost to its tags.
    """
    what = f"{_line(title, 80) or 'untitled'} (clip {_line(clip_id, MAX_ID) or '?'})"
    if cover is not None and cover_type(cover) is None:
        log.info(
            "cover not embedded in %s: %s",
            what,
            "larger than 5 MB" if len(cover) > MAX_COVER_BYTES else "not JPEG or PNG",
        )
    copy: str | None = None
    try:
        try:
            existing: ID3 | None = ID3(path)
        except ID3NoHeaderError:
            existing = None
        id3 = build_tags(
            existing,
            title=title,
            tags=tags,
            prompt=prompt,
            task_id=task_id,
            clip_id=clip_id,
            cover=cover,
        )
        fd, copy = tempfile.mkstemp(prefix=".mm-", suffix=".part", dir=path.parent)
        with os.fdopen(fd, "wb") as out, path.open("rb") as source:
            shutil.copyfileobj(source, out, 1024 * 1024)
        id3.save(copy, v2_version=ID3_VERSION)
        with open(copy, "rb+") as handle:
            os.fsync(handle.fileno())
        shutil.copymode(path, copy)
        os.replace(copy, path)
        copy = None
    except Exception as exc:
        # MutagenError, OSError (disk full, folder gone) or a mutagen bug on odd
        # input: none of them may cost the verified download.
        log.warning(
            "tags not written to %s; saved without them: %s: %s", what, type(exc).__name__, exc
        )
    finally:
        if copy is not None:
            with contextlib.suppress(OSError):
                os.unlink(copy)
