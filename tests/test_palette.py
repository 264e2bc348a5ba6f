"""Status colours come from the theme and stay readable in every built-in theme
(issue #12, item 5: on textual-light "⚠ 2 expiring soon" was #cb9000 on
#d0d0d0, 1.8:1)."""

from __future__ import annotations

import dataclasses

import pytest
from rich.color import Color as RichColor
from textual.app import App
from textual.color import Color
from textual.filter import dim_color

from tui.ui.palette import (
    MINIMUM_CONTRAST,
    ROLES,
    Palette,
    contrast,
    luminance,
    palette_of,
    theme_variables,
)
from tui.ui.widgets.presentation import STATUS_LOOK

from .harness import make_app, theme_palette, wait_for
from .test_snapshots import demo_app, pinned, settled  # noqa: F401 (pinned: a fixture)

BUILTIN_THEMES = sorted(App().available_themes)


def rgb(color: RichColor, palette: Palette, foreground: bool = True) -> Color:
    """What a Rich colour looks like, ANSI ones through Textual's reference palette."""
    triplet = color.get_truecolor(palette.terminal, foreground=foreground)
    return Color(*triplet)


def unreadable(color: RichColor, palette: Palette) -> list[str]:
    """The backgrounds ``color`` falls under the WCAG minimum on, with the ratio."""
    return [
        f"{where} {background.hex}: {ratio:.2f}:1"
        for where, background in palette.backgrounds.items()
        if (ratio := contrast(rgb(color, palette), background)) < MINIMUM_CONTRAST
    ]


def test_contrast_is_wcag_2() -> None:
    black, white = Color(0, 0, 0), Color(255, 255, 255)
    assert contrast(black, white) == pytest.approx(21)
    assert contrast(white, black) == pytest.approx(21)
    assert contrast(Color(118, 118, 118), white) == pytest.approx(4.54, abs=0.01)
    # The example: textual-light's status bar and ANSI yellow.
    assert contrast(Color.parse("#cb9000"), Color.parse("#d0d0d0")) == pytest.approx(1.8, abs=0.05)


@pytest.mark.parametrize("theme", BUILTIN_THEMES)
def test_every_role_is_readable_on_every_background_it_is_drawn_on(theme: str) -> None:
    palette = theme_palette(theme)
    assert set(palette) == set(ROLES)
    failures = {
        role: problems
        for role in palette
        if (problems := unreadable(palette[role].color, palette))  # type: ignore[arg-type]
    }
    assert not failures, failures


def test_the_check_catches_the_old_colour_names() -> None:
    """What the table and status bar used before: Rich colour names, which
    Textual maps through one ANSI palette whatever the theme, and "dim". On
    textual-light "green" (ok, completed, saved) is #448c27: 2.71:1 on the
    status bar; "yellow" is #cb9000: 1.81:1; "cyan" (processing) 2.78:1."""
    palette = theme_palette("textual-light")
    for name in ("green", "yellow", "cyan"):
        assert unreadable(RichColor.parse(name), palette), name
    status_bar = palette.backgrounds["status bar"]
    green = rgb(RichColor.parse("green"), palette)
    assert contrast(green, status_bar) == pytest.approx(2.71, abs=0.01)
    # "dim" blends the text colour into the background: 4.4:1 here.
    foreground = RichColor.parse(theme_variables(palette.theme)["foreground"])
    dimmed = dim_color(status_bar.rich_color, foreground)
    assert unreadable(dimmed, palette)


def test_theme_colours_are_kept_when_readable_and_moved_just_enough_when_not() -> None:
    light = theme_palette("textual-light")
    assert light.colors["status.processing"] == Color.parse("#004578")  # $primary: 6.3:1
    # $success (#4ebf71) is 1.5:1 on the status bar: darkened, same hue.
    completed = light.colors["status.completed"]
    assert completed != light.original["status.completed"]
    assert completed.g > completed.r and completed.g > completed.b  # still green
    for palette in (light, theme_palette("textual-dark")):
        for role, color in palette.colors.items():
            if color != palette.original[role]:
                worst = min(contrast(color, bg) for bg in palette.backgrounds.values())
                assert MINIMUM_CONTRAST <= worst < MINIMUM_CONTRAST + 0.2, (role, worst)
                darker = luminance(color) < luminance(palette.original[role])
                assert darker == (not palette.theme.dark), role


def test_ansi_themes_keep_the_terminals_colours_where_they_are_readable() -> None:
    palette = theme_palette("ansi-dark")
    completed = palette["status.completed"].color
    assert completed is not None and completed.number == 2  # ansi_green, drawn by the terminal


# -- the running dashboard --------------------------------------------------------------


def status_cell_color(app: App[int], task_id: str) -> RichColor | None:
    """The colour the table actually draws ``task_id``'s status glyph in."""
    table = app.main.table  # type: ignore[attr-defined]
    y = table.get_row_index(task_id) - int(table.scroll_y) + 1  # line 0 is the header
    for segment in table.render_line(y):
        if segment.text.startswith("✔"):
            return segment.style.color if segment.style else None
    raise AssertionError(f"no status glyph on the line of {task_id}")


async def test_switching_theme_recolours_what_is_already_drawn(pinned, tmp_path, clock) -> None:  # noqa: F811
    """The table caches cells and lines, the status bar and the detail pane
    skip rebuilding what looks unchanged: a new theme must reach them all."""
    app = demo_app(pinned, tmp_path, clock)
    async with app.run_test(size=(150, 32)) as pilot:
        await settled(pilot)
        await pilot.press("j")  # the cursor (which has its own colour) off the first row
        await pilot.pause()
        dark = palette_of(app)
        assert status_cell_color(app, "demo-two-clips") == dark["status.completed"].color

        app.theme = "textual-light"
        await pilot.pause()
        await pilot.pause()
        light = palette_of(app)
        assert light["status.completed"].color != dark["status.completed"].color
        assert status_cell_color(app, "demo-two-clips") == light["status.completed"].color
        # Nowhere on screen (table, status bar, detail pane) an old colour is left.
        old = {dark[role].color for role in dark} - {light[role].color for role in light}
        stale = [
            (y, segment.text)
            for y, strip in enumerate(app.screen._compositor.render_strips())
            for segment in strip
            if segment.style and segment.style.color in old and segment.text.strip()
        ]
        assert not stale, stale
        region = app.main.detail.region
        strips = app.screen._compositor.render_strips()[region.y : region.bottom]
        detail = [
            segment.style.color
            for strip in strips
            for segment in strip.crop(region.x, region.right)
            if segment.style
        ]
        assert light["status.completed"].color in detail  # the detail pane's "✔ completed"
        assert light["muted"].color in detail  # its labels


@pytest.mark.parametrize(
    "theme", ["textual-light", "textual-dark", "solarized-light", "ansi-light"]
)
async def test_every_coloured_text_on_screen_is_readable(pinned, tmp_path, clock, theme) -> None:  # noqa: F811
    """End to end: each role-coloured piece of text the compositor draws is on
    a background the palette was checked against, and readable on it. This
    catches a stylesheet change that puts coloured text on a new background."""
    app = demo_app(pinned, tmp_path, clock)
    app.config = dataclasses.replace(app.config, theme=theme)
    async with app.run_test(size=(150, 32)) as pilot:
        await settled(pilot)
        await pilot.press("j")
        await pilot.pause()
        palette = palette_of(app)
        assert palette.theme.name == theme
        colours = {palette[role].color for role in palette}
        checked = {bg.rich_color.triplet for bg in palette.backgrounds.values()}
        seen: set[str] = set()
        for y, strip in enumerate(app.screen._compositor.render_strips()):
            for segment in strip:
                style = segment.style
                if not (style and style.color in colours and segment.text.strip()):
                    continue
                assert style.bgcolor is not None
                background = rgb(style.bgcolor, palette, foreground=False)
                where = f"line {y}: {segment.text!r}"
                assert background.rich_color.triplet in checked, (where, background.hex)
                ratio = contrast(rgb(style.color, palette), background)  # type: ignore[arg-type]
                assert ratio >= MINIMUM_CONTRAST, (where, ratio)
                seen.add(segment.text.strip())
        for status in ("queuing", "completed", "failed"):  # table, detail pane, status bar
            glyph = STATUS_LOOK[status][0]
            assert any(text.startswith(glyph) for text in seen), (status, seen)


@pytest.mark.parametrize("theme", ["textual-light", "atom-one-light", "rose-pine-dawn", "nord"])
async def test_the_footer_keys_are_readable(sim_server, data_dir, clock, theme: str) -> None:
    """Textual's footer draws key letters in $footer-key-foreground: 2.9:1 on
    textual-light's footer. The app moves it to 4.5:1 where a theme falls short."""
    app = make_app(sim_server, data_dir, clock, theme=theme)
    async with app.run_test(size=(100, 20)) as pilot:
        await wait_for(pilot, lambda: app.loaded)
        variables = app.get_css_variables()
        key = Color.parse(variables["footer-key-foreground"])
        under = Color.parse(variables["footer-background"])
        assert contrast(under + key, under) >= 4.5
