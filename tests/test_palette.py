"""Status colours come from the theme and stay readable in every built-in theme
(issue #12, item 5: on textual-light "⚠ 2 expiring soon" was #cb9000 on
#d0d0d0, 1.8:1)."""

from __future__ import annotations

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
    theme_variables,
)

from .harness import theme_palette

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
