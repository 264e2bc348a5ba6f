"""The table's cells: when the clock-driven ones can change (so the tick can
skip rows), and how text is fitted to terminal cells."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.text import Text

from tests.harness import theme_palette
from tui.api.models import Clip, Task
from tui.domain.tracked import TrackedTask
from tui.ui.widgets.columns import column_widths, short_form
from tui.ui.widgets.presentation import (
    clips_cell,
    elide_middle,
    elide_url,
    expiry_look,
    fit_cells,
    live_looks,
    looks_change_at,
    plain,
    row_cells,
    status_text,
    time_looks,
)

NOW = 1_790_000_000.0
PALETTE = theme_palette("textual-dark")


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


def _stamp(expires_in: float | None) -> int | None:
    """``expire_at`` for a clip expiring in so many seconds (0: never, None: unknown)."""
    if expires_in is None or expires_in == 0:
        return expires_in  # type: ignore[return-value]
    return int((NOW + expires_in) * 1000)


def _clips_record(expires_in: list[float | None], saved: tuple[int, ...] = ()) -> TrackedTask:
    clips = tuple(
        Clip(f"c{i}", None, None, "T", 60.0, None, None, _stamp(e))
        for i, e in enumerate(expires_in)
    )
    task = Task("t", "completed", int((NOW - 7200) * 1000), clips)
    return TrackedTask("t", 0.0, task, downloads={f"c{i}": f"/m/{i}.mp3" for i in saved})


def test_a_multi_clip_task_counts_down_its_live_unsaved_clip() -> None:
    """Clip 1 expired, clip 2 valid for 6 days: not "expired" (it was), but the
    live clip's countdown with the gone one counted; saving it mutes it."""
    record = _clips_record([-60, 6 * 86_400 + 23 * 3600 + 120])
    assert expiry_look(record, NOW) == ("6d 23h (1 exp)", "")
    soon = _clips_record([-60, 1800, 5 * 86_400])
    assert expiry_look(soon, NOW) == ("30m (1 exp)", "expiry.soon")  # the urgent one
    saved = _clips_record([-60, 1800, 5 * 86_400], saved=(1,))
    assert expiry_look(saved, NOW) == ("5d 0h (1 exp)", "")  # the red countdown went
    all_saved = _clips_record([1800, 5 * 86_400], saved=(0, 1))
    assert expiry_look(all_saved, NOW) == ("30m", "muted")
    assert expiry_look(_clips_record([-60, -5]), NOW) == ("expired", "expiry.expired")
    assert expiry_look(_clips_record([-60, 0]), NOW)[0] == "never (1 exp)"


def test_partial_saves_show_in_the_clip_count() -> None:
    assert clips_cell(_clips_record([100, 200]), palette=PALETTE).plain == "2"
    assert clips_cell(_clips_record([100, 200], saved=(1,)), palette=PALETTE).plain == "1/2↓"
    assert clips_cell(_clips_record([100, 200], saved=(0, 1)), palette=PALETTE).plain == "2↓"
    many = _clips_record([100] * 120, saved=tuple(range(12)))
    assert clips_cell(many, palette=PALETTE).plain == "120↓·"  # "12/120↓" would not fit


def test_multi_clip_rows_change_only_when_said() -> None:
    rng = random.Random(7)
    for _ in range(300):
        expires = [rng.choice([None, 0, rng.uniform(-120, 3 * 86_400)]) for _ in range(3)]
        saved = tuple(i for i in range(3) if rng.random() < 0.3)
        record = _clips_record(expires, saved)
        until = looks_change_at(record, NOW)
        before = time_looks(record, NOW)
        for _ in range(20):
            t = rng.uniform(NOW, max(NOW, until))
            assert time_looks(record, t) == before, (expires, saved, t - NOW)


# -- text in cells: CJK, emoji sequences, long clips, URLs ---------------------------

FAMILY = "👩\u200d👩\u200d👧"  # one emoji: three joined by zero width joiners


def test_cjk_titles_are_cut_by_cells_with_an_ellipsis() -> None:
    title = "日本語のタイトルです"  # 10 characters, 20 cells
    assert plain(title, 7, palette=PALETTE).plain == "日本語…"  # 7 cells, not 7 characters
    # A wide character that would straddle the edge is left out, not half-shown.
    assert plain(title, 8, palette=PALETTE).plain == "日本語…"
    assert plain(title, 20, palette=PALETTE).plain == title
    assert plain("abcdef", 4, palette=PALETTE).plain == "abc…"


def test_an_emoji_sequence_is_measured_as_the_table_measures_it() -> None:
    title = f"{FAMILY} Family"
    assert cell_len(title) == 9  # Rich (and so Textual) draws the sequence in 2 cells
    assert plain(title, 9, palette=PALETTE).plain == title  # 12 characters, but it fits
    cut = plain(title, 5, palette=PALETTE).plain
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
    """The table grows a column to what a drawn cell needed (see
    TaskTable._check_growth); the widths then show the whole length."""
    short, hour, week = _with_clip(3599), _with_clip(4000), _with_clip(7 * 86_400)
    widths = column_widths(160, 10)
    assert row_cells(short, NOW, widths, palette=PALETTE)["length"].plain == "59:59"
    assert widths["length"] == 6
    for record, shown in ((hour, "1:06:40"), (week, "168:00:00")):
        need = row_cells(record, NOW, widths, palette=PALETTE)["length"].cell_len
        grown = column_widths(160, 10, {"length": need})
        assert row_cells(record, NOW, grown, palette=PALETTE)["length"].plain == shown
        assert grown["length"] == len(shown)


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


def test_took_never_drops_when_a_running_task_finishes() -> None:
    """Running rows count from created_at; the finished row's "took" counts
    from the same start (it once switched to first-seen, and 28 s became 19 s)."""
    created = NOW - 40
    clip = Clip("c", None, None, "T", 60.0, None, None, None)
    running = TrackedTask("t", 0.0, Task("t", "processing", int(created * 1000), ()))
    running.first_seen = NOW - 30
    assert live_looks(running, NOW)[1] == "40s"
    done = TrackedTask("t", 0.0, Task("t", "completed", int(created * 1000), (clip,)))
    done.first_seen, done.finished_at = NOW - 30, NOW + 2
    assert live_looks(done, NOW + 5) == (None, "42s")
    assert done.started_at() == (created, "created")
    unknown = TrackedTask("t", 0.0, Task("t", "completed", None, (clip,)))
    unknown.first_seen, unknown.finished_at = NOW - 30, NOW
    assert live_looks(unknown, NOW) == (None, "30s")
    assert unknown.started_at()[1] == "first seen"


def test_grown_columns_never_squeeze_the_title_or_cut_the_id() -> None:
    """At 80 columns the expires column keeps 8 cells (its long form would
    take the title's room); at 160 the spare room takes it."""
    assert column_widths(80, 24, {"expires": 14})["expires"] == 8  # the title would go under 16
    wide = column_widths(160, 24, {"expires": 14})
    assert wide["expires"] == 14 and wide["title"] == column_widths(160, 24)["title"]


def test_cells_too_wide_for_their_column_have_a_short_form() -> None:
    partly = Text("6d 23h (1 exp)", style="bold")
    assert short_form("expires", partly, 8).plain == "6d 23h"
    assert short_form("length", Text("1:06:40"), 6).plain == "1h06"
    assert short_form("length", Text("168:00:00"), 6).plain == "168h00"
    assert short_form("title", Text("Long title"), 4).plain == "Long title"  # cut by the table


def test_an_unknown_status_is_cut_with_an_ellipsis_in_the_table_only() -> None:
    weird = "[blink]mystery[/] status from a new server"
    assert status_text(weird, palette=PALETTE).plain == "? [blink]mystery[…"  # 16 cells
    assert status_text(weird, palette=PALETTE, width=None).plain == f"? {weird}"


def test_a_submitted_row_says_so_and_what_it_is_until_the_server_answers() -> None:
    widths = column_widths(120)
    record = TrackedTask("gen1", NOW, request={"prompt": "[Verse]\nneon [bold]rain\x1b[31m"})
    cells = row_cells(record, NOW, widths, palette=PALETTE)
    assert cells["status"].plain == "↑ submitted"
    assert cells["title"].plain == "neon [bold]rain\\x1b[31m"  # literal, escaped
    assert cells["title"].style == PALETTE["muted"]
    record.task = Task("gen1", "queuing", None, ())
    cells = row_cells(record, NOW, widths, palette=PALETTE)
    assert cells["status"].plain == "◷ queuing"
    assert cells["title"].plain == "neon [bold]rain\\x1b[31m"  # no clip title yet
    titled = Clip("c", None, None, "Neon Rain", None, None, None, None)
    record.task = Task("gen1", "processing", None, (titled,))
    assert row_cells(record, NOW, widths, palette=PALETTE)["title"].plain == "Neon Rain"
    plain_record = TrackedTask("t", NOW)
    assert row_cells(plain_record, NOW, widths, palette=PALETTE)["status"].plain == "… pending"


def test_the_request_section_says_the_mode_and_cuts_long_lyrics() -> None:
    from rich.console import Console

    from tui.api.generate import GenerateRequest
    from tui.ui.widgets.detail_pane import lyrics_text, request_mode, request_renderable
    from tui.ui.widgets.table_search import SearchIndex

    assert request_mode(GenerateRequest(tags="pop")) == "Custom"
    assert request_mode(GenerateRequest(gpt_description_prompt="rain")) == "Inspiration"
    extend = GenerateRequest(prompt="x", continue_clip_id="clip9", continue_at=42)
    assert request_mode(extend) == "Extend of clip clip9 at 42 s"
    assert lyrics_text("a\nb\nc", limit=2) == "a\nb\n… (1 more lines)"
    body = {"gpt_description_prompt": "[red]rain[/]\x1b[2J", "persona_id": "p1"}
    record = TrackedTask("gen1", NOW, request=body, submitted_at=NOW - 90)
    console = Console(width=80, record=True)
    console.print(request_renderable(record, NOW, palette=PALETTE))
    shown = console.export_text()
    assert "Inspiration" in shown and "[red]rain[/]\\x1b[2J" in shown  # literal, escaped
    assert "7 days (the default)" in shown and "Persona    p1" in shown
    assert "(1m ago)" in shown and "Title" not in shown  # only what was sent
    instrumental = TrackedTask(
        "gen2", NOW, request={"tags": "x", "make_instrumental": True}, submitted_at=NOW
    )
    console.print(request_renderable(instrumental, NOW, palette=PALETTE))
    assert "Custom, instrumental" in console.export_text()
    assert "[red]rain" in SearchIndex().text(record)  # the filter finds it by its label
