"""Where musicmint-tui keeps things, following each platform's conventions.

platformdirs honours ``XDG_CONFIG_HOME`` / ``XDG_DATA_HOME`` / ``XDG_STATE_HOME``
on Linux, which is also how tests point the app at a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "musicmint-tui"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def default_config_file() -> Path:
    return config_dir() / "config.toml"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """Audio, covers, waveforms and lyric timings fetched to listen and look:
    all of it can be fetched again, so it is pruned by size."""
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def default_download_dir() -> Path:
    music = platformdirs.user_music_dir()
    return Path(music or Path.home()) / "MusicMint"
