"""The audio player: real playback on miniaudio's NULL backend (plays in real
time into nothing, so CI needs no sound card), exact frame accounting through
a fake device whose callbacks the test drives, and a device that fails to
open printing nothing on file descriptor 2 (it is Textual's screen)."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import struct
import tempfile
import threading
import time
import wave
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import miniaudio
import pytest

from tui.core.logs import log
from tui.services import audio_file
from tui.services import player as player_module
from tui.services.audio_file import MAX_PEAKS, AudioFileError, peaks
from tui.services.player import NoAudioOutput, Player

ASSETS = Path(__file__).resolve().parents[1] / "assets"
RATE = 8000


def write_wav(
    path: Path,
    seconds: float,
    *,
    rate: int = RATE,
    channels: int = 1,
    amplitude: Callable[[int], int] = lambda frame: 10_000,
) -> Path:
    """A 16-bit WAV whose sample at frame ``i`` is ``±amplitude(i)`` (a square
    wave), so a test can tell which frames came out."""
    frames = round(seconds * rate)
    data = bytearray()
    for frame in range(frames):
        value = amplitude(frame) * (1 if frame % 2 else -1)
        data += struct.pack("<h", value) * channels
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(data))
    return path


def ramp(frame: int) -> int:
    """Amplitude that names the frame (mod 30000), to check where playback reads."""
    return frame % 30_000


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


class FakeDevice:
    """Stands in for ``miniaudio.PlaybackDevice``: the test is the audio thread."""

    def __init__(self, backends: list[miniaudio.Backend] | None, rate: int, channels: int) -> None:
        self.backends, self.rate, self.channels = backends, rate, channels
        self.gen: Generator[bytes | memoryview, int, None] | None = None
        self.running = False
        self.closed = False

    def start(self, callback_generator: Generator[bytes | memoryview, int, None]) -> None:
        assert not self.running and not self.closed
        self.gen, self.running = callback_generator, True

    def stop(self) -> None:
        self.running = False

    def close(self) -> None:
        self.running, self.closed = False, True

    def pull(self, frames: int) -> bytes:
        """One audio callback asking for ``frames`` frames."""
        assert self.running and self.gen is not None
        return bytes(self.gen.send(frames))


@pytest.fixture
def devices() -> list[FakeDevice]:
    return []


@pytest.fixture
def fake(devices: list[FakeDevice]) -> Iterator[Player]:
    def opener(backends: list[miniaudio.Backend] | None, rate: int, channels: int) -> FakeDevice:
        devices.append(FakeDevice(backends, rate, channels))
        return devices[-1]

    with Player("null", opener=opener) as player:
        yield player


@pytest.fixture
def logged() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler, level = Keep(), log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


@contextlib.contextmanager
def fd2_captured() -> Iterator[list[bytes]]:
    """Everything written to file descriptor 2 (by C code too) inside the block."""
    caught: list[bytes] = []
    with tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield caught
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            caught.append(sink.read())


def samples(chunk: bytes) -> list[int]:
    return [value for (value,) in struct.iter_unpack("<h", chunk)]


# -- real playback on the NULL backend ---------------------------------------


def test_position_advances_while_playing(tmp_path: Path) -> None:
    with Player("null") as player:
        player.open(write_wav(tmp_path / "a.wav", 5))
        assert player.state == "playing"
        assert player.duration == pytest.approx(5)
        wait_until(lambda: player.position > 0.2)
        assert player.state == "playing"


def test_pause_holds_the_position_and_the_audio_thread(tmp_path: Path) -> None:
    with Player("null") as player, Player("null") as clock:
        player.open(write_wav(tmp_path / "a.wav", 5))
        wait_until(lambda: player.position > 0.1)
        player.pause()
        held, callbacks = player.position, player.callbacks
        # Audio time passes on another NULL device (a clock that is not ours)...
        clock.open(write_wav(tmp_path / "clock.wav", 5))
        wait_until(lambda: clock.position >= 0.5)
        # ...while the paused one neither moved nor was called (device stopped).
        assert player.state == "paused"
        assert player.position == held
        assert player.callbacks == callbacks
        player.resume()
        wait_until(lambda: player.position > held)
        assert player.state == "playing"


def test_end_of_track_calls_on_end_and_stops(tmp_path: Path) -> None:
    ended = threading.Event()
    caller: list[threading.Thread] = []

    def on_end() -> None:
        caller.append(threading.current_thread())
        ended.set()

    with Player("null", on_end=on_end) as player:
        player.open(write_wav(tmp_path / "short.wav", 0.3))
        assert ended.wait(5)
        assert player.state == "stopped"
        assert player.position == player.duration == pytest.approx(0.3)
        assert caller[0] is not threading.main_thread()


def test_the_shipped_mp3_decodes_and_plays(tmp_path: Path) -> None:
    mp3 = ASSETS / "sample.mp3"
    with Player("null") as player:
        player.open(mp3, start=0.5)
        assert player.path == mp3
        assert player.duration == pytest.approx(miniaudio.get_file_info(str(mp3)).duration)
        assert player.position >= 0.5
        wait_until(lambda: player.position > 0.7)
    waveform = peaks(mp3, 50)
    assert len(waveform) == 50
    assert max(waveform) == 1.0
    assert all(0.0 <= value <= 1.0 for value in waveform)
    assert len(set(waveform)) > 10  # a shape, not a constant


def test_environment_variable_picks_the_backend(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    wav = write_wav(tmp_path / "a.wav", 1)
    monkeypatch.setenv("MUSICMINT_AUDIO", "off")
    with pytest.raises(NoAudioOutput, match=r"^no audio output device \(turned off by"):
        Player().open(wav)
    monkeypatch.setenv("MUSICMINT_AUDIO", "null")
    with Player() as player:
        player.open(wav)
        wait_until(lambda: player.position > 0)
    with pytest.raises(ValueError, match="unknown audio backend"):
        Player("loudspeaker")


# -- no device, and nothing on fd 2 ------------------------------------------


def test_a_device_that_does_not_open_raises_no_audio_output(tmp_path: Path) -> None:
    def opener(*_: object) -> FakeDevice:
        raise miniaudio.MiniaudioError("failed to init device", -401)

    player = Player(opener=opener)
    with pytest.raises(NoAudioOutput) as raised:
        player.open(write_wav(tmp_path / "a.wav", 1))
    assert raised.value.reason == "the device would not open"
    assert str(raised.value) == "no audio output device (the device would not open)"
    assert player.state == "stopped" and player.path is None


def test_check_output_is_free_until_a_device_fails_then_tries_one(tmp_path: Path) -> None:
    """Playback asks before fetching a file: no device is opened while none
    has failed; after a failure each check tries one (it may be back)."""
    tries: list[tuple[int, int]] = []
    working = False

    def opener(_backends: object, rate: int, channels: int) -> FakeDevice:
        tries.append((rate, channels))
        if not working:
            raise miniaudio.MiniaudioError("failed to init device", -401)
        return FakeDevice(_backends, rate, channels)

    player = Player(opener=opener)
    player.check_output()
    assert tries == []
    with pytest.raises(NoAudioOutput):
        player.open(write_wav(tmp_path / "a.wav", 1))
    with pytest.raises(NoAudioOutput, match="would not open"):
        player.check_output()
    assert len(tries) == 2
    working = True
    player.check_output()
    assert len(tries) == 3
    player.check_output()  # a device is open: nothing to try
    assert len(tries) == 3
    with pytest.raises(NoAudioOutput, match="MUSICMINT_AUDIO=off"):
        Player("off").check_output()


def test_a_failing_open_prints_nothing_on_fd2(
    tmp_path: Path, logged: list[logging.LogRecord]
) -> None:
    chatter = (
        b"ALSA lib confmisc.c:855:(parse_card) cannot find card '0'\n"
        b"ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM default\n"
    )

    def opener(*_: object) -> FakeDevice:
        os.write(2, chatter)  # as C code does: below sys.stderr
        raise miniaudio.MiniaudioError("failed to init device", -401)

    wav = write_wav(tmp_path / "a.wav", 1)
    with fd2_captured() as unprotected:
        opener_output = contextlib.suppress(miniaudio.MiniaudioError)
        with opener_output:
            opener()
    assert unprotected == [chatter]  # the capture sees such writes...

    with fd2_captured() as terminal, pytest.raises(NoAudioOutput) as raised:
        Player(opener=opener).open(wav)
    assert terminal == [b""]  # ...and the player let none through
    assert raised.value.reason == "ALSA: cannot find card '0'"
    text = "\n".join(record.getMessage() for record in logged)
    assert "cannot find card '0'" in text
    assert "Unknown PCM default" in text


def test_a_real_backend_that_fails_prints_nothing_on_fd2(tmp_path: Path) -> None:
    """ALSA on a machine without a sound card prints ~70 lines while failing."""
    wav = write_wav(tmp_path / "a.wav", 1)
    player = Player("alsa")
    try:
        with fd2_captured() as terminal:
            try:
                player.open(wav)
            except NoAudioOutput as exc:
                failure: NoAudioOutput | None = exc
            else:
                failure = None
    finally:
        player.close()
    assert terminal == [b""]
    if failure is None:
        pytest.skip("this machine has an ALSA device")
    assert "\n" not in str(failure)
    assert len(str(failure)) < 120


# -- frame by frame, with a fake device ----------------------------------------


def test_reads_from_the_position_and_seek_moves_it(
    fake: Player, devices: list[FakeDevice], tmp_path: Path
) -> None:
    fake.open(write_wav(tmp_path / "a.wav", 2, amplitude=ramp))
    (device,) = devices
    assert (device.rate, device.channels, device.backends) == (RATE, 1, [miniaudio.Backend.NULL])
    assert [abs(v) for v in samples(device.pull(4))] == [0, 1, 2, 3]
    fake.seek(1.0)
    assert fake.position == 1.0
    assert [abs(v) for v in samples(device.pull(3))] == [8000, 8001, 8002]
    assert fake.position == pytest.approx(1.0 + 3 / RATE)
    fake.seek(-5)
    assert fake.position == 0.0
    fake.seek(99)
    assert fake.position == fake.duration == 2.0
    fake.seek(math.nan)
    assert fake.position == 0.0


def test_pause_feeds_silence_and_stops_the_device(
    fake: Player, devices: list[FakeDevice], tmp_path: Path
) -> None:
    fake.open(write_wav(tmp_path / "a.wav", 1))
    (device,) = devices
    device.pull(800)
    fake.pause()
    assert fake.state == "paused" and not device.running
    # A callback already under way when pause came in plays silence, not music.
    device.running = True
    assert device.pull(100) == bytes(200)
    assert fake.position == 0.1
    device.running = False
    assert fake.toggle() == "playing" and device.running
    assert fake.toggle() == "paused" and not device.running


def test_stop_goes_back_to_the_start(
    fake: Player, devices: list[FakeDevice], tmp_path: Path
) -> None:
    fake.open(write_wav(tmp_path / "a.wav", 1))
    (device,) = devices
    device.pull(800)
    fake.stop()
    assert (fake.state, fake.position, device.running) == ("stopped", 0.0, False)
    fake.play()
    assert samples(device.pull(1)) == [-10_000]  # frame 0 again
    assert fake.position == 1 / RATE


def test_the_end_plays_out_the_buffer_then_stops_the_device(
    fake: Player, devices: list[FakeDevice], tmp_path: Path
) -> None:
    ended = threading.Event()
    fake.on_end = ended.set
    fake.open(write_wav(tmp_path / "a.wav", 0.1))
    (device,) = devices
    assert len(device.pull(1000)) == 800 * 2  # the last frames: fewer than asked
    assert fake.position == fake.duration
    for _ in range(player_module.DRAIN_PERIODS - 1):
        assert device.pull(1000) == bytes(2000)
        assert fake.state == "playing"  # the device still holds the end of the song
    device.pull(1000)
    assert fake.state == "stopped"
    assert ended.wait(5)
    assert not device.running
    assert fake.position == fake.duration
    fake.play()  # after the end: from the start again
    assert (fake.state, fake.position, device.running) == ("playing", 0.0, True)


def test_open_without_playing_and_a_new_format_gets_a_new_device(
    fake: Player, devices: list[FakeDevice], tmp_path: Path
) -> None:
    fake.open(write_wav(tmp_path / "a.wav", 1), start=0.5, play=False)
    assert (fake.state, fake.position, devices[0].running) == ("paused", 0.5, False)
    fake.open(write_wav(tmp_path / "b.wav", 1), start=0.25)  # same format: same device
    assert len(devices) == 1 and devices[0].running and fake.position == 0.25
    stereo = write_wav(tmp_path / "c.wav", 1, rate=16000, channels=2)
    fake.open(stereo)
    assert len(devices) == 2 and devices[0].closed
    assert (devices[1].rate, devices[1].channels) == (16000, 2)
    assert fake.path == stereo
    fake.close()
    assert devices[1].closed
    assert (fake.state, fake.path, fake.position, fake.duration) == ("stopped", None, 0.0, 0.0)


# -- files ----------------------------------------------------------------------


def test_unplayable_files_are_refused_in_one_line(
    fake: Player, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.mp3"
    garbage.write_bytes(b"<html>expired</html>" * 50)
    for path, words in [
        (tmp_path / "missing.mp3", "No such file"),
        (empty, "empty"),
        (garbage, "not audio"),
    ]:
        with pytest.raises(AudioFileError, match=words):
            fake.open(path)
    monkeypatch.setattr(audio_file, "MAX_SECONDS", 60)
    with pytest.raises(AudioFileError, match="2 min is longer than the player takes"):
        fake.open(write_wav(tmp_path / "long.wav", 120, rate=1000))
    assert fake.path is None


def test_peaks_follow_the_loudness(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "a.wav", 2, amplitude=lambda f: 16_000 if f < RATE else 8_000)
    assert peaks(wav, 4) == pytest.approx((1.0, 1.0, 0.5, 0.5), abs=0.01)
    assert len(peaks(wav, MAX_PEAKS)) == MAX_PEAKS
    silent = write_wav(tmp_path / "silent.wav", 0.01, amplitude=lambda f: 0)
    assert peaks(silent, 200) == (0.0,) * 200  # more points than frames
    for points in (0, MAX_PEAKS + 1):
        with pytest.raises(ValueError):
            peaks(wav, points)
