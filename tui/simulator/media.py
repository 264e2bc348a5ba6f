"""What the simulator serves for a clip's audio, waveform and lyric timing,
all derived from one file so that they agree.

Every clip's audio is the demo file (``assets/sample.mp3``, made by
:mod:`tui.simulator.make_demo_audio`) played in a loop and cut, at an MP3
frame, to the clip's ``duration``. Its waveform is the real amplitude
envelope of that file (decoded once with ``miniaudio``, then looped the same
way) sampled at regular intervals across the clip, and its timeline spreads
the words of the clip's ``prompt`` (its lyrics) over the clip, in order,
every word ending by ``duration``. An instrumental (empty prompt) has none.
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import Any

import miniaudio

from tui.simulator.state import assets_dir

DEMO_FILE = "sample.mp3"
#: Envelope points per second of audio (each the loudest sample in 20 ms).
ENVELOPE_RATE = 50
#: Waveform points served per second of clip, and at most in all.
POINTS_PER_SECOND = 10
MAX_SERVED_POINTS = 2000
#: Most words a simulated timeline has (a prompt is at most a few thousand characters).
MAX_SERVED_WORDS = 2000
#: Seconds before the first word and after the last (at most a tenth of the clip each).
INTRO = 4.0
#: A sung word lasts at most this long.
MAX_WORD_STEP = 0.6
_SECTION = re.compile(r"^\s*\[[^\]]*\]\s*$")  # "[Verse]", "[Chorus]": not sung

# MPEG audio layer III frame headers: bit rates (kbit/s) by version, sample rates.
_BITRATES = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


@functools.cache
def demo_audio() -> bytes:
    return (assets_dir() / DEMO_FILE).read_bytes()


def mp3_frames(data: bytes) -> tuple[list[int], int, int]:
    """(offset of every MPEG layer III frame, samples per frame, sample rate)
    of a file that is frames only (as the demo is: no ID3 or Xing tag)."""
    offsets: list[int] = []
    pos = 0
    per_frame = rate = 0
    while pos + 4 <= len(data):
        b1, b2 = data[pos + 1], data[pos + 2]
        version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
        if data[pos] != 0xFF or b1 & 0xE0 != 0xE0 or version == 1 or layer != 1:
            raise ValueError(f"no MP3 frame at byte {pos}")
        kbps = _BITRATES[1 if version == 3 else 2][b2 >> 4]
        rate_index = (b2 >> 2) & 3
        if kbps == 0 or rate_index == 3:
            raise ValueError(f"unsupported MP3 frame at byte {pos}")
        rate = _RATES[version][rate_index]
        per_frame = 1152 if version == 3 else 576
        size = (144 if version == 3 else 72) * kbps * 1000 // rate + ((b2 >> 1) & 1)
        offsets.append(pos)
        pos += size
    if not offsets:
        raise ValueError("no MP3 frames")
    return offsets, per_frame, rate


@functools.cache
def _demo_frames() -> tuple[tuple[int, ...], float]:
    """Frame offsets of the demo and the seconds each frame holds."""
    offsets, per_frame, rate = mp3_frames(demo_audio())
    return tuple(offsets), per_frame / rate


def demo_length() -> float:
    """Seconds of audio in the demo file (as a decoder plays it)."""
    offsets, frame_seconds = _demo_frames()
    return len(offsets) * frame_seconds


def clip_audio(duration: float) -> bytes:
    """The demo looped to ``duration`` seconds (0 < duration), cut after the
    frame that reaches it. Frames concatenate: each loop starts with a frame
    that needs nothing before it."""
    data = demo_audio()
    offsets, frame_seconds = _demo_frames()
    frames = max(1, math.ceil(duration / frame_seconds - 1e-9))
    loops, rest = divmod(frames, len(offsets))
    tail = data[: offsets[rest]] if rest else b""
    return data * loops + tail


@functools.cache
def demo_envelope() -> tuple[float, ...]:
    """The demo's amplitude envelope: the loudest sample of each
    1/:data:`ENVELOPE_RATE` s, scaled so the loudest is 1.0."""
    decoded = miniaudio.decode(
        demo_audio(),
        output_format=miniaudio.SampleFormat.SIGNED16,
        nchannels=1,
        sample_rate=8000,
    )
    samples = decoded.samples
    window = decoded.sample_rate // ENVELOPE_RATE
    peaks = [
        max(max(samples[i : i + window]), -min(samples[i : i + window]))
        for i in range(0, len(samples), window)
    ]
    loudest = max(peaks) or 1
    return tuple(p / loudest for p in peaks)


def waveform(duration: float) -> list[float]:
    """The envelope of :func:`clip_audio` (``duration``), at
    :data:`POINTS_PER_SECOND` regular points (at most :data:`MAX_SERVED_POINTS`):
    each the loudest envelope value in its stretch of the clip."""
    if not duration > 0:
        return []
    env = demo_envelope()
    period = demo_length()
    points = max(1, min(MAX_SERVED_POINTS, round(duration * POINTS_PER_SECOND)))
    out = []
    for i in range(points):
        t0, t1 = i * duration / points, (i + 1) * duration / points
        first = math.floor(t0 * ENVELOPE_RATE)
        last = max(first + 1, math.ceil(t1 * ENVELOPE_RATE))
        value = 0.0
        for j in range(first, last):
            # Loop time to the demo's own time (the audio loops the same way).
            where = int((j / ENVELOPE_RATE) % period * ENVELOPE_RATE)
            value = max(value, env[min(where, len(env) - 1)])
        out.append(round(value, 3))
    return out


def lyric_lines(prompt: str) -> list[list[str]]:
    """The sung words of ``prompt``, by line (section tags like "[Verse]" and
    blank lines left out), at most :data:`MAX_SERVED_WORDS` in all."""
    lines: list[list[str]] = []
    left = MAX_SERVED_WORDS
    for line in prompt.splitlines():
        if _SECTION.match(line):
            continue
        words = line.split()[:left]
        if words:
            lines.append(words)
            left -= len(words)
        if left <= 0:
            break
    return lines


def timeline(prompt: str, duration: float) -> list[dict[str, Any]]:
    """``data.aligned`` for a clip: the prompt's lines spread evenly between
    an intro and an outro, each line's words sung at most
    :data:`MAX_WORD_STEP` apart from its slot's start, so lines are separated
    by pauses. Starts rise; every ``end`` is within ``duration``. The first
    word of each line after the first begins with a newline."""
    lines = lyric_lines(prompt)
    if not lines or not duration > 0:
        return []
    margin = min(INTRO, duration / 10)
    window = duration - 2 * margin
    slot = window / len(lines)
    aligned = []
    for n, words in enumerate(lines):
        step = min(MAX_WORD_STEP, slot * 0.8 / len(words))
        for k, word in enumerate(words):
            start = margin + n * slot + k * step
            aligned.append(
                {
                    "word": ("\n" if n and not k else "") + word,
                    "start": round(start, 3),
                    "end": round(min(start + step * 0.8, duration), 3),
                }
            )
    return aligned


# -- junk, for the waveform_error / timeline_error faults' "junk" -------------
def junk_waveform(junk: str) -> bytes:
    """A 200 answer whose ``data`` is hostile (see ``MEDIA_JUNK`` in faults)."""
    if junk == "nan":
        data = "[NaN, Infinity, -Infinity, 0.5, NaN]"
    elif junk == "huge":
        # 10^6 points: silence with one full-scale spike in the middle.
        data = "[" + ",".join("1" if i == 500_000 else "0" for i in range(1_000_000)) + "]"
    else:  # disorder: out of range and of the wrong type
        data = '[-0.5, 1.5, "0.7", null, true, 1e308, 100000000000000000000000000000, 0.25]'
    return b'{"code":0,"message":"ok","data":' + data.encode() + b"}"


def junk_timeline(junk: str) -> bytes:
    if junk == "nan":
        aligned: Any = [
            {"word": "never", "start": math.nan, "end": 1.0},
            {"word": "always", "start": 0.5, "end": math.inf},
            {"word": "sung", "start": 1.0, "end": 1.5},
        ]
    elif junk == "huge":
        aligned = [{"word": "la", "start": i / 10, "end": i / 10 + 0.05} for i in range(100_000)]
    else:  # disorder: out of order, backwards, negative, wrong types
        aligned = [
            {"word": "third", "start": 3.0, "end": 3.5},
            {"word": "first", "start": 1.0, "end": 1.5},
            {"word": "backwards", "start": 2.0, "end": 1.0},
            {"word": "negative", "start": -1.0, "end": 0.5},
            {"word": 42, "start": 0.0, "end": 0.1},
            {"word": "text-times", "start": "1", "end": "2"},
            None,
            "a string",
        ]
    body = {"code": 0, "message": "ok", "data": {"aligned": aligned}}
    return json.dumps(body).encode()
