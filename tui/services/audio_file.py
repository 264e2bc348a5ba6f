"""Audio files for the player: what a file holds, its decoded samples, its peaks.

Checked by the file's first bytes (cached files need not end in ``.mp3``) and
bounded before anything is decoded: a track longer than :data:`MAX_SECONDS`,
a file over :data:`MAX_FILE_BYTES` or samples over :data:`MAX_PCM_BYTES` are
refused with an :class:`AudioFileError` that says why in a few words.
Decoding takes tenths of a second for a few minutes of MP3: call these from
a worker thread. No Textual or rich here (services layer).
"""

from __future__ import annotations

import array
from pathlib import Path

import miniaudio

#: Longest track we decode into memory (MusicMint tracks are a few minutes).
MAX_SECONDS = 30 * 60
#: Most decoded PCM we hold (16-bit): 256 MiB is ~25 min of 44.1 kHz stereo.
MAX_PCM_BYTES = 256 * 1024 * 1024
#: Largest file we try to read at all.
MAX_FILE_BYTES = 256 * 1024 * 1024
#: Bounds of :func:`peaks`.
MAX_PEAKS = 4000
#: Peaks are computed at this rate at most: the envelope does not need more.
PEAK_RATE = 8000

BYTES_PER_SAMPLE = 2  # SIGNED16


class PlayerError(Exception):
    """Something the player could not do; the message is one line for the user."""


class AudioFileError(PlayerError):
    """The file is missing, unreadable, not audio miniaudio decodes, or too
    long. ``reason`` is the words without the file's name (a cached file's
    name is a hash that means nothing to the user)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name}: {reason}")
        self.path = path
        self.reason = reason


def read_info(path: Path) -> miniaudio.SoundFileInfo:
    """Format, rate, channels and length, by the file's first bytes (not its name:
    cached files need not end in ``.mp3``); checked against the bounds."""
    try:
        size = path.stat().st_size
        with path.open("rb") as file:
            head = file.read(4)
    except OSError as exc:
        raise AudioFileError(path, str(exc.strerror or exc)) from exc
    if size == 0:
        raise AudioFileError(path, "the file is empty")
    if size > MAX_FILE_BYTES:
        raise AudioFileError(path, f"larger than {MAX_FILE_BYTES // 2**20} MB")
    readers = {
        b"RIFF": miniaudio.wav_get_file_info,
        b"fLaC": miniaudio.flac_get_file_info,
        b"OggS": miniaudio.vorbis_get_file_info,
    }
    reader = readers.get(head, miniaudio.mp3_get_file_info)
    try:
        info = reader(str(path))
    except (miniaudio.MiniaudioError, OSError) as exc:
        raise AudioFileError(path, "not audio this player can read") from exc
    if info.sample_rate <= 0 or info.nchannels <= 0 or info.num_frames <= 0:
        raise AudioFileError(path, "no audio in the file")
    if info.duration > MAX_SECONDS:
        minutes = round(info.duration / 60)
        raise AudioFileError(path, f"{minutes} min is longer than the player takes")
    pcm_bytes = info.num_frames * min(info.nchannels, 2) * BYTES_PER_SAMPLE
    if pcm_bytes > MAX_PCM_BYTES:
        raise AudioFileError(path, "too long to hold in memory for playback")
    return info


def decode(path: Path, channels: int, rate: int) -> array.array[int]:
    try:
        decoded = miniaudio.decode_file(
            str(path), miniaudio.SampleFormat.SIGNED16, nchannels=channels, sample_rate=rate
        )
    except (miniaudio.MiniaudioError, OSError) as exc:
        raise AudioFileError(path, "could not be decoded") from exc
    if len(decoded.samples) > MAX_PCM_BYTES // BYTES_PER_SAMPLE:  # the header lied
        raise AudioFileError(path, "too long to hold in memory for playback")
    return decoded.samples


def peaks(path: Path, points: int) -> tuple[float, ...]:
    """A waveform of ``points`` values (1..:data:`MAX_PEAKS`): the largest absolute
    amplitude in each equal slice of the track, scaled so the loudest slice is
    1.0 (a silent track is all 0.0). For when the server's waveform fails.

    Decodes the file (a fraction of a second): call it from a worker thread.
    Raises ``ValueError`` for a bad ``points``, :class:`AudioFileError` for the file.
    """
    if not 1 <= points <= MAX_PEAKS:
        raise ValueError(f"points must be 1..{MAX_PEAKS}, not {points}")
    info = read_info(path)
    channels = min(info.nchannels, 2)
    samples = memoryview(decode(path, channels, min(info.sample_rate, PEAK_RATE)))
    frames = len(samples) // channels
    if frames == 0:
        raise AudioFileError(path, "no audio in the file")
    values: list[int] = []
    for index in range(points):
        first = index * frames // points
        last = max((index + 1) * frames // points, first + 1)
        bucket = samples[first * channels : last * channels]
        values.append(max(max(bucket), -min(bucket)))
    top = max(values)
    if top == 0:
        return (0.0,) * points
    return tuple(value / top for value in values)
