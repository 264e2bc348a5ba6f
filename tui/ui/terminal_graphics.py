"""What the terminal can draw pictures with, asked once before the app
starts (issue #15): Kitty graphics (TGP), Sixel, or neither (half cells).

textual-image asks the terminal with escape sequences and reads the answer
from stdin, which only works before Textual starts reading stdin, so
:func:`prepare_graphics` must run before ``App.run``; a cover in auto mode
whose app did not call it uses half cells and never queries the terminal.
"""

from __future__ import annotations

from typing import Any

from tui.core.logs import log

#: Half cells are 1 x 2 pixels of a square-pixel image.
HALFCELL_CELL = (1, 2)

_auto: dict[str, Any] = {}


def prepare_graphics(mode: str) -> str:
    """Ask the terminal what it can draw, for ``mode == "auto"``; call before
    ``App.run`` (once; later calls return the first answer). Returns what auto
    mode will use: ``"tgp"`` (Kitty graphics), ``"sixel"`` or ``"halfcell"``.

    textual-image queries the terminal when imported: with stdout on a terminal
    it writes ``ESC [ c`` and a Kitty graphics query and waits up to 0.1 s for
    each answer on stdin (and ``ESC [ 16 t`` for the cell size when the kernel
    does not know it). It raises on terminals it does not expect (stdin not a
    terminal, a window of 0 columns): that gives half cells, never a traceback.
    Other modes never import it, so they write nothing to the terminal."""
    if mode != "auto":
        return _auto.get("method", "halfcell")
    if "method" in _auto:
        return _auto["method"]
    method = "halfcell"
    try:
        from textual_image import renderable
        from textual_image import widget as image_widgets
        from textual_image._terminal import get_cell_size

        if renderable.Image is renderable.TGPImage:
            method, widget_class = "tgp", image_widgets.TGPImage
        elif renderable.Image is renderable.SixelImage:
            method, widget_class = "sixel", image_widgets.SixelImage
        if method != "halfcell":
            cell = get_cell_size()
            _auto.update(widget=widget_class, cell=(cell.width, cell.height))
    except Exception as exc:  # termios.error, ZeroDivisionError, ... from the terminal query
        log.info("terminal graphics not detected (%r): cover art in half cells", exc)
        method = "halfcell"
    _auto["method"] = method
    return method


def graphics_method(mode: str) -> str:
    """What a widget in ``mode`` draws with, without querying the terminal."""
    if mode == "off":
        return "off"
    if mode == "auto":
        return _auto.get("method", "halfcell")
    return "halfcell"


def picture_widget() -> Any:
    """textual-image's widget class for what :func:`prepare_graphics` found."""
    return _auto["widget"]


def cell_pixels() -> tuple[int, int]:
    """A terminal cell in pixels, as the terminal said (10 x 20 when it did not)."""
    return _auto.get("cell", (10, 20))
