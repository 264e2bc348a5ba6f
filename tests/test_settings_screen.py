"""The settings screen (``,``): edited, checked like the loader, saved and applied live."""

from __future__ import annotations

import dataclasses
import re
import stat
from pathlib import Path

import pytest

from tui.core import locations
from tui.core.config import Config, ConfigError, load_config
from tui.services.store import DB_NAME, TaskStore
from tui.simulator import SimulatorServer
from tui.ui.app import MusicMintApp
from tui.ui.screens.settings import SettingsScreen

from .conftest import KEY, FakeClock
from .harness import SIZE, loaded, notifications, screen_text, wait_for

QUIET = {
    "bell": False,
    "notify_terminal": "off",
    "notify_desktop": "off",
    "notify_on_expiry": False,
}


def config_file() -> Path:
    return locations.default_config_file()


def write_config(server: SimulatorServer, extra: str = "") -> bytes:
    text = (
        "# my settings\n"
        "[api]\n"
        f'base_url = "{server.url}"\n'
        f'api_key = "{KEY}"\n'
        "timeout = 2.0\n"
        "\n"
        "[polling]\n"
        "# the API recommends 5\n"
        "interval = 5.0\n" + extra
    )
    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text(text)
    config_file().chmod(0o600)
    return text.encode()


def app_reading_the_file(
    data_dir: Path, clock: FakeClock, overrides: dict[str, object] | None = None
) -> MusicMintApp:
    """An app whose config, and every reload of it, comes from the file (and env, flags)."""

    def read() -> Config:
        return dataclasses.replace(load_config(overrides=overrides), **QUIET)  # type: ignore[arg-type]

    return MusicMintApp(
        read(),
        TaskStore(data_dir / DB_NAME),
        clock=clock,
        tick_interval=0.05,
        quiet_max=0.05,
        reload_config=read,
    )


async def open_settings(pilot) -> SettingsScreen:  # type: ignore[no-untyped-def]
    await loaded(pilot)
    await pilot.press("comma")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, SettingsScreen))
    await wait_for(pilot, lambda: "Poll interval (s)" in screen_text(pilot.app))
    return pilot.app.screen


def seen(app: MusicMintApp) -> str:
    """The screen's words in reading order, frames taken out: a message the
    dialog wrapped over two lines reads as one."""
    return " ".join(re.sub("[█│▔▁▄▀▌▐]", " ", screen_text(app)).split())


def shows(app: MusicMintApp, message: str) -> bool:
    """Whether ``message`` is on screen, however the dialog wrapped it (a long
    path breaks anywhere): compared with every space taken out."""
    return "".join(message.split()) in "".join(seen(app).split())


def field(screen: SettingsScreen, wid: str):  # type: ignore[no-untyped-def]
    return screen.query_one("#" + wid)


async def test_interval_and_theme_change_live_are_saved_and_kept_after_restart(
    sim_server: SimulatorServer, data_dir: Path, clock: FakeClock
) -> None:
    write_config(sim_server)
    app = app_reading_the_file(data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)
        text = screen_text(app)
        assert shows(app, f"Saves to {config_file()}; applied at once.")
        assert "sk-mm-…0001" in text and KEY not in text  # the key, masked, not editable
        assert app.poller.interval == 5.0 and app.theme == "textual-dark"

        field(screen, "set-polling-interval").value = "2"
        field(screen, "set-polling-max-concurrency").value = "3"
        field(screen, "set-ui-theme").value = "nord"
        field(screen, "set-ui-bell").value = False
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SettingsScreen))
        assert notifications(app)[-1] == f"Settings saved to {config_file()}; applied."
        assert app.poller.interval == 2.0  # live, no restart
        assert app.poller.max_concurrency == 3
        assert app.theme == "nord"
        assert app.config.bell is False  # the announcer reads it at each finish

    assert stat.S_IMODE(config_file().stat().st_mode) == 0o600
    saved = config_file().read_text()
    assert saved.startswith("# my settings\n")  # edited in place, comments kept
    assert "# the API recommends 5\ninterval = 2.0\n" in saved
    assert 'theme = "nord"' in saved

    again = app_reading_the_file(data_dir, clock)
    async with again.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        assert again.poller.interval == 2.0
        assert again.poller.max_concurrency == 3
        assert again.theme == "nord"
        assert again.config.sources["ui.theme"] == f"file {config_file()}"


async def test_bad_values_are_refused_with_the_loaders_message_and_nothing_is_written(
    sim_server: SimulatorServer, data_dir: Path, clock: FakeClock, tmp_path: Path
) -> None:
    before = write_config(sim_server)
    app = app_reading_the_file(data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)
        field(screen, "set-polling-interval").value = "0"
        # Checked as typed: the message is there before Save.
        await wait_for(pilot, lambda: "[polling] interval: expected" in screen_text(app))
        field(screen, "set-polling-max-concurrency").value = "100"
        await pilot.press("ctrl+s")
        interval = "[polling] interval: expected a positive number of seconds, got 0"
        concurrency = "[polling] max_concurrency: expected a whole number from 1 to 64, got 100"
        await wait_for(pilot, lambda: concurrency in screen_text(app))
        text = screen_text(app)
        assert interval in text and "Not saved: 2 settings to fix" in text
        assert isinstance(app.screen, SettingsScreen)
        assert app.poller.interval == 5.0 and app.poller.max_concurrency == 8

        # Under a second: the loader would take it, a saved setting may not.
        field(screen, "set-polling-interval").value = "0.5"
        await wait_for(pilot, lambda: "expected at least 1 second, got 0.5" in screen_text(app))

        # Fixed, the message goes; a downloads "folder" that is a file is refused.
        field(screen, "set-polling-interval").value = "1"
        field(screen, "set-polling-max-concurrency").value = "64"
        await wait_for(pilot, lambda: "[polling] interval: expected" not in screen_text(app))
        not_a_folder = tmp_path / "a-file"
        not_a_folder.write_text("x")
        field(screen, "set-downloads-directory").value = str(not_a_folder)
        await pilot.press("ctrl+s")
        said = f"[downloads] directory: {not_a_folder} is not a folder"
        await wait_for(pilot, lambda: shows(app, said))
        assert "Not saved: 1 setting to fix" in screen_text(app)

    assert config_file().read_bytes() == before
    # The very messages the loader gives for the same values in the file:
    for bad, message in (("interval = 0", interval), ("max_concurrency = 100", concurrency)):
        config_file().write_text(f"[polling]\n{bad}\n")
        with pytest.raises(ConfigError) as refused:
            load_config()
        assert str(refused.value) == f"{config_file()}: {message}"


async def test_env_and_command_line_values_are_shown_locked_and_esc_saves_nothing(
    sim_server: SimulatorServer,
    data_dir: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = write_config(sim_server)
    monkeypatch.setenv("MUSICMINT_BASE_URL", sim_server.url)
    app = app_reading_the_file(data_dir, clock, overrides={"polling.interval": 0.5})
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)
        text = screen_text(app)
        assert "from MUSICMINT_BASE_URL (locked)" in text
        assert "from the command line (locked)" in text
        assert field(screen, "set-api-base-url").disabled
        assert field(screen, "set-polling-interval").disabled
        assert field(screen, "set-polling-interval").value == "0.5"
        assert not field(screen, "set-api-timeout").disabled

        field(screen, "set-api-timeout").value = "9"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SettingsScreen))
        assert app.config.timeout == 2.0
    assert config_file().read_bytes() == before


async def test_a_new_downloads_folder_is_created_and_used_and_choices_saved(
    sim_server: SimulatorServer, data_dir: Path, clock: FakeClock, tmp_path: Path
) -> None:
    write_config(sim_server)
    app = app_reading_the_file(data_dir, clock)
    folder = tmp_path / "new" / "music"
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)
        field(screen, "set-downloads-directory").value = str(folder)
        field(screen, "set-downloads-auto").value = True
        field(screen, "set-notifications-terminal").value = "osc9"
        field(screen, "set-notifications-desktop").value = "notify-send --app-name=MusicMint --"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SettingsScreen))
        assert folder.is_dir()
        assert app.downloads.downloader.folder == folder
        assert app.tracker.auto_download is True

    config = load_config()
    assert config.notify_terminal == "osc9"
    assert config.download_dir == folder and config.auto_download is True
    assert config.notify_desktop == "notify-send --app-name=MusicMint --"


async def test_comments_that_would_be_lost_are_said_before_saving(
    sim_server: SimulatorServer, data_dir: Path, clock: FakeClock
) -> None:
    # An inline table cannot be edited in place: saving rewrites the file.
    text = f'# mine\nui = {{ bell = false }}\n[api]\napi_key = "{KEY}"\n'
    text += f'base_url = "{sim_server.url}"\n'
    config_file().parent.mkdir(parents=True)
    config_file().write_text(text)
    app = app_reading_the_file(data_dir, clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)
        field(screen, "set-ui-theme").value = "nord"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "Save again to save anyway" in screen_text(app))
        assert config_file().read_text() == text
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SettingsScreen))
        assert app.theme == "nord"
    assert load_config().theme == "nord" and load_config().bell is False


def test_every_setting_has_a_field() -> None:
    from tui.core.config import SCHEMA
    from tui.ui.screens.settings import KINDS, LABELS

    names = [f"{s}.{k}" for s, keys in SCHEMA.items() for k in keys]
    assert list(KINDS) == names and list(LABELS) == names
