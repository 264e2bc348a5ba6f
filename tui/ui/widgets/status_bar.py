"""The one-line status bar under the title: host, link health, counts, last poll.

Coloured by role from the theme's palette (:mod:`tui.ui.palette`), and built
again when the theme changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import partial

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.message import Message
from textual.theme import Theme
from textual.widgets import Static

from tui.core.sanitize import clean
from tui.domain.tracked import NOT_FOUND
from tui.services.poller import LinkState
from tui.ui.palette import palette_of
from tui.ui.widgets.presentation import STATUS_LOOK, UNKNOWN_LOOK, Styles, elide_middle, styled
from tui.ui.wording import plural

#: Counted always, zero or not, so their places never move.
COUNTED = ("queuing", "processing", "completed", "failed")
#: Counted after those, only when there are some.
EXTRA = ("pending", NOT_FOUND)
#: Any other status a server sends is counted under this name (one part for
#: all of them: a server inventing statuses must not flood the bar).
UNKNOWN = "unknown"
#: The host is cut to this many cells (middle ellipsis) before it is dropped.
SHORT_HOST = 24

#: How the line gives way when it does not fit, one part at a time, least
#: useful first: (part, level). Every part starts at level 0, its fullest form;
#: the first line that fits is shown. The host goes last of all.
STEPS: tuple[tuple[str, int], ...] = (
    ("poll", 1),  # "last poll 20:16:53" -> "20:16:53"
    ("warn", 1),  # "⚠ 3 expiring soon, not downloaded" -> "⚠ 3 expiring soon"
    ("link", 1),  # offline: no "last success …"; "rate limited, wait 12s"
    ("gaps", 1),  # two spaces between counts -> one
    ("counts", 1),  # zero counts without their word: "◷ 0"
    ("warn", 2),  # "⚠ 3 clips expiring"
    ("host", 1),  # cut to SHORT_HOST cells
    ("link", 2),  # "✘ offline, retrying in 5s"
    ("counts", 2),  # ◷ ◐ ✔ read alone: "✔ 11 ✘ 2 failed … 2 pending"
    ("warn", 3),  # "⚠3"
    ("counts", 3),  # words only for trouble: "✔ 11 ✘ 2 failed … 2"
    ("poll", 2),  # no last poll time
    ("counts", 4),  # no words at all: "◷0 ◐0 ✔11 ✘2"
    ("host", 2),  # no host
)
#: Counts whose glyph reads well alone (the table shows it beside its word).
SELF_EVIDENT = ("queuing", "processing", "completed")
#: Counts that keep their word longest: the ones that ask for action.
TROUBLE = ("failed", NOT_FOUND)


def _clock(epoch: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch)) if epoch else "—"


def link_text(
    link: LinkState, now: float, level: int = 0, *, palette: Styles, never: bool | None = False
) -> Text:
    """The link's health; ``level`` 1 and 2 are shorter forms of the same news.
    ``never``: no answer yet this session ("ok" would claim one); ``None``: no
    answer and nothing to ask (every task finished)."""
    wait = f" in {max(0, round(link.resume_at - now))}s" if link.resume_at else ""
    if link.state == "ok" and never:
        return styled("○ not polled yet", "muted", palette)
    if link.state == "ok" and never is None:
        return styled("○ nothing to poll", "muted", palette)
    if link.state == "ok":
        return styled("● ok", "link.ok", palette)
    if link.state == "retrying":
        return styled(f"◌ retrying{wait}", "link.retrying", palette)
    if link.state == "rate_limited":
        if level and link.resume_at:
            text = f"◌ rate limited, wait {max(0, round(link.resume_at - now))}s"
            return styled(text, "link.retrying", palette)
        return styled(f"◌ rate limited, resuming{wait}", "link.retrying", palette)
    if link.state == "auth_failed":
        return styled("✘ auth failed", "link.auth-failed", palette)
    since = f" since {_clock(link.since)}" if level < 2 else ""
    last = f", last success {_clock(link.last_success)}" if link.last_success and not level else ""
    return styled(f"✘ offline{since}{last}, retrying{wait}", "link.offline", palette)


def count_parts(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """(status, count) for each part of the bar: the four always, then pending
    and not found when there are some, then every other status as unknown."""
    known = (*COUNTED, *EXTRA)
    unknown = sum(n for status, n in counts.items() if status not in known)
    parts = [(status, counts.get(status, 0)) for status in COUNTED]
    parts += [(status, counts[status]) for status in EXTRA if counts.get(status, 0) > 0]
    if unknown > 0:
        parts.append((UNKNOWN, unknown))
    return parts


def _count_text(status: str, count: int, level: int, palette: Styles) -> Text:
    """``✔ 11 completed`` at level 0; then the word goes from a zero count (1),
    from :data:`SELF_EVIDENT` ones (2), from all but :data:`TROUBLE` (3), and
    at 4 every count is glyph and number."""
    glyph, role = STATUS_LOOK.get(status, UNKNOWN_LOOK)
    worded = level == 0 or (
        count > 0
        and (
            level == 1
            or (level == 2 and status not in SELF_EVIDENT)
            or (level == 3 and status in TROUBLE)
        )
    )
    if worded:
        label = f"{glyph} {count} {status}"
    else:
        label = f"{glyph} {count}" if level < 4 else f"{glyph}{count}"
    return styled(label, role, palette)


def _warn_text(unsaved: int, level: int) -> str:
    """Clips, not tasks, are counted (view 5 lists their tasks): said while
    there is room."""
    clips = plural(unsaved, "clip")
    return (
        f"⚠ {clips} expiring soon, not downloaded",
        f"⚠ {clips} expiring soon",
        f"⚠ {clips} expiring",
        f"⚠{unsaved}",
    )[level]


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
    """The fullest line that fits ``width`` cells.

    Each part has shorter forms and :data:`STEPS` says which part gives way
    next, so a bar with room for most of its words keeps them (at 100 columns
    it once fell to ``◷0 ◐0 ✔11 ✘2 │ 20:16:53 ⚠3`` with 40 columns empty,
    because an offline message was too long for the one fuller form).
    """
    levels = dict.fromkeys(("host", "link", "gaps", "counts", "poll", "warn"), 0)
    host = clean(host, one_line=True)
    counted = count_parts(counts)

    def build(levels: Mapping[str, int]) -> Text:
        return _assemble(host, link, counted, last_poll, now, unsaved, levels, palette)

    line = build(levels)
    taken: list[tuple[str, int]] = []  # (part, the level it had before the step)
    for part, level in STEPS:
        if line.cell_len <= width:
            break
        if levels[part] == level or (part == "warn" and not unsaved):
            continue  # this step would change nothing
        taken.append((part, levels[part]))
        levels[part] = level
        line = build(levels)
    else:
        if line.cell_len > width:
            line.truncate(width, overflow="ellipsis")
            return line
    # A later step may have freed more room than needed: give back, newest
    # first, whatever still fits (at 100 columns "⚠ 2 expiring soon" once
    # lost "soon" to room that dropping the count words had freed).
    for part, before in reversed(taken):
        trial = {**levels, part: before}
        fuller = build(trial)
        if fuller.cell_len <= width:
            levels, line = trial, fuller
    return line


def _assemble(
    host: str,
    link: LinkState,
    counted: list[tuple[str, int]],
    last_poll: float | None,
    now: float,
    unsaved: int,
    levels: Mapping[str, int],
    palette: Styles,
) -> Text:
    parts: list[Text | str] = []
    if levels["host"] < 2:
        shown = host if levels["host"] == 0 else elide_middle(host, SHORT_HOST)
        parts += [Text(shown, style="bold"), "  "]
    waiting = any(n for status, n in counted if status in ("pending", "queuing", "processing"))
    never = (True if waiting else None) if last_poll is None else False
    link_part = link_text(link, now, levels["link"], palette=palette, never=never)
    parts += [link_part, "  │ "]
    gap = "  " if levels["gaps"] == 0 else " "
    for index, (status, count) in enumerate(counted):
        parts += [gap] if index else []
        parts.append(_count_text(status, count, levels["counts"], palette))
    if levels["poll"] < 2:
        parts += [gap, "│ last poll " if levels["poll"] == 0 else "│ ", _clock(last_poll)]
    if unsaved:
        parts += [gap, styled(_warn_text(unsaved, levels["warn"]), "warning", palette)]
    return Text.assemble(*parts)


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

    class ExpiringClicked(Message):
        """A click on "⚠ N expiring soon": show those tasks (view 5)."""

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        line = self._last.plain if self._last is not None else ""
        warn = line.rfind("⚠")
        if offset is not None and warn >= 0 and cell_len(line[:warn]) <= offset.x:
            self.post_message(self.ExpiringClicked())

    def show(self, text: Text) -> None:
        if text != self._last:
            self._last = text
            # One line, always (height: 1 in the CSS): no need to relayout the
            # screen, which the default update does (it showed up as most of
            # the UI's cost while statuses churn).
            self.update(text, layout=False)
