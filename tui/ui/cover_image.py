"""Cover images for the terminal: checked, decoded and shrunk, and sized to
cells (issue #15). No widgets here: :mod:`tui.ui.widgets.cover` draws them.

The file is checked before it is decoded (exists, at most 10 MB, a JPEG, PNG
or WebP by its first bytes), decoded with a cap on pixels (a small file that
inflates to 20000 x 20000 is refused, not decoded), and shrunk once; drawing
then only scales that small copy.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image as PILImage

from tui.core.logs import log
from tui.services.media_cache import COVER_MAX_BYTES
from tui.services.saved_files import looks_like

#: The largest cover file decoded: what the media cache fetches at most.
MAX_COVER_BYTES = COVER_MAX_BYTES
#: The most pixels decoded: 6000 x 6000 covers anything a service sends; past
#: it a small file is a decompression bomb.
MAX_COVER_PIXELS = 36_000_000
#: The decoded image is shrunk to fit this square: enough pixels for Sixel or
#: Kitty graphics at 12 rows, and cheap to rescale on every resize.
KEPT_PIXELS = 512


#: The PIL plugin that reads each image kind the fetcher accepts.
_PLUGINS = {".jpg": "JPEG", ".png": "PNG", ".webp": "WEBP"}


def sniff(head: bytes) -> str | None:
    """``"JPEG"``, ``"PNG"`` or ``"WEBP"`` from a file's first 12 bytes, else
    ``None``: the same magic numbers as every fetch (:func:`looks_like`)."""
    return _PLUGINS.get(looks_like(head, "image") or "")


class CoverProblem(Exception):
    """Why a file is not shown, phrased for the placeholder (``cover unavailable: …``)."""


def load_cover(path: Path, keep: int = KEPT_PIXELS) -> PILImage.Image:
    """The image at ``path`` decoded to RGB and shrunk to fit ``keep`` x ``keep``,
    or :class:`CoverProblem`. Blocking: run it in a thread."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise CoverProblem("not a file")
        with path.open("rb") as f:
            head = f.read(12)
    except FileNotFoundError:
        raise CoverProblem("file missing") from None
    except OSError as exc:
        raise CoverProblem(f"cannot read the file ({exc.strerror or exc})") from None
    if size == 0:
        raise CoverProblem("empty file")
    if size > MAX_COVER_BYTES:
        raise CoverProblem(f"file too large ({size / 1024 / 1024:.1f} MB)")
    kind = sniff(head)
    if kind is None:
        raise CoverProblem("not a JPEG, PNG or WebP image")
    try:
        with warnings.catch_warnings():
            # PIL only warns between MAX_IMAGE_PIXELS and twice that: refuse those too.
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(path, formats=[kind]) as image:
                width, height = image.size
                if width < 1 or height < 1:
                    raise CoverProblem("image has no pixels")
                if width * height > MAX_COVER_PIXELS:
                    raise CoverProblem(f"image too large ({width}x{height} pixels)")
                image.draft("RGB", (keep, keep))  # JPEG: decode at a fraction of the size
                rgb = _flattened(image)
                rgb.thumbnail((keep, keep))
                return rgb
    except CoverProblem:
        raise
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        raise CoverProblem("image too large (decompression bomb)") from None
    except MemoryError:
        raise CoverProblem("image too large to decode") from None
    except Exception as exc:  # PIL raises OSError, ValueError, SyntaxError, struct.error, ...
        log.info("cover %s cannot be decoded: %r", path.name, exc)
        raise CoverProblem(f"cannot decode the {kind} image") from None


def _flattened(image: PILImage.Image) -> PILImage.Image:
    """RGB, transparency over black (what a dark theme shows around it)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = PILImage.new("RGBA", rgba.size, (0, 0, 0, 255))
        return PILImage.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def fit(
    pixels: tuple[int, int], width: int, max_rows: int, cell: tuple[int, int]
) -> tuple[int, int]:
    """Columns and rows that show an image of ``pixels`` (w, h) at its aspect ratio
    in at most ``width`` columns and ``max_rows`` rows, with cells of ``cell``
    (w, h) pixels on screen."""
    image_w, image_h = pixels
    cell_w, cell_h = cell
    if width < 1 or max_rows < 1 or image_w < 1 or image_h < 1:
        return 0, 0
    cols = width
    rows = round(cols * cell_w * image_h / image_w / cell_h)
    if rows > max_rows:
        rows = max_rows
        cols = min(width, round(rows * cell_h * image_w / image_h / cell_w))
    return max(cols, 1), max(rows, 1)
