"""Helpers for driving the dashboard against the simulator in tests."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from pathlib import Path

from textual.app import App
from textual.pilot import Pilot

from tui.api import MusicMintClient
from tui.core.config import load_config
from tui.services.store import DB_NAME, TaskStore
from tui.simulator import SimulatorServer
from tui.ui.app import MusicMintApp
from tui.ui.palette import Palette, build_palette

from .conftest import KEY

#: The terminal most dashboard tests run in: wide enough for table and details
#: side by side.
SIZE = (160, 40)


def files(folder: Path) -> list[str]:
    """Names in ``folder`` (none when it does not exist)."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def make_app(
    server: SimulatorServer,
    data_dir: Path,
    clock: Callable[[], float],
    *,
    ids: list[str] | None = None,
    interval: float = 0.2,
    tick: float = 0.05,
    **config_changes: object,
) -> MusicMintApp:
    settings: dict[str, object] = {
        "base_url": server.url,
        "api_key": KEY,
        "interval": interval,
        "timeout": 2.0,
        "bell": False,
        # Nothing outside the test: no terminal notification, no desktop
        # command, no expiry warnings (tests that want them say so).
        "notify_terminal": "off",
        "notify_desktop": "off",
        "notify_on_expiry": False,
        **config_changes,
    }
    config = dataclasses.replace(load_config(env={}), **settings)  # type: ignore[arg-type]
    app = MusicMintApp(
        config,
        TaskStore(data_dir / DB_NAME),
        initial_ids=ids or [],
        clock=clock,
        tick_interval=tick,
        # Tests move a fake clock by hand, which a sleeping heartbeat would not
        # see: beat every tick as before (test_hostile checks the quiet beat).
        quiet_max=tick,
    )
    record_notifications(app)
    return app


def record_notifications(app: MusicMintApp) -> None:
    """Keep every message the app shows in ``app.said``: a toast goes after a
    few seconds, and a failed wait should still say what the user was told."""
    said: list[str] = []
    shown = app.notify

    def notify(message: str, *args: object, **kwargs: object) -> None:
        said.append(str(message))
        shown(message, *args, **kwargs)  # type: ignore[arg-type]

    app.said = said  # type: ignore[attr-defined]
    app.notify = notify  # type: ignore[method-assign]


def screen_text(app: MusicMintApp) -> str:
    """What the terminal shows right now, as plain text lines."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def region_text(app: MusicMintApp, widget: object) -> str:
    """What the terminal shows inside ``widget``'s region (e.g. just the detail pane)."""
    region = widget.region  # type: ignore[attr-defined]
    lines = screen_text(app).splitlines()[region.y : region.bottom]
    return "\n".join(line[region.x : region.right] for line in lines)


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until ``condition()`` holds (or fail after ``timeout`` s).

    A ``KeyError`` or ``IndexError`` counts as "not yet": records appear only
    once the task file has been read, which happens after the first frame, and
    ``notifications(app)[-1]`` needs one to have come.
    """
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout

    def holds() -> bool:
        try:
            return bool(condition())
        except (KeyError, IndexError):  # a record not loaded yet, no notification yet
            return False

    while not holds():
        if loop.time() > deadline:
            condition()  # surface a KeyError as itself
            said = getattr(pilot.app, "said", [])[-5:]
            raise AssertionError(
                f"condition not met within {timeout}s (last said: {said}):\n"
                f"{screen_text(pilot.app)}"
            )
        # A plain sleep: pilot.pause() would also wait for every widget's queue
        # and force a full repaint, 50 times a second, for as long as we wait.
        await asyncio.sleep(0.02)


def notifications(app: MusicMintApp) -> list[str]:
    return [n.message for n in app._notifications]


async def loaded(pilot: Pilot) -> None:
    """Wait until the task file has been read (it is read after the first frame)."""
    await wait_for(pilot, lambda: pilot.app.loaded)


@functools.cache
def gzip_bomb() -> bytes:
    """64 MB of zeros in a ~64 KB gzip body."""
    import gzip

    return gzip.compress(b"0" * (64 * 1024 * 1024), compresslevel=9)


async def peak_while_refusing_a_bomb(client: MusicMintClient) -> int:
    """Bytes allocated at the peak while ``client`` refuses a bomb answer
    (tracemalloc): what one hostile response costs in memory."""
    import tracemalloc

    import pytest

    from tui.api import ProtocolError

    tracemalloc.start()
    try:
        with pytest.raises(ProtocolError, match="larger than 8 MB"):
            await client.get_task("abc")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def theme_palette(name: str) -> Palette:
    """The palette of built-in theme ``name`` as an app would build it (with
    Textual's reference ANSI palette for dark or light themes), no app run."""
    app = App()
    theme = app.available_themes[name]
    return build_palette(theme, app.ansi_theme_dark if theme.dark else app.ansi_theme_light)
