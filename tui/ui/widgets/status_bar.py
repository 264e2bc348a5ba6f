"""The one-line status bar under the title: host, link health, counts, last poll.

Coloured by role from the theme's palette (:mod:`tui.ui.palette`), and built
again when the theme changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import partial

from rich.text import Text
from textual.theme import Theme
from textual.widgets import Static

from tui.core.sanitize import clean
from tui.services.poller import LinkState
from tui.ui.palette import palette_of
from tui.ui.widgets.presentation import STATUS_LOOK, Styles, styled

COUNTED = ("queuing", "processing", "completed", "failed")


def _clock(epoch: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch)) if epoch else "—"


def link_text(link: LinkState, now: float, *, palette: Styles) -> Text:
    wait = f" in {max(0, round(link.resume_at - now))}s" if link.resume_at else ""
    if link.state == "ok":
        return styled("● ok", "link.ok", palette)
    if link.state == "retrying":
        return styled(f"◌ retrying{wait}", "link.retrying", palette)
    if link.state == "rate_limited":
        return styled(f"◌ rate limited, resuming{wait}", "link.retrying", palette)
    if link.state == "auth_failed":
        return styled("✘ auth failed", "link.auth-failed", palette)
    last = f", last success {_clock(link.last_success)}" if link.last_success else ""
    text = f"✘ offline since {_clock(link.since)}{last}, retrying{wait}"
    return styled(text, "link.offline", palette)


def status_line(
    host: str,
    link: LinkState,
    counts: Mapping[str, int],
    last_poll: float | None,
    now: float,
    width: int = 200,
    unsaved: int = 0,
    *,
    palette: Styles,
) -> Text:
    """The fullest form that fits ``width``: words, then bare counts, then no host."""
    others = sum(n for s, n in counts.items() if s not in COUNTED)
    for variant in ("full", "compact", "minimal"):
        parts: list[Text | str] = []
        if variant != "minimal":
            parts += [Text(clean(host, one_line=True), style="bold"), "  "]
        parts += [link_text(link, now, palette=palette), "  │ "]
        for status in COUNTED:
            glyph, role = STATUS_LOOK[status]
            label = (
                f"{glyph} {counts.get(status, 0)} {status}"
                if variant == "full"
                else (f"{glyph}{counts.get(status, 0)}")
            )
            parts += [styled(label, role, palette), "  " if variant == "full" else " "]
        if others:
            parts += [styled(f"· {others} other", "muted", palette), "  "]
        parts += ["│ last poll " if variant == "full" else "│ ", _clock(last_poll)]
        if unsaved:
            warn = (
                f"  ⚠ {unsaved} expiring soon, not downloaded"
                if variant == "full"
                else f" ⚠{unsaved}"
            )
            parts.append(styled(warn, "warning", palette))
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
        self._again: Callable[[], None] | None = None  # the last refresh_from

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, theme: Theme) -> None:
        """Show the same again in the new theme's colours (the palette is one
        of the inputs, so this builds the line anew)."""
        if self._again is not None:
            self._again()

    def refresh_from(
        self,
        host: str,
        link: LinkState,
        counts: Mapping[str, int],
        last_poll: float | None,
        unsaved: int,
        now: float,
    ) -> None:
        self._again = partial(self.refresh_from, host, link, counts, last_poll, unsaved, now)
        width = self.content_size.width or 200
        countdown = round(link.resume_at - now) if link.resume_at else None
        palette = palette_of(self.app)
        inputs = (
            host,
            link,
            tuple(sorted(counts.items())),
            last_poll,
            unsaved,
            width,
            countdown,
            palette,
        )
        if inputs != self._inputs:  # this runs every second: build only on change
            self._inputs = inputs
            line = status_line(host, link, counts, last_poll, now, width, unsaved, palette=palette)
            self.show(line)

    def show(self, text: Text) -> None:
        if text != self._last:
            self._last = text
            # One line, always (height: 1 in the CSS): no need to relayout the
            # screen, which the default update does (it showed up as most of
            # the UI's cost while statuses churn).
            self.update(text, layout=False)
