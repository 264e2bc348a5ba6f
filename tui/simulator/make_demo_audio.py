"""Synthesise the simulator's demo audio, ``assets/sample.mp3``.

Run ``uv run python -m tui.simulator.make_demo_audio`` to write it again; the
same code and the locked ``lameenc`` (a dev dependency: only this script
encodes) give the same bytes every time. Everything is made here from sine
waves, so the file carries no third-party recording.

What it is: 24 s (12 bars of 4/4 at 120 bpm, C-Am-F-G three times), mono,
22,050 Hz, 32 kbit/s CBR MP3, about 96 KB. An eighth-note arpeggio over a
bass note per bar, whose loudness changes by section (:data:`BAR_LEVELS`):
a quiet start that builds, a loud middle (bars 5-8, 8-16 s), a near-silent
break (bars 9-10, 16-20 s), a loud return and a fade. The changes are large
so that the waveform the simulator serves (the real amplitude envelope of
this file, :mod:`tui.simulator.media`) has a shape a person and a test can
see, and long enough to hear a seek land.
"""

from __future__ import annotations

import argparse
import array
import math
from pathlib import Path

SAMPLE_RATE = 22_050
BITRATE_KBPS = 32
BPM = 120
BEAT_SECONDS = 60 / BPM
BAR_SECONDS = 4 * BEAT_SECONDS
#: Loudness of each bar (0-1); the last one also fades out to silence.
BAR_LEVELS = (0.12, 0.25, 0.45, 0.65, 1.0, 1.0, 0.95, 1.0, 0.08, 0.08, 0.85, 0.6)
DURATION = len(BAR_LEVELS) * BAR_SECONDS
#: Chord tones (MIDI note numbers) of each bar's chord: C, Am, F, G.
_CHORDS = ((60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62))
#: Which chord tone each eighth note of a bar plays (3 = the root an octave up).
_ARPEGGIO = (0, 1, 2, 3, 2, 1, 0, 1)
_NOTE_TAIL = 0.6  # seconds each arpeggio note rings
_PEAK = 0.85  # of full scale, after normalising


def _freq(midi: int) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _add_tone(
    out: list[float], start: float, length: float, freq: float, gain: float, decay: float
) -> None:
    """Add a decaying tone (a sine and a little of its octave) to ``out``."""
    first = int(start * SAMPLE_RATE)
    count = min(int(length * SAMPLE_RATE), len(out) - first)
    step = 2 * math.pi * freq / SAMPLE_RATE
    attack = int(0.005 * SAMPLE_RATE)  # 5 ms: no click at the onset
    for n in range(count):
        t = n / SAMPLE_RATE
        env = gain * math.exp(-decay * t) * min(1.0, n / attack)
        phase = step * n
        out[first + n] += env * (math.sin(phase) + 0.3 * math.sin(2 * phase))


def _level(t: float) -> float:
    """The section loudness at ``t`` s, eased over 50 ms between bars."""
    bar = min(int(t / BAR_SECONDS), len(BAR_LEVELS) - 1)
    level = BAR_LEVELS[bar]
    into = t - bar * BAR_SECONDS
    if bar > 0 and into < 0.05:
        level = BAR_LEVELS[bar - 1] + (level - BAR_LEVELS[bar - 1]) * into / 0.05
    if bar == len(BAR_LEVELS) - 1:
        level *= max(0.0, 1 - into / BAR_SECONDS)
    return level


def synthesise() -> array.array:
    """The clip as signed 16-bit mono samples at :data:`SAMPLE_RATE`."""
    total = int(DURATION * SAMPLE_RATE)
    mix = [0.0] * total
    eighth = BEAT_SECONDS / 2
    for bar in range(len(BAR_LEVELS)):
        chord = _CHORDS[bar % len(_CHORDS)]
        tones = (*chord, chord[0] + 12)
        start = bar * BAR_SECONDS
        _add_tone(mix, start, BAR_SECONDS, _freq(chord[0] - 24), 0.5, 1.2)  # bass
        for i, which in enumerate(_ARPEGGIO):
            _add_tone(mix, start + i * eighth, _NOTE_TAIL, _freq(tones[which]), 0.35, 7.0)
    for n in range(total):
        mix[n] *= _level(n / SAMPLE_RATE)
    peak = max(abs(x) for x in mix) or 1.0
    scale = _PEAK * 32767 / peak
    return array.array("h", (round(x * scale) for x in mix))


def encode(samples: array.array) -> bytes:
    """``samples`` as a CBR MP3 (needs ``lameenc``, a dev dependency)."""
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(BITRATE_KBPS)
    encoder.set_in_sample_rate(SAMPLE_RATE)
    encoder.set_channels(1)
    encoder.set_quality(2)
    return bytes(encoder.encode(samples.tobytes()) + encoder.flush())


def default_output() -> Path:
    return Path(__file__).resolve().parents[2] / "assets" / "sample.mp3"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=default_output(), help="where to write it")
    args = parser.parse_args(argv)
    data = encode(synthesise())
    args.out.write_bytes(data)
    print(f"{args.out}: {DURATION:g} s, {len(data):,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
