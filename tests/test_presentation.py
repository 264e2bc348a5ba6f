"""The table's cells: when the clock-driven ones can change (so the tick can
skip rows), and how text is fitted to terminal cells."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from tui.api.models import Clip, Task
from tui.domain.tracked import TrackedTask
from tui.ui.widgets.presentation import (
    column_widths,
    elide_middle,
    elide_url,
    fit_cells,
    length_cells,
    looks_change_at,
    plain,
    row_cells,
    time_looks,
)

NOW = 1_790_000_000.0


def _record(age: float, expires_in: float | None) -> TrackedTask:
    expire_at = None if expires_in is None else int((NOW + expires_in) * 1000)
    clip = Clip("c", None, None, "T", 60.0, None, None, expire_at)
    task = Task("t", "completed", int((NOW - age) * 1000), (clip,))
    return TrackedTask("t", 0.0, task)


def test_young_or_nearly_expired_rows_are_looked_at_every_second() -> None:
    assert looks_change_at(_record(age=30, expires_in=86_400), NOW) == NOW + 1
    assert looks_change_at(_record(age=3600, expires_in=45), NOW) == NOW + 1


def test_nothing_changes_before_the_time_given() -> None:
    """Sampled: whatever the age and countdown, the looks at any moment before
    looks_change_at() are those of now, and the wait is at most a minute."""
    rng = random.Random(4)
    for _ in range(400):
        record = _record(
            rng.uniform(0, 10 * 86_400), rng.choice([None, rng.uniform(-60, 8 * 86_400)])
        )
        until = looks_change_at(record, NOW)
        assert until <= NOW + 60  # earlier than now: looked at again on the next tick
        before = time_looks(record, NOW)
        for _ in range(20):
            t = rng.uniform(NOW, max(NOW, until))
            assert time_looks(record, t) == before, (record, t - NOW)


# -- text in cells: CJK, emoji sequences, long clips, URLs ---------------------------

FAMILY = "👩\u200d👩\u200d👧"  # one emoji: three joined by zero width joiners


def test_cjk_titles_are_cut_by_cells_with_an_ellipsis() -> None:
    title = "日本語のタイトルです"  # 10 characters, 20 cells
    assert plain(title, 7).plain == "日本語…"  # 7 cells, not 7 characters
    # A wide character that would straddle the edge is left out, not half-shown.
    assert plain(title, 8).plain == "日本語…"
    assert plain(title, 20).plain == title
    assert plain("abcdef", 4).plain == "abc…"


def test_an_emoji_sequence_is_measured_as_the_table_measures_it() -> None:
    title = f"{FAMILY} Family"
    assert cell_len(title) == 9  # Rich (and so Textual) draws the sequence in 2 cells
    assert plain(title, 9).plain == title  # 12 characters, but it fits
    cut = plain(title, 5).plain
    assert cut == f"{FAMILY} F…" and cell_len(cut) == 5


@given(st.text(max_size=40), st.integers(min_value=0, max_value=45))
def test_cut_text_never_overflows_its_cells(text: str, width: int) -> None:
    for cut in (fit_cells(text, width), elide_middle(text, width), elide_url(text, width)):
        assert cell_len(cut) <= width
        if cell_len(text) <= width:
            assert cut == text


def _with_clip(duration: float) -> TrackedTask:
    clip = Clip("c", None, None, "T", duration, None, None, None)
    return TrackedTask("t", 0.0, Task("t", "completed", None, (clip,)))


def test_the_length_column_widens_for_clips_of_an_hour_or_more() -> None:
    short, hour, week = _with_clip(3599), _with_clip(4000), _with_clip(7 * 86_400)
    assert length_cells(short) == 0
    assert column_widths(160, 10, length_cells(short))["length"] == 6  # "59:59"
    for record, shown in ((hour, "1:06:40"), (week, "168:00:00")):
        widths = column_widths(160, 10, length_cells(record))
        cell = row_cells(record, NOW, widths)["length"].plain
        assert cell == shown and widths["length"] == len(shown)


URL = (
    "https://cdn.musicmint.example/files/2026/09/21/0123456789abcdef/"
    "night-drive-remix.mp3?X-Amz-Signature=0123456789abcdef0123456789abcdef"
)


def test_urls_keep_scheme_host_and_file_name_on_one_line() -> None:
    assert elide_url(URL, 200) == URL
    shown = elide_url(URL, 60)
    assert shown == "https://cdn.musicmint.example…abcdef/night-drive-remix.mp3?…"
    assert cell_len(shown) == 60
    # Narrower than host and name together: both ends still show.
    narrow = elide_url(URL, 36)
    assert narrow.startswith("https://cdn.") and narrow.endswith("-remix.mp3?…")
    # Only the query string is left out when the rest fits.
    no_query = URL.partition("?")[0]
    assert elide_url(URL, len(no_query) + 2) == no_query + "?…"
