"""Cover art (tui/ui/widgets/cover.py): drawn in half cells, sized to the pane,
and a placeholder (never a traceback) for anything that is not a good image."""

from __future__ import annotations

import os
import select
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Static
from textual.worker import WorkerState

from tui.ui.cover_image import MAX_COVER_BYTES, CoverProblem, fit, load_cover, sniff
from tui.ui.widgets.cover import CoverArt, HalfcellPicture


class CoverApp(App[None]):
    def __init__(self, path: Path | None = None, mode: str = "halfcell") -> None:
        super().__init__()
        self.path, self.mode = path, mode

    def compose(self) -> ComposeResult:
        yield CoverArt(self.path, mode=self.mode, id="cover")


def solid(path: Path, colour: tuple[int, int, int], size=(64, 64), fmt="PNG") -> Path:
    Image.new("RGB", size, colour).save(path, fmt)
    return path


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` but holds a few bytes of pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    out = b"\x89PNG\r\n\x1a\n"
    for name, data in ((b"IHDR", ihdr), (b"IDAT", zlib.compress(b"\x00" * 64)), (b"IEND", b"")):
        out += (
            struct.pack(">I", len(data)) + name + data + struct.pack(">I", zlib.crc32(name + data))
        )
    return out


async def settle(pilot: Pilot) -> CoverArt:
    """The cover once no decoding is under way (a replaced one was cancelled)."""
    while any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in pilot.app.workers):
        await pilot.pause(0.01)
    await pilot.pause()
    return pilot.app.query_one(CoverArt)


def cells(cover: CoverArt) -> list[list[tuple[tuple[int, int, int], tuple[int, int, int]]]]:
    """Every cell of the picture as (top pixel, bottom pixel) colours."""
    picture = cover.query_one(HalfcellPicture)
    rows = []
    for y in range(picture.size.height):
        row = []
        for segment in picture.render_line(y):
            assert segment.style is not None
            fg, bg = segment.style.color, segment.style.bgcolor
            assert fg is not None and bg is not None
            for _ in segment.text:
                row.append((fg.get_truecolor(), bg.get_truecolor()))
        rows.append(row)
    return rows


# -- the checks before decoding ------------------------------------------------------------


def test_sniff_knows_jpeg_png_webp_by_their_first_bytes() -> None:
    assert sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00") == "JPEG"
    assert sniff(b"\x89PNG\r\n\x1a\n\x00\x00\x00\r") == "PNG"
    assert sniff(b"RIFF\x10\x00\x00\x00WEBP") == "WEBP"
    assert sniff(b"RIFF\x10\x00\x00\x00WAVE") is None
    assert sniff(b"<!DOCTYPE html>") is None
    assert sniff(b"GIF89a") is None
    assert sniff(b"") is None


def test_fit_keeps_the_aspect_ratio_within_width_and_rows() -> None:
    assert fit((100, 100), 40, 12, (1, 2)) == (24, 12)  # square: 24 x 24 half-cell pixels
    assert fit((100, 100), 10, 12, (1, 2)) == (10, 5)  # narrow pane: width decides
    assert fit((200, 100), 40, 12, (1, 2)) == (40, 10)
    assert fit((100, 100), 40, 12, (10, 20)) == (24, 12)
    assert fit((100, 100), 0, 12, (1, 2)) == (0, 0)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_each_format_decodes_and_is_shrunk(tmp_path: Path, fmt: str) -> None:
    image = load_cover(solid(tmp_path / "c", (0, 0, 255), size=(1200, 600), fmt=fmt))
    assert image.mode == "RGB" and image.size == (512, 256)


def test_transparency_is_flattened_over_black(tmp_path: Path) -> None:
    Image.new("RGBA", (8, 8), (255, 255, 255, 0)).save(tmp_path / "clear.png")
    assert load_cover(tmp_path / "clear.png").getpixel((0, 0)) == (0, 0, 0)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"<!DOCTYPE html><html><body>Access denied</body></html>", "not a JPEG, PNG or WebP"),
        (b"GIF89a\x01\x00\x01\x00", "not a JPEG, PNG or WebP"),
        (png_header(20_000, 20_000), "image too large (decompression bomb)"),
        (png_header(9_000, 12_000), "image too large (decompression bomb)"),  # PIL only warns
        (png_header(7_000, 7_000), "image too large (7000x7000 pixels)"),
        (png_header(0, 10), "cannot decode the PNG image"),
        (b"\xff\xd8\xff" + b"\x00" * 64, "cannot decode the JPEG image"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 garbage", "cannot decode the WEBP image"),
    ],
)
def test_what_is_not_a_good_image_gives_a_reason(tmp_path: Path, content: bytes, reason) -> None:
    path = tmp_path / "cover"
    path.write_bytes(content)
    with pytest.raises(CoverProblem, match=reason.replace("(", r"\(").replace(")", r"\)")):
        load_cover(path)


def test_a_truncated_png_is_refused(tmp_path: Path) -> None:
    whole = solid(tmp_path / "whole.png", (10, 200, 30), size=(300, 300)).read_bytes()
    Image.effect_noise((300, 300), 80).save(tmp_path / "noise.png")
    noisy = (tmp_path / "noise.png").read_bytes()
    for name, data in (("cut.png", whole[: len(whole) // 2]), ("cut2.png", noisy[:2000])):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(CoverProblem, match="cannot decode the PNG image"):
            load_cover(tmp_path / name)


def test_missing_and_oversized_files_are_refused_without_reading_them(tmp_path: Path) -> None:
    with pytest.raises(CoverProblem, match="file missing"):
        load_cover(tmp_path / "nowhere.png")
    with pytest.raises(CoverProblem, match="not a file"):
        load_cover(tmp_path)
    big = tmp_path / "big.png"
    with big.open("wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.truncate(MAX_COVER_BYTES + 1)  # sparse: nothing is written past the magic
    with pytest.raises(CoverProblem, match=r"file too large \(10\.0 MB\)"):
        load_cover(big)


# -- the widget ------------------------------------------------------------------------------


async def test_a_red_image_draws_red_half_cells_sized_to_the_pane(tmp_path: Path) -> None:
    app = CoverApp(solid(tmp_path / "red.png", (255, 0, 0)))
    async with app.run_test(size=(40, 20)) as pilot:
        cover = await settle(pilot)
        assert cover.placeholder == ""
        grid = cells(cover)
        assert (len(grid[0]), len(grid)) == (24, 12)  # square, at most 12 rows
        assert {cell for row in grid for cell in row} == {((255, 0, 0), (255, 0, 0))}
        assert cover.size.height == 12


async def test_top_and_bottom_halves_of_a_cell_are_the_two_pixels(tmp_path: Path) -> None:
    """A JPEG, upper half blue and lower half yellow, 2:1 wide: blue over yellow."""
    image = Image.new("RGB", (200, 100), (0, 0, 255))
    image.paste((255, 255, 0), (0, 50, 200, 100))
    image.save(tmp_path / "split.jpg", "JPEG", quality=95)
    app = CoverApp(tmp_path / "split.jpg")
    async with app.run_test(size=(30, 20)) as pilot:
        grid = cells(await settle(pilot))
        assert (len(grid[0]), len(grid)) == (30, 8)  # the pane's width, at 2:1
        top, bottom = grid[0][0], grid[-1][0]

        def near(colour, want):
            return all(abs(a - b) < 40 for a, b in zip(colour, want, strict=True))

        assert near(top[0], (0, 0, 255)) and near(top[1], (0, 0, 255))
        assert near(bottom[0], (255, 255, 0)) and near(bottom[1], (255, 255, 0))


async def test_the_cover_follows_the_pane_width(tmp_path: Path) -> None:
    app = CoverApp(solid(tmp_path / "red.png", (255, 0, 0)))
    async with app.run_test(size=(40, 20)) as pilot:
        cover = await settle(pilot)
        await pilot.resize_terminal(12, 20)
        await pilot.pause()
        assert cover.query_one(HalfcellPicture).size == (12, 6)


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        (b"", "cover unavailable: empty file"),
        (b"<html>502 Bad Gateway</html>", "cover unavailable: not a JPEG, PNG or WebP image"),
        (png_header(20_000, 20_000), "cover unavailable: image too large (decompression bomb)"),
    ],
)
async def test_a_broken_file_shows_the_placeholder(tmp_path: Path, content: bytes, shown) -> None:
    (tmp_path / "cover.png").write_bytes(content)
    app = CoverApp(tmp_path / "cover.png")
    async with app.run_test(size=(60, 20)) as pilot:
        cover = await settle(pilot)
        assert cover.placeholder == shown
        assert not cover.query(HalfcellPicture)
        assert str(cover.query_one(Static).render()) == shown


async def test_a_truncated_png_shows_the_placeholder_not_a_traceback(tmp_path: Path) -> None:
    data = solid(tmp_path / "whole.png", (1, 2, 3), size=(400, 400)).read_bytes()
    (tmp_path / "cut.png").write_bytes(data[:-40])
    Image.effect_noise((400, 400), 90).save(tmp_path / "noise.png")
    (tmp_path / "noise-cut.png").write_bytes((tmp_path / "noise.png").read_bytes()[:5000])
    app = CoverApp(tmp_path / "noise-cut.png")
    async with app.run_test(size=(60, 20)) as pilot:
        cover = await settle(pilot)
        assert cover.placeholder == "cover unavailable: cannot decode the PNG image"
        cover.show(None)
        await pilot.pause()
        assert cover.placeholder == "no cover"
        cover.show(tmp_path / "missing.png")
        await settle(pilot)
        assert cover.placeholder == "cover unavailable: file missing"
    assert app.return_code in (None, 0)


async def test_no_path_says_no_cover() -> None:
    app = CoverApp(None)
    async with app.run_test(size=(40, 20)) as pilot:
        cover = await settle(pilot)
        assert cover.placeholder == "no cover"
        assert cover.size.height == 1


async def test_showing_the_same_path_again_decodes_and_draws_nothing(tmp_path: Path) -> None:
    red = solid(tmp_path / "red.png", (255, 0, 0))
    app = CoverApp(red)
    async with app.run_test(size=(40, 20)) as pilot:
        cover = await settle(pilot)
        picture = cover.query_one(HalfcellPicture)
        loads, draws = cover.loads, picture.draws
        assert (loads, draws) == (1, 1)
        for _ in range(3):
            cover.show(red)
            await settle(pilot)
        assert (cover.loads, picture.draws) == (loads, draws)
        cover.show(solid(tmp_path / "green.png", (0, 255, 0)))
        await settle(pilot)
        assert cover.loads == 2
        assert cells(cover)[0][0] == ((0, 255, 0), (0, 255, 0))


async def test_only_the_last_shown_path_lands(tmp_path: Path) -> None:
    red = solid(tmp_path / "red.png", (255, 0, 0), size=(2000, 2000))
    green = solid(tmp_path / "green.png", (0, 255, 0))
    app = CoverApp(None)
    async with app.run_test(size=(40, 20)) as pilot:
        cover = app.query_one(CoverArt)
        cover.show(red)
        cover.show(green)
        cover = await settle(pilot)
        assert cells(cover)[0][0] == ((0, 255, 0), (0, 255, 0))


async def test_mode_off_hides_and_reads_nothing(tmp_path: Path) -> None:
    red = solid(tmp_path / "red.png", (255, 0, 0))
    app = CoverApp(red, mode="off")
    async with app.run_test(size=(40, 20)) as pilot:
        cover = await settle(pilot)
        assert not cover.display and cover.loads == 0
        cover.set_mode("halfcell")
        cover = await settle(pilot)
        assert cover.display and cover.loads == 1
        assert cells(cover)[0][0] == ((255, 0, 0), (255, 0, 0))
        cover.set_mode("off")
        await pilot.pause()
        assert not cover.display
        cover.set_mode("halfcell")  # the decoded image is kept
        await settle(pilot)
        assert cover.display and cover.loads == 1
    with pytest.raises(ValueError, match="cover mode"):
        CoverArt(mode="sixel")


async def test_auto_without_prepare_graphics_draws_half_cells(tmp_path: Path) -> None:
    """Under Pilot nothing asked the terminal: auto must not ask it now (Textual
    owns stdin) and draws half cells."""
    app = CoverApp(solid(tmp_path / "red.png", (255, 0, 0)), mode="auto")
    async with app.run_test(size=(40, 20)) as pilot:
        assert cells(await settle(pilot))[0][0] == ((255, 0, 0), (255, 0, 0))


# -- asking the terminal, in a child process (the answer is cached per process) ---------------

PROBE = (
    "import sys; from tui.ui.terminal_graphics import prepare_graphics; "
    "m = prepare_graphics(sys.argv[1]); print(m, 'textual_image.renderable' in sys.modules, "
    "file=sys.stderr)"
)


def probe(mode: str, *, pty_stdout: bool, stdin=subprocess.DEVNULL) -> tuple[str, bytes]:
    """What ``prepare_graphics(mode)`` returns in a fresh process, and what it
    wrote to stdout (a pseudo-terminal when ``pty_stdout``)."""
    if not pty_stdout:
        done = subprocess.run(
            [sys.executable, "-c", PROBE, mode], stdin=stdin, capture_output=True, timeout=60
        )
        return done.stderr.decode().strip(), done.stdout
    import pty

    master, slave = pty.openpty()
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", PROBE, mode], stdin=stdin, stdout=slave, stderr=subprocess.PIPE
        )
        os.close(slave)
        _, err = child.communicate(timeout=60)
        written = b""
        while select.select([master], [], [], 0.05)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            written += chunk
    finally:
        os.close(master)
    return err.decode().strip().splitlines()[-1], written


def test_auto_off_a_terminal_is_half_cells_and_writes_nothing() -> None:
    assert probe("auto", pty_stdout=False) == ("halfcell True", b"")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_a_terminal_textual_image_cannot_query_gives_half_cells_not_a_traceback() -> None:
    """stdout a terminal, stdin not one (or a 0-column window): textual-image
    raises termios.error / ZeroDivisionError when imported; auto falls back."""
    shown, _ = probe("auto", pty_stdout=True)
    assert shown.startswith("halfcell")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
@pytest.mark.parametrize("mode", ["halfcell", "off"])
def test_halfcell_and_off_never_touch_the_terminal(mode: str) -> None:
    assert probe(mode, pty_stdout=True) == ("halfcell False", b"")


# -- a terminal that answers: Sixel and Kitty graphics drawn for real ---------------------

#: A cover in a Textual app on a pseudo-terminal, as the dashboard does it:
#: prepare_graphics("auto") first, then the app. Quits after a second and a half.
COVER_CHILD = """
import sys
from pathlib import Path
from textual.app import App
from tui.ui.terminal_graphics import prepare_graphics
from tui.ui.widgets.cover import CoverArt

Path(sys.argv[2]).write_text(prepare_graphics("auto"))

class Cover(App):
    def compose(self):
        yield CoverArt(Path(sys.argv[1]), mode="auto")

    def on_mount(self):
        self.set_timer(1.5, self.exit)

Cover().run()
"""

#: What the test's terminal answers to the primary device attributes query
#: (``ESC [ c``; a 4 among them means Sixel) and to a Kitty graphics query.
TERMINALS = {
    "sixel": (b"\x1b[?62;4;22c", None),
    "kitty": (b"\x1b[?62;22c", b"\x1b_Gi=1;OK\x1b\\"),
    "plain": (b"\x1b[?62;22c", None),
}


def run_in_terminal(kind: str, image: Path, tmp_path: Path) -> tuple[str, bytes]:
    """Run :data:`COVER_CHILD` on a pseudo-terminal of 80x24 cells of 10x20
    pixels that answers as :data:`TERMINALS` says; (method chosen, all output)."""
    import fcntl
    import pty
    import termios
    import time

    attributes, kitty = TERMINALS[kind]
    method_file = tmp_path / "method"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 480, 800))
    child = subprocess.Popen(
        [sys.executable, "-c", COVER_CHILD, str(image), str(method_file)],
        stdin=slave,
        stdout=slave,
        stderr=slave,  # Textual draws on stderr
        start_new_session=True,
    )
    os.close(slave)
    out, answered = b"", set()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if not select.select([master], [], [], 0.05)[0]:
                if child.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            out += chunk
            if b"\x1b[c" in out and "attributes" not in answered:
                answered.add("attributes")
                os.write(master, attributes)
            if kitty and b"a=q" in out and "kitty" not in answered:
                answered.add("kitty")
                os.write(master, kitty)
    finally:
        child.kill() if child.poll() is None else None
        child.wait(timeout=10)
        os.close(master)
    return method_file.read_text(), out


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
@pytest.mark.parametrize("kind", sorted(TERMINALS))
def test_a_terminal_that_draws_pictures_gets_the_cover_as_a_picture(
    kind: str, tmp_path: Path
) -> None:
    """No Kitty or Sixel terminal here, so the test is one: it answers
    textual-image's queries like one, and the cover must then be sent in that
    terminal's graphics (a red Sixel, or a PNG and its Kitty placement), or in
    red half cells when the terminal draws no pictures."""
    method, out = run_in_terminal(kind, solid(tmp_path / "red.png", (255, 0, 0)), tmp_path)
    sixel_red = b"#0;2;100;0;0"  # colour register 0: 100 % red (Sixel colours are percents)
    placeholder = "\U0010eeee".encode()  # Kitty's Unicode placeholder cell
    if kind == "sixel":
        assert method == "sixel"
        assert b"\x1bP" in out and sixel_red in out
    elif kind == "kitty":
        assert method == "tgp"
        assert b"f=100" in out and b"a=p" in out and placeholder in out
        assert sixel_red not in out
    else:
        assert method == "halfcell"
        assert "▀".encode() in out and out.count(b"\x1b_G") == 1  # the query, nothing sent
        assert placeholder not in out and sixel_red not in out


def test_snapshot_of_a_cover_in_half_cells(snap_compare, tmp_path: Path) -> None:
    """A generated cover (a gradient, a disc, a bar) beside its placeholder
    sibling: the deterministic half-cell drawing, sized to a 30-column pane."""
    from PIL import ImageDraw

    image = Image.new("RGB", (240, 240))
    for y in range(240):
        for x in range(0, 240, 8):
            image.paste((x, 40 + y * 3 // 4, 255 - x), (x, y, x + 8, y + 1))
    draw = ImageDraw.Draw(image)
    draw.ellipse((60, 60, 180, 180), fill=(250, 200, 40))
    draw.rectangle((0, 210, 240, 240), fill=(20, 20, 20))
    image.save(tmp_path / "cover.png")

    class Pane(App[None]):
        CSS = "Screen { layout: horizontal; } CoverArt { width: 30; margin: 1; }"

        def compose(self) -> ComposeResult:
            yield CoverArt(tmp_path / "cover.png", mode="halfcell")
            yield CoverArt(tmp_path / "missing.png", mode="halfcell")

    async def loaded(pilot: Pilot) -> None:
        await settle(pilot)

    assert snap_compare(Pane(), terminal_size=(70, 16), run_before=loaded)
