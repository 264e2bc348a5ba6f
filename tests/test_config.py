"""Config precedence and the one-line errors a broken file gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.cli.main import main
from tui.core import locations
from tui.core.config import ConfigError, load_config


def write_default_config(text: str) -> Path:
    path = locations.default_config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_without_a_file() -> None:
    config = load_config(env={})
    assert config.interval == 5.0
    assert config.base_url.startswith("https://")
    assert config.api_key == ""
    assert config.sources["polling.interval"] == "default"


def test_default_path_follows_xdg_config_home(isolated_home: Path) -> None:
    assert locations.default_config_file() == isolated_home / "config/musicmint-tui/config.toml"


def test_precedence_flag_over_env_over_file_over_default() -> None:
    path = write_default_config(
        '[api]\nbase_url = "http://file.example"\napi_key = "sk-mm-file"\ntimeout = 3\n'
        "[polling]\ninterval = 2.5\n"
    )
    only_file = load_config(env={})
    assert (only_file.base_url, only_file.api_key, only_file.timeout) == (
        "http://file.example",
        "sk-mm-file",
        3.0,
    )
    assert only_file.sources["api.base_url"] == f"file {path}"

    env = {"MUSICMINT_BASE_URL": "http://env.example", "MUSICMINT_API_KEY": "sk-mm-env"}
    with_env = load_config(env=env)
    assert (with_env.base_url, with_env.api_key) == ("http://env.example", "sk-mm-env")
    assert with_env.timeout == 3.0  # untouched by env

    with_flag = load_config(env=env, overrides={"api.base_url": "http://flag.example"})
    assert with_flag.base_url == "http://flag.example"
    assert with_flag.sources["api.base_url"] == "command line"
    assert with_flag.interval == 2.5


def test_musicmint_config_env_names_the_file(tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text("[polling]\nmax_concurrency = 3\n")
    assert load_config(env={"MUSICMINT_CONFIG": str(other)}).max_concurrency == 3
    assert load_config(str(other), env={}).max_concurrency == 3


def test_named_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(env={"MUSICMINT_CONFIG": str(tmp_path / "nope.toml")})


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ("[api\nbase_url = 1", ["not valid TOML", "line 1"]),
        ("[api]\ntiemout = 3\n", ["unknown key [api] tiemout", "timeout"]),
        ("[colors]\nx = 1\n", ["unknown section [colors]"]),
        ('[api]\ntimeout = "fast"\n', ["[api] timeout", "expected a positive number", "'fast'"]),
        ("[polling]\ninterval = -1\n", ["[polling] interval", "positive"]),
        ("[polling]\nmax_concurrency = 2.5\n", ["[polling] max_concurrency", "whole number"]),
        ("[polling]\nmax_concurrency = 100\n", ["[polling] max_concurrency", "from 1 to 64"]),
        ('[api]\nbase_url = "ftp://x"\n', ["[api] base_url", "http(s) URL"]),
        ("api = 3\n", ["expected a table [api]"]),
        (b"\xff\xfe[api]", ["not UTF-8"]),
    ],
)
def test_bad_file_gives_exit_2_and_one_line(
    content: str | bytes, fragments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = locations.default_config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    status = main(["config"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1, err
    assert str(path) in err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def test_bad_env_value_names_the_variable(capsys, monkeypatch) -> None:
    monkeypatch.setenv("MUSICMINT_BASE_URL", "not a url")
    assert main(["config"]) == 2
    assert "environment MUSICMINT_BASE_URL" in capsys.readouterr().err


def test_missing_key_says_where_to_put_it(capsys) -> None:
    assert main(["some-task-id"]) == 2
    err = capsys.readouterr().err
    assert "MUSICMINT_API_KEY" in err
    assert str(locations.default_config_file()) in err


def test_config_command_masks_the_key(capsys, monkeypatch) -> None:
    monkeypatch.setenv("MUSICMINT_API_KEY", "sk-mm-supersecretvalue1234")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "supersecret" not in out
    assert "sk-mm-…1234" in out


def test_example_config_is_valid_and_documents_every_key() -> None:
    from tui.core.config import SCHEMA, read_config_file

    example = Path(__file__).resolve().parents[1] / "config.example.toml"
    parsed = read_config_file(example, required=True)
    text = example.read_text()
    for section, keys in SCHEMA.items():
        assert f"[{section}]" in text
        for key in keys:
            assert key in parsed.get(section, {}) or f"# {key} =" in text, key


SECRET = "sk-mm-supersecretvalue1234"


@pytest.mark.parametrize(
    "content",
    [
        f'[api]\nbase_url = "{SECRET}"\n',  # the key pasted into the wrong setting
        f'[api]\napi_key = ["{SECRET}"]\n',  # a list around it
        f'[ui]\ntheme = {{ name = "{SECRET}" }}\n',
    ],
    ids=["base_url", "api_key-list", "elsewhere"],
)
def test_config_errors_never_print_a_key(content: str, capsys) -> None:
    write_default_config(content)
    assert main(["config"]) == 2
    err = capsys.readouterr().err
    assert "supersecret" not in err
    assert "expected" in err


def test_http_to_another_host_warns_and_config_shows_the_proxy(capsys, monkeypatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    path = write_default_config(
        f'[api]\nbase_url = "http://api.example.com"\napi_key = "{SECRET}"\n'
    )
    path.chmod(0o644)
    monkeypatch.setenv("http_proxy", "http://user:pw@proxy.example:3128")
    assert main(["config"]) == 0
    captured = capsys.readouterr()
    assert "proxy: http://proxy.example:3128 (from the environment)" in captured.out
    assert "pw@" not in captured.out
    assert "is http:// to api.example.com: your API key travels unencrypted" in captured.err
    assert "readable by other users" in captured.err  # as the dashboard and wait say
    path.chmod(0o600)
    assert load_config(env={"MUSICMINT_BASE_URL": "http://127.0.0.1:8080"}).warnings == ()


def test_a_key_in_the_base_url_is_masked(capsys, monkeypatch) -> None:
    monkeypatch.setenv("MUSICMINT_BASE_URL", f"https://{SECRET}@api.example.com")
    assert main(["config"]) == 0
    assert "supersecret" not in capsys.readouterr().out


@pytest.mark.parametrize("command", [["config"], []], ids=["config", "dashboard"])
def test_http_timeout_flag_sets_the_request_timeout(command: list[str], capsys) -> None:
    status = main([*command, "--http-timeout", "3"])
    captured = capsys.readouterr()
    if command:  # `config` shows the value it took
        assert status == 0
        assert "api.timeout = 3.0  (command line)" in captured.out
    else:  # the dashboard got as far as wanting a key: the flag was accepted
        assert status == 2 and "No API key configured" in captured.err
    assert "deprecated" not in captured.err


@pytest.mark.parametrize("command", [["config"], []], ids=["config", "dashboard"])
def test_old_timeout_flag_still_works_with_a_one_line_note(command: list[str], capsys) -> None:
    status = main([*command, "--timeout", "3"])
    captured = capsys.readouterr()
    note = [line for line in captured.err.splitlines() if "deprecated" in line]
    assert note == [
        "musicmint-tui: --timeout is deprecated here, use --http-timeout "
        "(seconds per HTTP request; only 'wait --timeout' is an overall deadline)"
    ]
    if command:
        assert status == 0
        assert "api.timeout = 3.0  (command line)" in captured.out


def test_http_timeout_wins_over_the_old_spelling(capsys) -> None:
    assert main(["config", "--timeout", "3", "--http-timeout", "4"]) == 0
    assert "api.timeout = 4.0  (command line)" in capsys.readouterr().out


@pytest.mark.parametrize("flag", ["--http-timeout", "--timeout"])
def test_a_bad_timeout_is_named_as_typed(flag: str, capsys) -> None:
    assert main(["config", flag, "-1"]) == 2
    assert f"option {flag}: expected" in capsys.readouterr().err


def test_help_shows_only_the_new_spelling() -> None:
    from tui.cli.parsers import config_parser, dashboard_parser

    for parser in (dashboard_parser(), config_parser()):
        text = parser.format_help()
        assert "--http-timeout S" in text
        assert "--timeout" not in text


def test_cover_art_defaults_to_auto_and_takes_the_three_modes() -> None:
    assert load_config(env={}).cover_art == "auto"
    for mode in ("auto", "halfcell", "off"):
        path = write_default_config(f'[ui]\ncover_art = "{mode}"\n')
        config = load_config(env={})
        assert config.cover_art == mode
        assert config.value("ui.cover_art") == mode
        assert config.sources["ui.cover_art"] == f"file {path}"
    assert "ui.cover_art = off  (file " in "\n".join(config.describe())


@pytest.mark.parametrize("value", ['"sixel"', '"Auto"', "true", '""'])
def test_a_bad_cover_art_mode_is_one_line_naming_the_choices(value: str) -> None:
    path = write_default_config(f"[ui]\ncover_art = {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(env={})
    assert str(caught.value).startswith(
        f'{path}: [ui] cover_art: expected one of "auto", "halfcell", "off", got '
    )
