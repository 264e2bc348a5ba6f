"""``musicmint-tui login`` / ``logout`` against the simulator, as a user sees them."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from tui.cli import login
from tui.cli.main import main
from tui.core import locations
from tui.simulator import Simulator, SimulatorServer

from .conftest import KEY


@pytest.fixture
def typed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A terminal where the user types the key at a hidden prompt."""
    prompts: list[str] = []
    answer: dict[str, str] = {"key": KEY}

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return answer["key"]

    monkeypatch.setattr(login, "_interactive", lambda: True)
    monkeypatch.setattr(login.getpass, "getpass", fake_getpass)
    return prompts


def piped(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def config_file() -> Path:
    return locations.default_config_file()


def test_login_tests_saves_0600_and_config_reports_it(
    sim_server: SimulatorServer, typed: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["login", "--base-url", sim_server.url]) == 0
    err = capsys.readouterr().err
    assert typed == ["MusicMint API key (input hidden): "]
    assert f"Key sk-mm-…0001 works with {sim_server.url}." in err
    assert f"Saved to {config_file()} (readable only by you)." in err
    assert KEY not in err
    assert stat.S_IMODE(config_file().stat().st_mode) == 0o600
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
def test_login_refuses_to_save_a_disabled_or_deleted_key(
    sim_server: SimulatorServer,
    sim: Simulator,
    typed: list[str],
    capsys: pytest.CaptureFixture[str],
    code: int,
    said: str,
) -> None:
    sim.disabled_keys[KEY] = code
    assert main(["login", "--base-url", sim_server.url]) == 4
    err = capsys.readouterr().err
    assert said in err and "Not saved (--force saves it anyway)." in err
    assert not config_file().exists()


def test_login_force_saves_a_key_that_failed_the_test(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    piped(monkeypatch, KEY + "\n")
    assert main(["login", "--base-url", "http://127.0.0.1:9", "--force"]) == 0
    err = capsys.readouterr().err
    assert "Cannot reach http://127.0.0.1:9:" in err and "Saved to" in err
    assert f'api_key = "{KEY}"' in config_file().read_text()


def test_login_wrong_key_and_unreachable(
    sim_server: SimulatorServer, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    piped(monkeypatch, "sk-mm-not-the-right-one\n")
    assert main(["login", "--base-url", sim_server.url]) == 4
    assert "The server refused this key:" in capsys.readouterr().err
    piped(monkeypatch, KEY + "\n")
    assert main(["login", "--base-url", "http://127.0.0.1:9"]) == 1
    assert "Cannot reach http://127.0.0.1:9:" in capsys.readouterr().err
    assert not config_file().exists()


def test_login_checks_the_prefix_before_any_request(monkeypatch, capsys) -> None:
    piped(monkeypatch, "hello\n")
    assert main(["login", "--base-url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "A MusicMint key starts with sk-mm-" in err and "Nothing saved." in err
    assert "Testing" not in err


def test_login_keeps_comments_and_says_the_env_var_overrides(
    sim_server: SimulatorServer, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    config_file().parent.mkdir(parents=True)
    config_file().write_text(f'# mine\n[api]\nbase_url = "{sim_server.url}"  # sim\n')
    monkeypatch.setenv("MUSICMINT_API_KEY", "sk-mm-from-the-environment")
    piped(monkeypatch, KEY + "\n")
    # login tests the key it was given, not the one in the environment
    assert main(["login"]) == 0
    err = capsys.readouterr().err
    assert "MUSICMINT_API_KEY is set here and overrides the saved key" in err
    assert config_file().read_text() == (
        f'# mine\n[api]\napi_key = "{KEY}"\nbase_url = "{sim_server.url}"  # sim\n'
    )


def test_login_into_a_file_that_would_lose_comments_asks(
    sim_server: SimulatorServer, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    config_file().parent.mkdir(parents=True)
    original = f'# mine\napi = {{ base_url = "{sim_server.url}" }}\n'
    config_file().write_text(original)
    piped(monkeypatch, KEY + "\n")
    assert main(["login"]) == 2
    err = capsys.readouterr().err
    assert "has comments that saving would remove" in err and "pass --yes" in err
    assert config_file().read_text() == original
    piped(monkeypatch, KEY + "\n")
    assert main(["login", "--yes"]) == 0
    assert "#" not in config_file().read_text()


def test_logout_removes_only_the_key(monkeypatch, capsys) -> None:
    config_file().parent.mkdir(parents=True)
    config_file().write_text(f'[api]\napi_key = "{KEY}"\ntimeout = 3\n')
    assert main(["logout"]) == 0
    assert f"Removed the API key from {config_file()}" in capsys.readouterr().err
    assert config_file().read_text() == "[api]\ntimeout = 3\n"
    monkeypatch.setenv("MUSICMINT_API_KEY", KEY)
    assert main(["logout"]) == 0
    err = capsys.readouterr().err
    assert "No API key saved" in err
    assert "MUSICMINT_API_KEY is still set here and still applies" in err


def test_logout_leaves_a_broken_file_alone(capsys) -> None:
    config_file().parent.mkdir(parents=True)
    config_file().write_text("[api\n")
    assert main(["logout"]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert config_file().read_text() == "[api\n"


def test_logout_works_while_another_setting_is_wrong(capsys) -> None:
    """Removing a key is a safety step: an unrelated bad value (which would
    stop the dashboard) must not keep the key in the file (review finding)."""
    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text('[api]\napi_key = "sk-mm-old-key-1"\n[polling]\ninterval = "fast"\n')
    assert main(["logout"]) == 0
    text = config_file().read_text()
    assert "api_key" not in text and 'interval = "fast"' in text
    assert "Removed the API key" in capsys.readouterr().err
