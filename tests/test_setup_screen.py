"""First run without a key: the setup screen, driven by keys against the simulator."""

from __future__ import annotations

import dataclasses
import socket
import stat
from pathlib import Path

import pytest
from textual.widgets import Input

from tui.cli.main import main
from tui.core import locations
from tui.core.config import Config, load_config
from tui.services.store import DB_NAME, TaskStore
from tui.simulator import Simulator, SimulatorServer
from tui.ui.app import MusicMintApp
from tui.ui.screens.setup import SetupScreen

from .conftest import KEY, FakeClock
from .harness import SIZE, loaded, notifications, screen_text, wait_for

QUIET = {
    "bell": False,
    "notify_terminal": "off",
    "notify_desktop": "off",
    "notify_on_expiry": False,
    "timeout": 2.0,
}


def config_file() -> Path:
    return locations.default_config_file()


def read_config() -> Config:
    """The config as the command line reads it (file, then environment)."""
    return dataclasses.replace(load_config(), **QUIET)  # type: ignore[arg-type]


def first_run_app(data_dir: Path, clock: FakeClock, ids: list[str]) -> MusicMintApp:
    return MusicMintApp(
        read_config(),
        TaskStore(data_dir / DB_NAME),
        initial_ids=ids,
        clock=clock,
        tick_interval=0.05,
        quiet_max=0.05,
        reload_config=read_config,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def fill(app: MusicMintApp, key: str, url: str | None = None) -> None:
    app.screen.query_one("#setup-key", Input).value = key
    if url is not None:
        app.screen.query_one("#setup-url", Input).value = url


async def test_first_run_shows_setup_then_saves_and_polls_without_restart(
    sim_server: SimulatorServer, sim: Simulator, data_dir: Path, clock: FakeClock, capsys
) -> None:
    config_file().parent.mkdir(parents=True)
    config_file().write_text("# how often\n[polling]\ninterval = 0.2\n")
    app = first_run_app(data_dir, clock, ["song-1"])
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        assert isinstance(app.screen, SetupScreen)
        text = screen_text(app)
        assert "No API key is configured yet." in text
        assert "https://api.musicmint.ai" in text  # the default base URL, changeable
        assert not any(r.path.startswith("/api/v1/task/") for r in sim.requests)

        await fill(app, KEY, sim_server.url)
        assert KEY not in screen_text(app)  # the key field is masked
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: "works with" in screen_text(app))
        assert f"Key sk-mm-…0001 works with {sim_server.url}." in screen_text(app)
        listed = [r for r in sim.requests if r.path == "/api/v1/tasks"]
        assert len(listed) == 1 and b'"page":1' in listed[0].body
        assert b'"page_size":1' in listed[0].body

        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SetupScreen))
        assert notifications(app)[-1] == "Saved; polling with the key sk-mm-…0001."
        await wait_for(pilot, lambda: app.records["song-1"].status == "queuing")
        await wait_for(pilot, lambda: "song-1" in screen_text(app))

    assert stat.S_IMODE(config_file().stat().st_mode) == 0o600
    assert config_file().read_text().startswith("# how often\n")  # edited in place
    capsys.readouterr()
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert f"api.api_key = sk-mm-…0001  (file {config_file()})" in out
    assert f"api.base_url = {sim_server.url}  (file {config_file()})" in out


@pytest.mark.parametrize(
    ("code", "said"),
    [
        (1003, "This key is disabled: API key is disabled (code 1003"),
        (1004, "This key has been deleted: API key has been deleted (code 1004"),
    ],
)
async def test_test_shows_a_disabled_or_deleted_key(
    sim_server: SimulatorServer, sim: Simulator, data_dir, clock, code: int, said: str
) -> None:
    sim.disabled_keys[KEY] = code
    app = first_run_app(data_dir, clock, [])
    async with app.run_test(size=SIZE) as pilot:
        await fill(app, KEY, sim_server.url)
        await pilot.click("#setup-test")
        await wait_for(pilot, lambda: said in screen_text(app))


async def test_test_shows_a_wrong_key_and_an_unreachable_url(
    sim_server: SimulatorServer, data_dir, clock
) -> None:
    app = first_run_app(data_dir, clock, [])
    async with app.run_test(size=SIZE) as pilot:
        await fill(app, "sk-mm-not-the-right-one", sim_server.url)
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: "The server refused this key:" in screen_text(app))
        assert "HTTP 401" in screen_text(app)
        await pilot.press("ctrl+s")  # just refused: Save asks once before keeping it
        assert "The last Test refused this key. Save again" in screen_text(app)
        assert not config_file().exists()
        url = f"http://127.0.0.1:{free_port()}"
        await fill(app, KEY, url)
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: f"Cannot reach {url}:" in screen_text(app))


async def test_prefix_and_url_are_checked_before_anything_is_sent(
    sim_server: SimulatorServer, sim: Simulator, data_dir, clock
) -> None:
    app = first_run_app(data_dir, clock, [])
    async with app.run_test(size=SIZE) as pilot:
        await fill(app, "hello-world", sim_server.url)
        await pilot.press("ctrl+s")
        assert "A MusicMint key starts with sk-mm-" in screen_text(app)
        await fill(app, KEY, "ftp://example.com")
        await pilot.press("ctrl+t")
        assert "Base URL: expected an http(s) URL" in screen_text(app)
        assert isinstance(app.screen, SetupScreen)
    assert sim.requests == []
    assert not config_file().exists()


async def test_a_rewrite_that_drops_comments_is_said_before_saving(
    sim_server: SimulatorServer, data_dir, clock
) -> None:
    config_file().parent.mkdir(parents=True)
    original = "# mine\napi = { timeout = 3 }\n"
    config_file().write_text(original)
    app = first_run_app(data_dir, clock, [])
    async with app.run_test(size=SIZE) as pilot:
        await fill(app, KEY, sim_server.url)
        await pilot.press("ctrl+s")
        assert "Your config has comments that saving would remove (it" in screen_text(app)
        assert config_file().read_text() == original
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SetupScreen))
    assert "#" not in config_file().read_text()
    assert load_config().api_key == KEY


async def test_env_override_is_shown(
    sim_server: SimulatorServer, data_dir, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MUSICMINT_BASE_URL", sim_server.url)
    app = first_run_app(data_dir, clock, [])
    async with app.run_test(size=SIZE) as pilot:
        text = screen_text(app)
        assert "MUSICMINT_BASE_URL is set: it overrides the base URL saved here" in text
        assert app.screen.query_one("#setup-url", Input).value == sim_server.url
        await fill(app, KEY)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SetupScreen))
    # The URL came from the environment and was left as it was: not written.
    assert config_file().read_text() == f'[api]\napi_key = "{KEY}"\n'


async def test_set_api_key_from_the_palette_says_the_env_key_wins(
    sim_server: SimulatorServer, data_dir, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MUSICMINT_API_KEY", KEY)
    monkeypatch.setenv("MUSICMINT_BASE_URL", sim_server.url)
    app = first_run_app(data_dir, clock, [])
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        assert not isinstance(app.screen, SetupScreen)
        await pilot.press("ctrl+p")
        await pilot.press(*"Set API key")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        text = screen_text(app)
        assert "MUSICMINT_API_KEY is set: it overrides the key saved here" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SetupScreen))
        assert app.is_running


async def test_quit_on_first_run_leaves_without_saving(data_dir, clock) -> None:
    app = first_run_app(data_dir, clock, [])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#setup-leave")
        await wait_for(pilot, lambda: not app.is_running)
    assert not config_file().exists()


def test_the_command_line_opens_the_dashboard_without_a_key_only_in_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import importlib

    import tui.cli.launch

    cli = importlib.import_module("tui.cli.main")  # the package exports main() by that name
    started: list[Config] = []
    monkeypatch.setattr(tui.cli.launch, "run_app", lambda config, **kw: started.append(config) or 0)
    assert main([]) == 2  # a pipe: no one to show the screen to
    assert "Run 'musicmint-tui login'" in capsys.readouterr().err
    monkeypatch.setattr(cli, "_is_terminal", lambda: True)
    assert main([]) == 0
    assert [c.api_key for c in started] == [""]
