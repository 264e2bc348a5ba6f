"""A clip's waveform and word-level lyric timing, read from hostile answers.

``GET /api/v1/music/waveform?clip_id=…`` answers the usual envelope whose
``data`` is an array of normalised amplitudes (0.0-1.0) at regular intervals
across the clip; ``GET /api/v1/music/timeline?clip_id=…`` one whose
``data.aligned`` is ``[{"word", "start", "end"}]`` (seconds). Envelope errors
map as everywhere else (:mod:`tui.api.envelope`: 404 or 4004 ->
``NotFoundError``, 4005 -> ``ResultExpiredError``, ...).

Every value is checked and bounded here, so nothing above this layer has to
distrust it:

- waveform: a value that is not a number (a string, ``null``, ``true``) or is
  NaN or negative becomes 0.0; above 1 (infinity, a huge integer) becomes
  1.0. More than :data:`MAX_POINTS` values are reduced to that many by taking
  the loudest of each equal bucket, so peaks survive. An empty array is an
  empty :class:`Waveform` (falsy: "no waveform"), not an error; ``data`` that
  is not an array is a :class:`ProtocolError`.
- timeline: entries that are not objects, whose ``word`` is not text, or
  whose ``start``/``end`` is missing, not a number, NaN, infinite, negative or
  past :data:`~tui.api.models.MAX_DURATION_S` are dropped; ``end`` before
  ``start`` is moved to ``start``. Text loses control characters and runs of
  spaces and is cut to :data:`MAX_WORD_CHARS`. Words are sorted by start
  time and at most :data:`MAX_WORDS` (the earliest) are kept. An empty
  ``aligned`` is an empty :class:`Timeline` (an instrumental); ``data``
  without an ``aligned`` array is a :class:`ProtocolError`.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from tui.api.envelope import envelope_data
from tui.api.errors import InvalidTaskIdError, ProtocolError
from tui.api.ids import id_problem, is_valid_task_id
from tui.api.models import MAX_DURATION_S, as_str

#: Most waveform points kept; a longer array is reduced to this many.
MAX_POINTS = 2000
#: Most words kept in one timeline (a 10-minute rap has ~2,000).
MAX_WORDS = 20_000
#: Longest word text kept; longer is cut with "…".
MAX_WORD_CHARS = 100
#: A pause longer than this (seconds, from one word's end to the next's start)
#: starts a new lyric line.
LINE_GAP = 1.5
#: Longest lyric line, in words: text with neither newlines nor pauses is
#: split into lines this long rather than shown as one endless line.
MAX_LINE_WORDS = 16

MediaKind = Literal["waveform", "timeline"]
_SPACES = re.compile(r"\s+")
_BREAKS = ("\n", "\r", "\u2028", "\u2029")


def validate_clip_id(clip_id: object) -> str:
    """Return ``clip_id`` if it is safe in a URL (the task-ID rules: 1-128
    letters, digits, '-' and '_'), else raise :class:`InvalidTaskIdError`."""
    if not isinstance(clip_id, str):
        raise InvalidTaskIdError(f"clip ID must be text, not {type(clip_id).__name__}")
    if is_valid_task_id(clip_id):
        return clip_id
    shown = "".join(ch if ch.isprintable() else "?" for ch in clip_id[:40])
    raise InvalidTaskIdError(f"clip ID {shown!r}: {id_problem(clip_id)}")


def media_path(kind: MediaKind, clip_id: object) -> str:
    """The request path of ``kind`` for ``clip_id``, checked and URL-encoded."""
    return f"/api/v1/music/{kind}?clip_id={quote(validate_clip_id(clip_id), safe='')}"


def clean_peak(value: Any) -> float:
    """One amplitude in [0, 1]: non-numbers, NaN and negatives are 0, more than 1 is 1."""
    if isinstance(value, float):
        if 0.0 <= value <= 1.0:
            return value
        return 1.0 if value > 1.0 else 0.0  # NaN compares false both ways: 0
    if isinstance(value, bool) or not isinstance(value, int):
        return 0.0
    return 1.0 if value >= 1 else 0.0


def reduce_peaks(peaks: Sequence[float], points: int) -> tuple[float, ...]:
    """``peaks`` in at most ``points`` equal buckets, each its loudest value."""
    n = len(peaks)
    if n <= points:
        return tuple(peaks)
    return tuple(max(peaks[i * n // points : (i + 1) * n // points]) for i in range(points))


@dataclass(frozen=True, slots=True)
class Waveform:
    """Amplitudes in [0, 1] at regular intervals across the clip, at most
    :data:`MAX_POINTS` of them. Empty (falsy) when the server had none."""

    peaks: tuple[float, ...]

    def __bool__(self) -> bool:
        return bool(self.peaks)

    @classmethod
    def from_json(cls, data: Any) -> Waveform:
        if not isinstance(data, list):
            raise ProtocolError("waveform answer's data is not an array")
        return cls(reduce_peaks([clean_peak(value) for value in data], MAX_POINTS))

    def resample(self, width: int) -> tuple[float, ...]:
        """The waveform as exactly ``width`` values (one per column): the loudest
        of each bucket when narrowing, the nearest point when widening."""
        if width <= 0 or not self.peaks:
            return ()
        n = len(self.peaks)
        if n >= width:
            return reduce_peaks(self.peaks, width)
        return tuple(self.peaks[i * n // width] for i in range(width))


@dataclass(frozen=True, slots=True)
class Word:
    """One sung word: ``start``/``end`` in seconds, ``0 <= start <= end``.
    ``line_start``: a newline in the server's text put this word first on a line."""

    text: str
    start: float
    end: float
    line_start: bool = False


@dataclass(frozen=True, slots=True)
class Timeline:
    """Words sorted by start time, grouped into lyric lines (:meth:`lines`)."""

    words: tuple[Word, ...]
    _starts: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _lines: tuple[tuple[Word, ...], ...] = field(init=False, repr=False, compare=False)
    #: For each word: (its line's index, its index within that line).
    _where: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        words = self.words
        if any(a.start > b.start for a, b in itertools.pairwise(words)):
            words = tuple(sorted(words, key=lambda w: (w.start, w.end)))
            object.__setattr__(self, "words", words)
        lines: list[tuple[Word, ...]] = []
        where: list[tuple[int, int]] = []
        current: list[Word] = []
        for i, word in enumerate(words):
            if current and (
                word.line_start
                or word.start - words[i - 1].end > LINE_GAP
                or len(current) >= MAX_LINE_WORDS
            ):
                lines.append(tuple(current))
                current = []
            where.append((len(lines), len(current)))
            current.append(word)
        if current:
            lines.append(tuple(current))
        object.__setattr__(self, "_starts", tuple(w.start for w in words))
        object.__setattr__(self, "_lines", tuple(lines))
        object.__setattr__(self, "_where", tuple(where))

    def __bool__(self) -> bool:
        return bool(self.words)

    def lines(self) -> tuple[tuple[Word, ...], ...]:
        """The lyric lines: a new one at a newline in the text, after a pause
        over :data:`LINE_GAP` s, and every :data:`MAX_LINE_WORDS` words."""
        return self._lines

    def line_at(self, t: float) -> tuple[tuple[Word, ...], int | None]:
        """The line being sung at ``t`` s and the index in it of the current
        word (the last one started by ``t``; it stays current through the
        pause after it). Before the first word: the first line and ``None``;
        no words at all: ``((), None)``. A binary search: cheap every frame."""
        if not self.words:
            return (), None
        if not math.isfinite(t):
            t = math.inf if t > 0 else -math.inf  # NaN: the start
        i = bisect.bisect_right(self._starts, t) - 1
        if i < 0:
            return self._lines[0], None
        line, position = self._where[i]
        return self._lines[line], position

    def within(self, duration: float) -> Timeline:
        """The words sung within a clip of ``duration`` s (ends cut to it);
        the server's times are only bounded to a week when parsed."""
        if not (math.isfinite(duration) and duration > 0):
            return self
        kept = tuple(
            w if w.end <= duration else Word(w.text, w.start, duration, w.line_start)
            for w in self.words
            if w.start < duration
        )
        return self if len(kept) == len(self.words) and kept == self.words else Timeline(kept)

    def next_start(self, t: float) -> float | None:
        """When the next word after ``t`` starts (the lit word changes then),
        or ``None`` after the last one."""
        if not math.isfinite(t):
            return None
        i = bisect.bisect_right(self._starts, t)
        return self._starts[i] if i < len(self._starts) else None

    @classmethod
    def from_json(cls, data: Any) -> Timeline:
        aligned = data.get("aligned") if isinstance(data, dict) else None
        if not isinstance(aligned, list):
            raise ProtocolError("timeline answer has no aligned array")
        words: list[Word] = []
        pending_break = False
        for item in aligned:
            if not isinstance(item, dict):
                continue
            raw = as_str(item.get("word"))
            start, end = _time(item.get("start")), _time(item.get("end"))
            if raw is None or start is None or end is None:
                continue
            text, line_start, break_after = _clean_word(raw)
            if not text:
                pending_break = pending_break or line_start or break_after
                continue
            words.append(Word(text, start, max(start, end), line_start or pending_break))
            pending_break = break_after
        words.sort(key=lambda w: (w.start, w.end))
        return cls(tuple(words[:MAX_WORDS]))


def _time(value: Any) -> float | None:
    """Seconds within 0..MAX_DURATION_S, else ``None`` (bools are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return None
    return seconds if 0.0 <= seconds <= MAX_DURATION_S else None  # NaN fails too


def _clean_word(raw: str) -> tuple[str, bool, bool]:
    """(printable text, a line starts at this word, a line starts after it).

    A line break before or inside the word starts its line; one after it
    (``"rain\\n"``, as lyric aligners often write it) starts the next word's."""
    body = raw.strip()
    if not body:
        return "", any(b in raw for b in _BREAKS), False
    head = raw[: len(raw) - len(raw.lstrip())]
    tail = raw[len(raw.rstrip()) :]
    before = any(b in head or b in body for b in _BREAKS)
    after = any(b in tail for b in _BREAKS)
    # Control, format (bidi overrides, zero-width) and unassigned characters,
    # and every space but " ": each a space, then runs of them one.
    shown = "".join(ch if ch.isprintable() else " " for ch in body[: MAX_WORD_CHARS * 4])
    text = _SPACES.sub(" ", shown).strip()
    if len(text) > MAX_WORD_CHARS:
        text = text[: MAX_WORD_CHARS - 1] + "…"
    return text, before, after


def parse_waveform(
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    now: Callable[[], float] = time.time,
) -> Waveform:
    """A waveform answer (status, headers, body) as a :class:`Waveform`, or the error."""
    data = envelope_data(status, headers, content, now)
    try:
        return Waveform.from_json(data)
    except ProtocolError as exc:
        raise ProtocolError(exc.message, http_status=status) from None


def parse_timeline(
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    now: Callable[[], float] = time.time,
) -> Timeline:
    """A timeline answer (status, headers, body) as a :class:`Timeline`, or the error."""
    data = envelope_data(status, headers, content, now)
    try:
        return Timeline.from_json(data)
    except ProtocolError as exc:
        raise ProtocolError(exc.message, http_status=status) from None
