"""The one-line status bar under the title: host, link health, counts, last poll."""

from __future__ import annotations

import time
from collections.abc import Mapping

from rich.text import Text
from textual.widgets import Static

from tui.core.sanitize import clean
from tui.services.poller import LinkState
from tui.ui.widgets.presentation import STATUS_LOOK

COUNTED = ("queuing", "processing", "completed", "failed")


def _clock(epoch: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch)) if epoch else "—"


def link_text(link: LinkState, now: float) -> Text:
    wait = f" in {max(0, round(link.resume_at - now))}s" if link.resume_at else ""
    if link.state == "ok":
        return Text("● ok", style="green")
    if link.state == "retrying":
        return Text(f"◌ retrying{wait}", style="yellow")
    if link.state == "rate_limited":
        return Text(f"◌ rate limited, resuming{wait}", style="yellow")
    if link.state == "auth_failed":
        return Text("✘ auth failed", style="bold red")
    last = f", last success {_clock(link.last_success)}" if link.last_success else ""
    return Text(f"✘ offline since {_clock(link.since)}{last}, retrying{wait}", style="bold red")


def status_line(
    host: str,
    link: LinkState,
    counts: Mapping[str, int],
    last_poll: float | None,
    now: float,
    width: int = 200,
    unsaved: int = 0,
) -> Text:
    """The fullest form that fits ``width``: words, then bare counts, then no host."""
    others = sum(n for s, n in counts.items() if s not in COUNTED)
    for variant in ("full", "compact", "minimal"):
        parts: list[Text | str] = []
        if variant != "minimal":
            parts += [Text(clean(host, one_line=True), style="bold"), "  "]
        parts += [link_text(link, now), "  │ "]
        for status in COUNTED:
            glyph, style = STATUS_LOOK[status]
            label = (
                f"{glyph} {counts.get(status, 0)} {status}"
                if variant == "full"
                else (f"{glyph}{counts.get(status, 0)}")
            )
            parts += [Text(label, style=style), "  " if variant == "full" else " "]
        if others:
            parts += [Text(f"· {others} other", style="dim"), "  "]
        parts += ["│ last poll " if variant == "full" else "│ ", _clock(last_poll)]
        if unsaved:
            warn = (
                f"  ⚠ {unsaved} expiring soon, not downloaded"
                if variant == "full"
                else f" ⚠{unsaved}"
            )
            parts.append(Text(warn, style="bold yellow"))
        line = Text.assemble(*parts)
        if line.cell_len <= width:
            return line
    line.truncate(width, overflow="ellipsis")
    return line


class StatusBar(Static):
    """Updated on the 1 s tick; nothing is built when what it shows is the same."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self._last: Text | None = None
        self._inputs: tuple[object, ...] = ()

    def refresh_from(
        self,
        host: str,
        link: LinkState,
        counts: Mapping[str, int],
        last_poll: float | None,
        unsaved: int,
        now: float,
    ) -> None:
        width = self.content_size.width or 200
        countdown = round(link.resume_at - now) if link.resume_at else None
        inputs = (host, link, tuple(sorted(counts.items())), last_poll, unsaved, width, countdown)
        if inputs != self._inputs:  # this runs every second: build only on change
            self._inputs = inputs
            self.show(status_line(host, link, counts, last_poll, now, width, unsaved))

    def show(self, text: Text) -> None:
        if text != self._last:
            self._last = text
            # One line, always (height: 1 in the CSS): no need to relayout the
            # screen, which the default update does (it showed up as most of
            # the UI's cost while statuses churn).
            self.update(text, layout=False)
