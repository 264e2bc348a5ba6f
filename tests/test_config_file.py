"""Writing the config file: what a user's file looks like after a save."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tui.core.config import load_config
from tui.services.config_file import (
    CommentsWouldBeLost,
    ConfigFileError,
    has_comments,
    remove_settings,
    save_settings,
)

KEY = "sk-mm-abcdefgh12345678"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_save_creates_folder_0700_and_file_0600_that_load_config_reads(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "config.toml"
    result = save_settings(path, {"api": {"api_key": KEY, "base_url": "http://127.0.0.1:9"}})
    assert result.how == "created"
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    config = load_config(path, env={})
    assert (config.api_key, config.base_url) == (KEY, "http://127.0.0.1:9")
    assert config.warnings == ()  # no "readable by other users"


def test_existing_key_line_is_edited_in_place_keeping_comments(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "# my settings\n"
        "[api]\n"
        'api_key = "sk-mm-old-old-old-old"  # from the portal\n'
        "timeout = 30  # slow link\n"
        "\n"
        "[ui]\n"
        "# quiet please\n"
        "bell = false\n"
    )
    path.chmod(0o644)
    assert save_settings(path, {"api": {"api_key": KEY}}).how == "edited"
    assert path.read_text() == (
        "# my settings\n"
        "[api]\n"
        f'api_key = "{KEY}"  # from the portal\n'
        "timeout = 30  # slow link\n"
        "\n"
        "[ui]\n"
        "# quiet please\n"
        "bell = false\n"
    )
    assert mode(path) == 0o600


def test_a_missing_key_is_added_under_its_section_or_in_a_new_one(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("# comment\n[api]\ntimeout = 3\n[ui]\nbell = false\n")
    save_settings(path, {"api": {"api_key": KEY}, "polling": {"interval": 2}})
    text = path.read_text()
    assert text.startswith("# comment\n[api]\napi_key = ")
    assert text.endswith("[polling]\ninterval = 2\n")
    config = load_config(path, env={})
    assert (config.api_key, config.timeout, config.bell, config.interval) == (KEY, 3, False, 2)


def test_a_file_that_cannot_be_edited_in_place_asks_before_losing_comments(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config.toml"
    original = '# keep me\napi = { timeout = 3, api_key = "sk-mm-old-old-old-old" }\n'
    path.write_text(original)
    with pytest.raises(CommentsWouldBeLost, match="has comments that saving would remove"):
        save_settings(path, {"api": {"api_key": KEY}})
    assert path.read_text() == original
    assert save_settings(path, {"api": {"api_key": KEY}}, drop_comments=True).how == "rewritten"
    config = load_config(path, env={})
    assert (config.api_key, config.timeout) == (KEY, 3)
    assert "#" not in path.read_text()


def test_without_comments_a_rewrite_needs_no_question(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('api.timeout = 3\nui.theme = "nord"\n')
    assert save_settings(path, {"api": {"api_key": KEY}}).how == "rewritten"
    config = load_config(path, env={})
    assert (config.api_key, config.timeout, config.theme) == (KEY, 3, "nord")


def test_a_broken_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[api\napi_key = \n")
    with pytest.raises(ConfigFileError, match=r"not valid TOML.*not changed"):
        save_settings(path, {"api": {"api_key": KEY}})
    assert path.read_text() == "[api\napi_key = \n"


def test_invalid_settings_are_refused_without_showing_the_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    with pytest.raises(ConfigFileError, match="base_url: expected an http"):
        save_settings(path, {"api": {"base_url": "ftp://x"}})
    with pytest.raises(ConfigFileError) as caught:
        save_settings(path, {"api": {"api_key": 12345678901234567890}})
    assert "12345678901234567890" not in str(caught.value)
    assert not path.exists()


def test_remove_key_keeps_everything_else(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'# mine\n[api]\napi_key = "{KEY}"\ntimeout = 3\n')
    assert remove_settings(path, {"api": ["api_key"]}).how == "edited"
    assert path.read_text() == "# mine\n[api]\ntimeout = 3\n"
    assert remove_settings(path, {"api": ["api_key"]}).how == "unchanged"
    missing = tmp_path / "none.toml"
    assert remove_settings(missing, {"api": ["api_key"]}).how == "unchanged"
    assert not missing.exists()


def test_a_symlinked_config_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "config.toml"
    real.parent.mkdir()
    real.write_text("[ui]\nbell = false\n")
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    save_settings(link, {"api": {"api_key": KEY}})
    assert link.is_symlink()
    assert load_config(real, env={}).api_key == KEY


def test_comment_heuristic() -> None:
    assert has_comments("a = 1 # x\n")
    assert has_comments("# x\n")
    assert not has_comments("a = \"x # y\"\nb = '#'\n")
    assert not has_comments('a = "say \\"#\\""\n')


def test_no_stray_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "config.toml"
    save_settings(path, {"api": {"api_key": KEY}})
    save_settings(path, {"api": {"timeout": 4}})
    assert os.listdir(path.parent) == ["config.toml"]


def test_saving_into_a_copy_of_the_example_changes_one_line(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[1] / "config.example.toml"
    path = tmp_path / "config.toml"
    path.write_text(example.read_text())
    assert save_settings(path, {"api": {"api_key": KEY}}).how == "edited"
    before, after = example.read_text().splitlines(), path.read_text().splitlines()
    assert [line for line in after if line not in before] == [f'api_key = "{KEY}"']
    assert [line for line in before if line not in after] == ['api_key = "sk-mm-your-key"']
    assert len(after) == len(before)
    assert load_config(path, env={}).api_key == KEY
