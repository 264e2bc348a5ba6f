"""Colours by meaning (a status, an expiry, the link's health), from the theme.

Rich colour names such as ``"green"`` look the same in every theme: Textual
maps them through one fixed ANSI palette, and on light themes they fall far
below readable contrast (``"yellow"`` is #cb9000, 1.8:1 on textual-light's
#d0d0d0 status bar). Instead each *role* here takes the colour the theme
means for it ($success, $warning, $error, $primary, $accent, $text-muted),
and where that colour is not readable on every background the dashboard
draws such text on, the same hue darkened (light themes) or lightened (dark
themes) just enough to reach WCAG 2.x's 4.5:1 for normal text.

Widgets ask :func:`palette_of` for the current theme's :class:`Palette` (a
role -> Rich ``Style`` dict, built once per theme) and rebuild what they
show when the theme changes; :mod:`tui.ui.widgets.presentation` takes the
palette as an argument, so it stays testable without an app.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Final
from weakref import WeakKeyDictionary

from rich.style import Style
from rich.terminal_theme import TerminalTheme
from textual.app import App
from textual.color import Color, ColorParseError
from textual.theme import Theme

#: WCAG 2.x level AA minimum for normal text.
MINIMUM_CONTRAST: Final = 4.5

_PLAIN = Style()
_BOLD = Style(bold=True)

#: Every role: the theme variable its colour comes from, and the attributes
#: it adds to that colour.
ROLES: Final[Mapping[str, tuple[str, Style]]] = {
    # A task's status (table, detail pane; the status bar counts four of them).
    "status.pending": ("text-muted", _PLAIN),
    "status.submitted": ("accent", _PLAIN),
    "status.queuing": ("warning", _PLAIN),
    "status.processing": ("primary", _PLAIN),
    "status.completed": ("success", _PLAIN),
    "status.failed": ("error", _PLAIN),
    "status.not-found": ("error", _PLAIN),
    "status.unknown": ("accent", _PLAIN),
    # How soon the clips expire.
    "expiry.soon": ("error", _BOLD),  # under an hour
    "expiry.warn": ("warning", _PLAIN),  # under a day
    "expiry.expired": ("text-muted", Style(strike=True)),
    # What is there but matters less: "never", "—", the detail pane's labels.
    "muted": ("text-muted", _PLAIN),
    "note": ("text-muted", Style(italic=True)),
    # The connection, in the status bar.
    "link.ok": ("success", _PLAIN),
    "link.retrying": ("warning", _PLAIN),
    "link.offline": ("error", _BOLD),
    "link.auth-failed": ("error", _BOLD),
    # "⚠ 2 expiring soon, not downloaded" in the status bar.
    "warning": ("warning", _BOLD),
    # A clip saved to disk (the ↓ in the table, "Saved" in the detail pane).
    "saved": ("success", _PLAIN),
    # Server errors (detail pane) and failed downloads.
    "error": ("error", _PLAIN),
    # A poll that failed and will be retried (detail pane).
    "problem": ("warning", _PLAIN),
    # Listening: the waveform's played part and the rest; the lyric word sung now.
    "wave.played": ("accent", _PLAIN),
    "wave.rest": ("text-muted", _PLAIN),
    "lyrics.now": ("accent", _BOLD),
}


def luminance(color: Color) -> float:
    """WCAG 2.x relative luminance of an opaque RGB colour (0 black, 1 white)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(color.r) + 0.7152 * linear(color.g) + 0.0722 * linear(color.b)


def contrast(foreground: Color, background: Color) -> float:
    """WCAG 2.x contrast ratio, 1 (none) to 21 (black on white)."""
    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def worst_contrast(color: Color, backgrounds: Iterable[Color]) -> float:
    return min(contrast(color, background) for background in backgrounds)


def readable(color: Color, backgrounds: Iterable[Color], dark: bool) -> Color:
    """``color`` if it reaches :data:`MINIMUM_CONTRAST` on every background,
    else the same hue (CIE Lab a*, b* kept) with its lightness moved away
    from the backgrounds by the least amount that does: found by bisection,
    to within a tenth of a Lab unit. The text colour Textual would pick
    (black or white) if no lightness will do."""
    backgrounds = tuple(backgrounds)

    def good(candidate: Color) -> bool:
        return worst_contrast(candidate, backgrounds) >= MINIMUM_CONTRAST

    if good(color):
        return color
    for lighten in (dark, not dark):  # the other way only for odd custom themes

        def moved(amount: float, lighten: bool = lighten) -> Color:
            return color.lighten(amount) if lighten else color.darken(amount)

        if not good(moved(1.0)):
            continue
        low, high = 0.0, 1.0
        while high - low > 0.001:
            middle = (low + high) / 2
            low, high = (low, middle) if good(moved(middle)) else (middle, high)
        return moved(high)
    return backgrounds[0].get_contrast_text(1.0)


#: Text variables of Textual's own widgets, and the background each is drawn
#: on: the footer's key letters were 2.9:1 in textual-light.
LEGIBLE_VARIABLES = (("footer-key-foreground", "footer-background"),)


def legible_variables(variables: dict[str, str], dark: bool) -> dict[str, str]:
    """``variables`` with :data:`LEGIBLE_VARIABLES` moved to 4.5:1 where they
    fall short (ANSI and "auto" values are left to the terminal)."""
    out = dict(variables)
    for name, under in LEGIBLE_VARIABLES:
        try:
            color, background = _parse(variables[name]), _parse(variables[under])
        except (KeyError, ValueError, ColorParseError):
            continue
        if color.ansi is not None or background.ansi is not None or color.auto:
            continue
        fixed = readable(background + color, (background,), dark)  # alpha blended first
        out[name] = fixed.hex
    return out


def theme_variables(theme: Theme) -> dict[str, str]:
    """The theme's CSS variables, as :meth:`App.get_css_variables` makes them."""
    return {**theme.to_color_system().generate(), **theme.variables}


def _parse(value: str) -> Color:
    """A variable's value (``#RRGGBB``, ``ansi_green``, ``auto 60%``,
    ``#RRGGBB 40%``...) as a Textual colour (which may be ANSI or auto)."""
    name, _, percent = value.partition(" ")
    alpha = float(percent.rstrip("%")) / 100 if percent else 1.0
    if name == "auto":  # the contrasting text colour (black or white)
        return Color(0, 0, 0, alpha, auto=True)
    return Color.parse(name).multiply_alpha(alpha)


def _rgb(color: Color, terminal: TerminalTheme, foreground: bool) -> Color:
    """An ANSI colour as Textual shows it when it must pick RGB (screenshots,
    and in every non-ANSI theme): through the app's reference terminal palette."""
    if color.ansi is None:
        return color
    triplet = color.rich_color.get_truecolor(terminal, foreground=foreground)
    return Color(*triplet, a=color.a)


def _text_color(color: Color, over: Color, terminal: TerminalTheme) -> Color:
    """The opaque RGB colour that text in ``color`` shows over ``over``."""
    if color.auto:
        color = over.get_contrast_text(color.a)
    return over + _rgb(color, terminal, foreground=True)


def backgrounds(theme: Theme, terminal: TerminalTheme) -> dict[str, Color]:
    """Every background the dashboard draws role-coloured text on, as
    ``app.tcss`` paints it and as Textual composes it (same operations, same
    rounding, ANSI colours mapped at the end); tests compare these with the
    backgrounds of the running app's coloured text."""
    needed = ("background", "surface", "foreground", "surface-darken-1", "surface-lighten-1")
    variables = theme_variables(theme)
    variables = {name: _parse(variables[name]) for name in (*needed, "boost", "panel")}
    screen = Color(0, 0, 0, 0) + variables["background"]
    table = screen + variables["surface"]
    # ``background-tint: $foreground 5%`` while the table has focus.
    focused = screen + variables["surface"].tint(variables["foreground"].with_alpha(0.05))
    stripe = (
        variables["surface-darken-1"].multiply_alpha(0.4)
        if theme.dark
        else variables["surface-lighten-1"].multiply_alpha(0.5)
    )
    found = {
        "screen": screen,  # detail pane, downloads panel
        "screen, selected clip": screen + variables["boost"],
        "status bar": screen + variables["panel"],
        "table": table,
        "table, focused": focused,
        "table stripe": table + stripe,
        "table stripe, focused": focused + stripe,
    }
    return {name: _rgb(color, terminal, foreground=False) for name, color in found.items()}


class Palette(Mapping[str, Style]):
    """Role -> Rich style for one theme. Also keeps, for tests and for the
    curious, the colours before and after the contrast fix and the
    backgrounds they were checked against (all as RGB).

    Equal only to itself: widgets put the palette in the signatures they
    compare to skip rebuilding, and a new theme must never look the same."""

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __init__(
        self,
        styles: Mapping[str, Style],
        *,
        theme: Theme,
        terminal: TerminalTheme,
        colors: Mapping[str, Color],
        original: Mapping[str, Color],
        backgrounds: Mapping[str, Color],
    ) -> None:
        self._styles = dict(styles)
        self.theme = theme
        self.terminal = terminal
        self.colors = dict(colors)
        self.original = dict(original)
        self.backgrounds = dict(backgrounds)

    def __getitem__(self, role: str) -> Style:
        return self._styles[role]

    def __iter__(self) -> Iterator[str]:
        return iter(self._styles)

    def __len__(self) -> int:
        return len(self._styles)


def build_palette(theme: Theme, terminal: TerminalTheme) -> Palette:
    """Each role's style in ``theme``. ``terminal`` is the reference ANSI
    palette (``app.ansi_theme``) that gives ANSI themes' colours an RGB value
    to measure; an ANSI colour that is readable there is kept as ANSI (the
    terminal draws it), one that is not becomes the adjusted RGB colour."""
    variables = theme_variables(theme)
    surfaces = backgrounds(theme, terminal)
    table = surfaces["table"]  # where "auto" colours (text-muted) are measured
    colors: dict[str, Color] = {}
    original: dict[str, Color] = {}
    styles: dict[str, Style] = {}
    for role, (variable, attributes) in ROLES.items():
        parsed = _parse(variables[variable])
        shown = _text_color(parsed, table, terminal)
        fixed = readable(shown, surfaces.values(), theme.dark)
        # A readable ANSI colour stays ANSI: the terminal's own palette draws it.
        keep_ansi = parsed.ansi is not None and parsed.a == 1 and fixed == shown
        color = parsed.rich_color if keep_ansi else fixed.rich_color
        original[role], colors[role] = shown, fixed
        styles[role] = Style(color=color) + attributes
    return Palette(
        styles,
        theme=theme,
        terminal=terminal,
        colors=colors,
        original=original,
        backgrounds=surfaces,
    )


_CACHE: WeakKeyDictionary[App[object], Palette] = WeakKeyDictionary()


def palette_of(app: App[object]) -> Palette:
    """The palette of ``app``'s current theme (built on first use per theme:
    cheap to call whenever something is rebuilt, not meant per cell)."""
    theme, terminal = app.current_theme, app.ansi_theme
    palette = _CACHE.get(app)
    if palette is None or palette.theme is not theme or palette.terminal is not terminal:
        palette = _CACHE[app] = build_palette(theme, terminal)
    return palette
