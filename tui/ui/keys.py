"""The key contract in one table: bindings, the help screen, the command
palette and the README's key table are all generated from it, so they
cannot drift apart.

Actions are the main screen's, except those prefixed ``app.`` (quit, reload
config), which belong to the app because they concern its services."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Key:
    keys: str  # Textual key names, comma separated
    action: str
    description: str
    group: str
    show: bool = True  # in the footer
    label: str = ""  # how the help screen writes the key; defaults to keys
    short: str = ""  # the footer's word for it; defaults to the description
    #: Checked before the key travels to the focused widget and bubbles back
    #: (each hop waits on a message queue: ~50 ms while the screen repaints).
    priority: bool = False

    @property
    def shown_keys(self) -> str:
        return self.label or self.keys.replace(",", " / ")


KEYMAP: tuple[Key, ...] = (
    Key("a", "add", "Add task IDs", "Tasks", short="Add"),
    Key("x,delete", "remove", "Remove task", "Tasks", label="x / del", short="Remove"),
    Key("u", "undo", "Undo remove", "Tasks", show=False),
    Key("r", "refresh", "Poll task now", "Tasks", short="Poll"),
    Key("R", "refresh_all", "Poll all unfinished", "Tasks", show=False, label="shift+r"),
    Key("slash", "filter", "Filter", "View", label="/", priority=True),
    Key("s", "sort", "Cycle sort", "View", short="Sort"),
    Key("enter", "focus_detail", "Details", "View", show=False),
    Key("escape", "focus_table", "Back to table", "View", show=False, label="esc"),
    Key("right_square_bracket", "next_clip", "Next clip", "Clip", show=False, label="]"),
    Key("left_square_bracket", "prev_clip", "Previous clip", "Clip", show=False, label="["),
    Key("o", "open_audio", "Open audio", "Clip", short="Open"),
    Key("i", "open_image", "Open cover", "Clip", show=False),
    Key("c", "copy_id", "Copy task ID", "Clip", show=False),
    Key("y", "copy_audio", "Copy audio URL", "Clip", short="Copy URL"),
    Key("d", "download", "Download clip (again: cancel)", "Clip", short="Download"),
    Key("D", "download_all", "Download all clips of the task", "Clip", show=False, label="shift+d"),
    Key("ctrl+x", "cancel_downloads", "Cancel all downloads", "Clip", show=False),
    Key("O", "open_folder", "Open the downloads folder", "Clip", show=False, label="shift+o"),
    Key(
        "I", "import", "Import recent tasks from the account", "Tasks", show=False, label="shift+i"
    ),
    Key("l", "show_log", "Recent errors", "App", show=False),
    Key("ctrl+r", "app.reload_config", "Reload config", "App", show=False),
    Key("question_mark", "help", "Help", "App", label="?"),
    Key("q", "app.quit", "Quit", "App"),
)


def bindings() -> list[Binding]:
    return [
        Binding(k.keys, k.action, k.short or k.description, show=k.show, priority=k.priority)
        for k in KEYMAP
    ]
