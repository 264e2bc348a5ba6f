"""Audio playback for the dashboard: decode a track into memory, play it with miniaudio.

Design in brief: :class:`Player` decodes the whole file into 16-bit PCM at the
file's own rate (tracks are minutes long, so this is a few tens of MB, and
bounded: see :mod:`tui.services.audio_file`) and feeds a
miniaudio ``PlaybackDevice`` from a generator that reads at the current frame.
So seeking is a change of one integer and pausing is immediate; pausing and
stopping also stop the device, so no thread wakes up while nothing plays.

Why it is built this way:

* **File descriptor 2.** Opening the default device on a machine without
  sound makes ALSA/JACK (C code) print dozens of lines straight to fd 2,
  which is the terminal Textual draws on. Opening and closing the device
  (and only that, it takes milliseconds) therefore runs with fd 2 pointed at
  a temporary file (:mod:`tui.services.stderr_capture`); what was caught goes
  to the log, and the failure becomes a one-line :class:`NoAudioOutput`.
  Textual writes to stderr too, so the window is kept short; a frame drawn
  inside it is lost, so the UI should redraw the screen after
  :meth:`Player.open` (it runs in a worker anyway).
* **Threads.** miniaudio calls the generator on its own audio thread. The
  generator only takes a short lock (never the one held while the device is
  started or stopped: ``ma_device_stop`` waits for the callback, so that
  would deadlock), never raises (an exception in a C callback is printed to
  fd 2) and never calls back into the UI. The end of a track is handled on a
  short-lived thread that stops the device and calls ``on_end``: **on_end
  runs on that background thread**, so a Textual app must hop threads
  (``app.call_from_thread``). Every public method may be called from any
  thread. :meth:`Player.open` and :func:`peaks` decode (tenths of a second
  for a few minutes of MP3): call them from a worker, not the event loop.
* **Backends.** ``Player(backend=None)`` uses the system's default devices;
  ``"null"`` is miniaudio's NULL backend, which plays in real time into
  nothing (tests, CI without a sound card); ``"off"`` has no device at all
  (every open raises :class:`NoAudioOutput`); any other miniaudio backend
  name (``"alsa"``, ``"pulseaudio"``, ``"jack"``, ``"coreaudio"``,
  ``"wasapi"``, ...) restricts playback to that one. With ``backend=None``
  the environment variable ``MUSICMINT_AUDIO`` decides (same values), so
  ``MUSICMINT_AUDIO=null`` or ``=off`` forces a silent run.

No Textual or rich here (services layer).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Literal, Protocol

import miniaudio

from tui.core.logs import log
from tui.core.sanitize import clean
from tui.services.audio_file import BYTES_PER_SAMPLE, PlayerError, decode, read_info
from tui.services.stderr_capture import hint, log_caught, quiet_fd2

State = Literal["stopped", "playing", "paused"]

ENV_VAR = "MUSICMINT_AUDIO"
#: One device period: how often the audio thread asks for frames, and the
#: granularity of :attr:`Player.position`.
PERIOD_MS = 100
#: Silent periods fed after the last frame before the device is stopped:
#: stopping drops what the device still buffers (miniaudio's default is 3
#: periods), and that is the end of the song.
DRAIN_PERIODS = 3

# miniaudio result codes (miniaudio.h) that say why no device opened.
_REASONS = {
    -203: "no sound system found",  # MA_NO_BACKEND
    -204: "no output device",  # MA_NO_DEVICE
    -400: "the sound system failed to start",  # MA_FAILED_TO_INIT_BACKEND
    -401: "the device would not open",  # MA_FAILED_TO_OPEN_BACKEND_DEVICE
    -402: "the device would not start",  # MA_FAILED_TO_START_BACKEND_DEVICE
}


class NoAudioOutput(PlayerError):
    """No device to play on; ``reason`` is a few words on why (for "No audio output (…)")."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"no audio output device ({reason})")


class Output(Protocol):
    """What the player needs of a device (``miniaudio.PlaybackDevice`` is one)."""

    def start(self, callback_generator: Generator[bytes | memoryview, int, None]) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


#: Opens a device: (backends or None for the default list, sample rate, channels).
#: Raises ``miniaudio.MiniaudioError`` when there is none. Tests inject their own.
Opener = Callable[[list[miniaudio.Backend] | None, int, int], Output]


def open_device(backends: list[miniaudio.Backend] | None, rate: int, channels: int) -> Output:
    """The real opener: a 16-bit playback device with one :data:`PERIOD_MS` period."""
    return miniaudio.PlaybackDevice(
        output_format=miniaudio.SampleFormat.SIGNED16,
        nchannels=channels,
        sample_rate=rate,
        buffersize_msec=PERIOD_MS,
        backends=backends,
        app_name="musicmint-tui",
    )


def backends_for(name: str | None) -> list[miniaudio.Backend] | Literal["off"] | None:
    """What a backend name means: ``None`` (default devices), ``"off"``, or a backend list.

    ``None`` reads :data:`ENV_VAR` (an unknown value there is logged and ignored);
    an unknown explicit name raises ``ValueError``.
    """
    from_env = name is None
    if from_env:
        name = os.environ.get(ENV_VAR, "")
    assert name is not None
    key = name.strip().lower()
    if key in ("", "default", "auto"):
        return None
    if key == "off":
        return "off"
    try:
        return [miniaudio.Backend[key.upper()]]
    except KeyError:
        if not from_env:
            raise ValueError(f"unknown audio backend {name!r}") from None
        log.warning("%s=%s is not an audio backend: using the default devices", ENV_VAR, name)
        return None


class Player:
    """Plays one track at a time; see the module docstring for the thread rules.

    ``on_end`` is called (on a background thread) when a track has played to
    its end: by then :attr:`state` is ``"stopped"`` and :attr:`position` is
    :attr:`duration`. It is not called when the user moved on (play, stop,
    another track) between the last frame and the device stopping.
    """

    def __init__(
        self,
        backend: str | None = None,
        *,
        on_end: Callable[[], None] | None = None,
        opener: Opener = open_device,
    ) -> None:
        self._backends = backends_for(backend)
        self.on_end = on_end
        self._opener = opener
        # _control serialises the public operations (held while the device is
        # opened, started, stopped, closed); _lock guards what the audio thread
        # reads and is only ever held briefly. Order: _control, then _lock.
        self._control = threading.RLock()
        self._lock = threading.Lock()
        self._device: Output | None = None
        self._device_format: tuple[int, int] | None = None  # (rate, channels)
        self._running = False  # the device is started
        self._feed_gen: Generator[bytes | memoryview, int, None] | None = None
        # Read by the audio thread (under _lock):
        self._pcm: memoryview | None = None  # bytes of interleaved int16
        self._path: Path | None = None
        self._rate = 1
        self._channels = 2
        self._frame_bytes = 4
        self._frames = 0
        self._frame = 0
        self._state: State = "stopped"
        self._drained = 0
        self._token = 0  # bumped by every operation, so a stale end is ignored
        self._callbacks = 0
        self._no_output: str | None = None  # why the last device open failed

    # -- what the UI reads -------------------------------------------------

    @property
    def state(self) -> State:
        with self._lock:
            return self._state

    @property
    def position(self) -> float:
        """Seconds into the track of the last frame handed to the device (it
        is ahead of what is heard by up to the device's buffer, ~0.3 s)."""
        with self._lock:
            return self._frame / self._rate

    @property
    def duration(self) -> float:
        """Seconds; 0.0 with nothing loaded."""
        with self._lock:
            return self._frames / self._rate

    @property
    def path(self) -> Path | None:
        """The loaded track, or ``None``."""
        with self._lock:
            return self._path

    @property
    def callbacks(self) -> int:
        """How many times the audio thread has asked for frames (for tests and diagnostics)."""
        with self._lock:
            return self._callbacks

    # -- operations --------------------------------------------------------

    def check_output(self) -> None:
        """Raise :class:`NoAudioOutput` when there is no sound to play on:
        audio turned off, or the last device open failed and a new try fails
        too. Cheap otherwise. The caller can say so before fetching a file
        that could not be heard. Blocks while it tries a device: call it from
        a worker thread."""
        self._refuse_if_off()
        if self._no_output is None:
            return
        with self._control:
            if self._device is None:
                self._ensure_device(44100, 2)  # the usual format; open() adapts it

    def open(self, path: Path, start: float = 0.0, *, play: bool = True) -> None:
        """Load ``path`` and play it from ``start`` seconds (or hold it paused there).

        Replaces the current track. Raises :class:`AudioFileError` (the file) or
        :class:`NoAudioOutput` (the device); then the previous track stays
        loaded (paused if its device had to be closed for the new one's
        format). Blocks while it decodes: call it from a worker thread.
        """
        self._refuse_if_off()
        info = read_info(path)
        channels, rate = min(info.nchannels, 2), info.sample_rate
        with self._control:
            self._ensure_device(rate, channels)  # fail before decoding when there is no device
        pcm = memoryview(decode(path, channels, rate)).cast("B")
        frame_bytes = channels * BYTES_PER_SAMPLE
        with self._control:
            self._ensure_device(rate, channels)  # another open may have changed it meanwhile
            with self._lock:
                self._token += 1
                self._pcm = pcm
                self._path = path
                self._rate = rate
                self._channels = channels
                self._frame_bytes = frame_bytes
                self._frames = len(pcm) // frame_bytes
                self._frame = self._clamp(start)
                self._drained = 0
                self._state = "playing" if play else "paused"
            if play:
                self._start_device()
            else:
                self._stop_device()

    def play(self, path: Path | None = None, start: float | None = None) -> None:
        """With ``path``: :meth:`open` it (from ``start`` or 0). Without: play the
        loaded track from where it is (``start`` if given; from the beginning
        when it had played to its end). Nothing loaded: nothing happens."""
        if path is not None:
            self.open(path, 0.0 if start is None else start)
            return
        with self._control:
            with self._lock:
                if self._pcm is None:
                    return
                rate, channels = self._rate, self._channels
            self._ensure_device(rate, channels)  # gone when a failed open closed it
            with self._lock:
                self._token += 1
                if start is not None:
                    self._frame = self._clamp(start)
                elif self._frame >= self._frames:
                    self._frame = 0
                self._drained = 0
                self._state = "playing"
            self._start_device()

    def resume(self) -> None:
        """:meth:`play` without arguments."""
        self.play()

    def pause(self) -> None:
        """Hold the position and stop the device (no thread runs while paused)."""
        with self._control:
            with self._lock:
                if self._state != "playing":
                    return
                self._token += 1
                self._state = "paused"
            self._stop_device()

    def toggle(self) -> State:
        """Pause when playing, otherwise play; returns the new state."""
        with self._control:
            if self.state == "playing":
                self.pause()
            else:
                self.play()
            return self.state

    def stop(self) -> None:
        """Stop and go back to the beginning (the track stays loaded)."""
        with self._control:
            with self._lock:
                self._token += 1
                self._state = "stopped"
                self._frame = 0
                self._drained = 0
            self._stop_device()

    def seek(self, seconds: float) -> None:
        """Jump to ``seconds`` from the start, clamped to [0, duration]; the state stays."""
        with self._lock:
            if self._pcm is None:
                return
            self._frame = self._clamp(seconds)
            self._drained = 0

    def close(self) -> None:
        """Stop, forget the track and release the device (the player can open again)."""
        with self._control:
            with self._lock:
                self._token += 1
                self._state = "stopped"
                self._pcm = None
                self._path = None
                self._frames = self._frame = 0
            self._close_device()

    def __enter__(self) -> Player:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the device (all under _control) -------------------------------------

    def _clamp(self, seconds: float) -> int:
        """A frame index for ``seconds``; caller holds _lock."""
        if seconds != seconds:  # NaN
            return 0
        return max(0, min(self._frames, round(seconds * self._rate)))

    def _refuse_if_off(self) -> None:
        if self._backends == "off":
            raise NoAudioOutput(f"turned off by {ENV_VAR}=off")

    def _ensure_device(self, rate: int, channels: int) -> None:
        if self._device is not None and self._device_format == (rate, channels):
            return
        self._close_device()
        assert self._backends != "off"
        with quiet_fd2() as caught:
            try:
                device = self._opener(self._backends, rate, channels)
            except miniaudio.MiniaudioError as exc:
                error: miniaudio.MiniaudioError | None = exc
            else:
                error = None
        first = log_caught(caught, "opening the audio device")
        if error is not None:
            code = error.args[1] if len(error.args) > 1 else None
            reason = hint(first) if first else _REASONS.get(code, str(error.args[0]))
            log.warning("audio: no output device: %s (%s)", error, reason)
            self._no_output = clean(reason, one_line=True)
            raise NoAudioOutput(self._no_output) from error
        self._no_output = None
        self._device = device
        self._device_format = (rate, channels)
        self._feed_gen = None

    def _start_device(self) -> None:
        if self._running or self._device is None:
            return
        if self._feed_gen is None:
            self._feed_gen = self._feed()
            next(self._feed_gen)
        try:
            self._device.start(self._feed_gen)
        except miniaudio.MiniaudioError as exc:
            with self._lock:
                self._state = "paused"
            self._close_device()
            raise NoAudioOutput(_REASONS.get(-402, "the device would not start")) from exc
        self._running = True

    def _stop_device(self) -> None:
        if not self._running or self._device is None:
            return
        self._running = False
        try:
            self._device.stop()
        except miniaudio.MiniaudioError as exc:
            log.warning("audio: the device did not stop cleanly: %s", exc)

    def _close_device(self) -> None:
        with self._lock:
            if self._state == "playing":
                self._state = "paused"
        device, self._device = self._device, None
        self._device_format = None
        self._running = False
        self._feed_gen = None
        if device is None:
            return
        with quiet_fd2() as caught:
            try:
                device.close()
            except miniaudio.MiniaudioError as exc:
                log.warning("audio: the device did not close cleanly: %s", exc)
        log_caught(caught, "closing the audio device")

    # -- the audio thread ------------------------------------------------------

    def _feed(self) -> Generator[bytes | memoryview, int, None]:
        """miniaudio sends the number of frames it wants; we yield up to that many."""
        wanted = yield b""
        while True:
            try:
                chunk, ended = self._next_chunk(wanted)
            except Exception:  # an exception would leave through C and print to fd 2
                log.exception("audio: the playback callback failed")
                chunk, ended = b"", None
            if ended is not None:
                threading.Thread(
                    target=self._finish, args=(ended,), name="musicmint-player-end", daemon=True
                ).start()
            wanted = yield chunk

    def _next_chunk(self, wanted: int) -> tuple[bytes | memoryview, int | None]:
        """The next frames, and the operation token when the track just ended."""
        with self._lock:
            self._callbacks += 1
            if self._state != "playing" or self._pcm is None:
                return bytes(wanted * self._frame_bytes), None
            if self._frame < self._frames:
                first = self._frame
                self._frame = min(self._frames, first + wanted)
                return self._pcm[first * self._frame_bytes : self._frame * self._frame_bytes], None
            self._drained += 1  # past the last frame: let the device play out its buffer
            silence = bytes(wanted * self._frame_bytes)
            if self._drained < DRAIN_PERIODS:
                return silence, None
            self._state = "stopped"
            return silence, self._token

    def _finish(self, token: int) -> None:
        """After the end of a track (own thread: the audio thread cannot stop its device).

        ``on_end`` is skipped when an operation other than a seek came in
        between (the user moved on); the device is stopped unless playing again.
        """
        with self._control:
            with self._lock:
                current = token == self._token
                idle = self._state != "playing"
            if idle:
                self._stop_device()
        callback = self.on_end
        if current and callback is not None:
            try:
                callback()
            except Exception:
                log.exception("audio: on_end failed")
