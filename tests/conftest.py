"""Shared fixtures: a real simulator on loopback and an isolated home."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

# No test opens a real sound device: miniaudio's NULL backend plays in real
# time and discards the sound (tests that need another backend say so).
os.environ["MUSICMINT_AUDIO"] = "null"

from tui.api import MusicMintClient
from tui.simulator import Simulator, SimulatorServer

KEY = "sk-mm-test-key-0001"
#: The result object's fields, as the spec lists them.
SPEC_CLIP_FIELDS = (
    "id",
    "audio_url",
    "image_url",
    "title",
    "duration",
    "tags",
    "prompt",
    "expire_at",
)


class FakeClock:
    """A wall clock the test moves by hand: simulated tasks change state on cue."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def _settle(min_sleep: float = 0.0, max_sleep: float = 1.0) -> None:
    """Stands in for Textual's ``wait_for_idle`` in Pilot's key presses. That
    one sleeps in 20 ms steps until the whole process (the simulator's threads
    included) spends under 1 ms of CPU in a step: 60-120 ms per key here,
    most of the suite's time. Pilot still waits for every widget's queue after
    each key (``_wait_for_screen``), and tests wait on conditions, never on
    this; a few loop turns let the key's handlers run first."""
    for _ in range(4):
        await asyncio.sleep(0)
    await asyncio.sleep(max(min_sleep, 0.002))


@pytest.fixture(autouse=True)
def quick_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    import textual.app

    monkeypatch.setattr(textual.app, "wait_for_idle", _settle)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every platformdirs location at tmp_path; drop the user's MUSICMINT_* env
    (and their clipboard tool)."""
    for var in ("MUSICMINT_API_KEY", "MUSICMINT_BASE_URL", "MUSICMINT_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    # Never the developer's real clipboard: OSC 52 only, unless a test
    # brings its own clipboard command.
    monkeypatch.setenv("MUSICMINT_CLIPBOARD", "none")
    home = tmp_path / "home"
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        (home / sub).mkdir(parents=True)
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The dashboard's data folder (task file, lock) for one test."""
    return tmp_path / "data"


@pytest.fixture
def music(tmp_path: Path) -> Path:
    """Where downloads go."""
    return tmp_path / "music"


@pytest.fixture
def browser_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A BROWSER command that records the URL it was asked to open."""
    import stat
    import webbrowser

    log = tmp_path / "browser.log"
    script = tmp_path / "fake-browser"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{log}"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("BROWSER", str(script))
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})
    return log


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim_server(clock: FakeClock) -> Iterator[SimulatorServer]:
    server = SimulatorServer(Simulator(api_key=KEY, clock=clock))
    with server:
        yield server


@pytest.fixture
def sim(sim_server: SimulatorServer) -> Simulator:
    return sim_server.sim


@pytest.fixture
async def client(sim_server: SimulatorServer) -> AsyncIterator[MusicMintClient]:
    async with MusicMintClient(sim_server.url, KEY, timeout=2.0) as c:
        yield c
