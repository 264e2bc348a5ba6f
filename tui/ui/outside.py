"""Sending a notification beyond the dashboard: the terminal's and the desktop's.

What to send and how is tui/services/notify.py; this writes the terminal's
escape sequence through the app's driver (Textual 8 offers no public call
for raw output; ``App.bell`` and ``copy_to_clipboard`` write the same way)
and runs a desktop command in a thread worker, so a slow notifier never
holds the screen.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import partial
from typing import Literal

from textual.app import App

from tui.core.config import Config
from tui.services import notify

Kind = Literal["finish", "expiry"]


def _chosen(config: Config, key: str, demo: bool) -> bool:
    """The demo sends nothing outside unless the user's config file asks."""
    return not demo or config.sources.get(f"notifications.{key}", "default") != "default"


class OutsideNotifier:
    def __init__(self, app: App[object], env: Mapping[str, str] | None = None) -> None:
        self._app = app
        self._env = os.environ if env is None else env

    def send(self, config: Config, title: str, body: str, kind: Kind, *, demo: bool) -> None:
        wanted = config.notify_on_finish if kind == "finish" else config.notify_on_expiry
        if not wanted:
            return
        if _chosen(config, "terminal", demo):
            method = notify.terminal_method(config.notify_terminal, self._env)
            text = notify.sequence(method, title, body, tmux=notify.in_tmux(self._env))
            driver = self._app._driver
            if text and driver is not None:
                driver.write(text)
        if _chosen(config, "desktop", demo):
            command = notify.desktop_command(config.notify_desktop, self._env)
            if command:
                argv = notify.command_line(command, title, body)
                self._app.run_worker(
                    partial(notify.run_command, argv),
                    name="desktop notification",
                    group="notify",
                    thread=True,
                    exit_on_error=False,
                )
