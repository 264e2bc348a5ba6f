"""Cover art: an image file drawn in the terminal, or a line saying why not (issue #15).

Three modes (``[ui] cover_art``):

* ``"halfcell"``: coloured half cells (``▀``, top pixel as foreground, bottom
  as background), drawn here without asking the terminal anything, so the same
  image at the same size gives the same cells everywhere: tests and snapshots
  use it.
* ``"auto"``: Kitty graphics (TGP) or Sixel through textual-image when the
  terminal answered that it supports one, half cells otherwise. textual-image
  asks the terminal with escape sequences and reads the answer from stdin, which
  only works before Textual starts reading stdin, so
  :func:`~tui.ui.terminal_graphics.prepare_graphics`
  must run before ``App.run``; a widget in auto mode whose app did not call it
  uses half cells and never queries the terminal itself.
* ``"off"``: the widget hides and reads no file.

The file is checked, decoded and shrunk by :mod:`tui.ui.cover_image` in a
thread worker (a large image never holds up the UI); what the terminal can
draw is asked once by :mod:`tui.ui.terminal_graphics`. Anything that goes
wrong shows ``cover unavailable: <reason>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from PIL import Image as PILImage
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from tui.core.config import COVER_ART_MODES
from tui.core.logs import log
from tui.ui.cover_image import CoverProblem, fit, load_cover
from tui.ui.terminal_graphics import HALFCELL_CELL, cell_pixels, graphics_method, picture_widget

#: Rows the cover takes at most.
MAX_ROWS = 12

CoverMode = Literal["auto", "halfcell", "off"]

# -- the widgets ---------------------------------------------------------------------------


class HalfcellPicture(Widget):
    """An RGB image in coloured half cells, at exactly its widget's size."""

    DEFAULT_CSS = """
    HalfcellPicture { width: auto; height: auto; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.image: PILImage.Image | None = None
        self._strips: list[Strip] = []
        self._strips_for: tuple[int, int, int] | None = None
        #: How many times the cells were computed (tests: nothing is redrawn for nothing).
        self.draws = 0

    def set_image(self, image: PILImage.Image | None) -> None:
        self.image = image
        self._strips_for = None
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        if self.image is None or width < 1 or height < 1:
            return Strip.blank(width)
        key = (id(self.image), width, height)
        if self._strips_for != key:
            self._strips = halfcell_strips(self.image, width, height)
            self._strips_for = key
            self.draws += 1
        return self._strips[y] if y < len(self._strips) else Strip.blank(width)


def halfcell_strips(image: PILImage.Image, cols: int, rows: int) -> list[Strip]:
    """``image`` scaled to ``cols`` x ``2 * rows`` pixels, two pixels a cell."""
    scaled = image.resize((cols, rows * 2), PILImage.Resampling.BILINEAR)
    pixels = scaled.load()
    assert pixels is not None
    styles: dict[tuple[Any, Any], Style] = {}
    strips = []
    for row in range(rows):
        segments = []
        for col in range(cols):
            top, bottom = pixels[col, row * 2], pixels[col, row * 2 + 1]
            style = styles.get((top, bottom))
            if style is None:
                style = styles[top, bottom] = Style.parse(
                    f"rgb({top[0]},{top[1]},{top[2]}) on rgb({bottom[0]},{bottom[1]},{bottom[2]})"
                )
            segments.append(Segment("▀", style))
        strips.append(Strip(Segment.simplify(segments), cols))
    return strips


@dataclass(frozen=True)
class _Loaded:
    path: Path
    image: PILImage.Image | None = None
    problem: str | None = None


class CoverArt(Widget):
    """The cover of one clip: :meth:`show` a file (or ``None``); sized to the
    widget's width at the image's aspect ratio, at most ``max_rows`` high."""

    DEFAULT_CSS = """
    CoverArt { width: 1fr; height: auto; }
    CoverArt > .cover-placeholder { color: $text-muted; width: 1fr; height: auto; }
    """

    MODES: ClassVar[tuple[str, ...]] = COVER_ART_MODES

    def __init__(
        self,
        path: Path | None = None,
        *,
        mode: CoverMode | str = "auto",
        max_rows: int = MAX_ROWS,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        if mode not in COVER_ART_MODES:
            raise ValueError(f"cover mode must be one of {COVER_ART_MODES}, not {mode!r}")
        self._mode = mode
        self.max_rows = max_rows
        self._path = path
        self._loaded: _Loaded | None = None
        self._picture: Widget | None = None
        self._method = ""
        self._picture_size = (-1, -1)
        self._text = ""
        self._ready = False
        #: Files decoded so far (tests: showing the same path again decodes nothing).
        self.loads = 0

    # -- public ---------------------------------------------------------------------------
    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def placeholder(self) -> str:
        """The placeholder's text (``""`` while an image is shown)."""
        return self._text if self.query_one(".cover-placeholder").display else ""

    def show(self, path: Path | None) -> None:
        """Show the file at ``path`` (``None``: no cover). Nothing happens when it is
        the file already shown; call :meth:`reload` when the file itself changed."""
        if path == self._path and self._loaded is not None:
            return
        self._path = path
        self._start()

    def reload(self) -> None:
        self._loaded = None
        self._start()

    def show_problem(self, reason: str) -> None:
        """No file to show, and why (a fetch that failed): ``cover unavailable: <reason>``."""
        self._path = None
        self._loaded = _Loaded(Path(), problem=reason)
        if self._ready:
            self.workers.cancel_group(self, "cover")
            self.display = self._mode != "off"
            self._apply()

    def set_mode(self, mode: CoverMode | str) -> None:
        """Switch between ``"auto"``, ``"halfcell"`` and ``"off"`` (a settings change)."""
        if mode not in COVER_ART_MODES:
            raise ValueError(f"cover mode must be one of {COVER_ART_MODES}, not {mode!r}")
        if mode == self._mode:
            return
        self._mode = mode
        self._start(keep_image=True)

    # -- internals ------------------------------------------------------------------------
    def compose(self):
        yield Static("", classes="cover-placeholder", markup=False)

    def on_mount(self) -> None:
        self._ready = True
        self._start()

    def _start(self, *, keep_image: bool = False) -> None:
        if not self._ready:
            return
        self.display = self._mode != "off"
        if self._mode == "off":
            return
        if self._path is None:
            self._loaded = _Loaded(Path())
            self._show_text("no cover")
            return
        if keep_image and self._loaded is not None and self._loaded.path == self._path:
            self._apply()
            return
        self._loaded = None
        self._show_text("loading cover…")
        self.loads += 1
        self.run_worker(
            lambda path=self._path: self._decode(path),
            name="cover",
            group="cover",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    @staticmethod
    def _decode(path: Path) -> _Loaded:
        try:
            return _Loaded(path, image=load_cover(path))
        except CoverProblem as exc:
            return _Loaded(path, problem=str(exc))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "cover":
            return
        event.stop()
        if event.state == WorkerState.SUCCESS:
            loaded = event.worker.result
            if isinstance(loaded, _Loaded) and loaded.path == self._path:
                self._loaded = loaded
                self._apply()
        elif event.state == WorkerState.ERROR:
            log.warning("cover art failed: %r", event.worker.error)
            self._loaded = _Loaded(self._path or Path(), problem="unexpected error")
            self._apply()

    def _apply(self) -> None:
        loaded = self._loaded
        if loaded is None or self._mode == "off":
            return
        if loaded.image is None:
            self._show_text(
                f"cover unavailable: {loaded.problem}" if loaded.problem else "no cover"
            )
            return
        method = graphics_method(self._mode)
        if self._picture is None or method != self._method:
            if self._picture is not None:
                self._picture.remove()
            self._picture = self._make_picture(method, loaded.image)
            self._picture_size = (-1, -1)
            self._method = method
            self.mount(self._picture)
        else:
            self._set_picture_image(loaded.image)
        self._size_picture()
        self.query_one(".cover-placeholder").display = False
        self._picture.display = True

    def _make_picture(self, method: str, image: PILImage.Image) -> Widget:
        if method in ("tgp", "sixel"):
            return picture_widget()(image, classes="cover-picture")
        picture = HalfcellPicture(classes="cover-picture")
        picture.set_image(image)
        return picture

    def _set_picture_image(self, image: PILImage.Image) -> None:
        if isinstance(self._picture, HalfcellPicture):
            self._picture.set_image(image)
        elif self._picture is not None:
            self._picture.image = image  # type: ignore[attr-defined]

    def _show_text(self, text: str) -> None:
        self._text = text
        static = self.query_one(".cover-placeholder", Static)
        static.update(Text(text))
        static.display = True
        if self._picture is not None:
            self._picture.display = False

    def on_resize(self) -> None:
        self._size_picture()

    def _size_picture(self) -> None:
        if self._picture is None or self._loaded is None or self._loaded.image is None:
            return
        cell = cell_pixels() if self._method in ("tgp", "sixel") else HALFCELL_CELL
        cols, rows = fit(self._loaded.image.size, self.size.width, self.max_rows, cell)
        if (cols, rows) != self._picture_size:
            self._picture_size = (cols, rows)
            self._picture.styles.width, self._picture.styles.height = cols, rows
