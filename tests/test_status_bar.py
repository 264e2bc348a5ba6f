"""The status bar's line: the fullest wording that fits, every status named."""

from __future__ import annotations

import re
import time

from hypothesis import given
from hypothesis import strategies as st

from tui.services.poller import LinkState
from tui.simulator import Fault
from tui.ui.widgets.status_bar import status_line

from .harness import make_app, screen_text, theme_palette, wait_for

NOW = 1_790_000_000.0
PALETTE = theme_palette("textual-dark")
HOST = "api.musicmint.example"
COUNTS = {"completed": 11, "failed": 2, "pending": 2}
OK = LinkState("ok")
OFFLINE = LinkState("offline", since=NOW - 300, last_success=NOW - 310, resume_at=NOW + 5)


def bar(columns: int, link: LinkState = OK, **kwargs: object) -> str:
    """The line at a terminal ``columns`` wide (the bar has one cell of padding
    each side, as in app.tcss)."""
    options: dict = {"counts": COUNTS, "unsaved": 3, **kwargs}
    line = status_line(
        HOST,
        link,
        options["counts"],
        NOW - 3,
        NOW,
        columns - 2,
        options["unsaved"],
        palette=PALETTE,
    )
    assert line.cell_len <= columns - 2, line.plain
    return line.plain


def test_at_170_columns_everything_is_said_in_words() -> None:
    assert bar(170) == (
        f"{HOST}  ● ok  │ ◷ 0 queuing  ◐ 0 processing  ✔ 11 completed  ✘ 2 failed  "
        "… 2 pending  │ last poll 20:16:53  ⚠ 3 clips expiring soon, not downloaded"
    ).replace("20:16:53", _clock(NOW - 3))


def test_at_120_columns_only_the_least_useful_words_go() -> None:
    line = bar(120)
    assert line.startswith(f"{HOST}  ● ok")
    for words in ("✔ 11 completed", "✘ 2 failed", "… 2 pending", "⚠ 3 clips expiring soon"):
        assert words in line
    assert "last poll" not in line and "not downloaded" not in line
    assert re.search(r"◷ 0 +◐ 0 ", line)  # zero counts without their words


def test_at_100_columns_the_counts_keep_their_words_where_needed() -> None:
    """Once ``◷0 ◐0 ✔11 ✘2 │ 20:16:53 ⚠3`` with 40 columns left empty."""
    line = bar(100)
    assert line.startswith(HOST)
    for words in ("✔ 11", "✘ 2 failed", "… 2 pending", "⚠ 3 clips expiring", _clock(NOW - 3)):
        assert words in line
    assert len(line) >= 85  # the room is used
    # Offline (the long link message that made it collapse): still host and words.
    offline = bar(100, OFFLINE)
    assert offline.startswith(f"{HOST}  ✘ offline, retrying in 5s")
    assert "✘ 2 failed" in offline and _clock(NOW - 3) in offline


def test_at_80_columns_the_host_stays_and_failures_keep_their_word() -> None:
    line = bar(80)
    assert line.startswith(HOST) and "✘ 2 failed" in line and "⚠" in line
    offline = bar(80, OFFLINE)
    assert offline.startswith(f"{HOST}  ✘ offline, retrying in 5s")
    assert re.search(r"◷0 +◐0 +✔11 +✘2 +…2", offline)


def test_room_freed_by_a_later_step_is_given_back() -> None:
    """Steps are taken in order until the line fits; the last one may free
    more than needed, and what still fits comes back (the review found
    "⚠ 2 expiring" at 100 columns with room for "⚠ 2 expiring soon")."""
    for width in range(60, 200):
        line = status_line(HOST, LinkState("ok"), COUNTS, NOW, NOW, width, 3, palette=PALETTE)
        assert line.cell_len <= width
        if "⚠ 3 expiring" in line.plain and "soon" not in line.plain:
            longer = line.plain.replace("⚠ 3 expiring", "⚠ 3 clips expiring soon")
            assert len(longer) > width, (width, line.plain)


def test_not_polled_yet_is_not_ok() -> None:
    line = status_line(HOST, LinkState("ok"), COUNTS, None, NOW, 200, 0, palette=PALETTE)
    assert "○ not polled yet" in line.plain and "● ok" not in line.plain


def test_every_status_has_its_own_part() -> None:
    counts = {"queuing": 1, "pending": 2, "not found": 1, "weird": 1, "stranger": 2}
    line = bar(200, counts=counts, unsaved=0)
    assert "… 2 pending" in line and "⊘ 1 not found" in line
    assert "? 3 unknown" in line  # statuses the spec does not know share one part
    assert "other" not in line
    assert "pending" not in bar(200, counts={"completed": 1}, unsaved=0)  # none: no part


@given(
    st.integers(min_value=10, max_value=220),
    st.sampled_from([OK, OFFLINE, LinkState("rate_limited", resume_at=NOW + 12)]),
)
def test_more_room_never_shows_less(width: int, link: LinkState) -> None:
    """Each wording is the first of a sequence of ever shorter ones that fits:
    wider never gives a shorter line, and the line always fits."""
    narrower = status_line(HOST, link, COUNTS, NOW, NOW, width, 3, palette=PALETTE)
    wider = status_line(HOST, link, COUNTS, NOW, NOW, width + 1, 3, palette=PALETTE)
    assert narrower.cell_len <= width and wider.cell_len <= width + 1
    assert wider.cell_len >= narrower.cell_len


def _clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(epoch))


async def test_status_bar_on_a_100_column_terminal(sim_server, data_dir, clock) -> None:
    book = sim_server.sim.book
    book.seed("done-1", outcome="completed", age=60)
    book.seed("bad-1", outcome="failed", age=60)
    sim_server.sim.inject("never", Fault.hang(30))  # never answers: pending throughout
    app = make_app(sim_server, data_dir, clock, ids=["done-1", "bad-1", "never"], timeout=60)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(
            pilot, lambda: app.records["bad-1"].finished and app.records["done-1"].finished
        )
        # The bar repaints a moment after the records change (bursts are coalesced).
        await wait_for(
            pilot,
            lambda: {"✔ 1", "✘ 1"} <= set(re.findall("[✔✘] 1", screen_text(app).splitlines()[0])),
        )
        line = screen_text(app).splitlines()[0]
        assert "127.0.0.1" in line and "● ok" in line
        assert "✔ 1 completed" in line and "… 1 pending" in line
        assert f"│ {_clock(clock.now)}" in line  # the last poll time
        assert "⚠ 1 clip expiring" in line  # the simulator's clip expires within hours
        assert not line.rstrip().endswith("…")  # nothing cut off
