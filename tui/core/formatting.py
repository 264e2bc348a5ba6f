"""Human-readable times and durations, shared by the CLI and the widgets."""

from __future__ import annotations

import math
from datetime import datetime


def clip_length(seconds: float | None) -> str:
    """Track length as ``m:ss`` (``h:mm:ss`` past an hour); ``—`` when unknown."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "—"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def span(seconds: float) -> str:
    """A coarse span for ages and countdowns: ``6d 23h 59m``, ``59m 12s``, ``8s``.

    Two units at most: enough precision to act on, little enough to scan.
    """
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def expiry(expire_at_ms: int | None, now: float) -> str:
    """Countdown to ``expire_at``: ``never`` for 0, ``expired`` once past."""
    if expire_at_ms is None:
        return "—"
    if expire_at_ms == 0:
        return "never"
    remaining = expire_at_ms / 1000 - now
    return "expired" if remaining <= 0 else span(remaining)


def local_time(epoch_ms: int | None) -> str:
    """Absolute local time, ``2026-11-25 12:03:07``; ``—`` when unknown or absurd."""
    return "—" if epoch_ms is None else at_time(epoch_ms / 1000)


def at_time(epoch: float, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """``epoch`` (seconds) as local time in ``fmt``; ``—`` when absurd (NaN,
    out of the platform's range)."""
    try:
        return datetime.fromtimestamp(epoch).strftime(fmt)
    except (OverflowError, OSError, ValueError):
        return "—"


def coarse_span(seconds: float) -> str:
    """Table-cell precision: ``45s``, ``12m``, ``5h 12m``, ``6d 23h``.

    Past the first minute the text changes at most once a minute, so the
    ticking table repaints rarely; the detail pane shows seconds.
    """
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"
