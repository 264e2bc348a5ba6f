"""Starting the dashboard: the data-folder lock and the error log around the app.

Shared by the plain command line and ``--demo``, so both start the same way.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from tui.core import exit_codes, locations, logs
from tui.core.config import Config
from tui.core.lock import DataLock, FolderInUse
from tui.services.store import DB_NAME, TaskStore

if TYPE_CHECKING:
    from tui.ui.app import MusicMintApp


def run_app(
    config: Config,
    initial_ids: Iterable[str] = (),
    *,
    demo: bool = False,
    store: TaskStore | None = None,
    reload_config: Callable[[], Config] | None = None,
    import_status: str | None = None,
) -> int:
    """Run the dashboard; return its exit status."""
    from tui.ui.app import MusicMintApp  # Textual only for the dashboard, not `wait`

    store = store or TaskStore(locations.data_dir() / DB_NAME)
    lock = DataLock(store.path.parent)
    try:
        take_lock(lock)
    except FolderInUse as exc:
        if ids := list(initial_ids):  # one dashboard, many terminals: hand them over
            from tui.cli.add import give_to_dashboard

            if (status := give_to_dashboard(ids, store.path.parent)) is not None:
                return status
        print(f"musicmint-tui: {exc}", file=sys.stderr)
        return exit_codes.IN_USE
    except OSError as exc:  # no lock file can be made: the folder is not writable
        print(
            f"musicmint-tui: cannot use the data folder {store.path.parent}: "
            f"{exc.strerror or exc} (it must be writable; XDG_DATA_HOME chooses another)",
            file=sys.stderr,
        )
        return exit_codes.USAGE
    recent, _ = logs.setup(None if demo else locations.log_dir(), config.api_key)
    try:
        app = MusicMintApp(
            config,
            store,
            initial_ids=initial_ids,
            demo=demo,
            reload_config=reload_config,
            recent_errors=recent,
            import_status=import_status,
            # Fetched audio and covers go to the user's cache folder (never
            # backed up, pruned by size); the demo's stay in its temporary folder.
            media_folder=None if demo else locations.cache_dir(),
        )
        # Ask the terminal what images it can draw now, before Textual reads
        # stdin (it would swallow the answers): see tui/ui/terminal_graphics.py.
        from tui.ui.terminal_graphics import prepare_graphics

        prepare_graphics(config.cover_art)
        result = app.run()
    finally:
        logs.teardown()
        lock.release()
    return exit_status(app, result)


#: How long a starting dashboard waits for a lock held by no dashboard
#: (``musicmint-tui add`` writing the list holds it for milliseconds).
LOCK_GRACE = 2.0


def take_lock(lock: DataLock, grace: float = LOCK_GRACE) -> None:
    """Take the data-folder lock; raises FolderInUse at once when a dashboard
    answers on the folder's socket, else after ``grace`` seconds of trying."""
    from tui.services.ipc import IpcError, NoDashboard, probe, socket_path

    deadline = time.monotonic() + grace
    while True:
        try:
            lock.acquire()
            return
        except FolderInUse:
            try:
                probe(socket_path(lock.path.parent), timeout=1.0)
            except NoDashboard:
                if time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
            except IpcError:
                pass
            raise


def exit_status(app: MusicMintApp, result: object) -> int:
    """The dashboard's exit status; unsaved changes are said and make it non-zero."""
    if reason := app.unsaved_reason():
        print(f"musicmint-tui: {reason}", file=sys.stderr)
        return exit_codes.UNSAVED
    return result if isinstance(result, int) else (app.return_code or 0)
