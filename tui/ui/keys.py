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
    #: Where the footer shows it: "always", or the parts whose focus shows it
    #: ("table", "detail", "table detail"); "" never (help and palette list it).
    footer: str = ""
    label: str = ""  # how the help screen writes the key; defaults to keys
    short: str = ""  # the footer's word for it; defaults to the description
    #: Checked before the key travels to the focused widget and bubbles back
    #: (each hop waits on a message queue: ~50 ms while the screen repaints).
    priority: bool = False

    @property
    def shown_keys(self) -> str:
        return self.label or self.keys.replace(",", " / ")

    def shown_in(self, part: str) -> bool:
        return self.footer == "always" or part in self.footer.split()


T, D, TD, ALWAYS = "table", "detail", "table detail", "always"

KEYMAP: tuple[Key, ...] = (
    Key("a", "add", "Add task IDs", "Tasks", T, short="Add"),
    Key("x,delete", "remove", "Remove task (or the marked)", "Tasks", T, "x / del", "Remove"),
    Key("u", "undo", "Undo remove", "Tasks"),
    Key("r", "refresh", "Poll task now (or the marked)", "Tasks", T, short="Poll"),
    Key("P", "refresh_all", "Poll all unfinished", "Tasks", label="shift+p"),
    Key("n", "new_track", "New track (generate)", "Make", T, short="New"),
    Key("N", "variation", "Variation of this task (prefilled)", "Make", label="shift+n"),
    Key("e", "extend", "Extend this clip", "Make", D, short="Extend"),
    Key("R", "retry", "Retry a failed task (asks first)", "Make", label="shift+r"),
    Key("space", "mark", "Mark / unmark row", "Marks", T, short="Mark"),
    Key("v", "mark_range", "Start / end a range of marks", "Marks", label="v"),
    Key("ctrl+a", "mark_all", "Mark all shown (again: none)", "Marks"),
    Key("slash", "filter", "Filter", "View", T, "/", priority=True),
    Key("1", "view('all')", "View: all tasks", "View"),
    Key("2", "view('active')", "View: active (queued, processing)", "View"),
    Key("3", "view('completed')", "View: completed", "View"),
    Key("4", "view('failed')", "View: failed and not found", "View"),
    Key("5", "view('expiring')", "View: expiring soon, not saved", "View", T, short="Expiring"),
    Key("s", "sort", "Cycle sort", "View", T, short="Sort"),
    Key("S", "reverse_sort", "Reverse the sort", "View", label="shift+s"),
    Key("enter", "focus_detail", "Details", "View"),
    Key("escape", "escape", "Back; clear marks, then the filter", "View", label="esc"),
    Key("right_square_bracket", "next_clip", "Next clip", "Clip", D, "]", "Next"),
    Key("left_square_bracket", "prev_clip", "Previous clip", "Clip", D, "[", "Prev"),
    Key("o", "open_audio", "Open audio", "Clip", TD, short="Open"),
    Key("i", "open_image", "Open cover", "Clip", D, short="Cover"),
    Key("c", "copy_id", "Copy task ID (or the marked)", "Clip", D, short="Copy ID"),
    Key("y", "copy_audio", "Copy audio URL", "Clip", D, short="Copy URL"),
    Key("d", "download", "Download clip (again: cancel)", "Clip", TD, short="Download"),
    Key(
        "D",
        "download_all",
        "Download all clips (or the marked)",
        "Clip",
        D,
        "shift+d",
        "All clips",
    ),
    Key("ctrl+x", "cancel_downloads", "Cancel all downloads", "Clip"),
    Key("p", "play", "Play / pause the selected clip", "Listen", TD, short="Play"),
    Key("full_stop", "stop", "Stop playing", "Listen", label="."),
    Key("b", "seek(-5)", "Seek back 5s", "Listen"),
    Key("f", "seek(5)", "Seek forward 5s", "Listen"),
    Key("B", "seek(-30)", "Seek back 30s", "Listen", label="shift+b"),
    Key("F", "seek(30)", "Seek forward 30s", "Listen", label="shift+f"),
    Key("greater_than_sign", "play_next(1)", "Play the next clip", "Listen", label=">"),
    Key("less_than_sign", "play_next(-1)", "Play the previous clip", "Listen", label="<"),
    Key("O", "open_folder", "Open the downloads folder", "Clip", label="shift+o"),
    Key("I", "import", "Import recent tasks from the account", "Tasks", label="shift+i"),
    Key("l", "show_log", "Errors and failed tasks", "App"),
    Key("comma", "app.open_settings", "Settings", "App", label=","),
    Key("ctrl+r", "app.reload_config", "Reload config", "App"),
    Key("question_mark", "help", "Help", "App", ALWAYS, "?"),
    Key("q", "app.quit", "Quit", "App", ALWAYS),
)
BY_ACTION = {k.action: k for k in KEYMAP}


def bindings() -> list[Binding]:
    """The screen's bindings. What the footer shows is decided by the footer
    from :attr:`Key.footer` and the focus (see ``widgets/footer.py``)."""
    return [
        Binding(
            k.keys, k.action, k.short or k.description, show=bool(k.footer), priority=k.priority
        )
        for k in KEYMAP
    ]
