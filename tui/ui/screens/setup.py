"""Key setup: shown instead of the dashboard when no API key is configured
(and from the command palette, "Set API key").

Paste the key (hidden), check or change the base URL, Test (one real request,
its exact outcome shown), Save (tui/services/config_file.py: 0600, atomic,
other settings and comments kept; a rewrite that would drop comments is said
first and needs a second Save). The screen then returns the config read back
from the file, environment and flags, and the dashboard polls with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

from tui.core.config import ENV_API_KEY, ENV_BASE_URL, Config, ConfigError, check_setting
from tui.services.key_check import KEY_PREFIX, KeyCheck, check_key, key_problem
from tui.ui.config_saving import save_and_reload


def overrides(config: Config) -> list[str]:
    """What the environment or the command line sets over the saved file."""
    lines = []
    key_source = config.sources.get("api.api_key", "")
    if key_source.startswith("env"):
        lines.append(f"{ENV_API_KEY} is set: it overrides the key saved here while it is set.")
    url_source = config.sources.get("api.base_url", "")
    if url_source.startswith("env"):
        lines.append(
            f"{ENV_BASE_URL} is set: it overrides the base URL saved here while it is set."
        )
    elif url_source == "command line":
        lines.append("--base-url was given: it overrides the saved base URL for this run.")
    return lines


class SetupScreen(Screen[Config | None]):
    """Returns the config to run with after a save, or ``None`` when left."""

    DEFAULT_CSS = """
    SetupScreen { align: center middle; }
    #setup-dialog {
        width: 90; max-width: 100%; height: auto;
        border: thick $primary; padding: 1 2;
    }
    #setup-title { text-style: bold; margin-bottom: 1; }
    #setup-dialog Label { margin-top: 1; }
    #setup-overrides { color: $warning; margin-top: 1; }
    #setup-outcome { margin-top: 1; height: auto; }
    #setup-buttons { height: auto; margin-top: 1; }
    #setup-buttons Button { margin-right: 2; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Quit"),
        Binding("ctrl+t", "test", "Test"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(
        self, config: Config, reload: Callable[[], Config], *, first_run: bool = True
    ) -> None:
        super().__init__()
        self.config = config
        self._reload = reload
        self.first_run = first_run
        #: The user was told a save would drop comments: the next Save does.
        self._drop_ok = False
        #: (URL, key) the last Test saw refused: Save asks once before keeping it.
        self._refused: tuple[str, str] | None = None

    def compose(self) -> ComposeResult:
        intro = (
            "No API key is configured yet. Paste your MusicMint key to start."
            if self.first_run
            else "Test a MusicMint key and save it in your config file."
        )
        with Vertical(id="setup-dialog"):
            yield Static(Text("Set up MusicMint"), id="setup-title")
            yield Static(Text(intro))
            yield Label(f"API key (starts with {KEY_PREFIX}; hidden)")
            yield Input(placeholder=f"{KEY_PREFIX}…", password=True, id="setup-key")
            yield Label("Base URL")
            yield Input(value=self.config.base_url, id="setup-url")
            yield Static(Text(f"Saves to {self.config.path}"), id="setup-path")
            yield Static(Text("\n".join(overrides(self.config))), id="setup-overrides")
            yield Static(Text(""), id="setup-outcome")
            with Horizontal(id="setup-buttons"):
                yield Button("Test (ctrl+t)", id="setup-test")
                yield Button("Save (ctrl+s)", variant="primary", id="setup-save")
                yield Button("Quit" if self.first_run else "Cancel", id="setup-leave")

    def on_mount(self) -> None:
        if not overrides(self.config):
            self.query_one("#setup-overrides").display = False
        self.query_one("#setup-key").focus()

    # -- reading the form ----------------------------------------------------------
    @property
    def key(self) -> str:
        return self.query_one("#setup-key", Input).value.strip()

    def _url(self) -> str | None:
        """The base URL as typed, cleaned; ``None`` (and said) when it is not one."""
        try:
            return check_setting(
                "api", "base_url", self.query_one("#setup-url", Input).value.strip(), "Base URL"
            )
        except ConfigError as exc:
            self.show(str(exc), "red")
            return None

    def show(self, message: str, style: str = "") -> None:
        self.query_one("#setup-outcome", Static).update(Text(message, style=style))

    # -- actions -------------------------------------------------------------------
    @on(Input.Submitted, "#setup-key")
    @on(Button.Pressed, "#setup-test")
    def action_test(self) -> None:
        if problem := key_problem(self.key):
            self.show(problem, "red")
            return
        if (url := self._url()) is None:
            return
        self.show(f"Testing the key against {url} …", "dim")
        self._run_test(url, self.key)

    @work(exclusive=True, group="key-test", exit_on_error=False)
    async def _run_test(self, url: str, key: str) -> None:
        result: KeyCheck = await check_key(url, key, timeout=self.config.timeout)
        self.show(result.message, "green" if result.ok else "red")
        self._refused = (url, key) if result.kind in ("disabled", "deleted", "refused") else None

    @on(Button.Pressed, "#setup-save")
    def action_save(self) -> None:
        key = self.key
        if problem := key_problem(key):
            self.show(problem, "red")
            return
        if (url := self._url()) is None:
            return
        if self._refused == (url, key):
            # The server just said no to this key: a second Save means it.
            self._refused = None
            self.show("The last Test refused this key. Save again to save it anyway.", "yellow")
            return
        changes: dict[str, object] = {"api_key": key}
        if url != self.config.base_url:
            changes["base_url"] = url
        config = save_and_reload(self, self.config.path, {"api": changes}, self._reload)
        if config is None:
            return
        self.dismiss(config)

    @on(Button.Pressed, "#setup-leave")
    def action_leave(self) -> None:
        if self.first_run:
            self.app.exit(0)
        else:
            self.dismiss(None)
