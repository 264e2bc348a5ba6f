"""Saving settings from a screen: one way for the setup and settings screens.

Writes through :func:`tui.services.config_file.save_settings` (in place,
0600), asks before a rewrite would drop the user's comments (a second Save
goes ahead), then reads the config back the way ctrl+r does, so what the app
runs with is what the file, the environment and the flags now say.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from tui.core.config import Config, ConfigError
from tui.services.config_file import CommentsWouldBeLost, ConfigFileError, save_settings


class SavingScreen(Protocol):
    _drop_ok: bool  # the user was told comments would go, and saved again

    def show(self, message: str, style: str = "") -> None: ...


def save_and_reload(
    screen: SavingScreen,
    path: Path,
    changes: dict[str, dict[str, Any]],
    reload: Callable[[], Config],
) -> Config | None:
    """The config read back after saving ``changes``, or None (the screen says why)."""
    try:
        save_settings(path, changes, drop_comments=screen._drop_ok)
    except CommentsWouldBeLost:
        screen._drop_ok = True
        screen.show(
            "Your config has comments that saving would remove (it would be rewritten). "
            "Save again to save anyway, or edit the file by hand.",
            "yellow",
        )
        return None
    except ConfigFileError as exc:
        screen.show(str(exc), "red")
        return None
    try:
        return reload()
    except ConfigError as exc:
        screen.show(f"Saved, but the config does not load: {exc}", "red")
        return None
