"""``,``: every setting of the config file, edited in place (issue #13).

One row per key of :data:`~tui.core.config.SCHEMA`, grouped by section: its
value in a field of the right kind, and where that value comes from. Values
the environment or the command line set are shown but locked (editing them in
the file would change nothing while they are set); the API key is shown
masked and changed on the setup screen or with ``musicmint-tui login``.

Every field is checked as you type and again on Save with the config loader's
own checkers (:func:`~tui.core.config.check_setting`), so a refusal reads
exactly as it would at start-up; nothing is saved while any field is wrong.
Save writes only what changed (tui/services/config_file.py: 0600, atomic,
comments kept; a rewrite that would drop them is said first and needs a
second Save), then returns the config read back from file, environment and
flags, which the app applies without a restart.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Select, Static

from tui.core.config import (
    COVER_ART_MODES,
    SCHEMA,
    TERMINAL_METHODS,
    Config,
    ConfigError,
    check_setting,
)
from tui.ui.config_saving import save_and_reload
from tui.ui.wording import plural

#: How each setting is edited: "text", "number", "path", "bool" (on / off), "theme",
#: "terminal" (one of TERMINAL_METHODS), "cover" (one of COVER_ART_MODES) or
#: "secret" (shown, never edited here).
KINDS = {
    "api.base_url": "text",
    "api.api_key": "secret",
    "api.timeout": "number",
    "polling.interval": "number",
    "polling.max_concurrency": "number",
    "ui.theme": "theme",
    "ui.bell": "bool",
    "ui.cover_art": "cover",
    "downloads.directory": "path",
    "downloads.auto": "bool",
    "downloads.warn_hours": "number",
    "downloads.max_mb": "number",
    "downloads.embed_tags": "bool",
    "notifications.terminal": "terminal",
    "notifications.desktop": "text",
    "notifications.on_finish": "bool",
    "notifications.on_expiry": "bool",
}

LABELS = {
    "api.base_url": "Base URL",
    "api.api_key": "API key",
    "api.timeout": "HTTP timeout (s)",
    "polling.interval": "Poll interval (s)",
    "polling.max_concurrency": "Max requests at once",
    "ui.theme": "Theme",
    "ui.bell": "Bell on finish",
    "ui.cover_art": "Cover art",
    "downloads.directory": "Downloads folder",
    "downloads.auto": "Download automatically",
    "downloads.warn_hours": "Warn before expiry (h)",
    "downloads.max_mb": "Largest file (MB)",
    "downloads.embed_tags": "Tag saved MP3s (ID3)",
    "notifications.terminal": "Terminal notification",
    "notifications.desktop": "Desktop command",
    "notifications.on_finish": "Notify when finished",
    "notifications.on_expiry": "Notify before expiry",
}

#: The shortest poll interval this screen saves (see ``check``).
MIN_SAVED_INTERVAL = 1.0


def locked_by(source: str) -> str | None:
    """What sets a value over the file (then it is not edited here), else ``None``."""
    if source.startswith("env "):
        return source.removeprefix("env ")
    if source == "command line":
        return "the command line"
    return None


def source_text(source: str) -> str:
    if who := locked_by(source):
        return f"from {who} (locked)"
    return "in the config file" if source.startswith("file ") else "default"


def shown(value: Any) -> str:
    """A value as the form shows it (5.0 as "5")."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def parsed(kind: str, text: str) -> Any:
    """What the user typed, as the value the file would hold: numbers as TOML
    numbers; anything else is left as text for the checker to refuse."""
    text = text.strip()
    if kind != "number":
        return text
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            continue
    return text


def folder_problem(folder: Path) -> str | None:
    """Why downloads cannot be saved in ``folder`` (missing is fine when it can be made)."""
    if folder.exists():
        if not folder.is_dir():
            return f"{folder} is not a folder"
        if not os.access(folder, os.W_OK | os.X_OK):
            return f"{folder} is not writable"
        return None
    parent = next((p for p in folder.parents if p.exists()), None)
    if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        return f"{folder} does not exist and cannot be created ({parent} is not writable)"
    return None


@dataclass(frozen=True)
class Checked:
    """The form's values: ``changes`` to save (``{section: {key: value}}``) and
    ``errors`` by ``section.key``, each the loader's one line."""

    changes: dict[str, dict[str, Any]]
    errors: dict[str, str]
    created: Path | None = None  # the downloads folder Save will create


def field_id(name: str) -> str:
    return "set-" + name.replace(".", "-").replace("_", "-")


class SettingsScreen(ModalScreen[Config | None]):
    """Returns the config read back after a save, or ``None`` when left."""

    DEFAULT_CSS = """
    SettingsScreen { align: center middle; }
    #settings-dialog {
        width: 110; max-width: 100%; height: 90%;
        border: thick $primary; padding: 0 1;
    }
    #settings-title { text-style: bold; }
    #settings-form { height: 1fr; }
    .settings-section { text-style: bold underline; margin-top: 1; }
    .setting-row { height: auto; }
    .setting-label { width: 26; }
    .setting-row Input, .setting-row Select { width: 44; }
    .setting-value { width: 44; }
    .setting-source { width: 1fr; padding-left: 2; color: $text-muted; }
    .setting-error { color: $text-error; padding-left: 26; height: auto; }
    #settings-outcome { height: auto; margin-top: 1; }
    #settings-buttons { height: auto; }
    #settings-buttons Button { margin-right: 2; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(
        self,
        config: Config,
        reload: Callable[[], Config],
        themes: list[str],
        *,
        demo: bool = False,
    ) -> None:
        super().__init__()
        self.config = config
        self._reload = reload
        self.themes = sorted(set(themes) | {config.theme})
        self.demo = demo
        #: The user was told a save would drop comments: the next Save does.
        self._drop_ok = False

    # -- building the form -------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Vertical(id="settings-dialog"):
            yield Static(Text("Settings"), id="settings-title")
            where = (
                "The demo does not save settings."
                if self.demo
                else f"Saves to {self.config.path}; applied at once."
            )
            yield Static(Text(where), id="settings-path")
            with VerticalScroll(id="settings-form"):
                for section, keys in SCHEMA.items():
                    yield Static(Text(f"[{section}]"), classes="settings-section")
                    for key in keys:
                        yield from self._row(f"{section}.{key}")
            yield Static(Text(""), id="settings-outcome")
            with Horizontal(id="settings-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="settings-save")
                yield Button("Cancel (esc)", id="settings-leave")

    def _row(self, name: str) -> ComposeResult:
        source = self.config.sources.get(name, "default")
        with Horizontal(classes="setting-row"):
            yield Static(Text(LABELS[name]), classes="setting-label")
            yield self._field(name, disabled=locked_by(source) is not None)
            yield Static(Text(source_text(source)), classes="setting-source")
        yield Static(Text(""), id=field_id(name) + "-error", classes="setting-error")

    def _field(self, name: str, *, disabled: bool) -> Widget:
        kind, value, wid = KINDS[name], self.config.value(name), field_id(name)
        if kind == "secret":
            text = (
                f"{self.config.masked_key}  (change it with Set API key in ctrl+p, "
                "or musicmint-tui login)"
                if value
                else "not set (Set API key in ctrl+p, or musicmint-tui login)"
            )
            return Static(Text(text), id=wid, classes="setting-value")
        if kind in ("bool", "theme", "terminal", "cover"):
            if kind == "bool":
                choices: list[tuple[str, Any]] = [("on", True), ("off", False)]
            else:
                names = {
                    "theme": self.themes,
                    "terminal": list(TERMINAL_METHODS),
                    "cover": list(COVER_ART_MODES),
                }[kind]
                choices = [(c, c) for c in names]
            return Select(
                choices,
                value=value,
                allow_blank=False,
                compact=True,
                id=wid,
                disabled=disabled,
            )
        return Input(value=shown(value), id=wid, disabled=disabled, compact=True)

    def on_mount(self) -> None:
        for widget in self.query("#settings-form Input, #settings-form Select"):
            if not widget.disabled:
                widget.focus()
                break
        for error in self.query(".setting-error"):
            error.display = False

    # -- reading and checking the form -------------------------------------------------
    def editable(self) -> list[str]:
        return [
            name
            for name, kind in KINDS.items()
            if kind != "secret" and locked_by(self.config.sources.get(name, "default")) is None
        ]

    def raw(self, name: str) -> Any:
        """The field's value as the file would hold it (before checking)."""
        widget = self.query_one("#" + field_id(name))
        if isinstance(widget, Select):
            return widget.value
        assert isinstance(widget, Input)
        return parsed(KINDS[name], widget.value)

    def check(self, name: str) -> tuple[Any, str | None]:
        """``(value to save, None)``, or ``(None, the loader's message)``."""
        section, key = name.split(".")
        value = self.raw(name)
        try:
            cleaned = check_setting(section, key, value, f"[{section}] {key}")
        except ConfigError as exc:
            return None, str(exc)
        if name == "polling.interval" and cleaned < MIN_SAVED_INTERVAL:
            # The loader takes down to 0.05 s (tests and `wait` use it); a
            # setting kept for every day is held to the 1 s: faster
            # only gets the key rate limited.
            return None, f"[polling] interval: expected at least 1 second, got {value}"
        if name == "downloads.directory":
            if cleaned != self.config.download_dir and (problem := folder_problem(cleaned)):
                return None, f"[downloads] directory: {problem}"
            return value, None  # as typed: "~/Music" stays portable
        return cleaned, None

    def check_all(self) -> Checked:
        changes: dict[str, dict[str, Any]] = {}
        errors: dict[str, str] = {}
        created = None
        for name in self.editable():
            value, error = self.check(name)
            if error is not None:
                errors[name] = error
                continue
            section, key = name.split(".")
            current = self.config.value(name)
            if name == "downloads.directory":
                folder = Path(value).expanduser()
                if folder == current:
                    continue
                if not folder.exists():
                    created = folder
            elif value == current:
                continue
            changes.setdefault(section, {})[key] = value
        return Checked(changes, errors, created)

    def show_error(self, name: str, error: str | None) -> None:
        widget = self.query_one(f"#{field_id(name)}-error", Static)
        widget.update(Text(error or ""))
        widget.display = error is not None

    def show(self, message: str, style: str = "") -> None:
        self.query_one("#settings-outcome", Static).update(Text(message, style=style))

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        """Check the field as it is typed (its message goes when it is right)."""
        name = next((n for n in KINDS if field_id(n) == event.input.id), None)
        if name is not None and name in self.editable():
            self.show_error(name, self.check(name)[1])
            self._drop_ok = False

    # -- actions --------------------------------------------------------------------------
    @on(Button.Pressed, "#settings-save")
    def action_save(self) -> None:
        checked = self.check_all()
        for name in self.editable():
            self.show_error(name, checked.errors.get(name))
        if checked.errors:
            count = len(checked.errors)
            self.show(f"Not saved: {plural(count, 'setting')} to fix (see above).", "red")
            first = next(iter(checked.errors))
            self.query_one("#" + field_id(first)).focus()
            return
        if not checked.changes:
            self.show("Nothing changed.", "dim")
            return
        if self.demo:
            self.show("The demo does not save settings; run without --demo to change them.", "red")
            return
        try:
            if checked.created is not None:
                checked.created.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.show(f"Not saved: cannot create {checked.created}: {exc.strerror or exc}", "red")
            return
        config = save_and_reload(self, self.config.path, checked.changes, self._reload)
        if config is None:
            return
        self.dismiss(config)

    @on(Button.Pressed, "#settings-leave")
    def action_leave(self) -> None:
        self.dismiss(None)
